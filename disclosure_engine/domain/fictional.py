"""Deterministic fictional case payloads for demo data, benchmarks and tests.

The product handles OFFICIAL-SENSITIVE data, so nothing real may appear in demos or test
fixtures. These payloads carry no names, no addresses and no free-text personal details:
only references that look like the national systems' formats (so screens and exports look
right) but are random numbers from ``random.Random(seed)``, plus statutory offence citations.
The same ``seed`` always yields the same cases, so benchmarks and screenshots are repeatable.

The mix mirrors published MAPPA proportions in outline: most cases are category 1 at level 1,
a minority at levels 2 and 3; some convictions are not Schedule 34A offences at all (so the
negative path is exercised), some are foreign with or without an equivalence opinion, and some
lack the victim's age.
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from disclosure_engine.domain.areas import AREA_SLUGS

#: three-letter prefix used in fictional case references, one per area
AREA_CODES: dict[str, str] = {
    "avon-and-somerset": "AVS", "bedfordshire": "BED", "cambridgeshire": "CAM",
    "cheshire": "CHE", "cleveland": "CLE", "cumbria": "CUM", "derbyshire": "DER",
    "devon-and-cornwall": "DEC", "dorset": "DOR", "durham": "DUR", "dyfed-powys": "DYP",
    "essex": "ESS", "gloucestershire": "GLO", "greater-manchester": "GMP", "gwent": "GWE",
    "hampshire": "HAM", "hertfordshire": "HER", "humberside": "HUM", "kent": "KNT",
    "lancashire": "LAN", "leicestershire": "LEI", "lincolnshire": "LIN", "london": "LON",
    "merseyside": "MER", "norfolk": "NFK", "north-wales": "NWA", "north-yorkshire": "NYO",
    "northamptonshire": "NTH", "northumbria": "NUM", "nottinghamshire": "NOT",
    "south-wales": "SWA", "south-yorkshire": "SYO", "staffordshire": "STA", "suffolk": "SUF",
    "surrey": "SUR", "sussex": "SUS", "thames-valley": "TVP", "warwickshire": "WAR",
    "west-mercia": "WME", "west-midlands": "WMI", "west-yorkshire": "WYO", "wiltshire": "WIL",
}
assert set(AREA_CODES) == set(AREA_SLUGS) and len(set(AREA_CODES.values())) == 42

# (statute, section, listed only where the victim was under 18)
CHILD_SEX_OFFENCES: tuple[tuple[str, str, bool], ...] = (
    ("Sexual Offences Act 2003", "9", False), ("Sexual Offences Act 2003", "10", False),
    ("Sexual Offences Act 2003", "7", False), ("Sexual Offences Act 2003", "5", False),
    ("Sexual Offences Act 2003", "11", False), ("Sexual Offences Act 2003", "12", False),
    ("Sexual Offences Act 2003", "14", False), ("Sexual Offences Act 2003", "15", False),
    ("Sexual Offences Act 2003", "16", False), ("Sexual Offences Act 2003", "25", False),
    ("Sexual Offences Act 2003", "48", False),
    ("Protection of Children Act 1978", "1", False), ("Criminal Justice Act 1988", "160", False),
    ("Sexual Offences Act 1956", "6", False), ("Indecency with Children Act 1960", "1", False),
    # listed only where the victim was under 18
    ("Sexual Offences Act 2003", "1", True), ("Sexual Offences Act 2003", "3", True),
    ("Sexual Offences Act 1956", "14", True),
)
#: clearly outside Schedule 34A whatever the victim's age
NON_SCHEDULE_OFFENCES: tuple[tuple[str, str], ...] = (
    ("Theft Act 1968", "1"), ("Offences against the Person Act 1861", "47"),
    ("Offences against the Person Act 1861", "18"), ("Criminal Damage Act 1971", "1"),
    ("Misuse of Drugs Act 1971", "5"), ("Fraud Act 2006", "1"),
    ("Public Order Act 1986", "4"), ("Protection from Harassment Act 1997", "4"),
)
#: illustrative foreign citations (fictional data; not a legal equivalence table)
FOREIGN_OFFENCES: tuple[tuple[str, str, str, str, str], ...] = (
    ("scotland", "Sexual Offences (Scotland) Act 2009", "30", "Sexual Offences Act 2003", "9"),
    ("northern-ireland", "Sexual Offences (Northern Ireland) Order 2008", "16",
     "Sexual Offences Act 2003", "9"),
    ("ireland", "Child Trafficking and Pornography Act 1998", "6",
     "Protection of Children Act 1978", "1"),
    ("france", "Code penal", "227-25", "Sexual Offences Act 2003", "9"),
    ("poland", "Kodeks karny", "200", "Sexual Offences Act 2003", "9"),
    ("spain", "Codigo Penal", "189", "Protection of Children Act 1978", "1"),
)
OPINION_BY = ("MAPPA coordinator", "senior investigating officer", "force legal adviser")
EARLIEST = date(1990, 1, 1)
LATEST = date(2025, 12, 31)  # fixed so generated dates never depend on today
#: no conviction dated before its Act was in force (dates are of the disposal, so historic
#: offences under repealed Acts may still carry recent dates)
IN_FORCE: dict[str, date] = {
    "Sexual Offences Act 2003": date(2004, 5, 1), "Fraud Act 2006": date(2007, 1, 15),
    "Sexual Offences (Scotland) Act 2009": date(2010, 12, 1),
    "Sexual Offences (Northern Ireland) Order 2008": date(2009, 2, 2),
}


def _weighted(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options], k=1)[0]


def _date(rng: random.Random, statute: str = "") -> str:
    earliest = max(EARLIEST, IN_FORCE.get(statute, EARLIEST))
    span = (LATEST - earliest).days
    return (earliest + timedelta(days=rng.randrange(span))).isoformat()


def fake_visor_ref(rng: random.Random) -> str:
    return f"VS{rng.randrange(10**7):07d}"


def fake_pnc_ref(rng: random.Random) -> str:
    year = rng.randrange(90, 126) % 100
    return f"{year:02d}/{rng.randrange(10**6):06d}{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}"


def fake_ndelius_crn(rng: random.Random) -> str:
    return f"X{rng.randrange(10**6):06d}"


def _disposal(rng: random.Random) -> str:
    return _weighted(rng, (("conviction", 0.88), ("caution", 0.09), ("insanity", 0.015),
                           ("disability", 0.015)))


def _child_conviction(rng: random.Random) -> dict[str, Any]:
    statute, section, age_rule = rng.choice(CHILD_SEX_OFFENCES)
    conviction: dict[str, Any] = {"statute": statute, "section": section,
                                  "date": _date(rng, statute), "disposal": _disposal(rng),
                                  "jurisdiction": "england-wales"}
    if not age_rule or rng.random() < 0.8:  # a fifth of age-dependent ones lack the age
        conviction["victim_age"] = rng.randrange(4, 18)
    if rng.random() < 0.06:
        conviction["inchoate"] = rng.choice(("attempt", "conspiracy", "incitement", "aiding"))
    if rng.random() < 0.1:
        conviction["section"] = rng.choice((f"s.{section}", f"{section}(1)"))
    return conviction


def _other_conviction(rng: random.Random) -> dict[str, Any]:
    statute, section = rng.choice(NON_SCHEDULE_OFFENCES)
    conviction: dict[str, Any] = {"statute": statute, "section": section,
                                  "date": _date(rng, statute), "disposal": "conviction",
                                  "jurisdiction": "england-wales"}
    if rng.random() < 0.3:
        conviction["victim_age"] = rng.randrange(18, 80)
    return conviction


def _adult_sexual_conviction(rng: random.Random) -> dict[str, Any]:
    """A registered sex offender whose victim was an adult: category 1 but not Schedule 34A."""
    statute, section = "Sexual Offences Act 2003", rng.choice(("1", "2", "3"))
    return {"statute": statute, "section": section, "date": _date(rng, statute),
            "disposal": "conviction", "jurisdiction": "england-wales",
            "victim_age": rng.randrange(18, 70)}


def _foreign_conviction(rng: random.Random) -> dict[str, Any]:
    country, statute, section, eq_statute, eq_section = rng.choice(FOREIGN_OFFENCES)
    conviction: dict[str, Any] = {"statute": statute, "section": section,
                                  "date": _date(rng, statute), "disposal": "conviction",
                                  "jurisdiction": country,
                                  "victim_age": rng.randrange(6, 16)}
    if rng.random() < 0.5:
        conviction["equivalence_opinion"] = {
            "equivalent_statute": eq_statute, "equivalent_section": eq_section,
            "reasons": "The elements of the foreign offence, as shown in the certified "
                       "record, correspond to the England and Wales offence (fictional).",
            "by": rng.choice(OPINION_BY),
        }
    return conviction


def _convictions(rng: random.Random, category: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if category == 1:
        kind = _weighted(rng, (("child", 0.72), ("adult", 0.2), ("foreign", 0.08)))
    else:
        kind = _weighted(rng, (("other", 0.85), ("child", 0.1), ("foreign", 0.05)))
    first = {"child": _child_conviction, "adult": _adult_sexual_conviction,
             "foreign": _foreign_conviction, "other": _other_conviction}[kind]
    out.append(first(rng))
    for _ in range(_weighted(rng, ((0, 0.55), (1, 0.3), (2, 0.1), (3, 0.05)))):
        out.append(_child_conviction(rng) if kind == "child" and rng.random() < 0.4
                   else _other_conviction(rng))
    return out


def fictional_case(rng: random.Random, area: str, number: int, *,
                   year: int = 2026) -> dict[str, Any]:
    """One case in the public shape, referenced ``<AREA>-<year>-<number>``."""
    category = _weighted(rng, ((1, 0.7), (2, 0.22), (3, 0.06), (4, 0.02)))
    level = _weighted(rng, ((1, 0.8), (2, 0.15), (3, 0.05)))
    if category == 1 and level == 1:
        lead = _weighted(rng, (("police", 0.7), ("probation", 0.25), ("prison", 0.05)))
    else:
        lead = _weighted(rng, (("probation", 0.7), ("police", 0.15), ("prison", 0.15)))
    offender: dict[str, str] = {}
    if rng.random() < 0.95:
        offender["visor_ref"] = fake_visor_ref(rng)
    if rng.random() < 0.9:
        offender["pnc_ref"] = fake_pnc_ref(rng)
    if lead != "police" or rng.random() < 0.5:
        offender["ndelius_crn"] = fake_ndelius_crn(rng)
    return {
        "reference": f"{AREA_CODES[area]}-{year}-{number:06d}",
        "area": area, "category": category, "level": level, "lead_agency": lead,
        "offender": offender, "convictions": _convictions(rng, category),
    }


def waiting_case(rng: random.Random, area: str, number: int, *, year: int = 2025) -> dict[str, Any]:
    """A case whose Schedule 34A matching waits for a person: its only sexual offence needs a
    fact nobody has recorded yet (the victim's age, or an equivalence opinion for a foreign
    conviction), so whether the s.327A duty applies is undecided."""
    case = fictional_case(rng, area, number, year=year)
    if rng.random() < 0.6:
        statute, section = "Sexual Offences Act 2003", rng.choice(("1", "2", "3", "4"))
        first = {"statute": statute, "section": section, "date": _date(rng, statute),
                 "disposal": "conviction", "jurisdiction": "england-wales"}
    else:
        first = _foreign_conviction(rng)
        first.pop("equivalence_opinion", None)
    case["category"] = 1
    case["convictions"] = [first, *(_other_conviction(rng) for _ in range(rng.randrange(0, 2)))]
    return case


def generate_cases(n: int, seed: int = 0, areas: Sequence[str] = AREA_SLUGS, *,
                   year: int = 2026) -> Iterator[dict[str, Any]]:
    """``n`` fictional cases, spread round-robin over ``areas`` so every area gets cases once
    ``n >= len(areas)``; the same seed gives the same cases."""
    if not areas:
        raise ValueError("areas must not be empty")
    rng = random.Random(seed)
    counters: dict[str, int] = {}
    offset = rng.randrange(len(areas))
    for i in range(n):
        area = areas[(i + offset) % len(areas)]
        counters[area] = counters.get(area, 0) + 1
        yield fictional_case(rng, area, counters[area], year=year)
