"""The public case shape (design brief section 3): parse, validate and serialise it.

Every way a case enters the engine (API, web form, CLI demo data, import) goes through
``validate_case_input`` so that one set of rules, with one set of GOV.UK-style messages, decides
what a valid case is. Errors are keyed by the field path an integrator sent
(``"convictions.1.date"``), so a client can put each message next to its field.

Offender references are opaque identifiers (ViSOR, PNC, nDelius): the engine never holds the
register itself, so the charset is deliberately narrow to keep names and free text out.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.vocabulary import (
    MAX_CHANGE_REASON,
    change_reason,
    reason_problem,
)

ENGLAND_WALES = "england-wales"
DISPOSALS: tuple[str, ...] = ("conviction", "caution", "insanity", "disability")
LEAD_AGENCIES: tuple[str, ...] = ("police", "probation", "prison")
INCHOATE_KINDS: tuple[str, ...] = ("attempt", "conspiracy", "incitement", "aiding")
OFFENDER_REF_FIELDS: tuple[str, ...] = ("visor_ref", "pnc_ref", "ndelius_crn")

CASE_FIELDS = frozenset({"reference", "area", "category", "level", "lead_agency", "offender",
                         "convictions"})
CONVICTION_FIELDS = frozenset({"statute", "section", "date", "disposal", "victim_age",
                               "jurisdiction", "equivalence_opinion", "inchoate",
                               "condition_met", "statute_confirmed"})
OPINION_FIELDS = frozenset({"equivalent_statute", "equivalent_section", "reasons", "by"})
#: fields the API adds to a case in responses; named so the error can say why they are refused
READ_ONLY_FIELDS = frozenset({"id", "child_sex_offender", "schedule_34a_matches", "processes"})

_REFERENCE = re.compile(r"^[A-Za-z0-9/-]{3,40}$")
_OPAQUE_REF = re.compile(r"^[A-Za-z0-9/-]{1,40}$")
_COUNTRY = re.compile(r"^[a-z]+(-[a-z]+)*$")
_SECTION = re.compile(r"^[A-Za-z0-9().\- ]{1,30}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_STATUTE = 200
MAX_CONVICTIONS = 200
MAX_VICTIM_AGE = 120
MAX_AMENDMENT_REASON = MAX_CHANGE_REASON


@dataclass(frozen=True)
class OffenderRefs:
    """Opaque references to national systems; any or none may be known."""

    visor_ref: str | None = None
    pnc_ref: str | None = None
    ndelius_crn: str | None = None


@dataclass(frozen=True)
class EquivalenceOpinion:
    """The RA's recorded judgement that a foreign (or service) offence matches an E&W one."""

    equivalent_statute: str
    equivalent_section: str
    reasons: str
    by: str


@dataclass(frozen=True)
class ConvictionInput:
    """One disposal (conviction, caution, insanity or disability finding) for one offence.

    ``victim_age`` is the age at the time of the offence (or of the intended victim, for
    intent offences). ``condition_met`` records that the particulars satisfy a Schedule 34A
    paragraph's extra condition (e.g. burglary *with intent to rape*): the statute and section
    alone cannot show it.
    """

    statute: str
    section: str
    date: date
    disposal: str
    victim_age: int | None = None
    jurisdiction: str = ENGLAND_WALES
    equivalence_opinion: EquivalenceOpinion | None = None
    inchoate: str | None = None
    condition_met: bool | None = None
    #: a person confirmed the statute is right as recorded (a ``check_statute`` question)
    statute_confirmed: bool | None = None


@dataclass(frozen=True)
class CaseInput:
    reference: str
    area: str
    category: int
    level: int
    lead_agency: str
    offender: OffenderRefs
    convictions: tuple[ConvictionInput, ...]


