"""Decision records: written by the engine when a decision task completes; append-only.

A record holds the statutory vocabulary plus the case context a reviewing court would ask for
(references, category and level, Schedule 34A matches). Corrections and ratifications are new
versions that name the version they supersede and why; nothing is ever updated in place.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from disclosure_engine.domain.errors import Conflict, Forbidden, ValidationFailed
from disclosure_engine.domain.record_content import RECORD_CONTEXT_FIELDS, decision_data, record_answers
from disclosure_engine.domain.record_rules import as_flag, corrected_record
from disclosure_engine.domain.roles import Actor, Role
from disclosure_engine.domain.vocabulary import (
    decision_outcome,
    reason_problem,
)
from disclosure_engine.engine.decision_rules import decides
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Area,
    Decision,
    User,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import (
    require_case_role,
    visible_area_ids,
    visible_decision,
)
from disclosure_engine.services.instances import lock_instance
from disclosure_engine.services.views import decision_view

if TYPE_CHECKING:
    from disclosure_engine.services.task_lock import CaseFacts

#: process facts kept with the record besides the vocabulary (defined with record_answers)
CONTEXT_FIELDS = RECORD_CONTEXT_FIELDS
SUPERSEDER_ROLES = (Role.CHAIR, Role.MANAGER, Role.ADMIN)
#: the decision log counts matches exactly up to this many; beyond it says "more than"
TOTAL_CAP = 1000


def decision_row(actor: Actor, case: CaseFacts, task: Any, data: dict[str, Any], now: datetime, *,
                 decision_id: int, latest: tuple[int, int] | None, step: Any = None,
                 form: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The column values of the next version of this process's decision, from the completed
    task's data. ``latest`` is the (id, version) of the current record, read under the
    instance's lock; ``decision_id`` was allocated by the caller (see ``persistence.batch``).

    With ``step`` (the ready task: its BPMN ``properties`` and its ``data`` before completion)
    ``data`` is the submission, as validated against ``form``:

    - None is returned when the answer is no decision: ``records_decision_when`` names the
      answers that decide (a chair who returns a proposal, a meeting that does not ratify,
      decides nothing; see ``engine.decision_rules``). The completion is then audited as usual
      and no record is written;
    - the fields ``form`` asks are this step's answers only: one left unanswered is not taken
      from an earlier step (a ratifying meeting's dissent is its own, not the sign-off's).

    Without ``step``, ``data`` is the task's data with the submission merged in."""
    if step is not None:
        if not decides(step.properties, {**step.data, **data}, element_id=task.element_id):
            return None
        data = decision_data(step.data, data, form)
    record = record_answers(data)
    record.update({
        "case_reference": case.reference, "area": case.area,
        "offender": {k: v for k, v in (("visor_ref", case.visor_ref), ("pnc_ref", case.pnc_ref),
                                        ("ndelius_crn", case.ndelius_crn)) if v},
        "mappa_category": case.category, "mappa_level": case.level,
        "schedule_34a_matches": case.schedule_34a_matches, "decision_task": task.element_id,
    })
    return dict(
        id=decision_id, case_id=case.id, process_id=task.instance_id, area_id=case.area_id,
        workflow_key=task.workflow_key, task_id=task.id, version=(latest[1] + 1) if latest else 1,
        supersedes_id=latest[0] if latest else None,
        # a ratification's reasons are why it supersedes the out-of-meeting record
        supersede_reason=(str(data.get("ratification_reasons") or "").strip()
                          or f"Recorded again at '{task.name}'") if latest else None,
        outcome=_outcome(data), presumption_applies=as_flag(data.get("presumption_applies")),
        legal_basis=data.get("legal_basis"), review_date=_date(data.get("review_date")),
        overdue_at_decision=bool(task.due_at and task.due_at < now), record=audit.jsonable(record),
        decided_by_id=actor.user_id, decided_by_name=actor.username, decided_at=now, made_at=now,
    )


def audit_recorded(session: Session, actor: Actor, row: dict[str, Any], area: str) -> None:
    """The audit event for a decision written from :func:`decision_row`."""
    audit.record(session, actor, "decision.recorded", "decision", row["id"], area=area,
                 detail={"process_id": row["process_id"], "version": row["version"],
                         "outcome": row["outcome"], "supersedes": row["supersedes_id"]})


