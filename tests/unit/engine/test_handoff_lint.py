"""The hand-off convention (``start_process`` / ``start_data`` on an end event, and
``decision_outcome`` on a process): what validation refuses, and what the runtime reads."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from disclosure_engine.engine import runtime
from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_path
from disclosure_engine.engine.handoff import Handoff, decision_outcomes, interrupts, spec_handoff, start_fields
from disclosure_engine.engine.validate import validate_bundle, validate_paths

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')


def _props(**values: str) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}" />' for k, v in values.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties></bpmn:extensionElements>"


def _bpmn(*, end: str = "", start: str = "", process: str = "", inner_end: str = "", key: str = "ending") -> WorkflowBundle:
    """start -> (a subprocess whose end event carries ``inner_end``) -> end (``end``)."""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">{process}
    <bpmn:startEvent id="start">{start}<bpmn:outgoing>to_sub</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_sub" sourceRef="start" targetRef="sub" />
    <bpmn:subProcess id="sub">
      <bpmn:incoming>to_sub</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:startEvent id="sub_start"><bpmn:outgoing>to_sub_end</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="to_sub_end" sourceRef="sub_start" targetRef="sub_end" />
      <bpmn:endEvent id="sub_end">{inner_end}<bpmn:incoming>to_sub_end</bpmn:incoming></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="to_end" sourceRef="sub" targetRef="end_done" />
    <bpmn:endEvent id="end_done">{end}<bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
    return WorkflowBundle.build(key, f"{key}.bpmn", {f"{key}.bpmn": xml.encode()})


def _messages(bundle: WorkflowBundle, *, shipped: bool = False) -> list[tuple[str, str]]:
    return [(p.element_id, p.message) for p in validate_bundle(bundle, shipped=shipped)]


def test_a_hand_off_on_an_end_event_is_accepted_and_read_by_the_runtime():
    bundle = _bpmn(end=_props(start_process="disclosure_delivery", start_data="decision_id, legal_basis, note"))
    assert _messages(bundle) == []
    compiled = runtime.compile_bundle(bundle)
    assert spec_handoff(compiled.spec, "end_done") == Handoff("disclosure_delivery",
                                                              ("decision_id", "legal_basis", "note"))
    assert spec_handoff(compiled.spec, "start") is None, "only an end event hands off"
    assert spec_handoff(compiled.spec, "sub_end") is None, "a subprocess's end does not end the instance"
    wf = runtime.start_workflow(compiled, {})
    assert runtime.workflow_status(wf) == "completed" and runtime.completed_path(wf)[-1] == "end_done"


def test_start_data_defaults_to_the_decision_and_its_legal_basis():
    compiled = runtime.compile_bundle(_bpmn(end=_props(start_process="disclosure_delivery")))
    assert spec_handoff(compiled.spec, "end_done") == Handoff("disclosure_delivery", ("decision_id", "legal_basis"))


@pytest.mark.parametrize("where, element, expected", [
    ({"start": _props(start_process="disclosure_delivery")}, "start",
     "start_process is read only on an end event of a process, not on a startEvent"),
    ({"inner_end": _props(start_process="disclosure_delivery")}, "sub_end",
     "not on an end event of a subprocess"),
    ({"end": _props(start_data="decision_id")}, "end_done", "start_data without start_process"),
    ({"end": _props(start_process="no such key")}, "end_done", "'no such key' is not a workflow key"),
    ({"end": _props(start_process="ending")}, "end_done", "is this process itself"),
    ({"end": _props(start_process="disclosure_delivery", start_data="decision_id, Case-Ref")}, "end_done",
     "start_data names 'Case-Ref'"),
    ({"process": _props(decision_outcome="maybe")}, "ending", "decision_outcome 'maybe' is not one or more of"),
    ({"end": _props(start_process="disclosure_delivery", start_process_when="__import__('os')")}, "end_done",
     "start_process_when \"__import__('os')\" is not a safe expression"),
    ({"end": _props(start_process="disclosure_delivery", start_unless_running="yes")}, "end_done",
     "start_unless_running 'yes' must be true or false"),
    ({"end": _props(start_process_when="flag == True")}, "end_done", "without start_process"),
    ({"end": _props(decision_outcome="disclose")}, "end_done", "decision_outcome is read only on a bpmn:process"),
    ({"start": _props(start_fields="route")}, "start", "start_fields is read only on a bpmn:process"),
    ({"process": _props(start_fields="Route, x-y")}, "ending", "start_fields 'Route, x-y': name start fields"),
    ({"start": _props(pause_extends="deadline")}, "start", "pause_extends is read only on a bpmn:process"),
    ({"process": _props(pause_extends="Deadline")}, "ending", "pause_extends 'Deadline': name date fields"),
    ({"end": _props(interrupts="s327a_consideration")}, "end_done", "interrupts is read only on a bpmn:process"),
    ({"process": _props(interrupts=" , ")}, "ending", "interrupts is empty"),
    ({"process": _props(interrupts="s327a_consideration, local/review")}, "ending",
     "interrupts 'local/review' is not a workflow key"),
    ({"process": _props(interrupts="ending")}, "ending", "interrupts 'ending' is this process itself"),
])
def test_misplaced_or_malformed_hand_offs_are_refused(where, element, expected):
    found = _messages(_bpmn(**where))
    assert any(e == element and expected in m for e, m in found), found


def test_shipped_workflows_hand_off_only_to_shipped_keys():
    bundle = _bpmn(end=_props(start_process="local_delivery"))
    assert _messages(bundle) == [], "any valid key in a policy team's own workflow (deploy checks it exists)"
    assert _messages(bundle, shipped=True) == [
        ("end_done", "start_process 'local_delivery' is not a shipped workflow "
                     "(s327a_consideration, disclosure_delivery, csods_application, urgent_disclosure)")]


def test_the_shipped_decision_to_disclose_hands_off_to_delivery():
    assert validate_paths([WORKFLOWS], shipped=True) == []
    s327a = runtime.compile_bundle(bundle_from_path(WORKFLOWS / "s327a_consideration.bpmn"))
    assert spec_handoff(s327a.spec, "end_disclose") == Handoff("disclosure_delivery", ("decision_id", "legal_basis"))
    assert spec_handoff(s327a.spec, "end_no_disclosure") is None
    for key in ("urgent_disclosure", "disclosure_delivery"):
        spec = runtime.compile_bundle(bundle_from_path(WORKFLOWS / f"{key}.bpmn")).spec
        assert [n for n in spec.task_specs if spec_handoff(spec, n)] == [], key
    # a Sarah's Law outcome about a MAPPA-managed offender: the s.327A duty applies too
    csods = runtime.compile_bundle(bundle_from_path(WORKFLOWS / "csods_application.bpmn")).spec
    assert sorted(n for n in csods.task_specs if spec_handoff(csods, n)) == [
        "end_disclosed", "end_non_disclosure", "end_other_action"]
    assert spec_handoff(csods, "end_non_disclosure") == Handoff(
        "s327a_consideration", ("application_reference",), when="s327a_handoff == True", unless_running=True)
    assert spec_handoff(csods, "end_immediate_risk") is None
    assert decision_outcomes(bundle_from_path(WORKFLOWS / "disclosure_delivery.bpmn")) == ("disclose",)
    assert decision_outcomes(bundle_from_path(WORKFLOWS / "s327a_consideration.bpmn")) == ()
    assert start_fields(bundle_from_path(WORKFLOWS / "csods_application.bpmn")) == (
        "scheme_route", "application_reference")


def test_a_broken_hand_off_in_a_shipped_file_names_the_line(tmp_path):
    for f in WORKFLOWS.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "s327a_consideration.bpmn"
    path.write_text(path.read_text().replace('value="disclosure_delivery"', 'value="disclosure delivery"'))
    (problem,) = validate_paths([path], shipped=True)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if 'id="end_disclose"' in text)
    assert (problem.path, problem.line, problem.element_id) == (str(path), line, "end_disclose")
    assert "is not a workflow key" in problem.message


def test_a_hand_off_condition_is_read_and_decides_on_the_end_data():
    from disclosure_engine.engine.handoff import from_properties

    handoff = from_properties({"start_process": "s327a_consideration", "start_process_when": "s327a_handoff == True",
                               "start_unless_running": "true"})
    assert handoff is not None and handoff.unless_running is True
    assert handoff.applies({"s327a_handoff": True}) is True
    assert handoff.applies({"s327a_handoff": False}) is False
    assert handoff.applies({}) is False  # a name the condition reads is missing: no hand-off
    assert from_properties({"start_process": "disclosure_delivery"}).applies({}) is True


def test_declared_start_fields_begin_empty_when_a_start_leaves_them_out():
    """A gateway reading a start field that was not given compares None instead of failing."""
    bundle = _bpmn(process=_props(start_fields="scheme_route, application_reference"))
    assert _messages(bundle) == []
    wf = runtime.start_workflow(runtime.compile_bundle(bundle), {"scheme_route": "right_to_ask"})
    assert runtime.end_data(wf)["scheme_route"] == "right_to_ask"
    assert runtime.end_data(wf)["application_reference"] is None


def test_interrupts_names_other_workflows_and_shipped_files_only_shipped_ones():
    bundle = _bpmn(process=_props(interrupts="s327a_consideration, local_review"))
    assert _messages(bundle) == []
    assert interrupts(bundle) == ("s327a_consideration", "local_review")
    assert _messages(bundle, shipped=True) == [
        ("ending", "interrupts 'local_review' is not a shipped workflow "
                   "(s327a_consideration, disclosure_delivery, csods_application, urgent_disclosure)")]
    urgent = bundle_from_path(WORKFLOWS / "urgent_disclosure.bpmn")
    assert interrupts(urgent) == ("s327a_consideration", "csods_application", "disclosure_delivery")
