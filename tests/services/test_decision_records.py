"""Decision records through the services: what each completed step writes to the decision log
(s327a_consideration and urgent_disclosure, with the data of their path files)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import Actor
from disclosure_engine.engine.path_tests import parse_duration, resolve_placeholders
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import utcnow
from disclosure_engine.services import audit, cases, decisions, processes, tasks, timers
from disclosure_engine.services.workflows import deploy_shipped

from .helpers import case_payload, make_actor

ROOT = Path(__file__).resolve().parents[2]


def _paths(key: str) -> dict[str, dict[str, Any]]:
    content = json.loads((ROOT / "workflows" / "tests" / f"{key}.json").read_text())
    return {p["name"]: p for p in content["paths"]}


S327A = _paths("s327a_consideration")
URGENT = _paths("urgent_disclosure")


def step_data(path: dict[str, Any], element: str, nth: int = 0) -> dict[str, Any]:
    """The data of the ``nth`` accepted step at ``element`` in a path."""
    found = [s["data"] for s in path["steps"] if s.get("task") == element and "expect_errors" not in s]
    return dict(found[nth])


class Journey:
    """One process driven through the services by the role each open task asks for."""

    def __init__(self, db: Database, actors: dict[str, Actor], process_id: int) -> None:
        self.db, self.actors, self.process_id = db, actors, process_id

    def open_task(self, element: str) -> dict[str, Any]:
        view = processes.get_process(self.db, self.actors["manager"], self.process_id)
        task = next((t for t in view["open_tasks"] if t["element_id"] == element), None)
        assert task is not None, f"{element} not open; open: {[t['element_id'] for t in view['open_tasks']]}"
        return task

    def complete(self, element: str, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
        task = self.open_task(element)
        now = now or utcnow()
        return tasks.complete(self.db, self.actors[task["candidate_role"]], task["id"],
                              resolve_placeholders(data, now), now=now)

    def run(self, path: dict[str, Any]) -> list[dict[str, Any]]:
        """Every accepted task step of ``path`` (no clock moves); the completions' results."""
        return [self.complete(s["task"], s["data"]) for s in path["steps"]
                if "task" in s and "expect_errors" not in s]

    def records(self) -> list[dict[str, Any]]:
        """Every version of this process's decision, oldest first."""
        log = decisions.list_decisions(self.db, self.actors["manager"], process_id=self.process_id,
                                       current_only=False)
        return sorted(log, key=lambda d: d["version"])


@pytest.fixture()
def journey(db, settings):
    deploy_shipped(db, settings)
    actors = {role: make_actor(db, f"{role}.kent", role) for role in ("officer", "chair", "manager")}

    def start(key: str, level: int) -> Journey:
        case_id = cases.create_case(db, actors["officer"], case_payload(level=level))["id"]
        return Journey(db, actors, processes.start_process(db, actors["officer"], case_id, key)["id"])

    return start


def test_a_ratification_supersedes_the_out_of_meeting_record_with_the_meetings_reasons(journey):
    path = S327A["level 2 out of meeting, then ratified at the next meeting"]
    trip = journey("s327a_consideration", 2)
    trip.run(path)
    first, second = trip.records()
    assert second["supersedes"] == first["id"]
    assert second["supersede_reason"] == step_data(path, "ratify_decision")["ratification_reasons"]
    # the ratifying meeting recorded no dissent and no attendees: the sign-off's are not its own
    assert step_data(path, "chair_signoff")["dissent"] and first["dissent"]
    assert "dissent" not in second and "attendees" not in second
    assert second["meeting_reference"] == step_data(path, "ratify_decision")["meeting_reference"]


def test_a_decision_completed_without_a_marking_is_recorded_with_the_forms_default(journey):
    path = S327A["level 1, presumption applies, disclose"]
    assert "security_marking" not in step_data(path, "decide")
    trip = journey("s327a_consideration", 1)
    trip.run(path)
    (record,) = trip.records()
    assert record["security_marking"] == "OFFICIAL-SENSITIVE"
    assert record["legal_basis"] == "s327a"


@pytest.mark.parametrize("review_date", ["2020-01-01", "$today"])
def test_a_deferral_to_today_or_the_past_is_refused_on_the_review_date(journey, review_date):
    path = S327A["defer, review date reached, reconsidered"]
    trip = journey("s327a_consideration", 1)
    for element in ("identify_children", "assess_tests", "assess_proportionality", "consider_representations"):
        trip.complete(element, step_data(path, element))
    with pytest.raises(ValidationFailed) as refused:
        trip.complete("decide", {**step_data(path, "decide"), "review_date": review_date})
    assert refused.value.errors == {"review_date": ["Review date must be a date after today"]}
    assert trip.records() == [] and trip.open_task("decide")


def _completed_events(trip: Journey, task_id: int) -> list[dict[str, Any]]:
    return audit.list_events(trip.db, trip.actors["manager"], subject_type="task", subject_id=str(task_id),
                             action="task.completed")


