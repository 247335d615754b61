"""What a decision record holds of the process's data: the statutory vocabulary, the process
facts kept with it, and every reason and outcome a step recorded.

One function, so the record the engine writes (``services.decisions.decision_row``) and the
record a path test checks (``engine.path_tests``) cannot drift apart.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from disclosure_engine.domain.vocabulary import DECISION_FIELDS, is_reason_field

#: process facts kept with the record besides the vocabulary
RECORD_CONTEXT_FIELDS: tuple[str, ...] = (
    "csods_outcome", "scheme_route", "application_reference", "meeting_reference",
    "decided_out_of_meeting", "ratification_note", "chair_outcome", "attendees", "decision_route",
)


def record_answers(data: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of ``data`` (the deciding task's data with its submission merged in) that go
    into the record. A field set to None is unanswered and left out: a workflow clears the
    answers of a round that did not stand (a returned proposal, a deferral reconsidered) so
    they cannot reach a later record."""
    record: dict[str, Any] = {k: data[k] for k in DECISION_FIELDS if data.get(k) is not None}
    record.update({k: data[k] for k in RECORD_CONTEXT_FIELDS if data.get(k) is not None})
    # every reason and outcome a step recorded (chair's reasons, ratification, reconsideration)
    record.update({k: v for k, v in data.items()
                   if v is not None and (is_reason_field(k) or k.endswith("_outcome"))})
    return record
