"""Demo data's work in every state: aged, claimed, withdrawn (cancelled) and escalated tasks.

Replaying path files leaves tasks open or completed, all created a moment ago. Real work is
older and further along, and every page (My tasks, Overdue, Escalated, a task's escalation
history) should have something to show, so after the replays this:

1. ages a share of the new processes: their open task rows *and* their BPMN duration timers
   move back by the same amount, so they stay consistent with each other;
2. has the demo officers, chairs and managers claim a share of the open tasks (a share of the
   tasks in the areas with demo sign-ins, so their "My tasks" is never empty);
3. runs one sweep at the real clock, through the services the workers use: timers that would
   have fired by now fire (a representations window that lapsed withdraws its task, which is
   cancelled, and the process moves on), any hand-off still pending starts its follow-on, and
   overdue tasks get their reminder, overdue and escalation steps, audited and notified as in
   production.

Only the processes this run created are touched, so a second run adds without re-ageing. All
random choices come from the caller's generator over rows in id order: the same seed gives
the same states.
"""
from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import DisclosureError
from disclosure_engine.domain.roles import Actor
from disclosure_engine.engine import runtime
from disclosure_engine.engine.case_facts import push_back_dates
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Area,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import pauses
from disclosure_engine.services import tasks as task_service
from disclosure_engine.services.escalation import EscalationSweep, sweep_escalations
from disclosure_engine.services.handoffs import sweep_handoffs
from disclosure_engine.services.interruptions import sweep_interruptions
from disclosure_engine.services.instances import lock_instance, persist
from disclosure_engine.services.reviews import sweep_reviews
from disclosure_engine.services.timers import sweep_timers
from disclosure_engine.services.workflows import compiled

AGED_SHARE = 0.33
AGE_DAYS = (3, 40)
LAPSED_DAYS = (29, 40)  # past the 28-day representations window
CLAIMED_SHARE = 0.25
CLAIMED_SHARE_SIGN_IN_AREAS = 0.5
_TASK_TIMES = ("created_at", "due_at", "reminder_at", "escalate_at", "next_escalation_at")

PAUSE_REASON = "Applicant abroad until the end of the month: the face-to-face meeting cannot be held before then."
#: the date the offender was asked for representations (s327a_consideration)
REQUESTED_ON = "representations_requested_on"


@dataclass
class DemoStates:
    """What settling did, and the new tasks by state afterwards."""

    claimed: int = 0
    escalations: EscalationSweep = field(default_factory=EscalationSweep)
    tasks: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        t = self.tasks
        return (f"tasks: {t.get('open', 0)} open ({t.get('claimed', 0)} claimed, {t.get('overdue', 0)} "
                f"overdue), {t.get('paused', 0)} paused, {t.get('completed', 0)} completed, "
                f"{t.get('cancelled', 0)} cancelled; "
                f"{self.escalations.line()}")


def last_instance_id(db: Database) -> int:
    """The newest process id before a run; the run's own processes come after it."""
    with db.transaction() as session:
        return session.execute(select(func.max(ProcessInstance.id))).scalar() or 0


def settle(db: Database, settings: Settings, rng: random.Random, actors: Mapping[str, Actor], *,
           after_instance: int, lapsed: Collection[int] = (),
           sign_in_areas: Collection[str] = ()) -> DemoStates:
    """Age, claim and sweep the processes created after ``after_instance`` (see the module).

    ``lapsed`` processes wait on a representations window and are always aged past it.
    """
    result = DemoStates()
    _age(db, rng, after_instance, set(lapsed))
    result.claimed = _claim_some(db, rng, actors, after_instance, set(sign_in_areas))
    sweep_timers(db)
    sweep_handoffs(db)
    sweep_interruptions(db)  # the processes an ended urgent disclosure interrupted go on
    sweep_reviews(db)  # completed considerations: their cases' next MAPPA reviews
    result.escalations = sweep_escalations(db, settings=settings)
    _pause_one(db, actors, after_instance, tuple(sign_in_areas))
    result.tasks = task_counts(db, after_instance)
    return result


def _pause_one(db: Database, actors: Mapping[str, Actor], after_instance: int, areas: tuple[str, ...]) -> None:
    """One running CSODS application in a sign-in area is paused, so a newcomer sees a pause
    (the case page's "Paused since", a task that waits) without making one."""
    with db.transaction() as session:
        found = session.execute(
            select(ProcessInstance.id, Area.slug).join(Area, Area.id == ProcessInstance.area_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id > after_instance, ProcessInstance.status == "waiting",
                   ProcessInstance.paused_at.is_(None), ProcessDefinition.key == "csods_application",
                   Area.slug.in_(areas)).order_by(ProcessInstance.id).limit(1)).first()
    manager = actors.get(f"manager.{found.slug}") if found is not None else None
    if found is not None and manager is not None:
        pauses.pause(db, manager, found.id, {"reason": PAUSE_REASON})