def test_a_chair_who_returns_the_proposal_records_no_decision(journey):
    path = S327A["level 3, chair returns, then signs off"]
    trip = journey("s327a_consideration", 3)
    for element in ("identify_children", "assess_tests", "assess_proportionality", "consider_representations",
                    "propose_decision"):
        trip.complete(element, step_data(path, element))
    returned = step_data(path, "chair_signoff", 0)
    assert returned["chair_outcome"] == "returned"
    signoff = trip.open_task("chair_signoff")
    done = trip.complete("chair_signoff", returned)
    assert done["decision_id"] is None
    assert trip.records() == []
    # the return is still audited, and its reasons kept with the completed task
    (event,) = _completed_events(trip, signoff["id"])
    assert event["detail"]["element_id"] == "chair_signoff" and "chair_reasons" in event["detail"]["fields"]
    assert tasks.get_task(trip.db, trip.actors["chair"], signoff["id"])["data"]["chair_reasons"] == \
        returned["chair_reasons"]
    assert [t["element_id"] for t in processes.get_process(trip.db, trip.actors["manager"],
                                                           trip.process_id)["open_tasks"]] == ["propose_decision"]

    trip.complete("propose_decision", step_data(path, "propose_decision", 1))
    done = trip.complete("chair_signoff", step_data(path, "chair_signoff", 1))
    (record,) = trip.records()
    assert done["decision_id"] == record["id"]
    assert (record["decision"], record["chair_outcome"], record["decided_by"]) == ("disclose", "agreed", "chair.kent")


def test_a_meeting_that_does_not_ratify_records_no_decision(journey):
    path = S327A["out of meeting decision not ratified, re-proposed in meeting"]
    trip = journey("s327a_consideration", 2)
    outcomes = {}
    for step in (s for s in path["steps"] if "task" in s and "expect_errors" not in s):
        outcomes.setdefault(step["task"], []).append(trip.complete(step["task"], step["data"]))
        if step["task"] == "ratify_decision":
            # the out-of-meeting decision (chair's sign-off) stays the current record
            (current,) = decisions.list_decisions(trip.db, trip.actors["manager"], process_id=trip.process_id)
            assert (current["version"], current["decision"], current["decided_out_of_meeting"]) == \
                (1, "disclose", "yes")
    assert outcomes["ratify_decision"][0]["decision_id"] is None
    first, second = trip.records()
    assert second["supersedes"] == first["id"]
    assert (second["decision"], second["decided_out_of_meeting"]) == ("do_not_disclose", "no")
    # the proposal that was not ratified, and the refusal, are not part of the new decision
    for stale in ("out_of_meeting_reasons", "ratification_outcome", "ratification_reasons"):
        assert stale not in second and stale not in second["step_answers"], stale


def test_an_emergency_decision_not_ratified_records_no_ratification(journey):
    path = URGENT["emergency disclosure not ratified: remedial action"]
    trip = journey("urgent_disclosure", 2)
    results = {s["task"]: r for s, r in zip([s for s in path["steps"] if "task" in s and "expect_errors" not in s],
                                             trip.run(path))}
    assert results["ratify_emergency_decision"]["decision_id"] is None
    assert [r["decision_task"] for r in
            (decisions.get_decision(trip.db, trip.actors["manager"], d["id"]) for d in trip.records())] == \
        ["authorise_emergency_disclosure", "record_emergency_disclosure"]
    assert trip.records()[-1]["decided_by"] == "officer.kent"


def test_a_reconsideration_on_the_review_date_records_only_its_own_answers(journey):
    path = S327A["level 2, deferred at the meeting with dissent, reconsidered on the review date"]
    trip = journey("s327a_consideration", 2)
    clock = utcnow()
    for step in path["steps"]:
        if "advance" in step:
            clock += parse_duration(step["advance"])
            timers.sweep_timers(trip.db, clock)
        elif "task" in step and "expect_errors" not in step:
            trip.complete(step["task"], step["data"], now=clock)
    deferral, reconsidered = trip.records()
    assert deferral["decision"] == "defer" and deferral["review_date"] and deferral["dissent"]
    assert deferral["representations_summary"] and deferral["presumption_rebuttal_reasons"]
    assert reconsidered["supersedes"] == deferral["id"]
    assert (reconsidered["decision"], reconsidered["representations_sought"]) == ("disclose", "no")
    for stale in ("review_date", "presumption_rebuttal_reasons", "dissent", "attendees", "representations_summary"):
        assert reconsidered.get(stale) is None and stale not in reconsidered["step_answers"], stale


def test_the_representations_task_is_due_when_its_window_closes(journey):
    """The offender's 28 days run from the recorded request date; the officer's task must show
    that date, not 28 days from when the task happened to open."""
    path = S327A["representations sought and received"]
    trip = journey("s327a_consideration", 1)
    for element in ("identify_children", "assess_tests", "assess_proportionality"):
        trip.complete(element, step_data(path, element))
    requested = (utcnow() - timedelta(days=10)).date()
    trip.complete("consider_representations", {"representations_sought": "yes",
                                               "representations_requested_on": requested.isoformat()})
    task = trip.open_task("record_representations")
    closes = datetime.combine(requested + timedelta(days=28), time(23, 59, 59), tzinfo=UTC)
    assert datetime.fromisoformat(task["due_at"]) == closes
    assert task["overdue"] is False
    # the window's own timer still takes the task away at that moment
    report = timers.sweep_timers(trip.db, closes + timedelta(seconds=1))
    assert report.fired == 1
    assert trip.open_task("decide")
