"""The lint refuses exactly what the runtime refuses when a task becomes ready, and what it
accepts the runtime creates with the same role and deadlines.

Each case is a small BPMN written here, validated as ``workflows validate`` does, and run
through compile_bundle -> start_workflow -> task_projection (the path case creation takes for
``s327a_consideration``).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from disclosure_engine.engine import runtime
from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.engine.validate import validate_paths
from disclosure_engine.services.instances import task_projection

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, no bank holiday near
FORM = json.dumps({"type": "object", "properties": {"note": {"type": "string"}}})
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
        'targetNamespace="http://bpmn.io/schema/bpmn">\n')


def _props(props: dict[str, str]) -> str:
    items = "".join(f'\n        <spiffworkflow:property name="{k}" value="{v}" />' for k, v in props.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{items}\n      </spiffworkflow:properties></bpmn:extensionElements>"


def _user_task(task_id: str, props: dict[str, str], incoming: str, outgoing: str) -> str:
    props = {"formJsonSchemaFilename": "form.schema.json", **props}
    return (f'    <bpmn:userTask id="{task_id}" name="Review">\n      {_props(props)}\n'
            f"      <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>\n"
            "    </bpmn:userTask>\n")


def _model(props: dict[str, str], *, lanes: str | None = None, subprocess: bool = False) -> str:
    """Process ``flow`` with one user task ``review`` (inside subprocess ``stage`` if asked).
    ``lanes`` is the laneSet's content; by default a lane named Officer holds ``review``."""
    lanes = lanes if lanes is not None else (
        '<bpmn:lane id="officer_lane" name="Officer"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>')
    target = "stage" if subprocess else "review"
    if subprocess:
        body = ('    <bpmn:subProcess id="stage"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>\n'
                '    <bpmn:startEvent id="stage_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>\n'
                '    <bpmn:sequenceFlow id="s1" sourceRef="stage_start" targetRef="review" />\n'
                + _user_task("review", props, "s1", "s2") +
                '    <bpmn:sequenceFlow id="s2" sourceRef="review" targetRef="stage_end" />\n'
                '    <bpmn:endEvent id="stage_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>\n'
                "    </bpmn:subProcess>\n")
    else:
        body = _user_task("review", props, "f1", "f2")
    return (HEAD + '  <bpmn:process id="flow" isExecutable="true">\n'
            f'    <bpmn:laneSet id="lanes">{lanes}</bpmn:laneSet>\n'
            '    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
            f'    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{target}" />\n'
            + body +
            f'    <bpmn:sequenceFlow id="f2" sourceRef="{target}" targetRef="end" />\n'
            '    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
            "  </bpmn:process>\n</bpmn:definitions>\n")


def _write(tmp_path: Path, xml: str) -> Path:
    (tmp_path / "form.schema.json").write_text(FORM)
    path = tmp_path / "flow.bpmn"
    path.write_text(xml)
    return path


def _validate(path: Path) -> list[str]:
    return [str(p) for p in validate_paths([path])]