def supersede(db: Database, actor: Actor, decision_id: int, changes: dict[str, Any], reason: str) -> dict[str, Any]:
    """Correct a decision: a new version with the changes, naming the old one and why.

    The corrected record (the old one merged with ``changes``) must meet the statutory rules
    (``domain.record_rules``): a 422 naming each field that breaks one, and nothing written.
    ``presumption_applies`` is derived again from test (a) and (b), never taken as a change.
    """
    if not actor.has_role(*SUPERSEDER_ROLES):
        raise Forbidden("Only a chair, manager or administrator may correct a decision record")
    problem = reason_problem(reason)
    if problem:
        raise ValidationFailed("The correction needs a reason", {"reason": [problem]})
    if not isinstance(changes, dict):
        raise ValidationFailed("The changes must be an object", {"changes": ["Send the corrected fields as an object"]})
    now = utcnow()
    with db.transaction() as session:
        old = visible_decision(session, actor, decision_id)
        # the process's lock, as a completion takes it: a new version from a decision step and
        # this correction queue instead of both claiming the same version number
        lock_instance(session, old.process_id)
        latest = session.execute(select(Decision).where(Decision.process_id == old.process_id)
                                 .order_by(Decision.version.desc()).limit(1)).scalar_one()
        if latest.id != old.id:
            raise Conflict(f"Decision {old.id} was already superseded by version {latest.version}")
        # the statutory rules, on the record as corrected (refused: nothing is written)
        record, rederived = corrected_record(old.record, changes)
        new = Decision(case_id=old.case_id, process_id=old.process_id, area_id=old.area_id,
                       workflow_key=old.workflow_key, task_id=old.task_id, version=old.version + 1,
                       supersedes_id=old.id, supersede_reason=reason.strip(),
                       outcome=_outcome(record), presumption_applies=as_flag(record.get("presumption_applies")),
                       legal_basis=record.get("legal_basis"), review_date=_date(record.get("review_date")),
                       overdue_at_decision=old.overdue_at_decision, record=audit.jsonable(record),
                       decided_by_id=actor.user_id, decided_by_name=actor.username, decided_at=now,
                       made_at=old.made_at)  # a correction: the decision was still taken then
        session.add(new)
        session.flush()
        area = session.get(Area, old.area_id)
        audit.record(session, actor, "decision.superseded", "decision", new.id, area=area.slug if area else None,
                     justification=reason.strip(),
                     detail={"supersedes": old.id, "version": new.version, "changed": sorted(changes),
                             **({"rederived": {k: record[k] for k in rederived}} if rederived else {})})
        return decision_view(new)


def get_decision(db: Database, actor: Actor, decision_id: int) -> dict[str, Any]:
    """One decision with its version chain; the read is a DPA s.62 'viewed' event."""
    with db.transaction() as session:
        d = visible_decision(session, actor, decision_id)
        versions = list(session.execute(select(Decision).where(Decision.process_id == d.process_id)
                                        .order_by(Decision.version)).scalars())
        latest = versions[-1].id
        area = session.get(Area, d.area_id)
        audit.record(session, actor, "decision.viewed", "decision", d.id, area=area.slug if area else None)
        view = decision_view(d, current=d.id == latest)
        view["versions"] = [{"id": v.id, "version": v.version, "supersedes": v.supersedes_id,
                             "supersede_reason": v.supersede_reason, "decided_by": v.decided_by_name,
                             "decided_at": v.decided_at.isoformat()} for v in versions]
        return view


#: filters the decision log accepts (keyword arguments of list_decisions/decision_log/exports)
LOG_FILTERS = ("area", "outcome", "date_from", "date_to", "workflow", "officer", "presumption_applied",
               "overdue_at_decision", "case_id", "process_id", "current_only")


def list_decisions(db: Database, actor: Actor, *, area: str | None = None, outcome: str | None = None,
                   date_from: date | None = None, date_to: date | None = None, workflow: str | None = None,
                   current_only: bool = True, limit: int = 50, offset: int = 0,
                   officer: str | None = None, presumption_applied: bool | None = None,
                   overdue_at_decision: bool | None = None, case_id: int | None = None,
                   process_id: int | None = None) -> list[dict[str, Any]]:
    """The decision log (current versions by default), newest first, within the actor's areas.

    ``officer`` is the deciding user's username; ``presumption_applied`` and
    ``overdue_at_decision`` filter on the stored flags; every filter is indexed SQL.
    """
    return decision_log(db, actor, area=area, outcome=outcome, date_from=date_from, date_to=date_to,
                        workflow=workflow, current_only=current_only, limit=limit, offset=offset,
                        officer=officer, presumption_applied=presumption_applied,
                        overdue_at_decision=overdue_at_decision, case_id=case_id, process_id=process_id,
                        with_total=False)["items"]


