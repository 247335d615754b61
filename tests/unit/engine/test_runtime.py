"""Runtime API over the review_flow fixture: start, complete, timers, save/load, errors."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from disclosure_engine.domain.errors import Conflict
from disclosure_engine.engine.bundle import bundle_from_path
from disclosure_engine.engine.runtime import (
    WorkflowError,
    advance_timers,
    compile_bundle,
    compiled_cache,
    complete_user_task,
    completed_path,
    dump_state,
    end_data,
    load_state,
    next_timer_at,
    ready_user_tasks,
    shift_timers,
    start_workflow,
    workflow_status,
)
from disclosure_engine.engine.script_engine import SafeScriptEngine, make_script_engine

from .conftest import BAD, GOOD

REASONS = "Evidence of grooming behaviour towards the children in the household."


def _only_task(wf):
    tasks = ready_user_tasks(wf)
    assert len(tasks) == 1
    return tasks[0]


def test_start_runs_script_and_stops_at_first_user_task(review):
    wf = start_workflow(review, {"convictions": [1, 2], "reference": "C1"})
    task = _only_task(wf)
    assert task.element_id == "assess" and task.name == "Assess the tests"
    assert task.lane == "Officer" and task.candidate_role == "officer"
    assert task.form_name == "assess.schema.json" and task.ui_form_name == "assess.uischema.json"
    assert task.properties["due_working_days"] == "5"
    assert task.instructions == "Assess case {{ reference }}"
    assert task.data["risk_score"] == 20 and isinstance(task.data["started"], date)
    assert workflow_status(wf) == "waiting"
    assert review.forms["assess.schema.json"]["required"] == ["serious_harm_risk",
                                                               "serious_harm_reasons"]


def _run_disclosure_path(review, save_load: bool):
    hop = (lambda wf: load_state(review, json.loads(json.dumps(dump_state(wf))))) if save_load \
        else (lambda wf: wf)
    wf = hop(start_workflow(review, {"convictions": [1, 2]}))
    complete_user_task(wf, _only_task(wf).id,
                       {"serious_harm_risk": "yes", "serious_harm_reasons": REASONS})
    wf = hop(wf)
    assert ready_user_tasks(wf) == [] and workflow_status(wf) == "waiting"
    due = next_timer_at(wf)
    assert due is not None and due.tzinfo is not None
    assert timedelta(days=27) < due - datetime.now(UTC) <= timedelta(days=28)
    assert advance_timers(wf, due - timedelta(minutes=1)) == 0
    assert advance_timers(wf, due + timedelta(minutes=1)) == 1
    wf = hop(wf)
    approve = _only_task(wf)
    assert approve.element_id == "approve" and approve.candidate_role == "chair"
    complete_user_task(wf, approve.id, {"approved": True})
    wf = hop(wf)
    return wf


def test_disclosure_path_reaches_disclosed_end(review):
    wf = _run_disclosure_path(review, save_load=False)
    assert workflow_status(wf) == "completed"
    path = completed_path(wf)
    assert path[-1] == "end_disclosed" and "end_not_disclosed" not in path
    assert path.index("assess") < path.index("wait_window") < path.index("approve")
    assert end_data(wf)["band"] == "high" and end_data(wf)["approved"] is True


def test_save_load_round_trip_behaves_identically(review):
    plain = _run_disclosure_path(review, save_load=False)
    restored = _run_disclosure_path(review, save_load=True)
    assert completed_path(restored) == completed_path(plain)
    ignore = {"started"}
    assert {k: v for k, v in end_data(restored).items() if k not in ignore} == \
        {k: v for k, v in end_data(plain).items() if k not in ignore}
    assert isinstance(end_data(restored)["started"], date)


def test_no_disclosure_branch_via_dmn_and_default_flow(review):
    wf = start_workflow(review, {"convictions": []})
    complete_user_task(wf, _only_task(wf).id,
                       {"serious_harm_risk": "yes", "serious_harm_reasons": REASONS})
    assert workflow_status(wf) == "completed"
    assert completed_path(wf)[-1] == "end_not_disclosed"
    assert end_data(wf)["band"] == "low"


def test_state_has_no_spec_and_is_json(review):
    state = dump_state(start_workflow(review, {"convictions": [1], "when": date(2024, 1, 2),
                                               "tags": {"a"}}))
    assert "spec" not in state and "subprocess_specs" not in state
    text = json.dumps(state)
    wf = load_state(review, json.loads(text))
    data = _only_task(wf).data
    assert data["when"] == date(2024, 1, 2) and data["tags"] == {"a"}


def test_loaded_workflow_always_has_the_safe_engine(review):
    wf = load_state(review, dump_state(start_workflow(review, {"convictions": []})))
    assert isinstance(wf.script_engine, SafeScriptEngine)


def test_timers_started_during_a_simulated_advance_count_from_simulated_now():
    compiled = compile_bundle(bundle_from_path(GOOD / "two_timers.bpmn"))
    wf = start_workflow(compiled, {"second_period": "P5D"})  # timer text may come from data
    start = datetime.now(UTC)
    assert advance_timers(wf) == 0  # real now: nothing due yet
    assert advance_timers(wf, start + timedelta(days=11)) == 1
    # the second timer started at simulated day 11, so it is due on day 16, not day 5
    assert next_timer_at(wf) > start + timedelta(days=15, hours=23)
    assert advance_timers(wf, start + timedelta(days=12)) == 0
    wf = load_state(compiled, dump_state(wf))
    assert advance_timers(wf, start + timedelta(days=17)) == 1
    assert workflow_status(wf) == "completed"
    assert completed_path(wf) == ["start", "first_wait", "second_wait", "finish"]


def test_shifting_timers_back_ages_a_waiting_process(review):
    compiled = compile_bundle(bundle_from_path(GOOD / "two_timers.bpmn"))
    wf = start_workflow(compiled, {"second_period": "P5D"})
    due = next_timer_at(wf)
    shift_timers(wf, -timedelta(days=11))
    assert next_timer_at(wf) == due - timedelta(days=11)
    wf = load_state(compiled, dump_state(wf))  # the shift is part of the saved state
    assert next_timer_at(wf) == due - timedelta(days=11)
    # real now: the first timer has fallen due, SpiffWorkflow fires it, and it is counted
    assert advance_timers(wf) == 1
    assert completed_path(wf)[:2] == ["start", "first_wait"]
    assert advance_timers(wf) == 0  # nothing more is due


def test_completing_unknown_or_finished_task_is_a_conflict(review):
    wf = start_workflow(review, {"convictions": []})
    task = _only_task(wf)
    with pytest.raises(Conflict):
        complete_user_task(wf, "not-a-uuid", {})
    with pytest.raises(Conflict):
        complete_user_task(wf, "00000000-0000-0000-0000-000000000000", {})
    complete_user_task(wf, task.id, {"serious_harm_risk": "no", "serious_harm_reasons": REASONS})
    with pytest.raises(Conflict):
        complete_user_task(wf, task.id, {})


def test_unsafe_script_reaching_the_engine_is_refused_at_run_time():
    # compile_bundle parses but does not lint: this is the "validation was bypassed" case
    compiled = compile_bundle(bundle_from_path(BAD / "import_script.bpmn"))
    with pytest.raises(WorkflowError, match="import is not allowed") as info:
        start_workflow(compiled, {})
    assert info.value.element_id == "run_import"


@pytest.mark.parametrize("fixture, reason", [
    ("open_script.bpmn", "open() is not allowed"),
    ("eval_script.bpmn", "eval() is not allowed"),
    ("class_condition.bpmn", "__class__"),
])
def test_other_payloads_are_refused_at_run_time(fixture, reason):
    compiled = compile_bundle(bundle_from_path(BAD / fixture))
    with pytest.raises(WorkflowError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        start_workflow(compiled, {})


def test_failed_step_leaves_workflow_in_error_status():
    compiled = compile_bundle(bundle_from_path(BAD / "eval_script.bpmn"))
    wf = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=make_script_engine())
    with pytest.raises(WorkflowTaskException):
        wf.do_engine_steps()
    assert workflow_status(wf) == "error"


def test_compiled_cache_reuses_by_content_hash(review_bundle):
    first = compiled_cache(review_bundle)
    assert compiled_cache(bundle_from_path(BAD.parent / "good" / "review_flow.bpmn")) is first


def test_corrupt_state_raises_our_error(review):
    from disclosure_engine.engine.runtime import StateError
    with pytest.raises(StateError):
        load_state(review, {"tasks": {}, "root": "nope"})


def test_loading_leaves_the_stored_state_untouched_and_instances_independent(review):
    """Instances of a version share its compiled spec; their stored state must not be modified by
    loading and running, and running one instance must not change another."""
    first = start_workflow(review, {"convictions": [1, 2]})
    stored = json.loads(json.dumps(dump_state(first)))
    pristine = json.loads(json.dumps(stored))
    a, b = load_state(review, stored), load_state(review, json.dumps(stored))
    assert stored == pristine
    complete_user_task(a, _only_task(a).id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASONS})
    assert stored == pristine
    assert _only_task(b).element_id == "assess", "the other instance still waits at its first task"
    assert "assess" not in [t.element_id for t in ready_user_tasks(a)]
    assert a.spec is b.spec is review.spec


def test_standalone_state_loads_in_plain_spiffworkflow(review):
    """Exported state carries its spec, so SpiffWorkflow's own serializer restores it unaided."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from SpiffWorkflow.util.task import TaskState

    from disclosure_engine.engine.serializer import standalone_state

    wf = start_workflow(review, {"convictions": [1, 2]})
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    # the one data type this fixture's script puts in task data that Spiff does not know
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    stock = BpmnWorkflowSerializer(registry)
    restored = stock.deserialize_json(json.dumps(standalone_state(review, dump_state(wf))))
    ready = [t.task_spec.bpmn_id for t in restored.get_tasks(state=TaskState.READY, manual=True)]
    assert ready == ["assess"]
