"""Officers' work: list, claim, release, save a draft and complete user tasks.

Completing is the heart of the product and lives in ``services.completion`` (re-exported here
as ``tasks.complete``): one transaction that locks the instance, checks the task and the
actor, validates the form, steps the engine and writes state, task rows, the decision record
and the audit events together.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from disclosure_engine.domain.errors import Conflict, Forbidden, ValidationFailed
from disclosure_engine.domain.roles import SUPERVISOR_ROLES, Actor, Role
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Area,
    HumanTask,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import (
    area_slug,
    area_slugs,
    usernames,
    visible_area_ids,
    visible_task,
)
from disclosure_engine.services.completion import complete
from disclosure_engine.services.eligibility import refusal_for, require_may_do, require_open
from disclosure_engine.services.views import task_view
from disclosure_engine.services.workflows import form_schema

__all__ = ["claim", "complete", "get_task", "list_tasks", "release", "save_draft", "work_refusal"]

SCOPES = ("mine", "available", "all")


def list_tasks(db: Database, actor: Actor, *, scope: str = "mine", status: str = "open",
               overdue: bool | None = None, case_id: int | None = None, limit: int = 50,
               offset: int = 0, now: datetime | None = None, area: str | None = None,
               workflow: str | None = None, process_id: int | None = None) -> dict[str, Any]:
    """The inbox: most urgent first (earliest due), within the actor's areas and roles.

    ``area`` (slug), ``workflow`` (key) and ``process_id`` narrow it further.
    """
    if scope not in SCOPES:
        raise ValidationFailed("Invalid scope", {"scope": [f"Choose one of {', '.join(SCOPES)}"]})
    if status not in ("open", "paused", "completed", "cancelled"):
        raise ValidationFailed("Invalid status", {"status": ["Choose open, paused, completed or cancelled"]})
    now = now or utcnow()
    with db.transaction() as session:
        q = select(HumanTask).where(HumanTask.status == status)
        ids = visible_area_ids(session, actor)
        if ids is not None:
            q = q.where(HumanTask.area_id.in_(ids))
        if scope == "mine":
            q = q.where(HumanTask.assignee_id == actor.user_id)
        elif scope == "available":
            q = q.where(HumanTask.assignee_id.is_(None), HumanTask.candidate_role.in_(sorted(actor.roles)))
        elif not actor.has_role(*SUPERVISOR_ROLES, Role.AUDITOR):
            q = q.where(or_(HumanTask.assignee_id == actor.user_id,
                            HumanTask.candidate_role.in_(sorted(actor.roles))))
        if overdue is True:
            q = q.where(HumanTask.due_at < now)
        elif overdue is False:
            q = q.where(or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now))
        if case_id is not None:
            q = q.where(HumanTask.case_id == case_id)
        if process_id is not None:
            q = q.where(HumanTask.instance_id == process_id)
        if workflow:
            q = q.where(HumanTask.workflow_key == workflow)
        if area:
            q = q.where(HumanTask.area_id == select(Area.id).where(Area.slug == area).scalar_subquery())
        total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = list(session.execute(q.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id)
                                    .limit(min(max(limit, 1), 200)).offset(max(offset, 0))).scalars())
        names = usernames(session, {r.assignee_id for r in rows})
        areas = area_slugs(session)
        items = []
        for r in rows:
            view = task_view(r, now=now, assignee=names.get(r.assignee_id), include_data=False)
            view["area"] = areas[r.area_id]
            items.append(view)
        return {"items": items, "total": total, "limit": limit, "offset": offset}


def work_refusal(db: Database, actor: Actor, task_id: int) -> str | None:
    """Why ``actor`` may not do this task (its role, an administrator's limit, the four-eyes
    rule), or None when they may: what the task page shows instead of the form."""
    with db.transaction() as session:
        return refusal_for(session, actor, visible_task(session, actor, task_id))


def get_task(db: Database, actor: Actor, task_id: int) -> dict[str, Any]:
    """A task with its form (JSON Schema) and deadline; the read is audited."""
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        instance = session.get(ProcessInstance, task.instance_id)
        area = area_slug(session, task.area_id)
        audit.record(session, actor, "task.viewed", "task", task.id, area=area)
        view = task_view(task, form=form_schema(instance.definition, task.form_name) or {},
                         assignee=usernames(session, {task.assignee_id}).get(task.assignee_id))
        view["area"] = area
        view["escalation_history"] = _escalation_history(session, task.id)
        return view


def _escalation_history(session: Any, task_id: int) -> list[dict[str, Any]]:
    from disclosure_engine.persistence.models import EscalationStep
    from disclosure_engine.services.escalation import step_view

    rows = session.execute(select(EscalationStep).where(EscalationStep.task_id == task_id)
                           .order_by(EscalationStep.level)).scalars()
    return [step_view(r) for r in rows]



def claim(db: Database, actor: Actor, task_id: int) -> dict[str, Any]:
    """Take an open task for my role; claiming a task someone else holds is a Conflict."""
    now = utcnow()
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        session.refresh(task, with_for_update=True)
        require_open(task)
        require_may_do(session, actor, task)  # role, administrator's limit, four-eyes rule
        if task.assignee_id not in (None, actor.user_id):
            raise Conflict("This task is already claimed by someone else")
        task.assignee_id, task.claimed_at = actor.user_id, now
        audit.record(session, actor, "task.claimed", "task", task.id, area=area_slug(session, task.area_id))
        view = task_view(task, now=now, assignee=actor.username, include_data=False)
        view["area"] = area_slug(session, task.area_id)
        return view


def release(db: Database, actor: Actor, task_id: int) -> dict[str, Any]:
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        session.refresh(task, with_for_update=True)
        require_open(task)
        if task.assignee_id != actor.user_id and not actor.has_role(*SUPERVISOR_ROLES):
            raise Forbidden("Only the assignee or a chair or manager may release this task")
        task.assignee_id, task.claimed_at = None, None
        audit.record(session, actor, "task.released", "task", task.id, area=area_slug(session, task.area_id))
        return {**task_view(task, include_data=False), "area": area_slug(session, task.area_id)}


def save_draft(db: Database, actor: Actor, task_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Keep unfinished answers with the task (not validated: a draft may be incomplete)."""
    if not isinstance(data, dict):
        raise ValidationFailed("The draft must be an object", {"data": ["Send the form fields as an object"]})
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        session.refresh(task, with_for_update=True)
        require_open(task)
        if task.assignee_id is not None and task.assignee_id != actor.user_id:
            raise Conflict("This task is claimed by someone else")
        require_may_do(session, actor, task)
        task.draft_data = data
        audit.record(session, actor, "task.draft_saved", "task", task.id, area=area_slug(session, task.area_id))
        return {**task_view(task, assignee=usernames(session, {task.assignee_id}).get(task.assignee_id)),
                "area": area_slug(session, task.area_id)}
