"""Schedule 34A (CJA 2003) as versioned reference data, and matching convictions against it.

Whether someone is a "child sex offender" (s.327B) decides whether the s.327A duty applies at
all, so the list is data with its source and date (``data/schedule_34a*.json``), not code:
when Parliament amends the Schedule, policy adds a new file with a new ``version`` and old
decisions still say which version they were matched against.

Matching is deliberately conservative and explains itself. A match is only reported when the
recorded facts establish it; where a paragraph needs a fact we do not hold (the victim's age,
the intent behind a burglary, a foreign offence's English equivalent) the conviction is listed
in ``notes`` or ``needs_equivalence_opinion`` for a person to resolve, never silently counted.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from disclosure_engine.domain.cases import DISPOSALS, ENGLAND_WALES, ConvictionInput
from disclosure_engine.domain.errors import NotFound
from disclosure_engine.domain.statute_check import near_statute

DATA_DIR = Path(__file__).with_name("data")
CHILD_AGE = 18  # s.327B(2): child means a person under 18

#: short forms officers type; mapped before comparison (keys already normalised)
_STATUTE_ALIASES: dict[str, str] = {
    "soa 2003": "sexual offences act 2003",
    "soa 1956": "sexual offences act 1956",
    "pca 1978": "protection of children act 1978",
    "cja 1988": "criminal justice act 1988",
    "cema 1979": "customs and excise management act 1979",
}
_INCHOATE_PHRASE = {"attempt": "attempting", "conspiracy": "conspiracy to commit",
                    "incitement": "inciting", "aiding": "aiding or abetting"}
_SECTION = re.compile(r"^\s*(?:s(?:ec(?:tion)?)?\.?\s*)?(\d+[A-Za-z]{0,2})\b", re.IGNORECASE)


def normalise_statute(statute: str) -> str:
    """Case, spacing and '&' insensitive key for a statute name."""
    key = re.sub(r"\s+", " ", statute.replace("&", "and")).strip().strip(".").casefold()
    key = key.removeprefix("the ")
    return _STATUTE_ALIASES.get(key, key)


def normalise_section(section: str) -> str | None:
    """The section number alone: "9", "s.9", "section 9", "9(1)(a)" all give "9"; "59A" stays."""
    found = _SECTION.match(section)
    return found.group(1).upper() if found else None


@dataclass(frozen=True)
class Paragraph:
    paragraph: str
    statute: str
    sections: frozenset[str]
    victim_under_18_required: bool
    counts_towards_serious_harm: bool
    description: str
    condition: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Schedule:
    version: str
    source: str
    source_date: str
    notes: str
    paragraphs: tuple[Paragraph, ...]
    inchoate_kinds: frozenset[str]
    service_law: dict[str, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def statutes(self) -> dict[str, str]:
        """Every statute the schedule lists: normalised name -> the schedule's spelling."""
        return {normalise_statute(p.statute): p.statute for p in self.paragraphs}

    def lookup(self, statute: str, section: str) -> list[Paragraph]:
        """Paragraphs listing this offence (a section may appear under more than one)."""
        key, number = normalise_statute(statute), normalise_section(section)
        if number is None:
            return []
        return [p for p in self.paragraphs
                if normalise_statute(p.statute) == key and number in p.sections]

    def is_service_offence(self, statute: str, section: str) -> bool:
        """Service-law offences count only through their corresponding civil offence."""
        number = normalise_section(section)
        for name, sections in self.service_law.items():
            if normalise_statute(name) == normalise_statute(statute) and number in sections:
                return True
        return False