def _line(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def _row(path: Path) -> dict[str, Any]:
    """The task row case creation would insert for the first ready task."""
    compiled = runtime.compile_bundle(bundle_from_path(path))
    wf = runtime.start_workflow(compiled, {})
    instance = SimpleNamespace(id=1, case_id=1, area_id=1)
    _withdrawn, rows = task_projection(instance, compiled.key, wf, compiled, NOW, [])
    (row,) = rows
    return row


# -- 1. deadlines: one parser -------------------------------------------------------------------

@pytest.mark.parametrize("props, message", [
    ({"due_period": "P2D", "escalate_after": "P1D"},
     "escalate_after needs escalate_to_role (who is told when the task is escalated)"),
    ({"due_period": "P2D", "due_working_days": "3"}, "Set due_period or due_working_days, not both"),
    ({"due_period": "P0D"}, "due_period must be longer than zero"),
    ({"due_period": "P1.5D"}, "due_period 'P1.5D' is not an ISO 8601 duration: use whole numbers "
                              "such as P10D, PT4H, P2W or P1W2D (only seconds may have a fraction)"),
    ({"due_period": "PT0.5H"}, "due_period 'PT0.5H' is not an ISO 8601 duration: use whole numbers "
                               "such as P10D, PT4H, P2W or P1W2D (only seconds may have a fraction)"),
    ({"due_working_days": "400"}, "due_working_days must be a whole number from 1 to 366 (got '400')"),
    ({"due_period": "P2D", "reminder_before": "P9999Y"}, "reminder_before is too long"),
])
def test_deadline_the_runtime_refuses_is_refused_by_validate(tmp_path, props, message):
    path = _write(tmp_path, _model(props))
    line = _line(path, '<bpmn:userTask id="review"')
    assert _validate(path) == [f"{path}:{line}: review: {message}"]
    with pytest.raises(runtime.WorkflowError, match="^review: ") as info:
        _row(path)  # a fault of the model, named, not a 422 about the officer's submission
    assert info.value.element_id == "review" and message in str(info.value)


def test_weeks_with_days_are_accepted_as_the_runtime_and_docs_accept_them(tmp_path):
    path = _write(tmp_path, _model({"due_period": "P1W2D"}))
    assert _validate(path) == []
    assert _row(path)["due_at"] == NOW + timedelta(days=9)


def test_process_default_escalation_without_role_is_refused_on_the_task(tmp_path):
    xml = _model({"due_period": "P2D"}).replace(
        '<bpmn:process id="flow" isExecutable="true">',
        '<bpmn:process id="flow" isExecutable="true">' + _props({"escalate_after": "P1D"}))
    path = _write(tmp_path, xml)
    assert [p.split(": ", 2)[1:] for p in _validate(path)] == [
        ["review", "escalate_after needs escalate_to_role (who is told when the task is escalated)"]]


def test_a_called_process_uses_its_own_deadline_defaults_in_lint_and_runtime(tmp_path):
    caller = (HEAD + '  <bpmn:process id="flow" isExecutable="true">\n'
              + f"    {_props({'due_working_days': '5', 'escalate_after': 'P1D', 'escalate_to_role': 'manager'})}\n"
              '    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
              '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />\n'
              '    <bpmn:callActivity id="call" calledElement="helper"><bpmn:incoming>f1</bpmn:incoming>'
              "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>\n"
              '    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />\n'
              '    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
              "  </bpmn:process>\n"
              '  <bpmn:process id="helper" isExecutable="true">\n'
              f"    {_props({'due_period': 'PT4H'})}\n"
              '    <bpmn:startEvent id="h_start"><bpmn:outgoing>h1</bpmn:outgoing></bpmn:startEvent>\n'
              '    <bpmn:sequenceFlow id="h1" sourceRef="h_start" targetRef="review" />\n'
              + _user_task("review", {"candidate_role": "officer"}, "h1", "h2") +
              '    <bpmn:sequenceFlow id="h2" sourceRef="review" targetRef="h_end" />\n'
              '    <bpmn:endEvent id="h_end"><bpmn:incoming>h2</bpmn:incoming></bpmn:endEvent>\n'
              "  </bpmn:process>\n</bpmn:definitions>\n")
    path = _write(tmp_path, caller)
    assert _validate(path) == []
    row = _row(path)
    assert row["due_at"] == NOW + timedelta(hours=4) and row["escalate_at"] is None


# -- 2. and 3. the candidate role: what SpiffWorkflow gives the task, normalised once ----------

def test_task_in_an_embedded_subprocess_takes_the_subprocess_lane(tmp_path):
    lanes = ('<bpmn:lane id="chair_lane" name="Chair"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
             "<bpmn:flowNodeRef>stage</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>")
    path = _write(tmp_path, _model({"due_period": "P2D"}, lanes=lanes, subprocess=True))
    assert _validate(path) == []
    assert _row(path)["candidate_role"] == "chair"


@pytest.mark.parametrize("lanes, hint", [
    ('<bpmn:lane id="chair"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>',
     "lane 'chair' has no name, and the lane's name (not its id) is the role"),
    ('<bpmn:lane id="chair_lane" name="Chair"><bpmn:flowNodeRef>\n      review\n    </bpmn:flowNodeRef></bpmn:lane>',
     "the flowNodeRef 'review' in lane 'chair_lane' has spaces or line breaks around the id, "
     "and SpiffWorkflow matches it exactly"),
])
def test_a_lane_spiffworkflow_does_not_give_the_task_is_refused_not_made_officer(tmp_path, lanes, hint):
    path = _write(tmp_path, _model({"due_period": "P2D"}, lanes=lanes))
    line = _line(path, '<bpmn:userTask id="review"')
    assert _validate(path) == [
        f"{path}:{line}: review: userTask has no candidate role (set property candidate_role or "
        f"put it in a lane named after a role): {hint}"]
    with pytest.raises(runtime.WorkflowError, match="^review: task has no candidate role"):
        _row(path)


@pytest.mark.parametrize("props, lane, role, escalate_to", [
    ({"candidate_role": " chair "}, "Officer", "chair", None),
    ({"candidate_role": "Officer"}, "Chair", "officer", None),
    ({}, "MANAGER", "manager", None),
    ({}, " Chair ", "chair", None),
    ({"escalate_after": "P1D", "escalate_to_role": "Manager"}, "Officer", "officer", "manager"),
])
def test_roles_are_stripped_and_case_free_in_lint_and_runtime(tmp_path, props, lane, role, escalate_to):
    lanes = f'<bpmn:lane id="the_lane" name="{lane}"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
    path = _write(tmp_path, _model({"due_period": "P2D", **props}, lanes=lanes))
    assert _validate(path) == []
    row = _row(path)
    assert (row["candidate_role"], row["escalate_to_role"]) == (role, escalate_to)


def test_a_role_that_is_not_a_product_role_is_refused_in_both(tmp_path):
    path = _write(tmp_path, _model({"due_period": "P2D", "candidate_role": "Judge"}))
    assert [p.split(": ", 2)[2] for p in _validate(path)] == [
        "candidate_role 'Judge' is not a role (one of officer, chair, manager, policy, auditor, admin)"]
    with pytest.raises(runtime.WorkflowError, match="^review: candidate_role 'Judge' is not a role"):
        _row(path)


def test_form_name_with_spaces_names_the_same_form_at_runtime(tmp_path):
    path = _write(tmp_path, _model({"due_period": "P2D"}).replace(
        'value="form.schema.json"', 'value=" form.schema.json "'))
    assert _validate(path) == []
    assert _row(path)["form_name"] == "form.schema.json"