def _age(db: Database, rng: random.Random, after_instance: int, lapsed: set[int]) -> None:
    with db.transaction() as session:
        rows = session.execute(
            select(HumanTask.instance_id, HumanTask.reminder_at, HumanTask.due_at)
            .where(HumanTask.status == "open", HumanTask.due_at.is_not(None), HumanTask.instance_id > after_instance)
            .order_by(HumanTask.instance_id, HumanTask.id)).all()
    candidates = list(dict.fromkeys(r.instance_id for r in rows))
    shifts: dict[int, timedelta] = {}
    for instance_id in candidates:
        if instance_id in lapsed:
            shifts[instance_id] = timedelta(days=rng.randint(*LAPSED_DAYS), hours=rng.randint(0, 23))
        elif rng.random() < AGED_SHARE:
            shifts[instance_id] = timedelta(days=rng.randint(*AGE_DAYS), hours=rng.randint(0, 23))
    now = utcnow()
    # one process is always aged into its reminder window (reminded, not yet overdue), whatever
    # the seed: random ages of 3-40 days mostly land past the due date
    for row in rows:
        if row.instance_id not in shifts and row.reminder_at is not None and now < row.reminder_at < row.due_at:
            shifts[row.instance_id] = (row.reminder_at - now) + (row.due_at - row.reminder_at) / 2
            break
    if not shifts:
        return
    with db.transaction() as session:
        rows = session.execute(select(HumanTask).where(HumanTask.status == "open",
                                                       HumanTask.instance_id.in_(sorted(shifts)))).scalars()
        for task in rows:
            for name in _TASK_TIMES:
                if getattr(task, name) is not None:
                    setattr(task, name, getattr(task, name) - shifts[task.instance_id])
        timed = session.execute(select(ProcessInstance.id).where(
            ProcessInstance.id.in_(sorted(shifts)), ProcessInstance.next_timer_at.is_not(None))).scalars()
        for instance_id in list(timed):
            instance = lock_instance(session, instance_id)
            spec = compiled(instance.definition)
            wf = runtime.load_state(spec, instance.state)
            # a lapsed window runs from the request's date (a timeDate): age it with the rest
            runtime.shift_timers(wf, -shifts[instance_id], dates=instance_id in lapsed)
            if instance_id in lapsed:
                _backdate_request(session, wf, instance_id, shifts[instance_id])
            persist(session, instance, wf, spec, now)


def _backdate_request(session: Session, wf: Any, instance_id: int, shift: timedelta) -> None:
    """The recorded request date moves with its window, in the steps to come and in the answers
    the timeline shows, so the demo never says "requested today" beside a window that lapsed."""
    earlier = push_back_dates(wf, (REQUESTED_ON,), days=-shift.days).get(REQUESTED_ON)
    if earlier is None:
        return
    for row in session.execute(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "completed")).scalars():
        if isinstance(row.data, dict) and REQUESTED_ON in row.data:
            row.data = {**row.data, REQUESTED_ON: earlier}


def _claim_some(db: Database, rng: random.Random, actors: Mapping[str, Actor], after_instance: int,
                sign_in_areas: set[str]) -> int:
    with db.transaction() as session:
        rows = list(session.execute(
            select(HumanTask.id, HumanTask.candidate_role, Area.slug).join(Area, Area.id == HumanTask.area_id)
            .where(HumanTask.status == "open", HumanTask.assignee_id.is_(None),
                   HumanTask.instance_id > after_instance).order_by(HumanTask.id)))
    claimed = 0
    for task_id, role, area in rows:
        share = CLAIMED_SHARE_SIGN_IN_AREAS if area in sign_in_areas else CLAIMED_SHARE
        actor = actors.get(f"{role}.{area}")
        if rng.random() >= share or actor is None:
            continue
        try:
            task_service.claim(db, actor, task_id)
        except DisclosureError:
            continue
        claimed += 1
    return claimed


def task_counts(db: Database, after_instance: int = 0) -> dict[str, int]:
    """Tasks of the processes after ``after_instance`` by status, plus open ones claimed and overdue."""
    now = utcnow()
    scope = HumanTask.instance_id > after_instance
    with db.transaction() as session:
        counts = {status: n for status, n in session.execute(
            select(HumanTask.status, func.count()).where(scope).group_by(HumanTask.status))}
        open_ = (HumanTask.status == "open") & scope
        counts["claimed"] = session.execute(select(func.count()).where(
            open_, HumanTask.assignee_id.is_not(None))).scalar_one()
        counts["overdue"] = session.execute(select(func.count()).where(
            open_, HumanTask.due_at < now)).scalar_one()
    return counts