def decision_log(db: Database, actor: Actor, *, limit: int = 50, offset: int = 0, with_total: bool = True,
                 **filters: Any) -> dict[str, Any]:
    """One page of the decision log: ``{"items", "total", "limit", "offset"}`` (see list_decisions)."""
    unknown = set(filters) - set(LOG_FILTERS)
    if unknown:
        raise TypeError(f"unknown decision log filters: {', '.join(sorted(unknown))}")
    filters.setdefault("current_only", True)
    require_case_role(actor)
    limit = min(max(limit, 1), 500)
    offset = max(offset, 0)
    with db.transaction() as session:
        q = log_query(session, actor, **filters)
        total = None
        if with_total:  # counted up to TOTAL_CAP + 1 rows: the scan stops early on large logs
            total = session.execute(select(func.count()).select_from(
                q.with_only_columns(Decision.id).order_by(None).limit(TOTAL_CAP + 1).subquery())).scalar_one()
        rows = list(session.execute(q.order_by(Decision.decided_at.desc(), Decision.id.desc())
                                    .limit(limit).offset(offset)).scalars())
        superseded: set[int] = set()
        if not filters["current_only"] and rows:  # which of these a newer version corrects
            superseded = set(session.execute(select(Decision.supersedes_id).where(
                Decision.supersedes_id.in_([d.id for d in rows]))).scalars())
        capped = total is not None and total > TOTAL_CAP
        # a page of full records is a consultation of each of them (DPA 2018 s.62): one event
        # per page, naming what was shown
        audit.record(session, actor, "decisions.listed", "decision_log", "page", area=listing_area(actor, filters),
                     detail={"ids": [d.id for d in rows], "filters": _jsonable(filters), "offset": offset})
        return {"items": [decision_view(d, current=d.id not in superseded) for d in rows],
                "total": TOTAL_CAP if capped else total,
                "total_capped": capped, "limit": limit, "offset": offset}


def listing_area(actor: Actor, filters: dict[str, Any]) -> str | None:
    """The area an event about a list or export of the log belongs to, so that the area's own
    managers see it in their audit log: the area filtered on, else the actor's one area (None
    for national or several areas: national readers see those)."""
    if filters.get("area"):
        return str(filters["area"])
    return next(iter(actor.areas)) if len(actor.areas) == 1 and not actor.national else None


def _jsonable(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v)
            for k, v in sorted(filters.items()) if v is not None}


def log_query(session: Session, actor: Actor, **f: Any) -> Any:
    """SELECT of the decisions matching the log filters ``f`` that ``actor`` may see (unordered)."""
    return _log_query(session, actor, **f)


def _log_query(session: Session, actor: Actor, **f: Any) -> Any:
    q = select(Decision)
    ids = visible_area_ids(session, actor)
    if ids is not None:
        q = q.where(Decision.area_id.in_(ids))
    if f.get("area"):
        q = q.where(Decision.area_id == select(Area.id).where(Area.slug == f["area"]).scalar_subquery())
    if f.get("outcome"):
        q = q.where(Decision.outcome == f["outcome"])
    if f.get("workflow"):
        q = q.where(Decision.workflow_key == f["workflow"])
    if f.get("officer"):
        q = q.where(Decision.decided_by_id.in_(select(User.id).where(User.username == f["officer"])))
    if f.get("presumption_applied") is not None:
        q = q.where(Decision.presumption_applies.is_(bool(f["presumption_applied"])))
    if f.get("overdue_at_decision") is not None:
        q = q.where(Decision.overdue_at_decision.is_(bool(f["overdue_at_decision"])))
    if f.get("case_id") is not None:
        q = q.where(Decision.case_id == f["case_id"])
    if f.get("process_id") is not None:
        q = q.where(Decision.process_id == f["process_id"])
    if f.get("max_id") is not None:  # exports: a fixed snapshot of an append-only table
        q = q.where(Decision.id <= f["max_id"])
    # a date is a whole UTC day; a datetime (aware) is that instant
    start, stop = f.get("date_from"), f.get("date_to")
    if isinstance(start, datetime):
        q = q.where(Decision.decided_at >= start)
    elif start:
        q = q.where(Decision.decided_at >= datetime.combine(start, time.min, tzinfo=timezone.utc))
    if isinstance(stop, datetime):
        q = q.where(Decision.decided_at <= stop)
    elif stop:
        q = q.where(Decision.decided_at < datetime.combine(stop, time.min, tzinfo=timezone.utc) + timedelta(days=1))
    if f.get("current_only"):
        newer = aliased(Decision)
        cond = newer.supersedes_id == Decision.id
        if f.get("max_id") is not None:
            cond = and_(cond, newer.id <= f["max_id"])
        q = q.where(~exists().where(cond))
    return q


def _outcome(data: dict[str, Any]) -> str | None:
    return decision_outcome(data)


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None



def case_decisions(session: Session, case_id: int) -> list[Decision]:
    return list(session.execute(select(Decision).where(Decision.case_id == case_id)
                                .order_by(Decision.decided_at, Decision.version)).scalars())

