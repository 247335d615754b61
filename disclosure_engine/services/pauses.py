"""Pausing a running process with a reason, and resuming it: the clock stops meanwhile.

A CSODS application waits while the applicant cannot be reached or a partner agency's check is
outstanding; a consideration waits for a court's decision. Deadlines must not run out while
nobody can act, and the pause itself is part of the record (domain: "pauses with reasons").

- A chair, manager or administrator of the process's area pauses it, with a reason. Its open
  tasks become ``paused`` (out of every inbox and overdue list, and out of escalation: only open
  tasks are there) and cannot be claimed, saved or completed; its timers wait
  (``next_timer_at`` cleared, so no sweep fires them).
- Resuming, with a reason too, gives the time back: the tasks open again with their due,
  reminder and escalation times later by the pause's length; the BPMN's duration timers wait as
  much longer; and the dates the process names in ``pause_extends`` (CSODS's
  ``scheme_deadline``) move by the calendar days paused, so later stages are due by the
  extended deadline, as do the date timers the BPMN marks ``pause_extends`` (the
  representations window: the offender does not lose days of it to a pause; see
  ``engine.pause_rules``). Dates fixed by people (a review date) do not move.
- Both are audited (``process.paused``, ``process.resumed``) with the reason, and the process
  shows who paused it, when and why while it is paused.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure_engine.domain.deadlines import london_date
from disclosure_engine.domain.errors import Conflict, Forbidden, ValidationFailed
from disclosure_engine.domain.roles import SUPERVISOR_ROLES, Actor
from disclosure_engine.domain.vocabulary import change_reason
from disclosure_engine.engine import runtime
from disclosure_engine.engine.case_facts import push_back_dates
from disclosure_engine.engine.handoff import pause_extends
from disclosure_engine.engine.pause_rules import extended_timers
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import HumanTask, ProcessInstance, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.access import area_slug, usernames, visible_process
from disclosure_engine.services.instances import persist
from disclosure_engine.services.views import iso
from disclosure_engine.services.workflows import compiled

PAUSE_ROLES = SUPERVISOR_ROLES
PAUSED = "paused"
#: the task times a pause pushes back (created_at stays: it is when the task opened)
SHIFTED = ("due_at", "reminder_at", "escalate_at", "next_escalation_at")


def may_pause(actor: Actor, area: str) -> bool:
    return actor.has_role(*PAUSE_ROLES) and actor.in_area(area)


def pause(db: Database, actor: Actor, process_id: int, payload: Any, *,
          now: datetime | None = None) -> dict[str, Any]:
    """Pause the running process for ``payload["reason"]`` (module docstring)."""
    reason = _reason(payload, "paused")
    now = now or utcnow()
    with db.transaction() as session:
        instance, area = _locked(session, actor, process_id)
        if instance.paused_at is not None:
            raise Conflict(f"This process has been paused since {instance.paused_at:%d %B %Y %H:%M} UTC")
        if instance.status != "waiting":
            raise Conflict(f"Only a running process can be paused; this one is {instance.status}")
        pause_locked(session, actor, instance, area, reason, now)
        return pause_view(session, instance)


def pause_locked(session: Session, actor: Actor, instance: ProcessInstance, area: str, reason: str,
                 now: datetime, *, by_process: int | None = None) -> list[int]:
    """Pause ``instance`` (locked by the caller, running, not paused) inside the caller's
    transaction; ``by_process`` is the process that interrupts it (``services.interruptions``).
    Returns the ids of the tasks paused."""
    instance.paused_at, instance.paused_reason, instance.paused_by_id = now, reason, actor.user_id
    instance.paused_by_process_id = by_process
    instance.next_timer_at = None
    tasks = _tasks(session, instance.id, "open")
    for task in tasks:
        task.status = PAUSED
    detail: dict[str, Any] = {"reason": reason, "tasks": [t.id for t in tasks]}
    if by_process is not None:
        detail["by_process"] = by_process
    audit.record(session, actor, "process.paused", "process", instance.id, area=area, justification=reason,
                 detail=detail)
    return [t.id for t in tasks]


def resume(db: Database, actor: Actor, process_id: int, payload: Any, *,
           now: datetime | None = None) -> dict[str, Any]:
    """Resume the paused process for ``payload["reason"]``, giving its deadlines the time back.

    Returns :func:`pause_view` with what moved besides the tasks and duration timers: the date
    fields (``deadlines_moved``: name -> new date) and the date timers (``timers_extended``:
    element id and name, due before and after)."""
    reason = _reason(payload, "resumed")
    now = now or utcnow()
    with db.transaction() as session:
        instance, area = _locked(session, actor, process_id)
        if instance.paused_at is None:
            raise Conflict("This process is not paused")
        moved = resume_locked(session, actor, instance, area, reason, now)
        return {**pause_view(session, instance), **moved}


def resume_locked(session: Session, actor: Actor, instance: ProcessInstance, area: str, reason: str,
                  now: datetime) -> dict[str, Any]:
    """Resume ``instance`` (locked by the caller, paused) inside the caller's transaction; returns
    ``deadlines_moved`` and ``timers_extended`` (see :func:`resume`)."""
    assert instance.paused_at is not None, "only a paused process resumes"
    paused_for = max(now - instance.paused_at, timedelta(0))
    days = max(0, (london_date(now) - london_date(instance.paused_at)).days)
    tasks = _tasks(session, instance.id, PAUSED)
    for task in tasks:
        task.status = "open"
        for name in SHIFTED:
            if getattr(task, name) is not None:
                setattr(task, name, getattr(task, name) + paused_for)
    spec = compiled(instance.definition)
    wf = runtime.load_state(spec, instance.state)
    runtime.shift_timers(wf, paused_for)
    extended = runtime.extend_date_timers(wf, extended_timers(spec.bundle), days=days)
    moved = push_back_dates(wf, pause_extends(spec.bundle), days=days)
    _keep_within_closing(tasks, wf)
    paused_at, by_process = instance.paused_at, instance.paused_by_process_id
    instance.paused_at = instance.paused_reason = instance.paused_by_id = instance.paused_by_process_id = None
    session.flush()  # the tasks are open again before persist re-projects them
    persist(session, instance, wf, spec, now)
    detail: dict[str, Any] = {"reason": reason, "paused_at": iso(paused_at),
                              "paused_minutes": math.ceil(paused_for.total_seconds() / 60),
                              "tasks": [t.id for t in tasks], "deadlines_moved": moved,
                              "timers_extended": extended}
    if by_process is not None:
        detail["by_process"] = by_process
    audit.record(session, actor, "process.resumed", "process", instance.id, area=area, justification=reason,
                 detail=detail)
    return {"deadlines_moved": moved, "timers_extended": extended}


def _keep_within_closing(tasks: list[HumanTask], wf: Any) -> None:
    """A task the engine takes away at a time (an interrupting timer: the representations
    window) is due by then at the latest, as when it opened (``due_at_for``'s ``closes_at``):
    its times moved by the pause's exact length, a date timer by whole days, so the due time
    may now be a few hours past the closing one; it moves back, its reminder and escalation
    with it."""
    closing = {t.id: t.closes_at for t in runtime.ready_user_tasks(wf, with_data=False)}
    for task in tasks:
        closes = closing.get(task.spiff_task_id)
        if closes is None or task.due_at is None or task.due_at <= closes:
            continue
        early = task.due_at - closes
        for name in SHIFTED:
            if getattr(task, name) is not None:
                setattr(task, name, getattr(task, name) - early)


def pause_info(session: Session, instance: ProcessInstance,
               names: dict[int | None, str] | None = None) -> dict[str, Any] | None:
    """Who paused the process, when and why, or None while it runs; ``by_process`` is the
    process that interrupted it (None when a person paused it). ``names``: usernames already
    read (``access.usernames``), to read none here."""
    if instance.paused_at is None:
        return None
    if names is None:
        names = usernames(session, [instance.paused_by_id])
    return {"at": iso(instance.paused_at), "reason": instance.paused_reason,
            "by": names.get(instance.paused_by_id),
            "by_process": instance.paused_by_process_id}


def pause_view(session: Session, instance: ProcessInstance) -> dict[str, Any]:
    """The reply to a pause or resume: the process's status and pause (``None`` while it runs)."""
    return {"id": instance.id, "status": instance.status, "paused": pause_info(session, instance),
            "next_timer_at": iso(instance.next_timer_at)}


def _locked(session: Session, actor: Actor, process_id: int) -> tuple[ProcessInstance, str]:
    instance = visible_process(session, actor, process_id, lock=True)
    area = area_slug(session, instance.area_id)
    if not may_pause(actor, area):
        raise Forbidden("Only a chair, manager or administrator of the process's area may pause or resume it")
    return instance, area


def _tasks(session: Session, instance_id: int, status: str) -> list[HumanTask]:
    return list(session.execute(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == status)
                                .order_by(HumanTask.id)).scalars())


def _reason(payload: Any, what: str) -> str:
    if not isinstance(payload, dict):
        raise ValidationFailed("Send the reason as a JSON object", {"_form": ["Send {\"reason\": \"...\"}"]})
    unknown = {str(key): [f"Remove {key}: only the reason is sent here"] for key in payload if key != "reason"}
    text, problem = change_reason(payload.get("reason"), missing=f"Enter why the process is being {what}")
    errors = {**unknown, **({"reason": [problem]} if problem else {})}
    if errors:
        raise ValidationFailed("The reason is missing or not a reason", errors)
    return text
