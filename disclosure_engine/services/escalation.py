"""The escalation ladder of open user tasks, each step recorded exactly once.

Ladder (times are on the task row, computed from the BPMN when the task became ready):

1. ``reminder_at`` - **reminded**: the assignee, or if nobody holds the task every user with
   the candidate role in the task's area, is reminded that it falls due.
2. ``due_at`` - **overdue**: the task is marked overdue; the area's managers (and the assignee)
   are notified.
3. ``escalate_at`` (due + ``escalate_after``) - **escalated**: users with ``escalate_to_role``
   (chair unless the BPMN says otherwise) in the area are told; they can reassign the task
   (``services.assignment.reassign``).

Exactly once: ``escalate_task`` locks the task row, re-reads it, and in ONE transaction
inserts an ``EscalationStep`` per due level (UNIQUE (task_id, level)), its audit event and
its notifications, and moves ``escalation_level`` / ``next_escalation_at`` on. A second job
for the same task (retried, duplicated, racing) waits for the lock, then finds nothing due; if
it ever got past that check the unique key would roll it back whole. Completed and cancelled
tasks never escalate (the status is checked under the lock).

Catching up: when several levels are due at once (the workers were down), they are recorded
in order in the same transaction, except that a reminder whose due time has already passed
is skipped (reminding someone that a task "falls due" after it is overdue is noise; the
overdue step tells them instead).

Redis is not involved here: ``sweep_escalations`` runs the whole thing in the foreground (the
``disclosure-engine sweep`` command), and the RQ jobs call ``escalate_task`` per task id.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.roles import SUPERVISOR_ROLES, SYSTEM, Actor, Role
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    LEVEL_ESCALATED,
    LEVEL_NAMES,
    LEVEL_OVERDUE,
    LEVEL_REMINDED,
    Area,
    Case,
    EscalationStep,
    HumanTask,
    utcnow,
)
from disclosure_engine.services import audit, notifications
from disclosure_engine.services.access import (
    area_slugs,
    usernames,
    visible_area_ids,
    visible_task,
)

log = logging.getLogger(__name__)

DEFAULT_ESCALATE_TO_ROLE = Role.CHAIR.value
AUDIT_ACTIONS = {LEVEL_REMINDED: "task.reminded", LEVEL_OVERDUE: "task.overdue",
                 LEVEL_ESCALATED: "task.escalated"}


@dataclass(frozen=True)
class StepDone:
    task_id: int
    level: int
    kind: str
    step_id: int
    recipients: int


@dataclass
class TaskEscalation:
    """What one ``escalate_task`` call did (empty ``steps`` = nothing was due, or done already)."""

    task_id: int
    steps: list[StepDone] = field(default_factory=list)
    email_ids: list[int] = field(default_factory=list)


@dataclass
class EscalationSweep:
    due: int = 0
    reminded: int = 0
    overdue: int = 0
    escalated: int = 0
    emails_sent: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    def add(self, result: TaskEscalation) -> None:
        for step in result.steps:
            if step.level == LEVEL_REMINDED:
                self.reminded += 1
            elif step.level == LEVEL_OVERDUE:
                self.overdue += 1
            else:
                self.escalated += 1

    def line(self) -> str:
        return (f"escalations: reminded {self.reminded}, overdue {self.overdue}, "
                f"escalated {self.escalated}")


# -- the ladder -------------------------------------------------------------------------------

def next_step(task: HumanTask, now: datetime) -> tuple[int, datetime] | None:
    """The next level of the task's ladder and when it falls due, or None when the ladder is done.

    A reminder is only a candidate while the due time is still ahead of ``now``.
    """
    done = task.escalation_level or 0
    ladder = ((LEVEL_REMINDED, task.reminder_at), (LEVEL_OVERDUE, task.due_at),
              (LEVEL_ESCALATED, task.escalate_at))
    for level, at in ladder:
        if level <= done or at is None:
            continue
        if level == LEVEL_REMINDED and task.due_at is not None and task.due_at <= now:
            continue
        return level, at
    return None


def due_tasks(db: Database, now: datetime | None = None, *, limit: int = 1000,
              after: tuple[datetime, int] | None = None) -> list[tuple[int, int, datetime]]:
    """Open tasks with an escalation step due: ``(task_id, next_level, next_escalation_at)``.

    Uses ``ix_human_task_escalation (status, next_escalation_at)``; page with ``after`` (the last
    row's ``(next_escalation_at, id)``).
    """
    now = now or utcnow()
    q = (select(HumanTask.id, HumanTask.next_escalation_at, HumanTask.escalation_level,
                HumanTask.reminder_at, HumanTask.due_at, HumanTask.escalate_at)
         .where(HumanTask.status == "open", HumanTask.next_escalation_at <= now))
    if after is not None:
        q = q.where(or_(HumanTask.next_escalation_at > after[0],
                        and_(HumanTask.next_escalation_at == after[0], HumanTask.id > after[1])))
    q = q.order_by(HumanTask.next_escalation_at, HumanTask.id).limit(limit)
    out = []
    with db.transaction() as session:
        for row in session.execute(q):
            probe = HumanTask(escalation_level=row.escalation_level, reminder_at=row.reminder_at,
                              due_at=row.due_at, escalate_at=row.escalate_at)
            step = next_step(probe, now)
            out.append((row.id, step[0] if step else 0, row.next_escalation_at))
    return out


def escalate_task(db: Database, task_id: int, now: datetime | None = None, *,
                  settings: Settings | None = None, send_email: bool = True) -> TaskEscalation:
    """Record every step of the task's ladder that is due at ``now``, exactly once.

    Safe to call any number of times, concurrently: later calls find nothing due. E-mail (when
    ``settings.smtp_host`` is set) is sent after the commit.
    """
    now = now or utcnow()
    result = TaskEscalation(task_id)
    try:
        with db.transaction() as session:
            _escalate_locked(session, task_id, now, settings, result)
    except IntegrityError:
        # another transaction recorded the same (task, level) first: it did the work
        log.info("escalation of task %s already recorded by another worker", task_id)
        return TaskEscalation(task_id)
    if send_email and settings is not None and settings.smtp_host and result.email_ids:
        notifications.send_pending_for(db, settings, result.email_ids)
    return result


def _escalate_locked(session: Session, task_id: int, now: datetime, settings: Settings | None,
                     result: TaskEscalation) -> None:
    """Few round trips on purpose (this runs once per task per level, 10,000s at a time)."""
    found = session.execute(
        select(HumanTask, Case.reference, Area.slug).join(Case, Case.id == HumanTask.case_id)
        .join(Area, Area.id == HumanTask.area_id).where(HumanTask.id == task_id)
        .with_for_update(of=HumanTask).execution_options(populate_existing=True)).one_or_none()
    if found is None:
        return
    task, case_ref, area = found
    if task.status != "open":
        return
    due: list[tuple[int, datetime]] = []
    original_level = task.escalation_level
    while (step := next_step(task, now)) is not None and step[1] <= now:
        due.append(step)
        task.escalation_level = step[0]
    following = next_step(task, now)
    task.escalation_level = original_level
    with session.no_autoflush:
        task.next_escalation_at = following[1] if following else None
        if not due:
            return
        roles = {_target_role(task, level) for level, _ in due} - {None}
        by_role = notifications.users_with_roles(session, task.area_id, roles)
        assignee = (notifications.users_by_id(session, [task.assignee_id])
                    if task.assignee_id is not None else [])
        plan = []
        for level, scheduled in due:
            role, recipients = step_recipients(task, level, by_role, assignee)
            if not recipients:
                log.warning("task %s %s: nobody holds role %s in %s", task.id, LEVEL_NAMES[level], role, area)
            plan.append((level, scheduled, role, recipients))
        # the UNIQUE (task_id, level) key fires here if another transaction recorded a step
        step_ids = list(session.execute(
            insert(EscalationStep).returning(EscalationStep.id, sort_by_parameter_order=True),
            [{"task_id": task.id, "level": level, "kind": LEVEL_NAMES[level], "area_id": task.area_id,
              "target_role": role,
              "target_user_id": task.assignee_id if level == LEVEL_REMINDED else None,
              "scheduled_at": scheduled, "occurred_at": now, "recipients": len(recipients)}
             for level, scheduled, role, recipients in plan]).scalars())
        link = notifications.task_link(settings, task.id)
        messages = []
        for (level, _scheduled, _role, recipients), step_id in zip(plan, step_ids):
            subject, body = _message(level, task, case_ref, area)
            messages.append((recipients, dict(kind=f"task.{LEVEL_NAMES[level]}", subject=subject, body=body,
                                              link=link, task_id=task.id, step_id=step_id)))
        result.email_ids = notifications.notify_batch(session, messages, email=bool(settings and settings.smtp_host),
                                                      now=now)
        task.escalation_level = plan[-1][0]
    session.flush()
    # the audit head is a single row every writer locks: take it last, hold it briefly
    for (level, scheduled, role, recipients), step_id in zip(plan, step_ids):
        audit.record(session, SYSTEM, AUDIT_ACTIONS[level], "task", task.id, area=area, now=now, detail={
            "level": level, "step_id": step_id, "scheduled_at": scheduled.isoformat(),
            "due_at": task.due_at.isoformat() if task.due_at else None, "target_role": role,
            "recipients": [r.username for r in recipients], "case_id": task.case_id,
            "process_id": task.instance_id})
    result.steps = [StepDone(task.id, level, LEVEL_NAMES[level], step_id, len(recipients))
                    for (level, _s, _r, recipients), step_id in zip(plan, step_ids)]


def step_recipients(task: HumanTask, level: int, by_role: dict[str, list[Any]],
                    assignee: list[Any]) -> tuple[str | None, list[Any]]:
    """Who one ladder step tells, and the role recorded for it (None: told the assignee).

    A reminder goes to the assignee, else to the candidate role; overdue goes to the area's
    managers and the assignee; escalation goes to ``escalate_to_role`` in the area.
    """
    role: str | None = _target_role(task, level)
    recipients = list(assignee) if level == LEVEL_REMINDED and assignee else list(by_role.get(role, []))
    if level == LEVEL_REMINDED and task.assignee_id is not None:
        role = None
    if level == LEVEL_OVERDUE:
        recipients += [a for a in assignee if all(a.id != r.id for r in recipients)]
    return role, recipients


def _target_role(task: HumanTask, level: int) -> str:
    if level == LEVEL_REMINDED:
        return task.candidate_role
    if level == LEVEL_OVERDUE:
        return Role.MANAGER.value
    return task.escalate_to_role or DEFAULT_ESCALATE_TO_ROLE


def _when(value: datetime | None) -> str:
    if value is None:
        return "no due date"
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Europe/London")).strftime("%d %b %Y %H:%M")


def _message(level: int, task: HumanTask, case_ref: str, area: str) -> tuple[str, str]:
    """Subject and body with opaque references only (task id, case reference, step name)."""
    ref = f"task {task.id} ({task.name}) on case {case_ref}, {area}"
    if level == LEVEL_REMINDED:
        return (f"Reminder: task {task.id} on case {case_ref} is due {_when(task.due_at)}",
                f"Reminder: {ref} is due {_when(task.due_at)}.")
    if level == LEVEL_OVERDUE:
        return (f"Overdue: task {task.id} on case {case_ref}",
                f"Overdue: {ref} was due {_when(task.due_at)} and is not complete.")
    return (f"Escalated: task {task.id} on case {case_ref}",
            f"Escalated to you: {ref} was due {_when(task.due_at)} and is still not complete. "
            "You can reassign it.")


# -- the foreground sweep (no Redis) ----------------------------------------------------------

def sweep_escalations(db: Database, now: datetime | None = None, *, settings: Settings | None = None,
                      page: int = 1000) -> EscalationSweep:
    """Escalate every task with a due step, in this process (``disclosure-engine sweep``)."""
    now = now or utcnow()
    report = EscalationSweep()
    after: tuple[datetime, int] | None = None
    while True:
        batch = due_tasks(db, now, limit=page, after=after)
        for task_id, _level, _at in batch:
            report.due += 1
            try:
                report.add(escalate_task(db, task_id, now, settings=settings))
            except Exception as exc:  # one broken task must not stop the sweep
                log.exception("escalation failed for task %s", task_id)
                report.failed.append((task_id, f"{type(exc).__name__}: {exc}"))
        if len(batch) < page:
            break
        after = (batch[-1][2], batch[-1][0])
    if settings is not None and settings.smtp_host:
        for nid in notifications.pending_emails(db, now):
            if notifications.send_email(db, settings, nid) == "sent":
                report.emails_sent += 1
    return report


# -- what managers and chairs see and do ------------------------------------------------------

def escalation_history(db: Database, actor: Actor, task_id: int) -> list[dict[str, Any]]:
    """The task's recorded steps, oldest first (for the task API and page)."""
    with db.transaction() as session:
        visible_task(session, actor, task_id)
        rows = session.execute(select(EscalationStep).where(EscalationStep.task_id == task_id)
                               .order_by(EscalationStep.level)).scalars()
        return [step_view(r) for r in rows]


def step_view(r: EscalationStep) -> dict[str, Any]:
    return {"level": r.level, "kind": r.kind, "at": r.occurred_at.isoformat(),
            "scheduled_at": r.scheduled_at.isoformat(), "target_role": r.target_role,
            "recipients": r.recipients}


def escalated_tasks(db: Database, actor: Actor, *, min_level: int = LEVEL_OVERDUE, limit: int = 100,
                    offset: int = 0, now: datetime | None = None) -> dict[str, Any]:
    """Open tasks at or past ``min_level`` in the actor's areas, most escalated first, then the
    most overdue: ``{"items", "total"}`` (managers', chairs' and auditors' view of late work)."""
    if not actor.has_role(*SUPERVISOR_ROLES, Role.AUDITOR):
        raise Forbidden("Only chairs, managers, auditors and administrators see escalated work")
    from disclosure_engine.services.views import task_view

    now = now or utcnow()
    with db.transaction() as session:
        q = select(HumanTask).where(HumanTask.status == "open", HumanTask.escalation_level >= min_level)
        ids = visible_area_ids(session, actor)
        if ids is not None:
            q = q.where(HumanTask.area_id.in_(ids))
        total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = list(session.execute(q.order_by(HumanTask.escalation_level.desc(),
                                               HumanTask.due_at.asc().nulls_last(), HumanTask.id)
                                    .limit(min(max(limit, 1), 500)).offset(max(offset, 0))).scalars())
        areas, names = area_slugs(session), usernames(session, {r.assignee_id for r in rows})
        items = []
        for r in rows:
            view = task_view(r, now=now, assignee=names.get(r.assignee_id), include_data=False)
            view["area"] = areas[r.area_id]
            items.append(view)
        return {"items": items, "total": total}
