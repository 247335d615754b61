"""Fire due BPMN timers (representation windows, review dates, stage deadlines).

A sweep is a plain indexed query on ``next_timer_at``; each due instance is advanced in its
own transaction under its row lock, so one broken instance never blocks the others and a
sweep racing a web request or another sweep cannot double-fire a timer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from disclosure_engine.domain.errors import Conflict
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.engine import runtime
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import ProcessInstance, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.access import area_slug
from disclosure_engine.services.instances import lock_instance, persist
from disclosure_engine.services.workflows import compiled

log = logging.getLogger(__name__)


@dataclass
class TimerSweep:
    due: int = 0
    fired: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def due_instances(db: Database, now: datetime, *, limit: int = 1000) -> list[int]:
    with db.transaction() as session:
        return list(session.execute(
            select(ProcessInstance.id).where(ProcessInstance.status == "waiting",
                                             ProcessInstance.next_timer_at <= now)
            .order_by(ProcessInstance.next_timer_at).limit(limit)).scalars())


def advance_instance(db: Database, instance_id: int, now: datetime | None = None) -> int:
    """Fire the instance's due timers; returns how many fired (0 if another sweep got there first)."""
    now = now or utcnow()
    with db.transaction() as session:
        instance = lock_instance(session, instance_id)
        if (instance.status != "waiting" or instance.paused_at is not None or instance.next_timer_at is None
                or instance.next_timer_at > now):
            return 0
        spec = compiled(instance.definition)
        wf = runtime.load_state(spec, instance.state)
        fired = runtime.advance_timers(wf, now)
        persist(session, instance, wf, spec, now)
        if fired:
            audit.record(session, SYSTEM, "process.timer_fired", "process", instance.id,
                         area=area_slug(session, instance.area_id), detail={"fired": fired})
        return fired


def sweep_timers(db: Database, now: datetime | None = None) -> TimerSweep:
    now = now or utcnow()
    report = TimerSweep()
    for instance_id in due_instances(db, now):
        report.due += 1
        try:
            report.fired += advance_instance(db, instance_id, now)
        except Conflict:
            continue
        except Exception as exc:  # one broken instance must not stop the sweep
            log.exception("timer sweep failed for process %s", instance_id)
            report.failed.append((instance_id, f"{type(exc).__name__}: {exc}"))
    return report
