"""The urgent route interrupts the others: while it runs, the case's other processes wait.

Domain: the urgent risk route "interrupts the others". When an emergency disclosure is being
authorised and ratified, a consideration or a delivery of the same case carrying on beside it
could reach a decision that contradicts it, or deliver one it overtakes; and their deadlines
should not run out while the case's officers deal with the emergency. So:

- a workflow whose BPMN process names workflow keys in its ``interrupts`` property
  (``urgent_disclosure``: the other three shipped workflows) pauses, in the transaction that
  starts it, every running, unpaused process of those workflows of the same case, as
  ``services.pauses`` pauses (tasks out of every inbox, timers waiting), with a reason naming it,
  and ``paused_by_process_id`` pointing at it; a process of those workflows started while it
  runs (a hand-off to delivery, a MAPPA review's consideration) starts paused the same way;
- once it has ended (completed, or stopped with an error), the sweep resumes each process it
  paused, as the system, with a reason naming it: their deadlines get the time back as after any
  pause. Each resume is its own transaction and happens once: the row is locked and re-checked,
  and resuming clears ``paused_by_process_id``;
- a manager may resume an interrupted process earlier by hand (the usual resume); one already
  paused by a person when the urgent route starts is left as it is.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from disclosure_engine.domain.deadlines import london_date
from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.engine.compiler import CompiledWorkflow
from disclosure_engine.engine.handoff import interrupts
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Case, ProcessDefinition, ProcessInstance, utcnow
from disclosure_engine.services.access import area_slug
from disclosure_engine.services.pauses import pause_locked, resume_locked
from disclosure_engine.services.workflows import compiled

log = logging.getLogger(__name__)


@dataclass
class InterruptionSweep:
    """What one sweep of ended interruptions did."""

    pending: int = 0
    resumed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def _label(instance: ProcessInstance) -> str:
    """The workflow's name as its BPMN gives it (the process ``name``), and the process id."""
    name = getattr(compiled(instance.definition).spec, "description", None) or instance.definition.key
    return f"{name} (process {instance.id})"


def interrupt_others(session: Session, actor: Actor, case: Case, instance: ProcessInstance,
                     spec: CompiledWorkflow, now: datetime) -> list[int]:
    """Pause the case's running processes of the workflows ``instance``'s BPMN ``interrupts``
    (see the module docstring), inside the caller's transaction; returns their ids."""
    keys = interrupts(spec.bundle)
    if not keys:
        return []
    others = list(session.execute(
        select(ProcessInstance).join(ProcessInstance.definition)
        .where(ProcessInstance.case_id == case.id, ProcessInstance.id != instance.id,
               ProcessInstance.status == "waiting", ProcessInstance.paused_at.is_(None),
               ProcessDefinition.key.in_(keys))
        .order_by(ProcessInstance.id)
        .with_for_update(of=ProcessInstance).execution_options(populate_existing=True)).scalars())
    if not others:
        return []
    area = case.area.slug
    day = london_date(now)
    reason = (f"Interrupted by {_label(instance)}, started on {day.day} {day:%B %Y}: this process waits, "
              "and resumes by itself when that one ends.")
    for other in others:
        pause_locked(session, actor, other, area, reason, now, by_process=instance.id)
    return [other.id for other in others]


def wait_if_interrupted(session: Session, actor: Actor, case: Case, instance: ProcessInstance, now: datetime,
                        ) -> int | None:
    """A process started while an interrupting process of its case runs (a hand-off to delivery,
    a review's consideration) waits for it too: paused, like those it interrupted at its start.
    Returns the interrupting process's id, or None."""
    key = instance.definition.key
    running = list(session.execute(
        select(ProcessInstance).join(ProcessInstance.definition)
        .where(ProcessInstance.case_id == case.id, ProcessInstance.id != instance.id,
               ProcessInstance.status == "waiting", ProcessDefinition.key != key)
        .order_by(ProcessInstance.id)).scalars())
    for other in running:
        if key in interrupts(compiled(other.definition).bundle):
            day = london_date(other.started_at)
            reason = (f"Started while {_label(other)}, started on {day.day} {day:%B %Y}, runs: this process "
                      "waits, and resumes by itself when that one ends.")
            pause_locked(session, actor, instance, case.area.slug, reason, now, by_process=other.id)
            return other.id
    return None


def pending_resumes(db: Database, *, limit: int = 1000) -> list[int]:
    """Interrupted processes whose interrupting process has ended, oldest first (the partial
    index ``ix_process_instance_paused_by_process`` holds only interrupted rows)."""
    by = aliased(ProcessInstance)
    with db.transaction() as session:
        return list(session.execute(
            select(ProcessInstance.id).join(by, by.id == ProcessInstance.paused_by_process_id)
            .where(ProcessInstance.paused_by_process_id.is_not(None), by.status != "waiting")
            .order_by(ProcessInstance.id).limit(limit)).scalars())


def resume_interrupted(db: Database, instance_id: int, now: datetime | None = None) -> bool:
    """Resume one interrupted process whose interrupting process has ended; False when there is
    nothing to do (resumed already, by hand or by another sweep, or locked by one right now)."""
    now = now or utcnow()
    with db.transaction() as session:
        instance = session.execute(
            select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                          ProcessInstance.paused_by_process_id.is_not(None))
            .with_for_update(of=ProcessInstance, skip_locked=True).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if instance is None or instance.paused_at is None:
            return False
        by = session.get(ProcessInstance, instance.paused_by_process_id)
        if by is None or by.status == "waiting":
            return False
        ended = f"ended at {by.end_event}" if by.status == "completed" and by.end_event else f"stopped ({by.status})"
        reason = f"{_label(by)}, which interrupted this process, has {ended}."
        resume_locked(session, SYSTEM, instance, area_slug(session, instance.area_id), reason, now)
        return True


def sweep_interruptions(db: Database, now: datetime | None = None, *, limit: int = 1000) -> InterruptionSweep:
    """Resume every process whose interruption has ended, each in its own transaction."""
    now = now or utcnow()
    report = InterruptionSweep()
    for instance_id in pending_resumes(db, limit=limit):
        report.pending += 1
        try:
            if resume_interrupted(db, instance_id, now):
                report.resumed += 1
        except Exception as exc:  # one failing resume must not stop the others
            log.exception("resuming interrupted process %s failed; the next sweep tries again", instance_id)
            report.failed.append((instance_id, f"{type(exc).__name__}: {exc}"))
    return report
