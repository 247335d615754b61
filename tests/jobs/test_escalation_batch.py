"""A backlog is escalated in chunks with exactly the single-task rules, and never twice."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from disclosure_engine.persistence.models import (
    EscalationStep,
    HumanTask,
    Notification,
    utcnow,
)
from disclosure_engine.services import audit, cases, processes
from disclosure_engine.services.escalation import escalate_task
from disclosure_engine.services.escalation_batch import escalate_tasks

from ..services.helpers import case_payload, deploy_mini, make_actor


def _overdue_tasks(db, n):
    deploy_mini(db)
    officer = make_actor(db, "officer.batch", "officer")
    make_actor(db, "manager.batch", "manager")
    ids = []
    for i in range(n):
        case = cases.create_case(db, officer, case_payload(reference=f"KNT-BATCH-{i:04d}", cso=False))
        ids.append(processes.start_process(db, officer, case["id"], "mini_decision")["open_tasks"][0]["id"])
    with db.transaction() as s:
        for row in s.execute(select(HumanTask).where(HumanTask.id.in_(ids))).scalars():
            row.due_at = row.next_escalation_at = utcnow() - timedelta(minutes=1)
    return ids


def test_a_chunk_matches_the_single_task_path(db):
    ids = _overdue_tasks(db, 6)
    single = escalate_task(db, ids[0])
    results = escalate_tasks(db, ids)
    assert [len(r.steps) for r in results] == [0, 1, 1, 1, 1, 1], "the first was already done"
    with db.transaction() as s:
        kinds = s.execute(select(EscalationStep.task_id, EscalationStep.kind)).all()
        notes = s.execute(select(func.count()).select_from(Notification)).scalar_one()
        levels = set(s.execute(select(HumanTask.escalation_level).where(HumanTask.id.in_(ids))).scalars())
    assert sorted(kinds) == [(t, "overdue") for t in ids] and [s.kind for s in single.steps] == ["overdue"]
    assert notes == 6 and levels == {2}
    assert escalate_tasks(db, ids) and all(not r.steps for r in escalate_tasks(db, ids)), "nothing twice"
    events = [e for e in audit.list_events(db, _system(), action="task.overdue", limit=50)]
    assert len(events) == 6 and audit.verify_chain(db).ok


def test_racing_chunks_and_singles_record_each_step_once(db):
    ids = _overdue_tasks(db, 12)
    barrier = threading.Barrier(3)

    def chunk(part):
        barrier.wait()
        escalate_tasks(db, part)

    def singles():
        barrier.wait()
        for t in ids:
            escalate_task(db, t)

    threads = [threading.Thread(target=chunk, args=(ids[:8],)), threading.Thread(target=chunk, args=(ids[4:],)),
               threading.Thread(target=singles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.transaction() as s:
        steps = s.execute(select(func.count()).select_from(EscalationStep)).scalar_one()
    assert steps == 12
    assert audit.verify_chain(db).ok


def _system():
    from disclosure_engine.domain.roles import SYSTEM

    return SYSTEM
