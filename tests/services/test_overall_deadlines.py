"""Overall deadlines (``due_by``): a stage is due by the deadline of the whole process it is in
when that comes before its own period, as the CSODS 45 days end to end."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from disclosure_engine.engine.problems import InvalidWorkflow
from disclosure_engine.engine.runtime import WorkflowError
from disclosure_engine.persistence.models import utcnow
from disclosure_engine.services import cases, processes, tasks
from disclosure_engine.services.workflows import deploy_shipped, deploy_uploaded

from .helpers import case_payload, make_actor

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[2]
CSODS_PATHS = json.loads((ROOT / "workflows" / "tests" / "csods_application.json").read_text())["paths"]
RIGHT_TO_KNOW = next(p for p in CSODS_PATHS if p["start_data"].get("scheme_route") == "right_to_know")


def _step(element: str) -> dict:
    return dict(next(s["data"] for s in RIGHT_TO_KNOW["steps"] if s.get("task") == element))
FORM = json.dumps({"type": "object", "properties": {"note": {"type": "string"}}}).encode()


def _bpmn(due_by: str) -> dict[str, bytes]:
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="x">
  <bpmn:process id="local_review" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="start_fields" value="deadline" />
      <spiffworkflow:property name="due_by" value="{due_by}" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="start"><bpmn:outgoing>to_review</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_review" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="review.schema.json" />
        <spiffworkflow:property name="candidate_role" value="officer" />
        <spiffworkflow:property name="due_period" value="P10D" />
        <spiffworkflow:property name="reminder_before" value="P1D" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>to_review</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
    return {"local_review.bpmn": xml.encode(), "review.schema.json": FORM}


@pytest.fixture()
def staff(db):
    return {"policy": make_actor(db, "policy.lead", "policy", area=None),
            "officer": make_actor(db, "officer.kent", "officer")}


def _due(view) -> datetime:
    (task,) = view["open_tasks"]
    return datetime.fromisoformat(task["due_at"])


def test_a_task_is_due_by_the_overall_deadline_when_it_comes_first(db, staff):
    deploy_uploaded(db, staff["policy"], _bpmn("deadline"))
    case_id = cases.create_case(db, staff["officer"], case_payload(cso=False))["id"]
    soon = date.today() + timedelta(days=3)
    view = processes.start_process(db, staff["officer"], case_id, "local_review",
                                   data={"deadline": soon.isoformat()})
    assert _due(view) == datetime.combine(soon, time(23, 59, 59), tzinfo=LONDON), "the end of that day in London"
    later = processes.start_process(db, staff["officer"], case_id, "local_review",
                                    data={"deadline": (date.today() + timedelta(days=30)).isoformat()})
    assert _due(later) - utcnow() > timedelta(days=9), "a later deadline leaves the task's own ten days"
    unset = processes.start_process(db, staff["officer"], case_id, "local_review")
    assert _due(unset) - utcnow() > timedelta(days=9), "no deadline given (None): its own period"


def test_a_deadline_that_is_not_a_date_is_the_models_fault_named_by_element(db, staff):
    deploy_uploaded(db, staff["policy"], _bpmn("deadline"))
    case_id = cases.create_case(db, staff["officer"], case_payload(cso=False))["id"]
    with pytest.raises(WorkflowError) as failed:
        processes.start_process(db, staff["officer"], case_id, "local_review", data={"deadline": "soon"})
    assert failed.value.element_id == "review" and "due_by 'deadline'" in str(failed.value)
    assert [p["workflow"] for p in cases.get_case(db, staff["officer"], case_id)["processes"]] == [], \
        "nothing started"


def test_an_unsafe_due_by_is_refused_at_deploy(db, staff):
    with pytest.raises(InvalidWorkflow) as refused:
        deploy_uploaded(db, staff["policy"], _bpmn("__import__('os')"))
    assert any(p.element_id == "review" and "due_by" in p.message for p in refused.value.problems)


def test_every_csods_stage_is_due_by_the_45_day_deadline(db, settings, staff):
    deploy_shipped(db, settings)
    case_id = cases.create_case(db, staff["officer"], case_payload(cso=False))["id"]
    view = processes.start_process(db, staff["officer"], case_id, "csods_application",
                                   data={"scheme_route": "right_to_know"})
    (task,) = view["open_tasks"]
    assert task["element_id"] == "risk_assessment"
    deadline = datetime.now(UTC).date() + timedelta(days=45)
    assert datetime.fromisoformat(task["due_at"]) - utcnow() < timedelta(days=29), "its own 28 days come first"
    # completed 40 days in, the forum's own 7 days would run past the overall deadline
    late = utcnow() + timedelta(days=40)
    done = tasks.complete(db, staff["officer"], task["id"], _step("risk_assessment"), now=late)
    (forum,) = done["next_tasks"]
    assert datetime.fromisoformat(forum["due_at"]) == datetime.combine(deadline, time(23, 59, 59), tzinfo=LONDON)