@dataclass(frozen=True)
class ScheduleMatchResult:
    """What matching found; ``to_dict`` is the shape stored with the case and shown by the API."""

    child_sex_offender: bool
    matches: list[dict[str, Any]]
    needs_equivalence_opinion: list[int]
    schedule_version: str
    notes: list[dict[str, Any]] = field(default_factory=list)

    def review(self) -> list[dict[str, Any]]:
        """What a person must judge before the matching is complete, one item per question:
        the notes (victim's age unknown, a paragraph's condition unconfirmed) and every foreign
        or service conviction still without an equivalence opinion, each naming its conviction
        by index, with a ``kind`` and a sentence saying what to record."""
        opinions = [_note(index, None, "needs_equivalence_opinion",
                          "A conviction outside England and Wales (or under service law) counts only "
                          "through a recorded equivalence opinion: record the England and Wales offence "
                          "it is equivalent to, why, and who gave the opinion")
                    for index in self.needs_equivalence_opinion]
        return sorted([*self.notes, *opinions], key=lambda item: item["conviction_index"])

    @property
    def review_needed(self) -> bool:
        """The s.327A duty's trigger is undecided: nothing matched yet, but something might
        once a person records the missing facts. (Once one offence matches, the offender is a
        child sex offender and the consideration starts; open questions on other convictions
        stay listed in :meth:`review` but no longer hold anything up.)"""
        return not self.child_sex_offender and bool(self.notes or self.needs_equivalence_opinion)

    def to_dict(self) -> dict[str, Any]:
        return {"child_sex_offender": self.child_sex_offender, "matches": list(self.matches),
                "needs_equivalence_opinion": list(self.needs_equivalence_opinion),
                "schedule_version": self.schedule_version, "notes": list(self.notes)}


def _parse(raw: dict[str, Any]) -> Schedule:
    paragraphs = tuple(
        Paragraph(paragraph=str(p["paragraph"]), statute=p["statute"],
                  sections=frozenset(normalise_section(s) or s for s in p["sections"]),
                  victim_under_18_required=bool(p["victim_under_18_required"]),
                  counts_towards_serious_harm=bool(p["counts_towards_serious_harm"]),
                  description=p["description"], condition=p.get("condition"),
                  check=p.get("check"))
        for p in raw["paragraphs"])
    service = {name: frozenset(secs)
               for name, secs in raw.get("service_law", {}).get("statutes", {}).items()}
    return Schedule(version=raw["version"], source=raw["source"],
                    source_date=raw["source_date"], notes=raw.get("notes", ""),
                    paragraphs=paragraphs,
                    inchoate_kinds=frozenset(raw.get("inchoate", {}).get("kinds", ())),
                    service_law=service)


@lru_cache(maxsize=1)
def _all_versions() -> dict[str, Schedule]:
    schedules = {}
    for path in sorted(DATA_DIR.glob("schedule_34a*.json")):
        schedule = _parse(json.loads(path.read_text(encoding="utf-8")))
        schedules[schedule.version] = schedule
    return schedules


def available_versions() -> list[str]:
    return sorted(_all_versions())


def load_schedule(version: str | None = None) -> Schedule:
    """The schedule of ``version``, or the newest (by version date) when None. Cached."""
    schedules = _all_versions()
    if version is None:
        return schedules[max(schedules)]
    try:
        return schedules[version]
    except KeyError:
        raise NotFound(f"No Schedule 34A data for version {version}") from None


def match_convictions(convictions: Sequence[ConvictionInput], *,
                      schedule: Schedule | None = None) -> ScheduleMatchResult:
    """Which convictions are Schedule 34A offences, and which need a person's judgement first.

    - every disposal in s.327B (conviction, caution, insanity, disability) counts;
    - an attempt, conspiracy, incitement or aiding matches its substantive offence;
    - a foreign or service conviction counts only through a recorded equivalence opinion,
      and is then matched as the equivalent England and Wales offence;
    - a "victim under 18" paragraph needs the victim's age: unknown is a note, not a match.
    """
    schedule = schedule or load_schedule()
    matches: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    pending: list[int] = []
    for index, conviction in enumerate(convictions):
        if conviction.disposal not in DISPOSALS:
            notes.append(_note(index, None, "unknown_disposal",
                               f"Disposal {conviction.disposal!r} is not one s.327B counts"))
            continue
        if conviction.inchoate is not None and conviction.inchoate not in schedule.inchoate_kinds:
            notes.append(_note(index, None, "unknown_inchoate",
                               f"{conviction.inchoate!r} is not a listed inchoate form"))
            continue
        target = _target(conviction, schedule)
        if target is None:
            pending.append(index)
            continue
        statute, section = target
        if conviction.equivalence_opinion is None:  # recorded as an England and Wales offence
            slip = _slip(index, conviction, schedule)
            if slip is not None:
                notes.append(slip)
                continue
        for paragraph in schedule.lookup(statute, section):
            found = _match_paragraph(index, conviction, paragraph, section)
            if isinstance(found, str):
                continue
            if found.get("note"):
                notes.append(found)
            else:
                matches.append(found)
    return ScheduleMatchResult(child_sex_offender=bool(matches), matches=matches,
                               needs_equivalence_opinion=pending,
                               schedule_version=schedule.version, notes=notes)