def _today_london() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def _is_int(value: object) -> bool:
    # bool is an int subclass; True must not pass as category 1
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str | None:
    """A stripped non-empty string, or None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def validate_case_input(payload: Mapping[str, Any], *, today: date | None = None) -> CaseInput:
    """Return the case as frozen dataclasses, or raise ValidationFailed listing every problem.

    ``today`` (default: today in London) bounds conviction dates; tests pass it explicitly.
    """
    if not isinstance(payload, Mapping):
        raise ValidationFailed("The case must be a JSON object",
                               {"_form": ["Send the case as a JSON object"]})
    today = today or _today_london()
    err = _Errors()

    for key in payload:
        if key in READ_ONLY_FIELDS:
            err.add(str(key), f"Remove {key}: it is set by the system, not sent")
        elif key not in CASE_FIELDS:
            err.add(str(key), f"Remove {key}: it is not part of a case")

    reference = _text(payload.get("reference"))
    if reference is None:
        err.add("reference", "Enter the case reference")
    elif not _REFERENCE.match(reference):
        err.add("reference", "Case reference must be 3 to 40 characters: letters, numbers, "
                             "hyphens (-) and slashes (/) only")

    area = payload.get("area")
    if not isinstance(area, str) or area not in AREAS:
        err.add("area", "Enter a MAPPA area from the list of 42 areas, for example \"kent\"")

    category = payload.get("category")
    if not (_is_int(category) and 1 <= category <= 4):
        err.add("category", "Enter a MAPPA category from 1 to 4")
    level = payload.get("level")
    if not (_is_int(level) and 1 <= level <= 3):
        err.add("level", "Enter a MAPPA level from 1 to 3")
    lead_agency = payload.get("lead_agency")
    if lead_agency not in LEAD_AGENCIES:
        err.add("lead_agency", "Select the lead agency: police, probation or prison")

    offender = _offender(payload.get("offender"), err)
    convictions = _convictions(payload.get("convictions"), err, today)

    if err.errors:
        raise ValidationFailed("The case has errors", err.errors)
    return CaseInput(reference=reference or "", area=str(area), category=int(category),  # type: ignore[arg-type]
                     level=int(level), lead_agency=str(lead_agency),  # type: ignore[arg-type]
                     offender=offender, convictions=convictions)


@dataclass(frozen=True)
class ConvictionAmendment:
    """A case's convictions as corrected or completed, and why (kept in the audit log)."""

    convictions: tuple[ConvictionInput, ...]
    reason: str


AMENDMENT_FIELDS = frozenset({"convictions", "reason"})


def validate_conviction_amendment(payload: Mapping[str, Any], *,
                                  today: date | None = None) -> ConvictionAmendment:
    """The whole corrected list of convictions (each checked as at case creation) and the
    reason for the change, or ValidationFailed listing every problem. The reason must be a
    real reason: the change can alter whether the s.327A duty applies at all."""
    if not isinstance(payload, Mapping):
        raise ValidationFailed("The change must be a JSON object",
                               {"_form": ["Send the convictions and the reason as a JSON object"]})
    err = _Errors()
    for key in payload:
        if key not in AMENDMENT_FIELDS:
            err.add(str(key), f"Remove {key}: only convictions and reason are changed here")
    convictions = _convictions(payload.get("convictions"), err, today or _today_london())
    reason, problem = change_reason(payload.get("reason"), missing="Enter why the convictions are being changed")
    if problem is not None:
        err.add("reason", problem)
    if err.errors:
        raise ValidationFailed("The convictions have errors", err.errors)
    return ConvictionAmendment(convictions=convictions, reason=reason)


def _offender(raw: object, err: _Errors) -> OffenderRefs:
    if raw is None:
        return OffenderRefs()
    if not isinstance(raw, Mapping):
        err.add("offender", "Offender references must be an object with visor_ref, pnc_ref "
                            "or ndelius_crn")
        return OffenderRefs()
    values: dict[str, str | None] = {}
    for key in raw:
        if key not in OFFENDER_REF_FIELDS:
            err.add(f"offender.{key}", f"Remove {key}: only visor_ref, pnc_ref and ndelius_crn "
                                       "are held")
    for name in OFFENDER_REF_FIELDS:
        value = raw.get(name)
        if value is None or value == "":
            values[name] = None
        elif not isinstance(value, str) or not _OPAQUE_REF.match(value):
            err.add(f"offender.{name}", "References must be up to 40 letters, numbers, hyphens "
                                        "or slashes, with no spaces or names")
            values[name] = None
        else:
            values[name] = value
    return OffenderRefs(**values)


