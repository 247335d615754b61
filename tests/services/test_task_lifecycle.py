"""An officer and a chair take a case through a workflow: forms, deadlines, decisions, timers."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from disclosure_engine.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import utcnow
from disclosure_engine.services import audit, cases, decisions, processes, tasks, timers

from .helpers import REASON, case_payload, deploy_mini, make_actor


@pytest.fixture()
def world(db):
    deploy_mini(db)
    officer = make_actor(db, "officer.kent", "officer")
    chair = make_actor(db, "chair.kent", "chair")
    essex = make_actor(db, "officer.essex", "officer", "essex")
    case = cases.create_case(db, officer, case_payload(cso=False))
    process = processes.start_process(db, officer, case["id"], "mini_decision")
    return {"db": db, "officer": officer, "chair": chair, "essex": essex, "case": case, "process": process}


def _open_task(db, actor, process_id):
    items = tasks.list_tasks(db, actor, scope="all", status="open")["items"]
    return next(t for t in items if t["process_id"] == process_id)


def test_starting_projects_the_first_task_with_its_deadline(world):
    task = world["process"]["open_tasks"][0]
    assert (task["element_id"], task["candidate_role"], task["area"]) == ("assess", "officer", "kent")
    due = task["due_at"]
    assert due is not None
    got = tasks.get_task(world["db"], world["officer"], task["id"])
    assert got["form"]["required"] == ["serious_harm_risk", "serious_harm_reasons"]
    assert got["overdue"] is False and got["escalation_level"] == 0


def test_missing_or_placeholder_reasons_are_field_errors_and_change_nothing(world):
    db, officer = world["db"], world["officer"]
    task = _open_task(db, officer, world["process"]["id"])
    with pytest.raises(ValidationFailed) as missing:
        tasks.complete(db, officer, task["id"], {"serious_harm_risk": "yes"})
    assert "serious_harm_reasons" in missing.value.errors
    with pytest.raises(ValidationFailed) as placeholder:
        tasks.complete(db, officer, task["id"], {"serious_harm_risk": "yes", "serious_harm_reasons": "n/a"})
    assert "serious_harm_reasons" in placeholder.value.errors
    assert _open_task(db, officer, world["process"]["id"])["id"] == task["id"]
    actions = [e["action"] for e in audit.list_events(db, SYSTEM, limit=500)]
    assert "task.completed" not in actions


def test_full_path_records_a_decision_with_reasons(world):
    db, officer, chair = world["db"], world["officer"], world["chair"]
    first = _open_task(db, officer, world["process"]["id"])
    done = tasks.complete(db, officer, first["id"], {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    assert done["process"]["status"] == "waiting"
    nxt = done["next_tasks"][0]
    assert nxt["candidate_role"] == "chair"
    with pytest.raises(Forbidden):
        tasks.complete(db, officer, nxt["id"], {"decision": "disclose", "decision_reasons": REASON})
    result = tasks.complete(db, chair, nxt["id"], {"decision": "disclose", "decision_reasons": REASON,
                                                   "legal_basis": "s327a"})
    assert result["process"] == {"id": world["process"]["id"], "status": "completed", "end_event": "end_decided"}
    record = decisions.get_decision(db, chair, result["decision_id"])
    assert record["decision"] == "disclose" and record["decision_reasons"] == REASON
    assert record["serious_harm_risk"] == "yes" and record["serious_harm_reasons"] == REASON
    assert record["version"] == 1 and record["supersedes"] is None and record["decided_by"] == "chair.kent"
    assert record["case_reference"] == "KNT-2026-000001" and record["offender"]["visor_ref"] == "VS1234567"
    view = processes.get_process(db, officer, world["process"]["id"])
    assert [(h["element_id"], h["status"]) for h in view["history"]] == [("assess", "completed"),
                                                                         ("decide", "completed")]
    assert view["history"][0]["completed_by"] == "officer.kent"
    assert audit.verify_chain(db).ok


def test_defer_waits_for_the_timer_then_a_new_version_supersedes(world):
    db, officer, chair = world["db"], world["officer"], world["chair"]
    first = _open_task(db, officer, world["process"]["id"])
    nxt = tasks.complete(db, officer, first["id"], {"serious_harm_risk": "no", "serious_harm_reasons": REASON})
    with pytest.raises(ValidationFailed) as no_date:
        tasks.complete(db, chair, nxt["next_tasks"][0]["id"], {"decision": "defer", "decision_reasons": REASON})
    assert "review_date" in no_date.value.errors
    deferred = tasks.complete(db, chair, nxt["next_tasks"][0]["id"],
                              {"decision": "defer", "decision_reasons": REASON, "review_date": "2027-01-05"})
    assert deferred["next_tasks"] == [] and deferred["process"]["status"] == "waiting"
    assert timers.sweep_timers(db).due == 0, "the timer is not due yet"
    report = timers.sweep_timers(db, utcnow() + timedelta(days=2))
    assert (report.due, report.fired, report.failed) == (1, 1, [])
    assert timers.sweep_timers(db, utcnow() + timedelta(days=2)).due == 0, "fired once only"
    reconsider = _open_task(db, chair, world["process"]["id"])
    assert reconsider["element_id"] == "reconsider"
    final = tasks.complete(db, chair, reconsider["id"], {"decision": "do_not_disclose", "decision_reasons": REASON})
    v2 = decisions.get_decision(db, chair, final["decision_id"])
    assert v2["version"] == 2 and v2["supersedes"] == deferred["decision_id"]
    assert v2["supersede_reason"]
    v1 = decisions.get_decision(db, chair, deferred["decision_id"])
    assert v1["decision"] == "defer" and v1["current"] is False
    log = decisions.list_decisions(db, chair)
    assert [d["id"] for d in log] == [final["decision_id"]]


def test_another_area_cannot_see_that_anything_exists(world):
    db, essex = world["db"], world["essex"]
    task = world["process"]["open_tasks"][0]
    with pytest.raises(NotFound):
        cases.get_case(db, essex, world["case"]["id"])
    with pytest.raises(NotFound):
        processes.get_process(db, essex, world["process"]["id"])
    with pytest.raises(NotFound):
        tasks.get_task(db, essex, task["id"])
    with pytest.raises(NotFound):
        tasks.complete(db, essex, task["id"], {})
    assert tasks.list_tasks(db, essex, scope="all")["total"] == 0
    assert cases.list_cases(db, essex)["total"] == 0


def test_claims_conflict_and_only_the_holder_completes(world):
    db, officer = world["db"], world["officer"]
    other = make_actor(db, "officer2.kent", "officer")
    task = world["process"]["open_tasks"][0]
    tasks.claim(db, officer, task["id"])
    with pytest.raises(Conflict):
        tasks.claim(db, other, task["id"])
    with pytest.raises(Conflict):
        tasks.complete(db, other, task["id"], {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    assert tasks.list_tasks(db, officer, scope="mine")["total"] == 1
    assert tasks.list_tasks(db, other, scope="available")["total"] == 0


def test_two_concurrent_completions_one_wins_one_conflicts(world):
    db, officer = world["db"], world["officer"]
    task = world["process"]["open_tasks"][0]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            tasks.complete(db, officer, task["id"], {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    view = processes.get_process(db, officer, world["process"]["id"])
    assert len(view["open_tasks"]) == 1, "the next task was projected once"
    assert audit.verify_chain(db).ok


def test_supersede_needs_a_reason_and_never_changes_the_old_record(world):
    db, officer, chair = world["db"], world["officer"], world["chair"]
    first = _open_task(db, officer, world["process"]["id"])
    nxt = tasks.complete(db, officer, first["id"], {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    done = tasks.complete(db, chair, nxt["next_tasks"][0]["id"], {"decision": "disclose", "decision_reasons": REASON})
    with pytest.raises(ValidationFailed):
        decisions.supersede(db, chair, done["decision_id"], {"conditions": "Not to be passed on"}, "n/a")
    with pytest.raises(Forbidden):
        decisions.supersede(db, officer, done["decision_id"], {"conditions": "x"}, REASON)
    new = decisions.supersede(db, chair, done["decision_id"], {"conditions": "Not to be passed on to anyone"},
                              "Conditions were agreed at the meeting but omitted from the record")
    assert new["version"] == 2 and new["supersedes"] == done["decision_id"]
    old = decisions.get_decision(db, chair, done["decision_id"])
    assert "conditions" not in old and old["current"] is False
    with pytest.raises(Conflict):
        decisions.supersede(db, chair, done["decision_id"], {"conditions": "again"}, REASON)


def test_reading_a_case_is_audited(world):
    db, officer = world["db"], world["officer"]
    cases.get_case(db, officer, world["case"]["id"], justification="MAPPA level 1 review")
    events = audit.list_events(db, SYSTEM, subject_type="case", subject_id=str(world["case"]["id"]))
    viewed = [e for e in events if e["action"] == "case.viewed"]
    assert viewed and viewed[0]["actor_name"] == "officer.kent"
    assert viewed[0]["justification"] == "MAPPA level 1 review"


def test_a_child_sex_offender_case_needs_the_consideration_deployed(db):
    officer = make_actor(db, "officer.kent", "officer")
    with pytest.raises(Conflict, match="s327a_consideration"):
        cases.create_case(db, officer, case_payload(cso=True))
    assert cases.list_cases(db, officer)["total"] == 0, "nothing half-written"


def test_state_survives_the_database_round_trip_with_task_data(world):
    """Regression: JSONB re-ordered SpiffWorkflow's task-data deltas and lost earlier answers."""
    db, officer = world["db"], world["officer"]
    first = world["process"]["open_tasks"][0]
    tasks.complete(db, officer, first["id"], {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    from disclosure_engine.engine import runtime
    from disclosure_engine.persistence.models import ProcessInstance
    from disclosure_engine.services.workflows import compiled

    with db.transaction() as session:
        instance = session.get(ProcessInstance, world["process"]["id"])
        wf = runtime.load_state(compiled(instance.definition), instance.state)
        ready = runtime.ready_user_tasks(wf)
    assert ready[0].data["serious_harm_reasons"] == REASON
    assert ready[0].data["case_reference"] == "KNT-2026-000001"


def test_decision_log_counts_exactly_up_to_a_cap(world, monkeypatch):
    db, officer, chair = world["db"], world["officer"], world["chair"]
    for i in range(3):
        case = cases.create_case(db, officer, case_payload(reference=f"KNT-CAP-{i:04d}", cso=False))
        first = processes.start_process(db, officer, case["id"], "mini_decision")["open_tasks"][0]
        nxt = tasks.complete(db, officer, first["id"], {"serious_harm_risk": "no", "serious_harm_reasons": REASON})
        tasks.complete(db, chair, nxt["next_tasks"][0]["id"], {"decision": "do_not_disclose", "decision_reasons": REASON})
    exact = decisions.decision_log(db, chair)
    assert (exact["total"], exact["total_capped"]) == (3, False)
    monkeypatch.setattr(decisions, "TOTAL_CAP", 2)
    capped = decisions.decision_log(db, chair, limit=10)
    assert (capped["total"], capped["total_capped"], len(capped["items"])) == (2, True, 3)