def _slip(index: int, conviction: ConvictionInput, schedule: Schedule) -> dict[str, Any] | None:
    """A ``check_statute`` or ``check_section`` question when the citation looks mistyped
    (``domain.statute_check``), or None."""
    listed = schedule.statutes
    key = normalise_statute(conviction.statute)
    if key in listed:
        if normalise_section(conviction.section) is None:
            return _note(index, None, "check_section",
                         f"Section {conviction.section!r} of the {listed[key]} cannot be read as a section "
                         f"number: record the number, for example 9")
        return None
    if conviction.statute_confirmed:
        return None
    near = near_statute(key, listed)
    if near is None:
        return None
    note = _note(index, None, "check_statute",
                 f"{conviction.statute!r} is not a statute Schedule 34A lists, but the {near} is: correct "
                 f"the statute if that is what was meant, or confirm it is right as recorded")
    note["suggestion"] = near
    return note


def _target(conviction: ConvictionInput, schedule: Schedule) -> tuple[str, str] | None:
    """The England and Wales offence to look up, or None while an opinion is missing."""
    needs_opinion = (conviction.jurisdiction != ENGLAND_WALES
                     or schedule.is_service_offence(conviction.statute, conviction.section))
    if not needs_opinion:
        return conviction.statute, conviction.section
    opinion = conviction.equivalence_opinion
    if opinion is None:
        return None
    return opinion.equivalent_statute, opinion.equivalent_section


def _match_paragraph(index: int, conviction: ConvictionInput, paragraph: Paragraph,
                     section: str) -> dict[str, Any] | str:
    """A match dict, a note dict (``note`` key set), or a string saying why it does not apply."""
    age = conviction.victim_age
    if paragraph.victim_under_18_required:
        if age is None:
            return _note(index, paragraph.paragraph, "needs_victim_age",
                         f"Paragraph {paragraph.paragraph} applies only where the victim was "
                         f"under 18: record the victim's age at the time of the offence")
        if age >= CHILD_AGE:
            return "victim 18 or over"
    if paragraph.condition:
        if conviction.condition_met is None:
            return _note(index, paragraph.paragraph, "needs_condition",
                         f"Paragraph {paragraph.paragraph} applies only where "
                         f"{paragraph.condition}: confirm from the particulars")
        if conviction.condition_met is False:
            return "condition not met"
    number = normalise_section(section) or section
    return {
        "paragraph": paragraph.paragraph,
        "statute": paragraph.statute,
        "section": number,
        "conviction_index": index,
        "serious_harm_eligible": paragraph.counts_towards_serious_harm,
        "inchoate": conviction.inchoate,
        "reason": _reason(conviction, paragraph, number),
    }


def _reason(conviction: ConvictionInput, paragraph: Paragraph, number: str) -> str:
    parts = [f"{conviction.disposal.capitalize()} for "]
    if conviction.inchoate:
        parts.append(_INCHOATE_PHRASE.get(conviction.inchoate, conviction.inchoate) + " ")
    parts.append(f"{paragraph.statute} s.{number}")
    if conviction.equivalence_opinion is not None:
        parts.append(f" (equivalent of {conviction.statute} s.{conviction.section}, "
                     f"{conviction.jurisdiction}, in the opinion of "
                     f"{conviction.equivalence_opinion.by})")
    parts.append(f" is listed in Schedule 34A paragraph {paragraph.paragraph}")
    if paragraph.victim_under_18_required:
        parts.append(f" (victim aged {conviction.victim_age})")
    if not paragraph.counts_towards_serious_harm:
        parts.append("; repealed-law paragraph, does not count towards serious harm")
    return "".join(parts)


def _note(index: int, paragraph: str | None, kind: str, text: str) -> dict[str, Any]:
    return {"conviction_index": index, "paragraph": paragraph, "kind": kind, "note": text}


def paragraph_summary(schedule: Schedule | None = None) -> Iterable[dict[str, Any]]:
    """The listed offences flattened for display (help text, reports)."""
    schedule = schedule or load_schedule()
    for p in schedule.paragraphs:
        yield {"paragraph": p.paragraph, "statute": p.statute,
               "sections": sorted(p.sections, key=lambda s: (len(s), s)),
               "victim_under_18_required": p.victim_under_18_required,
               "counts_towards_serious_harm": p.counts_towards_serious_harm,
               "description": p.description}
