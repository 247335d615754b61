"""The statutory rules a corrected decision record must meet (``services.decisions.supersede``).

A decision record is written by a workflow's steps, each form checking its own answers; but a
record gathers the answers of several steps (test (a) and (b) from one, the decision from
another, the chair's sign-off from a third), so no one deployed form describes it. A correction
changes the record as a whole, so it is checked against the rules of the decision vocabulary
itself (``domain.vocabulary``), the same for every workflow:

- every choice field holds one of its allowed values (yes/no answers, ``decision``,
  ``legal_basis``) and dates are real dates; a changed list field is a list and a changed
  text field is text;
- every reason is a real reason (``vocabulary.reason_problem``): a changed reason may not be
  blanked, and no reason the record holds may be a placeholder such as "n/a";
- when the presumption to disclose applies and the decision is not to disclose, the reasons
  that rebut it are required; a deferral needs its review date;
- ``presumption_applies`` is never a change: it is derived again from test (a) and test (b)
  (both "yes") when a correction changes either of them, and otherwise kept as the workflow
  derived it.

The rules are checked on the corrected record (the old record merged with the changes), so a
correction cannot leave a record that breaks them, whichever field it changed.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.vocabulary import (
    CHOICES,
    DATE_FIELDS,
    DATETIME_FIELDS,
    DECISION_FIELDS,
    DERIVED_FIELDS,
    LIST_FIELDS,
    PRESUMPTION_TESTS,
    YES_NO,
    decision_outcome,
    is_reason_field,
    presumption_from_tests,
    reason_problem,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_LABELS = {
    "review_date": "Review date",
    "disclosed_at": "Date and time of disclosure",
    "decision_makers": "decision makers",
}


def corrected_record(old: Mapping[str, Any], changes: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The record a correction writes, and the derived fields it worked out again; or a
    ValidationFailed naming every field that breaks a rule (nothing is written then)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        bucket = errors.setdefault(name, [])
        if message not in bucket:
            bucket.append(message)

    unknown = sorted(set(changes) - set(DECISION_FIELDS))
    for name in unknown:
        add(name, "Not a decision field")
    for name in DERIVED_FIELDS:
        if name in changes:
            add(name, "Whether the presumption to disclose applies is derived from test (a) and test (b): "
                      f"correct {' or '.join(PRESUMPTION_TESTS)} instead")
    if unknown:
        raise ValidationFailed("Only decision fields can be corrected", errors)

    record = {**old, **{k: v for k, v in changes.items() if k not in DERIVED_FIELDS}}
    rederived: list[str] = []
    if any(name in changes for name in PRESUMPTION_TESTS):
        derived = presumption_from_tests(*(record.get(name) for name in PRESUMPTION_TESTS))
        if derived is not None:
            if derived is not as_flag(old.get("presumption_applies")):
                rederived.append("presumption_applies")
            record["presumption_applies"] = derived

    for name, value in record.items():
        if _blank(value) and name not in changes:
            continue  # not answered: what is required is checked below
        problem = _value_problem(name, value, changed=name in changes)
        if problem is not None:
            add(name, problem)

    outcome = decision_outcome(record)
    if as_flag(record.get("presumption_applies")) is True and outcome not in (None, "disclose") \
            and _blank(record.get("presumption_rebuttal_reasons")):
        add("presumption_rebuttal_reasons", "Enter the reasons the presumption to disclose is rebutted: it "
                                            "applies and the decision is not to disclose")
    if record.get("decision") == "defer" and _blank(record.get("review_date")):
        add("review_date", "Enter the review date: a deferral needs one")

    if errors:
        raise ValidationFailed("The corrected record breaks the rules for a decision record", errors)
    return record, rederived


def _value_problem(name: str, value: Any, *, changed: bool) -> str | None:
    """What is wrong with one field's value (blank only when a change clears it: a reason or a
    choice may not be cleared, other answers may). The statutory rules (reasons, choices,
    dates) hold for every field of the record; whether a list or text field is a list or text
    is asked only of a changed one, the deploying policy's forms having shaped the rest."""
    if is_reason_field(name):
        return reason_problem(value)
    if name in CHOICES:
        allowed = CHOICES[name]
        if value in allowed:
            return None
        return "Select yes or no" if allowed == YES_NO else f"Select one of: {', '.join(allowed)}"
    if _blank(value):
        return None  # a changed answer that is not required may be cleared
    if name in DATE_FIELDS:
        return None if _is_date(value) else f"{_label(name)} must be a real date, for example 2027-03-27"
    if name in DATETIME_FIELDS:
        return None if _is_datetime(value) else (f"{_label(name)} must be a real date and time, "
                                                 "for example 2027-03-27T14:30:00+00:00")
    if not changed:
        return None
    if name in LIST_FIELDS:
        if not isinstance(value, list):
            return f"Enter the {_label(name)} as a list"
        if name == "decision_makers" and not value:
            return "Enter at least one decision maker"
        return None
    if name in DECISION_FIELDS and name not in DERIVED_FIELDS and not isinstance(value, str):
        return f"Enter the {_label(name)} as text"
    return None


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_flag(value: Any) -> bool | None:
    """A yes/no answer as stored (``"yes"``/``"no"``, a boolean, or their text) as a boolean;
    None when it is neither."""
    if isinstance(value, bool):
        return value
    if value in ("yes", "true", "True"):
        return True
    if value in ("no", "false", "False"):
        return False
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
