"""Pausing a process with a reason stops its clock: its tasks leave every list and cannot be
done, its timers wait, and resuming gives the time back to its deadlines (CSODS's 45 days too)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from disclosure_engine.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import utcnow
from disclosure_engine.services import audit, cases, pauses, processes, tasks, timers
from disclosure_engine.services.workflows import deploy_shipped

from .helpers import case_payload, make_actor

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[2]
CSODS = json.loads((ROOT / "workflows" / "tests" / "csods_application.json").read_text())["paths"]
RIGHT_TO_KNOW = next(p for p in CSODS if p["start_data"].get("scheme_route") == "right_to_know")
WHY = "Partner agency check outstanding: the health visitor is on leave until the 14th."
BACK = "Health visitor back; the partner agency check can now be completed this week."


def _step(element: str) -> dict:
    return dict(next(s["data"] for s in RIGHT_TO_KNOW["steps"] if s.get("task") == element))


@pytest.fixture()
def staff(db, settings):
    deploy_shipped(db, settings)
    return {"officer": make_actor(db, "officer.kent", "officer"), "manager": make_actor(db, "manager.kent", "manager")}


def _application(db, staff) -> tuple[int, dict]:
    case_id = cases.create_case(db, staff["officer"], case_payload(cso=False))["id"]
    view = processes.start_process(db, staff["officer"], case_id, "csods_application",
                                   data={"scheme_route": "right_to_know"})
    return view["id"], view["open_tasks"][0]


def test_a_paused_application_stops_its_clock_and_resuming_gives_the_time_back(db, staff):
    process_id, task = _application(db, staff)
    assert task["element_id"] == "risk_assessment"
    before = processes.get_process(db, staff["manager"], process_id)
    assert before["next_timer_at"] is not None, "the risk assessment's overrun timer waits"
    start = utcnow()

    paused = pauses.pause(db, staff["manager"], process_id, {"reason": WHY}, now=start)
    assert paused["paused"]["reason"] == WHY and paused["paused"]["by"] == "manager.kent"
    assert paused["next_timer_at"] is None
    view = processes.get_process(db, staff["officer"], process_id)
    assert [t["status"] for t in view["open_tasks"]] == ["paused"] and view["paused"]["reason"] == WHY
    assert tasks.list_tasks(db, staff["officer"], scope="all")["items"] == [], "out of the inbox"
    assert [t["id"] for t in tasks.list_tasks(db, staff["manager"], scope="all", status="paused")["items"]] \
        == [task["id"]]
    with pytest.raises(Conflict, match="paused"):
        tasks.complete(db, staff["officer"], task["id"], _step("risk_assessment"))
    with pytest.raises(Conflict, match="paused"):
        tasks.claim(db, staff["officer"], task["id"])
    assert timers.sweep_timers(db, start + timedelta(days=60)).fired == 0, "its timers wait"

    back = start + timedelta(days=10)
    resumed = pauses.resume(db, staff["manager"], process_id, {"reason": BACK}, now=back)
    assert resumed["paused"] is None
    assert datetime.fromisoformat(resumed["next_timer_at"]) - datetime.fromisoformat(before["next_timer_at"]) \
        == timedelta(days=10)
    (reopened,) = processes.get_process(db, staff["officer"], process_id)["open_tasks"]
    assert reopened["status"] == "open"
    assert datetime.fromisoformat(reopened["due_at"]) - datetime.fromisoformat(task["due_at"]) == timedelta(days=10)

    # the overall deadline moved by the ten days too: the forum, opened late, is due by it
    deadline = datetime.now(UTC).date() + timedelta(days=45 + 10)
    done = tasks.complete(db, staff["officer"], task["id"], _step("risk_assessment"), now=back + timedelta(days=40))
    (forum,) = done["next_tasks"]
    assert datetime.fromisoformat(forum["due_at"]) == datetime.combine(deadline, time(23, 59, 59), tzinfo=LONDON)

    (p,) = audit.list_events(db, SYSTEM, action="process.paused", subject_id=str(process_id))
    (r,) = audit.list_events(db, SYSTEM, action="process.resumed", subject_id=str(process_id))
    assert p["justification"] == WHY and p["detail"]["tasks"] == [task["id"]]
    assert r["justification"] == BACK and r["detail"]["deadlines_moved"] == {"scheme_deadline": deadline.isoformat()}
    assert r["detail"]["paused_minutes"] == 10 * 24 * 60


def test_who_may_pause_and_what_is_refused(db, staff):
    process_id, _task = _application(db, staff)
    with pytest.raises(Forbidden):
        pauses.pause(db, staff["officer"], process_id, {"reason": WHY})
    refusals = (({"reason": "n/a"}, {"reason"}), ({}, {"reason"}), ({"reason": WHY, "until": "x"}, {"until"}))
    for payload, fields in refusals:
        with pytest.raises(ValidationFailed) as refused:
            pauses.pause(db, staff["manager"], process_id, payload)
        assert set(refused.value.errors) == fields
    with pytest.raises(Conflict, match="not paused"):
        pauses.resume(db, staff["manager"], process_id, {"reason": BACK})
    pauses.pause(db, staff["manager"], process_id, {"reason": WHY})
    with pytest.raises(Conflict, match="paused since"):
        pauses.pause(db, staff["manager"], process_id, {"reason": WHY})
    essex = make_actor(db, "manager.essex", "manager", "essex")
    with pytest.raises(NotFound):
        pauses.resume(db, essex, process_id, {"reason": BACK})


def test_a_pause_gives_the_offender_back_the_paused_days_of_the_representations_window(db, staff):
    from .helpers import complete_step, new_consideration, shipped_path

    _case_id, process_id = new_consideration(db, staff)
    for step in shipped_path("s327a_consideration", "representations sought and received")[:4]:
        complete_step(db, staff["officer"], process_id, step)  # representations requested today
    view = processes.get_process(db, staff["officer"], process_id)
    (task,) = view["open_tasks"]
    assert task["element_id"] == "record_representations"
    requested = datetime.now(UTC).date()
    window = datetime.combine(requested + timedelta(days=28), time(23, 59, 59), tzinfo=UTC)
    assert datetime.fromisoformat(view["next_timer_at"]) == window, "the 28-day window is the timer waiting"

    start = utcnow()
    pauses.pause(db, staff["manager"], process_id, {"reason": WHY}, now=start)
    back = start + timedelta(days=20)
    resumed = pauses.resume(db, staff["manager"], process_id, {"reason": BACK}, now=back)
    extended = window + timedelta(days=20)
    assert datetime.fromisoformat(resumed["next_timer_at"]) == extended
    (reopened,) = processes.get_process(db, staff["officer"], process_id)["open_tasks"]
    assert datetime.fromisoformat(reopened["due_at"]) <= extended, "due by the window's close at the latest"
    assert datetime.fromisoformat(reopened["due_at"]) >= datetime.fromisoformat(task["due_at"]) + timedelta(days=19)

    # when the 28 days counted from the request have run, the offender still has the paused days
    assert timers.sweep_timers(db, window + timedelta(hours=1)).fired == 0
    assert [t["element_id"] for t in processes.get_process(db, staff["officer"], process_id)["open_tasks"]] \
        == ["record_representations"]
    # and the extended window does close, as the BPMN says, with no representations
    assert timers.sweep_timers(db, extended + timedelta(hours=1)).fired == 1
    assert [t["element_id"] for t in processes.get_process(db, staff["officer"], process_id)["open_tasks"]] \
        == ["decide"]

    (r,) = audit.list_events(db, SYSTEM, action="process.resumed", subject_id=str(process_id))
    assert r["detail"]["timers_extended"] == resumed["timers_extended"] == [
        {"element_id": "representations_window_lapsed", "name": "28-day window lapsed",
         "from": window.isoformat(), "to": extended.isoformat()}]
    assert r["detail"]["deadlines_moved"] == {}, "the request's date is what it was: only the window moves"
