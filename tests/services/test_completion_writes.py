"""Completion writes everything together: all of it lands, or (a guard failing) none of it."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import bindparam, insert, select, update

from disclosure_engine.domain.errors import Conflict
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.batch import WriteBatch
from disclosure_engine.persistence.models import (
    Decision,
    HumanTask,
    User,
)
from disclosure_engine.services import audit, cases, completion, processes, tasks

from .helpers import REASON, case_payload, deploy_mini, make_actor

USERS = User.__table__


def _batch() -> WriteBatch:
    guard = update(USERS).where(USERS.c.id == bindparam("uid"), USERS.c.active.is_(True)).values(
        display_name=bindparam("name"))
    add = [insert(USERS).values(username=bindparam(f"u{i}"), display_name="x", national=False, active=True,
                                failed_logins=0, created_at=bindparam("now")).returning(USERS.c.username)
           for i in range(2)]
    return WriteBatch({"user": guard}, [], add)


def _params(uid: int) -> dict:
    from disclosure_engine.persistence.models import utcnow

    return {"uid": uid, "name": "Renamed", "u0": "batch.one", "u1": "batch.two", "now": utcnow()}


def test_a_batch_returns_what_its_inserts_return(db):
    officer = make_actor(db, "officer.kent", "officer")
    with db.transaction() as session:
        rows = _batch().run(session, _params(officer.user_id))
    assert sorted(r[0] for r in rows) == ["batch.one", "batch.two"]
    with db.transaction() as session:
        names = set(session.execute(select(USERS.c.username, USERS.c.display_name)).all())
    assert {("batch.one", "x"), ("batch.two", "x"), ("officer.kent", "Renamed")} <= names


def test_a_failed_guard_is_reported_and_the_caller_rolls_everything_back(db):
    make_actor(db, "officer.kent", "officer")
    with pytest.raises(Conflict):
        with db.transaction() as session:
            if _batch().run(session, _params(999_999)) is None:
                raise Conflict("guard failed")
    with db.transaction() as session:
        assert session.execute(select(USERS.c.username).where(USERS.c.username.like("batch.%"))).all() == []


@pytest.fixture()
def racing(db):
    """A mini_decision process at its first step, on PostgreSQL: on SQLite writers are
    serialised (BEGIN IMMEDIATE), so the races below cannot happen there."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no overlap, no race")
    deploy_mini(db)
    officer = make_actor(db, "officer.kent", "officer")
    case = cases.create_case(db, officer, case_payload(cso=False))
    return officer, processes.start_process(db, officer, case["id"], "mini_decision")


def test_a_claim_made_during_a_completion_waits_for_it_and_is_then_refused(db, racing, monkeypatch):
    """A colleague claims the task while an officer's submission of it is under way. The
    completion locked the task row with its instance, so the claim waits for it, then finds the
    task completed (409) instead of taking it over; the completion's record stands whole and
    the log holds no claim."""
    import time as clock

    officer, process = racing
    other = make_actor(db, "officer2.kent", "officer")
    task_id = process["open_tasks"][0]["id"]
    events_before = audit.chain_head(db)["seq"]
    outcome: list[object] = []

    def claim() -> None:
        try:
            outcome.append(tasks.claim(db, other, task_id))
        except Conflict as exc:
            outcome.append(exc)

    claimer = threading.Thread(target=claim)
    real_validate = completion.validate_submission

    def claim_meanwhile(schema, data):
        claimer.start()
        clock.sleep(0.5)  # it is now waiting for the task row this completion holds
        return real_validate(schema, data)

    monkeypatch.setattr(completion, "validate_submission", claim_meanwhile)
    done = tasks.complete(db, officer, task_id, {"serious_harm_risk": "yes", "serious_harm_reasons": REASON})
    claimer.join(timeout=30)
    assert done["task"]["status"] == "completed"
    assert isinstance(outcome[0], Conflict), outcome
    with db.transaction() as session:
        row = session.get(HumanTask, task_id)
        assert (row.status, row.completed_by_id) == ("completed", officer.user_id)
    actions = [e["action"] for e in audit.list_events(db, SYSTEM, limit=20) if e["seq"] > events_before]
    assert "task.claimed" not in actions and "task.completed" in actions
    assert audit.verify_chain(db).ok


def test_a_correction_during_a_decision_step_queues_behind_it(db, racing, monkeypatch):
    """A chair correcting version 1 while the reconsideration records version 2: both take the
    process's lock, so the correction waits, then finds version 1 superseded (409), instead of
    both claiming version 2 (a database error)."""
    import time as clock
    from datetime import timedelta

    from disclosure_engine.persistence.models import utcnow
    from disclosure_engine.services import decisions, timers

    officer, process = racing
    chair = make_actor(db, "chair.kent", "chair")
    nxt = tasks.complete(db, officer, process["open_tasks"][0]["id"],
                         {"serious_harm_risk": "no", "serious_harm_reasons": REASON})
    deferred = tasks.complete(db, chair, nxt["next_tasks"][0]["id"],
                              {"decision": "defer", "decision_reasons": REASON, "review_date": "2027-01-05"})
    timers.sweep_timers(db, utcnow() + timedelta(days=2))
    reconsider = tasks.list_tasks(db, chair, scope="all")["items"][0]
    outcome: list[object] = []

    def correct() -> None:
        try:
            outcome.append(decisions.supersede(db, chair, deferred["decision_id"], {"conditions": "None"},
                                               "The conditions were left out of the record by mistake"))
        except Conflict as exc:
            outcome.append(exc)

    corrector = threading.Thread(target=correct)
    real_validate = completion.validate_submission

    def correct_meanwhile(schema, data):
        corrector.start()
        clock.sleep(0.5)  # it is now waiting for the process's lock this completion holds
        return real_validate(schema, data)

    monkeypatch.setattr(completion, "validate_submission", correct_meanwhile)
    final = tasks.complete(db, chair, reconsider["id"], {"decision": "do_not_disclose", "decision_reasons": REASON})
    corrector.join(timeout=30)
    assert isinstance(outcome[0], Conflict)
    with db.transaction() as session:
        versions = session.execute(select(Decision.id, Decision.version).where(
            Decision.process_id == process["id"]).order_by(Decision.version)).all()
    assert versions == [(deferred["decision_id"], 1), (final["decision_id"], 2)]
