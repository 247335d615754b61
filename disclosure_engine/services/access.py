"""Authorisation by role and area, in one place: every service loads rows through these.

A row in an area the actor cannot see raises NotFound, not Forbidden, so an officer of Kent
cannot learn whether an Essex case exists.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import Forbidden, NotFound
from disclosure_engine.domain.roles import CASE_ROLES, Actor
from disclosure_engine.persistence.models import Area, Case, Decision, HumanTask, ProcessInstance


_AREA_SLUGS: dict[int, str] = {}


def area_slug(session: Session, area_id: int) -> str:
    """Areas are fixed reference data (seeded by migration), so their slugs are cached."""
    slug = _AREA_SLUGS.get(area_id)
    if slug is None:
        from sqlalchemy import select

        _AREA_SLUGS.update(session.execute(select(Area.id, Area.slug)).all())
        slug = _AREA_SLUGS[area_id]
    return slug


def require_case_role(actor: Actor) -> None:
    if not actor.roles & CASE_ROLES:
        raise Forbidden("Your role does not give access to cases")


def visible_case(session: Session, actor: Actor, case_id: int, *, lock: bool = False) -> Case:
    require_case_role(actor)
    case = session.get(Case, case_id, with_for_update=lock)
    if case is None or not actor.can_see_case_in(case.area.slug):
        raise NotFound(f"Case {case_id} not found")
    return case


def visible_process(session: Session, actor: Actor, process_id: int, *, lock: bool = False) -> ProcessInstance:
    require_case_role(actor)
    inst = session.get(ProcessInstance, process_id, with_for_update=lock)
    if inst is None or not actor.can_see_case_in(area_slug(session, inst.area_id)):
        raise NotFound(f"Process {process_id} not found")
    return inst


def visible_task(session: Session, actor: Actor, task_id: int) -> HumanTask:
    require_case_role(actor)
    task = session.get(HumanTask, task_id)
    if task is None or not actor.can_see_case_in(area_slug(session, task.area_id)):
        raise NotFound(f"Task {task_id} not found")
    return task


def visible_decision(session: Session, actor: Actor, decision_id: int) -> Decision:
    require_case_role(actor)
    decision = session.get(Decision, decision_id)
    if decision is None or not actor.can_see_case_in(area_slug(session, decision.area_id)):
        raise NotFound(f"Decision {decision_id} not found")
    return decision


def area_slugs(session: Session) -> dict[int, str]:
    """Every area id -> slug (fixed reference data, cached after the first read)."""
    if len(_AREA_SLUGS) < 42:
        from sqlalchemy import select

        _AREA_SLUGS.update(session.execute(select(Area.id, Area.slug)).all())
    return _AREA_SLUGS


def visible_area_ids(session: Session, actor: Actor) -> list[int] | None:
    """Area ids the actor may see, or None for every area (national roles)."""
    if actor.national:
        return None
    return sorted(i for i, slug in area_slugs(session).items() if slug in actor.areas)