def _convictions(raw: object, err: _Errors, today: date) -> tuple[ConvictionInput, ...]:
    if raw is None:
        err.add("convictions", "Enter at least one conviction, caution or finding")
        return ()
    if not isinstance(raw, list):
        err.add("convictions", "Convictions must be a list")
        return ()
    if not raw:
        err.add("convictions", "Enter at least one conviction, caution or finding")
    if len(raw) > MAX_CONVICTIONS:
        err.add("convictions", f"Enter no more than {MAX_CONVICTIONS} convictions")
        return ()
    out = []
    for index, item in enumerate(raw):
        conviction = _conviction(item, f"convictions.{index}", err, today)
        if conviction is not None:
            out.append(conviction)
    return tuple(out)


def _conviction(raw: object, prefix: str, err: _Errors, today: date) -> ConvictionInput | None:
    if not isinstance(raw, Mapping):
        err.add(prefix, "Each conviction must be an object")
        return None
    before = sum(len(v) for v in err.errors.values())
    for key in raw:
        if key not in CONVICTION_FIELDS:
            err.add(f"{prefix}.{key}", f"Remove {key}: it is not part of a conviction")

    statute = _text(raw.get("statute"))
    if statute is None:
        err.add(f"{prefix}.statute", "Enter the statute, for example \"Sexual Offences Act 2003\"")
    elif len(statute) > MAX_STATUTE:
        err.add(f"{prefix}.statute", f"Statute must be {MAX_STATUTE} characters or fewer")

    section_raw = raw.get("section")
    if _is_int(section_raw):
        section_raw = str(section_raw)
    section = _text(section_raw)
    if section is None:
        err.add(f"{prefix}.section", "Enter the section, for example \"9\"")
    elif not _SECTION.match(section):
        err.add(f"{prefix}.section", "Section must be up to 30 letters, numbers and brackets, "
                                     "for example \"9(1)\"")

    when = _conviction_date(raw.get("date"), f"{prefix}.date", err, today)

    disposal = raw.get("disposal")
    if disposal not in DISPOSALS:
        err.add(f"{prefix}.disposal", "Select the disposal: conviction, caution, insanity or "
                                      "disability")

    victim_age = raw.get("victim_age")
    if victim_age is not None and not (_is_int(victim_age) and 0 <= victim_age <= MAX_VICTIM_AGE):
        err.add(f"{prefix}.victim_age", f"Victim age must be a whole number from 0 to "
                                        f"{MAX_VICTIM_AGE}, or left out if not known")

    jurisdiction = raw.get("jurisdiction", ENGLAND_WALES)
    if (not isinstance(jurisdiction, str) or not _COUNTRY.match(jurisdiction)
            or len(jurisdiction) > 60):
        err.add(f"{prefix}.jurisdiction", "Enter \"england-wales\" or the country as a lowercase "
                                          "slug, for example \"scotland\"")

    inchoate = raw.get("inchoate")
    if inchoate is not None and inchoate not in INCHOATE_KINDS:
        err.add(f"{prefix}.inchoate", "Inchoate must be attempt, conspiracy, incitement or aiding")

    condition_met = raw.get("condition_met")
    if condition_met is not None and not isinstance(condition_met, bool):
        err.add(f"{prefix}.condition_met", "condition_met must be true or false")
    statute_confirmed = raw.get("statute_confirmed")
    if statute_confirmed is not None and not isinstance(statute_confirmed, bool):
        err.add(f"{prefix}.statute_confirmed", "statute_confirmed must be true or false")

    opinion = _opinion(raw.get("equivalence_opinion"), f"{prefix}.equivalence_opinion", err)

    if sum(len(v) for v in err.errors.values()) != before:
        return None
    return ConvictionInput(statute=statute or "", section=section or "", date=when,  # type: ignore[arg-type]
                           disposal=str(disposal), victim_age=victim_age,  # type: ignore[arg-type]
                           jurisdiction=str(jurisdiction), equivalence_opinion=opinion,
                           inchoate=inchoate, condition_met=condition_met,  # type: ignore[arg-type]
                           statute_confirmed=statute_confirmed)  # type: ignore[arg-type]


