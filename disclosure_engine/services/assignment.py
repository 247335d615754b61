"""Reassigning a task: a chair or manager gives an open task to a named colleague.

Only a supervisor (chair, manager, admin) who can see the task's area may reassign, and only
to an active user who holds the task's candidate role in that area (or a national user with
that role) and whom the task's four-eyes rule does not bar (``services.eligibility``: the
proposer of a decision is not offered its sign-off). Every reassignment is audited with who
had the task before and who has it now.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import Conflict, Forbidden, ValidationFailed
from disclosure_engine.domain.roles import SUPERVISOR_ROLES, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    HumanTask,
    User,
    UserArea,
    UserRole,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import area_slug, visible_task
from disclosure_engine.services.eligibility import barred_by_four_eyes
from disclosure_engine.services.views import task_view


def _require_supervisor(actor: Actor) -> None:
    if not actor.has_role(*SUPERVISOR_ROLES):
        raise Forbidden("Only a chair, manager or administrator may reassign tasks")


def _holders(session: Session, task: HumanTask) -> list[User]:
    """Active users holding the task's candidate role in its area (or nationally)."""
    in_area = select(UserArea.user_id).where(UserArea.area_id == task.area_id)
    q = (select(User).join(UserRole, UserRole.user_id == User.id)
         .where(User.active.is_(True), UserRole.role == task.candidate_role)
         .where(User.id.in_(in_area) | User.national.is_(True))
         .order_by(User.username))
    return list(session.execute(q).scalars().unique())


def _eligible(session: Session, task: HumanTask) -> tuple[list[User], dict[str, str]]:
    """The holders the task may go to, and (username -> why) those its four-eyes rule bars."""
    holders = _holders(session, task)
    barred = barred_by_four_eyes(session, task, {u.id: u.username for u in holders})
    return ([u for u in holders if u.id not in barred],
            {u.username: barred[u.id] for u in holders if u.id in barred})


def candidates(db: Database, actor: Actor, task_id: int) -> list[dict[str, Any]]:
    """Who the task could be given to: ``[{"username", "display_name", "current"}]``."""
    _require_supervisor(actor)
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        return [{"username": u.username, "display_name": u.display_name, "current": u.id == task.assignee_id}
                for u in _eligible(session, task)[0]]


def reassign(db: Database, actor: Actor, task_id: int, username: str) -> dict[str, Any]:
    """Give an open task to ``username``; audited as ``task.reassigned``."""
    _require_supervisor(actor)
    wanted = (username or "").strip().lower()
    if not wanted:
        raise ValidationFailed("Choose who should do this task", {"username": ["Select who should do this task"]})
    now = utcnow()
    with db.transaction() as session:
        task = visible_task(session, actor, task_id)
        session.refresh(task, with_for_update=True)
        if task.status != "open":
            raise Conflict(f"This task is already {task.status}")
        eligible, barred = _eligible(session, task)
        if wanted in barred:
            raise ValidationFailed("That person cannot do this task", {"username": [barred[wanted]]})
        target = next((u for u in eligible if u.username == wanted), None)
        if target is None:
            raise ValidationFailed(
                "That person cannot do this task",
                {"username": [f"Select someone who holds the {task.candidate_role} role in this area"]})
        previous = task.assignee_id
        if previous == target.id:
            raise Conflict(f"This task is already assigned to {target.username}")
        before = session.get(User, previous).username if previous else None
        task.assignee_id, task.claimed_at = target.id, now
        area = area_slug(session, task.area_id)
        audit.record(session, actor, "task.reassigned", "task", task.id, area=area,
                     detail={"from": before, "to": target.username})
        view = task_view(task, now=now, assignee=target.username, include_data=False)
        view["area"] = area
        return view
