"""RQ entry points: thin, they take ids and call services (the database decides what to do).

Each worker process builds its settings and database once (``runtime()``); jobs never carry
personal data in their arguments, only ids.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from disclosure_engine.config import Settings, load_settings
from disclosure_engine.engine import time_limit
from disclosure_engine.persistence.db import Database

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database


_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        settings = load_settings()
        time_limit.configure(settings.expression_timeout_ms)
        _runtime = Runtime(settings, Database(settings.database_url))
    return _runtime


def set_runtime(settings: Settings, db: Database | None = None) -> None:
    """Used by the worker command (and tests) to share one settings/database per process."""
    global _runtime
    time_limit.configure(settings.expression_timeout_ms)
    _runtime = Runtime(settings, db or Database(settings.database_url))


def escalate(task_id: int) -> dict[str, Any]:
    from disclosure_engine.services.escalation import escalate_task

    rt = runtime()
    result = escalate_task(rt.db, int(task_id), settings=rt.settings)
    return {"task_id": result.task_id, "steps": [s.kind for s in result.steps]}


def escalate_batch(task_ids: list[int]) -> dict[str, Any]:
    """Many due tasks in one transaction (sweeps that find more than a handful)."""
    from disclosure_engine.services.escalation_batch import escalate_tasks

    rt = runtime()
    results = escalate_tasks(rt.db, task_ids, settings=rt.settings)
    return {"tasks": len(task_ids), "steps": sum(len(r.steps) for r in results)}


def fire_timers(instance_id: int) -> int:
    from disclosure_engine.domain.errors import Conflict
    from disclosure_engine.services.timers import advance_instance

    try:
        return advance_instance(runtime().db, int(instance_id))
    except Conflict:
        return 0  # a web request advanced it at the same moment; the next sweep looks again


def hand_off(instance_id: int) -> int | None:
    """Start one completed instance's follow-on process (None: nothing to do). A failure fails
    the job; the instance stays marked and the next sweep enqueues it again."""
    from disclosure_engine.services.handoffs import hand_off as start_follow_on

    return start_follow_on(runtime().db, int(instance_id))


def resume_interrupted(instance_id: int) -> bool:
    """Resume one process whose interrupting (urgent) process has ended (False: nothing to do).
    A failure fails the job; the process stays paused and the next sweep enqueues it again."""
    from disclosure_engine.services.interruptions import resume_interrupted as resume

    return resume(runtime().db, int(instance_id))


def schedule_review(instance_id: int) -> str | None:
    """Set a case's next MAPPA review from its completed consideration (services.reviews)."""
    from disclosure_engine.services.reviews import schedule_review as schedule

    when = schedule(runtime().db, int(instance_id))
    return when.isoformat() if when else None


def start_review(case_id: int) -> int | None:
    """Start the review's consideration of a case whose next review has come."""
    from disclosure_engine.services.reviews import start_review as start

    return start(runtime().db, int(case_id))


def send_mail(notification_id: int) -> str:
    from disclosure_engine.services.notifications import send_email

    rt = runtime()
    return send_email(rt.db, rt.settings, int(notification_id))


def sweep() -> str:
    """The periodic sweep: chain the next slot first (so a failure here cannot break the
    chain), then enqueue one job per piece of due work."""
    from rq import get_current_job

    from disclosure_engine.jobs.queue import (
        enqueue_due_work,
        ensure_next_sweep,
        queue_for,
    )

    rt = runtime()
    job = get_current_job()
    queue = queue_for(job.connection) if job is not None else None
    if queue is None:
        raise RuntimeError("sweep() runs inside an RQ worker; use `disclosure-engine sweep` otherwise")
    ensure_next_sweep(queue, rt.settings.sweep_seconds)
    report = enqueue_due_work(rt.db, queue)
    line = report.line()
    if report.enqueued or report.errors:
        log.info("sweep: %s", line)
    return line
