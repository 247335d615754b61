"""Escalation throughput: 10,000 overdue tasks, 2 real worker processes, count duplicates.

Set-up (not timed): a fresh PostgreSQL database, the fixture process deployed, one case and
process, then ``--n`` open tasks bulk-inserted in one area, all past their due time *and* past
their escalation time, so each task needs two ladder steps (overdue, escalated): 2 x n step
rows, 2 x n audit events, one notification per step per recipient (1 manager, 1 chair).

Timed: from the moment one sweep enqueues the work (one job per task, ``esc-<task>-<level>``)
until every task is at level 3, with ``--workers`` ``disclosure-engine worker`` processes
(separate processes, as in production) draining the queue. A second and third sweep are run
while the workers are busy, so duplicate enqueues are exercised too.

Reported: wall time, tasks/s, step rows per (task, level) > 1 (must be 0), audit events per
step, notifications.

Run:  .venv/bin/python bench/escalation.py [--n 10000] [--workers 2]
          [--database-url postgresql://postgres@127.0.0.1:5432/de_bench_esc]
          [--redis-url redis://127.0.0.1:6379/9]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from common import fresh_database  # noqa: E402  (bench/ is on sys.path when run)
from sqlalchemy import func, insert, select  # noqa: E402

from disclosure_engine.domain.roles import SYSTEM  # noqa: E402
from disclosure_engine.jobs.queue import enqueue_due_work, queue_for  # noqa: E402
from disclosure_engine.persistence.db import Database  # noqa: E402
from disclosure_engine.persistence.models import (  # noqa: E402
    AuditEvent,
    EscalationStep,
    HumanTask,
    Notification,
    utcnow,
)
from disclosure_engine.services import cases, processes  # noqa: E402
from disclosure_engine.services.users import actor_for, create_user  # noqa: E402
from disclosure_engine.services.workflows import deploy_paths  # noqa: E402

FIXTURE = ROOT / "tests" / "jobs" / "fixtures" / "esc_ladder.bpmn"


def prepare(db: Database, n: int) -> None:
    deploy_paths(db, SYSTEM, [FIXTURE], note="bench")
    officer = create_user(db, "bench.officer", roles=["officer"], areas=["kent"])
    create_user(db, "bench.manager", roles=["manager"], areas=["kent"])
    create_user(db, "bench.chair", roles=["chair"], areas=["kent"])
    from disclosure_engine.persistence.models import User

    with db.transaction() as session:
        actor = actor_for(session.get(User, officer.id))
    case = cases.create_case(db, actor, {
        "reference": "KNT-2026-BENCH1", "area": "kent", "category": 1, "level": 1, "lead_agency": "police",
        "offender": {"visor_ref": "VS0000001"},
        "convictions": [{"statute": "Theft Act 1968", "section": "1", "date": "2019-03-14",
                         "disposal": "conviction", "jurisdiction": "england-wales"}]})
    process = processes.start_process(db, actor, case["id"], "esc_ladder")
    now = utcnow()
    with db.transaction() as session:
        template = session.execute(select(HumanTask).where(HumanTask.instance_id == process["id"])).scalar_one()
        template.status = "cancelled"
        base = {c: getattr(template, c) for c in ("instance_id", "case_id", "area_id", "workflow_key",
                                                  "element_id", "name", "candidate_role")}
        due = now - timedelta(hours=2)
        rows = [{**base, "spiff_task_id": str(uuid.uuid4()), "status": "open", "created_at": due - timedelta(days=2),
                 "records_decision": False, "due_at": due, "reminder_at": due - timedelta(days=1),
                 "escalate_at": now - timedelta(hours=1), "escalate_to_role": "chair", "escalation_level": 0,
                 "next_escalation_at": due - timedelta(days=1)} for _ in range(n)]
        for i in range(0, n, 5000):
            session.execute(insert(HumanTask), rows[i:i + 5000])


def level3(db: Database) -> int:
    with db.transaction() as session:
        return int(session.execute(select(func.count()).select_from(HumanTask).where(
            HumanTask.status == "open", HumanTask.escalation_level == 3)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/de_bench_esc")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    db = fresh_database(args.database_url)
    t0 = time.perf_counter()
    prepare(db, args.n)
    print(f"set-up: {args.n} overdue tasks bulk-inserted in {time.perf_counter() - t0:.1f} s")
    r = redis.Redis.from_url(args.redis_url)
    r.flushdb()
    queue = queue_for(r)
    env = {**os.environ, "DATABASE_URL": db.url, "REDIS_URL": args.redis_url, "DISCLOSURE_ENV": "test",
           "DISCLOSURE_INSTANCE_DIR": str(ROOT / "instance" / "bench"), "SWEEP_SECONDS": "30"}
    workers = [subprocess.Popen([sys.executable, "-m", "disclosure_engine.cli", "worker", "--quiet",
                                 "--no-sweep", "--name", f"bench-{i}-{os.getpid()}"],
                                env=env, cwd=str(ROOT), start_new_session=True)
               for i in range(args.workers)]
    try:
        time.sleep(3)  # let the workers import and connect, so start-up is not timed
        start = time.perf_counter()
        first = enqueue_due_work(db, queue)
        enqueued_in = time.perf_counter() - start
        time.sleep(1.0)
        second = enqueue_due_work(db, queue)   # duplicate sweeps while the workers are busy
        third = enqueue_due_work(db, queue)
        while (done := level3(db)) < args.n:
            if time.perf_counter() - start > args.timeout:
                raise SystemExit(f"timed out: {done}/{args.n} escalated")
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(30)
    with db.transaction() as session:
        steps = session.execute(select(func.count()).select_from(EscalationStep)).scalar_one()
        dups = session.execute(select(func.count()).select_from(
            select(EscalationStep.task_id, EscalationStep.level).group_by(EscalationStep.task_id, EscalationStep.level)
            .having(func.count() > 1).subquery())).scalar_one()
        audits = session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(("task.reminded", "task.overdue", "task.escalated")))).scalar_one()
        notes = session.execute(select(func.count()).select_from(Notification)).scalar_one()
    print(f"first sweep enqueued {first.enqueued} jobs in {enqueued_in:.1f} s; "
          f"later sweeps: {second.line()} / {third.line()}")
    print(f"{args.n} tasks escalated by {args.workers} workers in {elapsed:.1f} s "
          f"({args.n / elapsed:.0f} tasks/s, {steps / elapsed:.0f} steps/s)")
    print(f"step rows {steps} (expected {2 * args.n}), duplicate (task, level) rows {dups}, "
          f"audit events {audits}, notifications {notes}")
    print("goal: < 30 s and 0 duplicates ->", "met" if elapsed < 30 and dups == 0 else "NOT met")


if __name__ == "__main__":
    main()