def _conviction_date(raw: object, key: str, err: _Errors, today: date) -> date | None:
    if raw is None or raw == "":
        err.add(key, "Enter the date of the conviction, caution or finding")
        return None
    if not isinstance(raw, str) or not _ISO_DATE.match(raw):
        err.add(key, "Date must be a real date in the format YYYY-MM-DD, for example 2019-03-27")
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        err.add(key, "Date must be a real date in the format YYYY-MM-DD, for example 2019-03-27")
        return None
    if value > today:
        err.add(key, "Date must be today or in the past")
        return None
    return value


def _opinion(raw: object, key: str, err: _Errors) -> EquivalenceOpinion | None:
    """Shape check only: whether an opinion is *needed* is a matching question."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        err.add(key, "The equivalence opinion must be an object")
        return None
    for extra in raw:
        if extra not in OPINION_FIELDS:
            err.add(f"{key}.{extra}", f"Remove {extra}: it is not part of an equivalence opinion")
    messages = {
        "equivalent_statute": "Enter the equivalent England and Wales statute",
        "equivalent_section": "Enter the equivalent section",
        "reasons": "Enter the reasons the offences are equivalent",
        "by": "Enter who gave the equivalence opinion",
    }
    values = {}
    for name, message in messages.items():
        value = raw.get(name)
        if _is_int(value) and name == "equivalent_section":
            value = str(value)
        text = _text(value)
        if text is None:
            err.add(f"{key}.{name}", message)
        elif name == "reasons" and (problem := reason_problem(text)) is not None:
            # the opinion is what makes a foreign conviction count: its reasons must stand up
            err.add(f"{key}.{name}", problem)
            text = None
        values[name] = text or ""
    if any(not v for v in values.values()):
        return None
    return EquivalenceOpinion(**values)


def to_public_dict(case: CaseInput) -> dict[str, Any]:
    """The case in the public JSON shape; ``validate_case_input`` of the result round-trips."""
    offender = {name: getattr(case.offender, name) for name in OFFENDER_REF_FIELDS
                if getattr(case.offender, name) is not None}
    return {
        "reference": case.reference,
        "area": case.area,
        "category": case.category,
        "level": case.level,
        "lead_agency": case.lead_agency,
        "offender": offender,
        "convictions": [conviction_to_dict(c) for c in case.convictions],
    }


def conviction_to_dict(conviction: ConvictionInput) -> dict[str, Any]:
    out: dict[str, Any] = {
        "statute": conviction.statute,
        "section": conviction.section,
        "date": conviction.date.isoformat(),
        "disposal": conviction.disposal,
        "jurisdiction": conviction.jurisdiction,
    }
    if conviction.victim_age is not None:
        out["victim_age"] = conviction.victim_age
    if conviction.inchoate is not None:
        out["inchoate"] = conviction.inchoate
    if conviction.condition_met is not None:
        out["condition_met"] = conviction.condition_met
    if conviction.statute_confirmed is not None:
        out["statute_confirmed"] = conviction.statute_confirmed
    if conviction.equivalence_opinion is not None:
        op = conviction.equivalence_opinion
        out["equivalence_opinion"] = {"equivalent_statute": op.equivalent_statute,
                                      "equivalent_section": op.equivalent_section,
                                      "reasons": op.reasons, "by": op.by}
    return out
