"""The decision vocabulary (design brief section 4): field names used in forms, records, API, CSV.

A decision record is defensible only if every limb carries reasons, so the vocabulary also
says which yes/no answer needs which reasons field, and what does not count as a reason.
"""
from __future__ import annotations

import re

DECISION_FIELDS: tuple[str, ...] = (
    "children_at_risk", "recipients",
    "serious_harm_risk", "serious_harm_reasons",
    "disclosure_necessary", "necessity_reasons",
    "presumption_applies", "proportionality_reasons",
    "representations_sought", "representations_reasons", "representations_summary",
    "decision", "decision_reasons", "presumption_rebuttal_reasons", "review_date",
    "information_disclosed", "conditions", "undertaking_signed", "disclosers",
    "disclosure_method", "disclosed_at", "offender_notified", "offender_notification_reasons",
    "legal_basis", "decision_makers", "dissent", "security_marking",
)

DECISION_OUTCOMES: tuple[str, ...] = ("disclose", "do_not_disclose", "defer")
LEGAL_BASES: tuple[str, ...] = ("s327a", "common_law", "csods")
YES_NO: tuple[str, ...] = ("yes", "no")

#: the vocabulary's yes/no answers, stored as "yes" or "no"
YES_NO_FIELDS: tuple[str, ...] = ("serious_harm_risk", "disclosure_necessary", "representations_sought",
                                  "undertaking_signed", "offender_notified")
#: the allowed values of every vocabulary field that is a choice
CHOICES: dict[str, tuple[str, ...]] = {
    **{name: YES_NO for name in YES_NO_FIELDS},
    "decision": DECISION_OUTCOMES,
    "legal_basis": LEGAL_BASES,
}
#: a calendar date, YYYY-MM-DD
DATE_FIELDS: tuple[str, ...] = ("review_date",)
#: a date and time, ISO 8601 (YYYY-MM-DDTHH:MM, optionally seconds and an offset)
DATETIME_FIELDS: tuple[str, ...] = ("disclosed_at",)
#: lists (of names, or of objects such as recipients)
LIST_FIELDS: tuple[str, ...] = ("children_at_risk", "recipients", "disclosers", "decision_makers")
#: never answered by a person: derived from other answers (see :func:`presumption_from_tests`)
DERIVED_FIELDS: tuple[str, ...] = ("presumption_applies",)
#: the answers the presumption is derived from: test (a) and test (b)
PRESUMPTION_TESTS: tuple[str, ...] = ("serious_harm_risk", "disclosure_necessary")

#: a form that asks the answer (key) must also ask at least one of these reasons fields
REASON_PAIRS: dict[str, tuple[str, ...]] = {
    "serious_harm_risk": ("serious_harm_reasons",),
    "disclosure_necessary": ("necessity_reasons",),
    "representations_sought": ("representations_reasons", "representations_summary"),
    "decision": ("decision_reasons", "presumption_rebuttal_reasons"),
    "offender_notified": ("offender_notification_reasons",),
}

#: every field whose value is a reason (free text held to the reason rules below)
REASON_FIELDS: frozenset[str] = frozenset({
    "serious_harm_reasons", "necessity_reasons", "proportionality_reasons",
    "representations_reasons", "representations_summary", "decision_reasons",
    "presumption_rebuttal_reasons", "offender_notification_reasons", "dissent_reasons",
})

MIN_REASON_LENGTH = 20
_PLACEHOLDERS = re.compile(
    r"^\s*(n/?a|none|nil|no|yes|ok|tbc|tba|see above|as above|not applicable|-+|\.+|x+)\s*[.!]*\s*$",
    re.IGNORECASE,
)


def reason_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable recorded reason, or None when it is."""
    if not isinstance(value, str) or not value.strip():
        return "Enter the reasons"
    if _PLACEHOLDERS.match(value):
        return "Give the actual reasons; a placeholder such as \"n/a\" is not a reason"
    if len(value.strip()) < MIN_REASON_LENGTH:
        return f"Reasons must be at least {MIN_REASON_LENGTH} characters"
    return None


#: the longest reason a person may give for changing a case or a process (kept in the audit log)
MAX_CHANGE_REASON = 2000


def change_reason(value: object, *, missing: str) -> tuple[str, str | None]:
    """The reason for a change (convictions, level, pause), stripped, and what is wrong with it:
    ``missing`` when there is none, a placeholder or too short (``reason_problem``), or too long;
    None when it is a real reason."""
    reason = value.strip() if isinstance(value, str) else ""
    if not reason:
        return reason, missing
    problem = reason_problem(reason)
    if problem is None and len(reason) > MAX_CHANGE_REASON:
        problem = f"The reason must be {MAX_CHANGE_REASON} characters or fewer"
    return reason, problem


def is_reason_field(name: str) -> bool:
    return name in REASON_FIELDS or name.endswith("_reasons")


def presumption_from_tests(serious_harm_risk: object, disclosure_necessary: object) -> bool | None:
    """s.327A(3): the presumption to disclose applies when test (a) and test (b) are both met.

    False as soon as either answer is "no"; None when it cannot be told (an answer missing or
    not yes/no), so the caller keeps what the workflow derived."""
    answers = (serious_harm_risk, disclosure_necessary)
    if "no" in answers:
        return False
    if all(a == "yes" for a in answers):
        return True
    return None

#: Sarah's Law forum outcomes, and the decision each amounts to in the decision log
CSODS_OUTCOMES: dict[str, str] = {
    "presumptive_disclosure": "disclose",
    "discretionary_disclosure": "disclose",
    "non_disclosure_letter": "do_not_disclose",
    "other_safeguarding_action": "do_not_disclose",
}


def decision_outcome(data: dict[str, object]) -> str | None:
    """The decision-log outcome of a record: the vocabulary's ``decision``, else a CSODS outcome."""
    value = data.get("decision")
    if isinstance(value, str) and value in DECISION_OUTCOMES:
        return value
    csods = data.get("csods_outcome")
    if isinstance(csods, str):
        return CSODS_OUTCOMES.get(csods)
    return None
