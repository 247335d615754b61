"""Hand-offs: start the follow-on process an end event names, exactly once, from the sweep.

When an instance completes at an end event with a ``start_process`` property (see
``engine.handoff``), the completing step only sets ``process_instance.handoff_pending`` (the
completion's hot path stays as it was). The sweep (``disclosure-engine sweep``, and the worker's
periodic sweep through one ``hof-<id>`` job per instance) then, for each pending instance in its
own transaction:

1. locks the origin row (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so two sweeps never wait on each
   other; SQLite serialises writers with BEGIN IMMEDIATE) and re-checks the flag under the lock;
2. starts the named workflow for the same case as the system actor, with the start fields
   ``start_data`` names (the case's facts always; ``decision_id`` = the origin's current
   decision, ``legal_basis`` = that decision's legal basis); the new instance's
   ``started_from_id`` is the origin, UNIQUE, so a second follow-on can never be written;
3. clears the flag and audits ``process.handed_off`` on the origin (``process.started`` on the
   new instance is the usual start audit, naming ``started_from`` and ``decision_id``).

Any failure (the workflow is not deployed, the decision was corrected to another outcome
meanwhile, an engine error) rolls that one instance's transaction back: the flag stays, the
failure is logged and reported, and the next sweep tries again; other instances go on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import DisclosureError
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.engine import runtime
from disclosure_engine.engine.handoff import FROM_DECISION, Handoff, end_event_handoff
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Case, Decision, ProcessDefinition, ProcessInstance, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.processes import running_carrier, start_in_session
from disclosure_engine.services.workflows import compiled

log = logging.getLogger(__name__)


@dataclass
class HandoffSweep:
    """What one sweep of hand-offs did."""

    pending: int = 0
    started: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    def line(self) -> str:
        return f"hand-offs: {self.pending} pending, {self.started} started, {len(self.failed)} failed"


def pending_handoffs(db: Database, *, limit: int = 1000) -> list[int]:
    """Instances waiting for their follow-on, oldest first (the partial index
    ``ix_process_instance_handoff_pending`` holds only these)."""
    with db.transaction() as session:
        return list(session.execute(select(ProcessInstance.id).where(ProcessInstance.handoff_pending.is_(True))
                                    .order_by(ProcessInstance.id).limit(limit)).scalars())


def hand_off(db: Database, instance_id: int, now: datetime | None = None) -> int | None:
    """Start the follow-on of one completed instance; returns the new process id, or None when
    there is nothing to do (already handed off, or another sweep holds the row right now).
    Raises whatever starting the follow-on raised; the flag then stays for the next sweep."""
    now = now or utcnow()
    try:
        with db.transaction() as session:
            return _hand_off_locked(session, instance_id, now)
    except IntegrityError:
        # the UNIQUE started_from_id: another transaction started this follow-on first
        log.info("hand-off of process %s already made by another sweep", instance_id)
        return None


def _hand_off_locked(session: Session, instance_id: int, now: datetime) -> int | None:
    origin = session.execute(
        select(ProcessInstance).where(ProcessInstance.id == instance_id, ProcessInstance.handoff_pending.is_(True))
        .with_for_update(of=ProcessInstance, skip_locked=True).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if origin is None:
        return None  # done by another sweep, or locked by one right now (it will finish it)
    done = session.execute(select(ProcessInstance.id).where(ProcessInstance.started_from_id == origin.id)).scalar()
    if done is not None:  # cannot normally happen (the flag is cleared with the start)
        origin.handoff_pending = False
        return None
    spec = compiled(origin.definition)
    wf = runtime.load_state(spec, origin.state)
    handoff = end_event_handoff(wf, origin.end_event)
    case = session.get(Case, origin.case_id)
    assert case is not None, "an instance's case is never deleted"
    if handoff is None:
        # only a version whose end event has start_process sets the flag; nothing to start
        log.warning("process %s is marked for a hand-off but its end event %s names none",
                    origin.id, origin.end_event)
        origin.handoff_pending = False
        return None
    if handoff.unless_running:
        running = session.execute(
            select(ProcessInstance.id).join(ProcessInstance.definition)
            .where(ProcessInstance.case_id == case.id, ProcessInstance.status == "waiting",
                   ProcessDefinition.key == handoff.workflow).limit(1)).scalar()
        if running is not None:  # start_unless_running: the running one carries on
            return _not_needed(session, origin, case, handoff, running, now)
    data = start_fields(session, origin, wf, handoff)
    carrier = running_carrier(session, data["decision_id"]) if data.get("decision_id") else None
    if carrier is not None:  # a person started it by hand before this sweep: it carries on
        return _not_needed(session, origin, case, handoff, carrier, now, decision_id=data["decision_id"])
    follow_on = start_in_session(session, SYSTEM, case, handoff.workflow, trigger="handoff", now=now, data=data,
                                 started_from=origin)
    origin.handoff_pending = False
    origin.updated_at = now
    session.flush()
    audit.record(session, SYSTEM, "process.handed_off", "process", origin.id, area=case.area.slug, now=now,
                 detail={"case_id": case.id, "end_event": origin.end_event, "to_process": follow_on.id,
                         "workflow": handoff.workflow, "version": follow_on.definition.version,
                         "decision_id": data.get("decision_id")})
    return follow_on.id


def _not_needed(session: Session, origin: ProcessInstance, case: Case, handoff: Handoff, running: int,
                now: datetime, **detail: Any) -> None:
    """The hand-off is done without starting anything: ``running`` already does its work."""
    origin.handoff_pending = False
    origin.updated_at = now
    audit.record(session, SYSTEM, "process.handoff_not_needed", "process", origin.id, area=case.area.slug, now=now,
                 detail={"case_id": case.id, "end_event": origin.end_event, "workflow": handoff.workflow,
                         "running_process": running, **detail})
    return None


def start_fields(session: Session, origin: ProcessInstance, wf: Any, handoff: Handoff) -> dict[str, Any]:
    """The start fields ``start_data`` names, from the origin: ``decision_id`` its current
    decision (the version nothing supersedes), ``legal_basis`` that decision's (else the
    process's own), anything else the process's final value of that name. Names with no value,
    or a value that is not a short text, number or yes/no, are left out (and logged)."""
    current = None
    if any(name in FROM_DECISION for name in handoff.fields):
        current = session.execute(select(Decision.id, Decision.legal_basis)
                                  .where(Decision.process_id == origin.id)
                                  .order_by(Decision.version.desc()).limit(1)).one_or_none()
    final = runtime.end_data(wf)
    out: dict[str, Any] = {}
    for name in handoff.fields:
        if name == "decision_id":
            value: Any = current.id if current is not None else None
        elif name == "legal_basis" and current is not None and current.legal_basis:
            value = current.legal_basis
        else:
            value = final.get(name)
        if value is None:
            continue
        if not isinstance(value, (str, int, float, bool)) or (isinstance(value, str) and len(value) > 500):
            log.warning("hand-off of process %s: %s is not a short value; not passed", origin.id, name)
            continue
        out[name] = value
    return out


def failure(exc: Exception) -> str:
    """One line for the sweep's report: the error and, for a refused start, the field errors."""
    line = f"{type(exc).__name__}: {exc}"
    errors = getattr(exc, "errors", None) if isinstance(exc, DisclosureError) else None
    if isinstance(errors, dict) and errors:
        line += " (" + "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()) + ")"
    return line


def sweep_handoffs(db: Database, now: datetime | None = None, *, limit: int = 1000) -> HandoffSweep:
    """Start every pending follow-on, each in its own transaction (``disclosure-engine sweep``)."""
    now = now or utcnow()
    report = HandoffSweep()
    for instance_id in pending_handoffs(db, limit=limit):
        report.pending += 1
        try:
            if hand_off(db, instance_id, now) is not None:
                report.started += 1
        except Exception as exc:  # one failing hand-off must not stop the others
            log.exception("hand-off failed for process %s; the next sweep tries again", instance_id)
            report.failed.append((instance_id, failure(exc)))
    return report
