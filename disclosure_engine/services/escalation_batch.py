"""Escalate many due tasks in one transaction, for sweeps that find thousands at once.

Each task follows exactly the rules of ``escalation.escalate_task`` (row lock, ladder walk,
recipients, messages, unique (task, level) steps, audit events and notifications in the same
transaction); the batch only does them set-wise: one locking select, one insert of steps,
one of notifications, one batched update of the tasks, and audit events appended under one
head lock. On PostgreSQL rows another worker holds are skipped (SKIP LOCKED) rather than
waited for: that worker does them, or the next sweep finds them still due. If the unique key
fires anyway (a single-task job raced the batch), the batch rolls back and each task is
retried on its own, so nothing is recorded twice and nothing is lost.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from disclosure_engine.config import Settings
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    LEVEL_NAMES,
    LEVEL_REMINDED,
    Area,
    Case,
    EscalationStep,
    HumanTask,
    utcnow,
)
from disclosure_engine.services import audit, notifications
from disclosure_engine.services.escalation import (
    AUDIT_ACTIONS,
    StepDone,
    TaskEscalation,
    _message,
    _target_role,
    escalate_task,
    next_step,
    step_recipients,
)

log = logging.getLogger(__name__)
MAX_BATCH = 500


def escalate_tasks(db: Database, task_ids: Sequence[int], now: datetime | None = None, *,
                   settings: Settings | None = None, send_email: bool = True) -> list[TaskEscalation]:
    """Record every due ladder step of each task, exactly once; safe to repeat and to race."""
    now = now or utcnow()
    ids = sorted({int(t) for t in task_ids})[:MAX_BATCH]
    emails: list[int] = []
    try:
        with db.transaction() as session:
            results, emails = _escalate_set(session, db.dialect, ids, now, settings)
    except IntegrityError:
        log.info("batch of %s tasks raced another worker; escalating them one by one", len(ids))
        results = [escalate_task(db, t, now, settings=settings, send_email=False) for t in ids]
        emails = [e for r in results for e in r.email_ids]
    if send_email and settings is not None and settings.smtp_host and emails:
        notifications.send_pending_for(db, settings, emails)
    return results


def _escalate_set(session: Any, dialect: str, ids: list[int], now: datetime,
                  settings: Settings | None) -> tuple[list[TaskEscalation], list[int]]:
    q = (select(HumanTask, Case.reference, Area.slug).join(Case, Case.id == HumanTask.case_id)
         .join(Area, Area.id == HumanTask.area_id)
         .where(HumanTask.id.in_(ids), HumanTask.status == "open").order_by(HumanTask.id)
         .execution_options(populate_existing=True))
    q = q.with_for_update(of=HumanTask, skip_locked=dialect == "postgresql")
    rows = session.execute(q).all()
    work: list[tuple[HumanTask, str, str, list[tuple[int, datetime]]]] = []
    with session.no_autoflush:
        for task, case_ref, area in rows:
            due, original = [], task.escalation_level
            while (step := next_step(task, now)) is not None and step[1] <= now:
                due.append(step)
                task.escalation_level = step[0]
            following = next_step(task, now)
            task.escalation_level = original
            task.next_escalation_at = following[1] if following else None
            if due:
                work.append((task, case_ref, area, due))
        if not work:
            return [TaskEscalation(t.id) for t, _r, _a in rows], []
        people = _recipients(session, work)
        plans = []
        for task, case_ref, area, due in work:
            by_role, assignee = people[task.area_id], people["assignees"].get(task.assignee_id, [])
            for level, scheduled in due:
                role, recipients = step_recipients(task, level, by_role, assignee)
                plans.append((task, case_ref, area, level, scheduled, role, recipients))
        step_ids = list(session.execute(
            insert(EscalationStep).returning(EscalationStep.id, sort_by_parameter_order=True),
            [{"task_id": t.id, "level": lvl, "kind": LEVEL_NAMES[lvl], "area_id": t.area_id, "target_role": role,
              "target_user_id": t.assignee_id if lvl == LEVEL_REMINDED else None, "scheduled_at": sched,
              "occurred_at": now, "recipients": len(rcpt)}
             for t, _c, _a, lvl, sched, role, rcpt in plans]).scalars())
        messages = []
        for (task, case_ref, area, level, _s, _r, recipients), step_id in zip(plans, step_ids):
            subject, body = _message(level, task, case_ref, area)
            messages.append((recipients, dict(kind=f"task.{LEVEL_NAMES[level]}", subject=subject, body=body,
                                              link=notifications.task_link(settings, task.id), task_id=task.id,
                                              step_id=step_id)))
        emails = notifications.notify_batch(session, messages, email=bool(settings and settings.smtp_host), now=now)
        for task, _c, _a, due in work:
            task.escalation_level = due[-1][0]
    results: dict[int, TaskEscalation] = {t.id: TaskEscalation(t.id) for t, _r, _a in rows}
    for (task, _c, area, level, scheduled, role, recipients), step_id in zip(plans, step_ids):
        audit.record(session, SYSTEM, AUDIT_ACTIONS[level], "task", task.id, area=area, now=now, detail={
            "level": level, "step_id": step_id, "scheduled_at": scheduled.isoformat(),
            "due_at": task.due_at.isoformat() if task.due_at else None, "target_role": role,
            "recipients": [r.username for r in recipients], "case_id": task.case_id,
            "process_id": task.instance_id})
        results[task.id].steps.append(StepDone(task.id, level, LEVEL_NAMES[level], step_id, len(recipients)))
    return list(results.values()), emails


def _recipients(session: Any, work: list[tuple[HumanTask, str, str, list[tuple[int, datetime]]]]) -> dict[Any, Any]:
    """Everyone the batch will tell: users by role per area (one query per area), assignees (one)."""
    roles_by_area: dict[int, set[str]] = defaultdict(set)
    for task, _c, _a, due in work:
        roles_by_area[task.area_id].update(_target_role(task, level) for level, _ in due)
    people: dict[Any, Any] = {area_id: notifications.users_with_roles(session, area_id, roles - {None})
                              for area_id, roles in roles_by_area.items()}
    assignee_ids = sorted({t.assignee_id for t, _c, _a, _d in work if t.assignee_id is not None})
    found = notifications.users_by_id(session, assignee_ids) if assignee_ids else []
    people["assignees"] = {u.id: [u] for u in found}
    return people
