"""Read-only lookups for the pages: case references for inbox rows, task context, viewers.

Every function authorises through ``disclosure_engine.services.access`` (the one place that
decides role and area visibility), so a row the actor may not see is still a 404. Nothing
here writes; the reads that are DPA s.62 consultations (opening a case, task or decision) go
through the services, which audit them.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select

from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.roles import AUDIT_ROLES, SUPERVISOR_ROLES, Actor
from disclosure_engine.engine import runtime
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    AuditEvent,
    Case,
    ProcessInstance,
)
from disclosure_engine.services.access import (
    visible_area_ids,
    visible_case,
    visible_task,
)
from disclosure_engine.services.decisions import case_decisions
from disclosure_engine.services.views import decision_view
from disclosure_engine.services.workflows import compiled


def case_references(db: Database, actor: Actor, case_ids: set[int]) -> dict[int, str]:
    """Case id -> reference for the cases the actor can see (for inbox rows)."""
    if not case_ids:
        return {}
    with db.transaction() as session:
        q = select(Case.id, Case.reference).where(Case.id.in_(sorted(case_ids)))
        ids = visible_area_ids(session, actor)
        if ids is not None:
            q = q.where(Case.area_id.in_(ids))
        return dict(session.execute(q).all())


def task_context(db: Database, actor: Actor, task_id: int) -> dict[str, Any]:
    """The UI schema and the process data the task sees (for read-only fields and placeholders)."""
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        spec = compiled(instance.definition)
        ui_schema = spec.forms.get(task.ui_form_name or "") or {}
        data: dict[str, Any] = {}
        if task.status == "open":
            try:
                wf = runtime.load_state(spec, instance.state)
                ready = {t.id: t for t in runtime.ready_user_tasks(wf)}
                if task.spiff_task_id in ready:
                    data = ready[task.spiff_task_id].data
            except Exception:  # the page still works without derived values
                data = {}
        elif task.data:
            data = dict(task.data)
        return {"ui_schema": ui_schema, "process_data": data, "assignee_id": task.assignee_id,
                "process_status": instance.status, "end_event": instance.end_event}


def decisions_for_case(db: Database, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    """Every decision version of a case, oldest first (the case page lists them)."""
    with db.transaction() as session:
        visible_case(session, actor, case_id)
        rows = case_decisions(session, case_id)
        superseded = {d.supersedes_id for d in rows if d.supersedes_id}
        return [decision_view(d, current=d.id not in superseded) for d in rows]


def case_viewers(db: Database, actor: Actor, case_id: int, *, limit: int = 100) -> list[dict[str, Any]]:
    """Who opened this case and when (``case.viewed`` events), for supervisors and auditors."""
    if not actor.has_role(*SUPERVISOR_ROLES, *AUDIT_ROLES):
        raise Forbidden("Only chairs, managers, auditors and administrators may see who viewed a case")
    with db.transaction() as session:
        visible_case(session, actor, case_id)
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.viewed", AuditEvent.subject_type == "case",
                                     AuditEvent.subject_id == str(case_id))
            .order_by(AuditEvent.seq.desc()).limit(limit)).scalars()
        return [{"who": e.actor_name, "when": e.occurred_at, "justification": e.justification,
                 "source": e.source} for e in rows]


def day_bounds(value: date) -> tuple[datetime, datetime]:
    start = datetime.combine(value, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)
