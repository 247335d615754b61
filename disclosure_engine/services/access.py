"""Authorisation by role and area, in one place: every service loads rows through these.

A row in an area the actor cannot see raises NotFound, not Forbidden, so an officer of Kent
cannot learn whether an Essex case exists.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import Forbidden, NotFound
from disclosure_engine.domain.roles import CASE_ROLES, Actor
from disclosure_engine.persistence.models import (
    Area,
    Case,
    Decision,
    HumanTask,
    ProcessInstance,
    User,
)

T = TypeVar("T")


_AREA_SLUGS: dict[int, str] = {}


def area_slug(session: Session, area_id: int) -> str:
    """Areas are fixed reference data (seeded by migration), so their slugs are cached."""
    slug = _AREA_SLUGS.get(area_id)
    if slug is None:
        _AREA_SLUGS.update(session.execute(select(Area.id, Area.slug)).all())
        slug = _AREA_SLUGS[area_id]
    return slug


def require_case_role(actor: Actor) -> None:
    if not actor.roles & CASE_ROLES:
        raise Forbidden("Your role does not give access to cases")


def _visible(session: Session, actor: Actor, model: type[T], row_id: int, label: str, *, lock: bool = False) -> T:
    """Load a row of an area-scoped table for ``actor``: another area's row is NotFound."""
    require_case_role(actor)
    # FOR UPDATE OF the row itself: eagerly joined relations (a case's area) are outer joins,
    # which PostgreSQL refuses to lock
    row = session.get(model, row_id, with_for_update={"of": model} if lock else None)
    if row is None or not actor.can_see_case_in(area_slug(session, row.area_id)):  # type: ignore[attr-defined]
        raise NotFound(f"{label} {row_id} not found")
    return row


def visible_case(session: Session, actor: Actor, case_id: int, *, lock: bool = False) -> Case:
    return _visible(session, actor, Case, case_id, "Case", lock=lock)


def visible_process(session: Session, actor: Actor, process_id: int, *, lock: bool = False) -> ProcessInstance:
    return _visible(session, actor, ProcessInstance, process_id, "Process", lock=lock)


def visible_task(session: Session, actor: Actor, task_id: int) -> HumanTask:
    return _visible(session, actor, HumanTask, task_id, "Task")


def visible_decision(session: Session, actor: Actor, decision_id: int) -> Decision:
    return _visible(session, actor, Decision, decision_id, "Decision")


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int | None, str]:
    """User id -> username for the given ids (None ignored), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def area_slugs(session: Session) -> dict[int, str]:
    """Every area id -> slug (fixed reference data, cached after the first read)."""
    if len(_AREA_SLUGS) < 42:
        _AREA_SLUGS.update(session.execute(select(Area.id, Area.slug)).all())
    return _AREA_SLUGS


def visible_area_ids(session: Session, actor: Actor) -> list[int] | None:
    """Area ids the actor may see, or None for every area (national roles)."""
    if actor.national:
        return None
    return sorted(i for i, slug in area_slugs(session).items() if slug in actor.areas)
