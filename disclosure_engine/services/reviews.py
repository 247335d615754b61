"""The next s.327A consideration at each MAPPA review, started by the sweep.

1. A consideration that completes is marked (``review_pending``, set in the completing step
   itself, so the hot path writes nothing more); :func:`schedule_review` then sets the case's
   ``next_review_at`` from the area's period for the case's level, and clears the mark.
2. When ``next_review_at`` comes, :func:`start_review` starts a new consideration with the
   trigger ``mappa_review``, unless the case is no longer a child sex offender's or a
   consideration is already running (that one schedules the next review when it completes).

Both run once per item however many sweeps race: each locks its row with SKIP LOCKED and
re-reads it. Every scheduling, start and skip is audited.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.domain.reviews import CONSIDERATION, REVIEW_TRIGGER, check_period, next_review
from disclosure_engine.domain.roles import SYSTEM, Actor, Role
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Area, Case, ProcessDefinition, ProcessInstance, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.views import iso

log = logging.getLogger(__name__)
RUNNING = ("waiting", "error")  # an errored consideration is stuck, not finished: no second one


@dataclass
class ReviewSweep:
    scheduled: int = 0
    due: int = 0
    started: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return f"reviews: {self.scheduled} scheduled, {self.due} due, {self.started} started"


def period_for(area: Area, level: int) -> str | None:
    return {1: area.review_period_level1, 2: area.review_period_level2, 3: area.review_period_level3}.get(level)


def pending_schedules(db: Database, *, limit: int = 1000) -> list[int]:
    """Completed considerations whose case's next review is not scheduled yet, oldest first."""
    with db.transaction() as session:
        return list(session.execute(select(ProcessInstance.id).where(ProcessInstance.review_pending.is_(True))
                                    .order_by(ProcessInstance.id).limit(limit)).scalars())


def due_reviews(db: Database, now: datetime | None = None, *, limit: int = 1000) -> list[int]:
    """Cases whose next review consideration is due by ``now``, the longest overdue first."""
    now = now or utcnow()
    with db.transaction() as session:
        return list(session.execute(select(Case.id).where(Case.next_review_at <= now)
                                    .order_by(Case.next_review_at, Case.id).limit(limit)).scalars())


