"""The four-eyes property (``not_completed_by``) must name other user tasks of the workflow:
a misspelt id would silently check nothing, so ``workflows validate`` refuses it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from disclosure_engine.engine import task_rules
from disclosure_engine.engine.validate import validate_paths

FORM = json.dumps({"type": "object", "properties": {"note": {"type": "string"}}})


def _model(not_completed_by: str | None) -> str:
    extra = (f'<spiffworkflow:property name="not_completed_by" value="{not_completed_by}" />'
             if not_completed_by is not None else "")

    def task(task_id: str, role: str, incoming: str, outgoing: str, more: str = "") -> str:
        return (f'<bpmn:userTask id="{task_id}" name="{task_id.title()}"><bpmn:extensionElements>'
                '<spiffworkflow:properties>'
                '<spiffworkflow:property name="formJsonSchemaFilename" value="form.schema.json" />'
                f'<spiffworkflow:property name="candidate_role" value="{role}" />'
                f'<spiffworkflow:property name="due_period" value="P2D" />{more}'
                '</spiffworkflow:properties></bpmn:extensionElements>'
                f"<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>"
                "</bpmn:userTask>\n")

    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
            'targetNamespace="http://bpmn.io/schema/bpmn">\n'
            '<bpmn:process id="flow" isExecutable="true">\n'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="propose" />\n'
            + task("propose", "officer", "f1", "f2") +
            '<bpmn:sequenceFlow id="f2" sourceRef="propose" targetRef="gw" />\n'
            '<bpmn:exclusiveGateway id="gw"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
            '</bpmn:exclusiveGateway>\n'
            '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="sign_off" />\n'
            + task("sign_off", "chair", "f3", "f4", extra) +
            '<bpmn:sequenceFlow id="f4" sourceRef="sign_off" targetRef="end" />\n'
            '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>\n'
            "</bpmn:process>\n</bpmn:definitions>\n")


def _validate(tmp_path: Path, not_completed_by: str | None) -> list[str]:
    (tmp_path / "form.schema.json").write_text(FORM)
    path = tmp_path / "flow.bpmn"
    path.write_text(_model(not_completed_by))
    return [str(p) for p in validate_paths([path])]


@pytest.mark.parametrize("value", [None, "propose", " propose ", "propose,propose"])
def test_naming_an_earlier_user_task_is_accepted(tmp_path, value):
    assert _validate(tmp_path, value) == []


@pytest.mark.parametrize("value, message", [
    ("propse", "not_completed_by names 'propse', which is not a user task of this workflow"),
    ("gw", "not_completed_by names 'gw', which is a BPMN exclusiveGateway, not a user task"),
    ("sign_off", "not_completed_by names the task itself ('sign_off')"),
    ("propose, start", "not_completed_by names 'start', which is a BPMN startEvent, not a user task"),
    ("", "not_completed_by is empty"),
])
def test_naming_anything_else_is_refused_on_the_task(tmp_path, value, message):
    problems = _validate(tmp_path, value)
    assert len(problems) == 1, problems
    assert ": sign_off: " in problems[0] and message in problems[0]


def test_the_ids_are_read_as_written_by_commas_or_spaces():
    assert task_rules.not_completed_by({"not_completed_by": " a, b  c,,a "}) == ("a", "b", "c")
    assert task_rules.not_completed_by({}) == ()
