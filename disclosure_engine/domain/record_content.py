"""What a decision record holds of the process's data: the statutory vocabulary, the process
facts kept with it, and every reason and outcome a step recorded.

One function, so the record the engine writes (``services.decisions.decision_row``) and the
record a path test checks (``engine.path_tests``) cannot drift apart.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from disclosure_engine.domain.vocabulary import DECISION_FIELDS, is_reason_field

#: process facts kept with the record besides the vocabulary; ``decision_id`` is the decision a
#: delivery delivers (disclosure_delivery's start data, from the hand-off or a start by hand)
RECORD_CONTEXT_FIELDS: tuple[str, ...] = (
    "csods_outcome", "scheme_route", "application_reference", "meeting_reference",
    "decided_out_of_meeting", "ratification_note", "chair_outcome", "attendees", "decision_route",
    "decision_id",
    # what the decision stands on besides the vocabulary: the alternatives weighed with
    # proportionality, the risk assessment relied on, the CSODS forum's reference, and when
    # representations were asked for and received (domain brief: "A decision record holds")
    "alternatives_considered", "risk_assessment_reference", "forum_reference",
    "representations_requested_on", "representations_received", "representations_received_on",
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


def form_fields(form: Mapping[str, Any] | None) -> set[str]:
    """The answers a form asks of the step itself: its properties, and those of its
    ``allOf``/``anyOf``/``oneOf`` and ``if``/``then``/``else`` branches (not fields inside a list
    of objects)."""
    fields: set[str] = set()
    todo = [form] if isinstance(form, Mapping) else []
    while todo:
        schema = todo.pop()
        props = schema.get("properties")
        if isinstance(props, Mapping):
            fields.update(str(k) for k in props)
        for key in ("allOf", "anyOf", "oneOf"):
            todo.extend(sub for sub in schema.get(key) or [] if isinstance(sub, Mapping))
        todo.extend(schema[key] for key in ("if", "then", "else") if isinstance(schema.get(key), Mapping))
    return fields


def decision_data(before: Mapping[str, Any], answers: Mapping[str, Any],
                  form: Mapping[str, Any] | None) -> dict[str, Any]:
    """The process data a decision record is built from when a step whose form is ``form`` is
    completed with ``answers`` (validated, defaults and read-only values applied): the data
    before the step, except the fields its own form asks, which are the step's answers only.
    A ratifying meeting that records no dissent has none, whatever the sign-off recorded."""
    asked = form_fields(form)
    return {**{k: v for k, v in before.items() if k not in asked}, **answers}
