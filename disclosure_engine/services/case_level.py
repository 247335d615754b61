"""Changing a case's MAPPA level, with a reason, in one transaction.

The level decides who takes a disclosure decision and how often the duty is considered again
(``services.reviews``), so a change:

- is made by a chair, manager or administrator of the case's area (the MAPP meeting or the lead
  agency's manager decides levels; officers record the level a case starts at);
- locks the case row, then each of its running processes, so a completion in flight finishes
  first or sees the new level;
- brings ``mappa_level`` up to date in the steps still to come of every running process
  (``engine.case_facts``): a gateway not yet reached routes by the new level, and the decision
  record (which copies the case's level) agrees with the route it took; a decision step already
  open says so in ``notices``, because it was opened for the old level's decision-maker;
- moves the next review consideration: the area's period for the new level, from when the last
  consideration completed (a case moved to level 3 whose last review was ten weeks ago is due
  now), or none when the area has no period for that level; while a consideration runs, that
  one schedules the next review when it completes, as always;
- is audited as ``case.level_changed`` with the reason, the levels, the review dates and the
  processes brought up to date.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disclosure_engine.domain.case_level import validate_level_change
from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.reviews import CONSIDERATION, next_review
from disclosure_engine.domain.roles import SUPERVISOR_ROLES, Actor
from disclosure_engine.engine import runtime
from disclosure_engine.engine.case_facts import refresh_facts
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Case, HumanTask, ProcessDefinition, ProcessInstance, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.access import visible_case
from disclosure_engine.services.instances import lock_instance, persist
from disclosure_engine.services.reviews import RUNNING, period_for
from disclosure_engine.services.views import case_view, iso
from disclosure_engine.services.workflows import compiled

LEVEL_ROLES = SUPERVISOR_ROLES


def may_change_level(actor: Actor, area: str) -> bool:
    return actor.has_role(*LEVEL_ROLES) and actor.in_area(area)


def change_level(db: Database, actor: Actor, case_id: int, payload: Any, *,
                 now: datetime | None = None) -> dict[str, Any]:
    """Move the case to ``payload["level"]`` for ``payload["reason"]`` (module docstring).
    Returns the case as ``cases.get_case`` does, with ``processes_updated`` (the ids of the
    running processes whose next steps now carry the new level) and ``notices``."""
    now = now or utcnow()
    with db.transaction() as session:
        case = visible_case(session, actor, case_id, lock=True)
        if not may_change_level(actor, case.area.slug):
            raise Forbidden("Only a chair, manager or administrator of the case's area may change its level")
        change = validate_level_change(payload, current=case.level)
        before, review_before = case.level, case.next_review_at
        case.level = change.level
        processes = list(session.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id)
                                         .order_by(ProcessInstance.id)).scalars())
        updated, notices = _update_running(session, processes, before, change.level, now)
        case.next_review_at = _next_review(session, case, processes, review_before)
        if case.next_review_at != review_before:
            notices.append("Next review consideration: " + (
                f"{case.next_review_at:%d %B %Y}" if case.next_review_at else "none scheduled") + ".")
        audit.record(session, actor, "case.level_changed", "case", case.id, area=case.area.slug,
                     justification=change.reason,
                     detail={"reason": change.reason, "before": before, "after": change.level,
                             "next_review_before": iso(review_before), "next_review_at": iso(case.next_review_at),
                             "processes_updated": updated})
        view = case_view(case, processes)
        view["processes_updated"] = updated
        view["notices"] = notices
        return view


def _update_running(session: Session, processes: list[ProcessInstance], before: int, after: int,
                    now: datetime) -> tuple[list[int], list[str]]:
    updated: list[int] = []
    notices: list[str] = []
    for listed in processes:
        if listed.status != "waiting":
            continue
        instance = lock_instance(session, listed.id)
        if instance.status != "waiting":  # finished while we waited for its lock
            continue
        spec = compiled(instance.definition)
        wf = runtime.load_state(spec, instance.state)
        if refresh_facts(wf, {"mappa_level": after}) == 0:
            continue
        if instance.paused_at is not None:  # its tasks are paused, not open: only the data changes
            instance.state = runtime.dump_state(wf)
        else:
            persist(session, instance, wf, spec, now)
        updated.append(instance.id)
        deciding = session.execute(select(HumanTask.name).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open",
            HumanTask.records_decision.is_(True)).order_by(HumanTask.id)).scalars().all()
        for name in deciding:
            notices.append(f"The step '{name}' (process {instance.id}) was opened when the case was at level "
                           f"{before}: check that it is still the right decision-maker at level {after}, "
                           "and record why in its reasons.")
    return updated, notices


def _next_review(session: Session, case: Case, processes: list[ProcessInstance],
                 current: datetime | None) -> datetime | None:
    """The next review after the change (module docstring); ``current`` when a running or
    unscheduled consideration will set it anyway, or the case is not a child sex offender's."""
    considerations = [p for p in processes if p.definition.key == CONSIDERATION]
    if not case.child_sex_offender or any(p.status in RUNNING or p.review_pending for p in considerations):
        return current
    last = session.execute(select(func.max(ProcessInstance.completed_at)).join(ProcessDefinition).where(
        ProcessInstance.case_id == case.id, ProcessDefinition.key == CONSIDERATION,
        ProcessInstance.status == "completed")).scalar()
    if last is None:
        return current
    return next_review(last, period_for(case.area, case.level))