def schedule_review(db: Database, instance_id: int) -> datetime | None:
    """Set the case's next review from this completed consideration; returns it (None when the
    area has no period for the case's level, or the mark was already cleared)."""
    with db.transaction() as session:
        instance = session.execute(
            select(ProcessInstance).where(ProcessInstance.id == instance_id, ProcessInstance.review_pending.is_(True))
            .with_for_update(of=ProcessInstance, skip_locked=True).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if instance is None:
            return None
        case = _locked_case(session, instance.case_id)
        if case is None:  # held by another transaction: keep the mark, the next sweep retries
            return None
        instance.review_pending = False
        period = period_for(case.area, case.level)
        when = next_review(instance.completed_at or utcnow(), period)
        case.next_review_at = when
        audit.record(session, SYSTEM, "case.review_scheduled", "case", case.id, area=case.area.slug,
                     detail={"after_process": instance.id, "level": case.level, "period": period,
                             "next_review_at": iso(when)})
        return when


def start_review(db: Database, case_id: int, now: datetime | None = None) -> int | None:
    """Start the review's consideration for a case whose ``next_review_at`` has come; returns
    the new process id, or None when it was skipped (and why is audited) or already done."""
    from disclosure_engine.services.cases import start_consideration

    now = now or utcnow()
    with db.transaction() as session:
        case = _locked_case(session, case_id)
        if case is None or case.next_review_at is None or case.next_review_at > now:
            return None
        due = case.next_review_at
        case.next_review_at = None
        skipped = None
        if not case.child_sex_offender:
            skipped = "the case is no longer a child sex offender's (Schedule 34A)"
        elif _running(session, case.id):
            skipped = "a consideration is already running; it schedules the next review when it completes"
        if skipped:
            audit.record(session, SYSTEM, "case.review_skipped", "case", case.id, area=case.area.slug,
                         detail={"due": iso(due), "reason": skipped})
            return None
        instance = start_consideration(session, SYSTEM, case, REVIEW_TRIGGER, now)
        return instance.id


def sweep_reviews(db: Database, now: datetime | None = None, *, limit: int = 1000) -> ReviewSweep:
    """Schedule every pending review, then start every due one, each in its own transaction
    (``disclosure-engine sweep``; the workers run the same two as jobs)."""
    report = ReviewSweep()
    for instance_id in pending_schedules(db, limit=limit):
        try:
            if schedule_review(db, instance_id) is not None:
                report.scheduled += 1
        except Exception as exc:  # one failure must not stop the others
            log.exception("scheduling the review after process %s failed", instance_id)
            report.failed.append((f"process {instance_id}", str(exc).splitlines()[0] if str(exc) else repr(exc)))
    for case_id in due_reviews(db, now, limit=limit):
        report.due += 1
        try:
            if start_review(db, case_id, now) is not None:
                report.started += 1
        except Exception as exc:
            log.exception("starting the review consideration of case %s failed", case_id)
            report.failed.append((f"case {case_id}", str(exc).splitlines()[0] if str(exc) else repr(exc)))
    return report


def set_review_period(db: Database, actor: Actor, area_slug: str, level: int, period: str | None) -> dict[str, object]:
    """An administrator sets an area's review period for one MAPPA level (None: no automatic
    review). Cases already scheduled keep their date; the next completion uses the new period."""
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("Only an administrator may set review periods")
    if level not in (1, 2, 3):
        raise ValidationFailed("Invalid level", {"level": ["MAPPA levels are 1, 2 and 3"]})
    return set_review_periods(db, actor, area_slug, {level: period}, fields={level: "period"})


def set_review_periods(db: Database, actor: Actor, area_slug: str, periods: dict[int, str | None], *,
                       fields: dict[int, str] | None = None) -> dict[str, object]:
    """Several levels' periods of one area at once, in one transaction: every period is checked
    first (a ValidationFailed names each wrong one, by ``fields[level]``, else ``level_N``), and
    one ``area.review_period_set`` event is recorded per level that changes."""
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("Only an administrator may set review periods")
    errors: dict[str, list[str]] = {}
    values: dict[int, str | None] = {}
    for level, period in sorted(periods.items()):
        field_name = (fields or {}).get(level, f"level_{level}")
        try:
            values[level] = check_period(period, field=field_name)
        except ValidationFailed as failed:
            errors.update(failed.errors)
    if errors:
        raise ValidationFailed("Invalid review period", errors)
    with db.transaction() as session:
        area = session.execute(select(Area).where(Area.slug == area_slug).with_for_update()).scalar_one_or_none()
        if area is None:
            raise ValidationFailed("Unknown area", {"area": [f"No area {area_slug!r}"]})
        for level, value in values.items():
            before = period_for(area, level)
            if before == value:
                continue
            setattr(area, f"review_period_level{level}", value)
            audit.record(session, actor, "area.review_period_set", "area", area.id, area=area.slug,
                         detail={"level": level, "before": before, "after": value})
        return area_periods(area)


def area_periods(area: Area) -> dict[str, object]:
    return {"area": area.slug, "name": area.name,
            "review_periods": {str(level): period_for(area, level) for level in (1, 2, 3)}}


def area_review_periods(db: Database, slug: str) -> dict[str, object] | None:
    """One area's review periods as :func:`area_periods` gives them, or None for no such area."""
    with db.transaction() as session:
        area = session.execute(select(Area).where(Area.slug == slug)).scalar_one_or_none()
        return area_periods(area) if area is not None else None


def list_areas(db: Database) -> list[dict[str, object]]:
    with db.transaction() as session:
        return [area_periods(a) for a in session.execute(select(Area).order_by(Area.slug)).scalars()]


def _locked_case(session: Session, case_id: int) -> Case | None:
    return session.execute(select(Case).where(Case.id == case_id).with_for_update(of=Case, skip_locked=True)
                           .execution_options(populate_existing=True)).scalar_one_or_none()


def _running(session: Session, case_id: int) -> bool:
    return session.execute(select(ProcessInstance.id).join(ProcessDefinition).where(
        ProcessInstance.case_id == case_id, ProcessDefinition.key == CONSIDERATION,
        ProcessInstance.status.in_(RUNNING)).limit(1)).first() is not None
