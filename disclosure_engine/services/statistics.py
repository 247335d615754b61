"""Area statistics: the disclosure figures an area's MAPPA annual report needs, for any period.

Counts only (no case is named), per area the actor may see, plus totals: child sex offender
cases by MAPPA level (now), s.327A considerations started and completed, decisions by process
and outcome (the current version of each: a correction or a reconsideration replaces what it
supersedes; a decision counts in the period it was taken, even when corrected later),
presumptions rebutted, decisions made after their task was overdue, disclosures delivered
(``disclosure_delivery`` and CSODS in person), and open tasks overdue now. The period is whole
days in England and Wales (a MAPPA reporting year runs 1 April to 31 March). Viewing them is
audited like any other read.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.domain.reviews import CONSIDERATION
from disclosure_engine.domain.roles import Actor, Role
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Area,
    Case,
    Decision,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import visible_area_ids
from disclosure_engine.services.decisions import listing_area

LONDON = ZoneInfo("Europe/London")
READER_ROLES = (Role.CHAIR, Role.MANAGER, Role.AUDITOR, Role.ADMIN)
#: the end events that mean a disclosure was made, by workflow
DELIVERED = {"disclosure_delivery": "end_delivered", "csods_application": "end_disclosed"}
MAX_DAYS = 366 * 5


def reporting_year(today: date) -> tuple[date, date]:
    """The MAPPA reporting year (1 April to 31 March) that ``today`` falls in."""
    start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    return start, date(start.year + 1, 3, 31)


def area_statistics(db: Database, actor: Actor, *, date_from: date | None = None, date_to: date | None = None,
                    area: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The figures for each visible area (or one, ``area``) over [date_from, date_to], whole
    London days (default: the current reporting year to date)."""
    if not actor.has_role(*READER_ROLES):
        raise Forbidden("Statistics are for chairs, managers, auditors and administrators")
    now = now or utcnow()
    year_start, year_end = reporting_year(now.astimezone(LONDON).date())
    date_from = date_from or year_start
    date_to = date_to or min(year_end, now.astimezone(LONDON).date())
    if date_to < date_from:
        raise ValidationFailed("Invalid period", {"to": ["The end of the period must not be before its start"]})
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed("Invalid period", {"from": ["Choose a period of at most five years"]})
    start = datetime.combine(date_from, time.min, tzinfo=LONDON).astimezone(UTC)
    stop = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=LONDON).astimezone(UTC)
    with db.transaction() as session:
        ids = visible_area_ids(session, actor)
        areas_q = select(Area.id, Area.slug, Area.name).order_by(Area.name)
        if ids is not None:
            areas_q = areas_q.where(Area.id.in_(ids))
        if area:
            areas_q = areas_q.where(Area.slug == area)
        areas = list(session.execute(areas_q))
        if area and not areas:
            raise ValidationFailed("Unknown area", {"area": ["Choose one of your areas"]})
        chosen = [a.id for a in areas]
        figures = {a.id: _empty() for a in areas}
        _cases(session, chosen, figures)
        _considerations(session, chosen, start, stop, figures)
        _decisions(session, chosen, start, stop, figures)
        _delivered(session, chosen, start, stop, figures)
        _overdue(session, chosen, now, figures)
        audit.record(session, actor, "statistics.viewed", "statistics", "areas",
                     area=listing_area(actor, {"area": area}), detail={"from": date_from.isoformat(), "to": date_to.isoformat(),
                             "areas": [a.slug for a in areas]})
        rows = [{"area": a.slug, "name": a.name, **figures[a.id]} for a in areas]
        return {"from": date_from.isoformat(), "to": date_to.isoformat(), "areas": rows, "totals": _sum(rows)}


def _empty() -> dict[str, Any]:
    return {"cases": {"1": 0, "2": 0, "3": 0}, "considerations_started": 0, "considerations_completed": 0,
            "decisions": defaultdict(lambda: defaultdict(int)), "presumption_rebutted": 0,
            "decided_when_overdue": 0, "disclosures_delivered": 0, "tasks_overdue": 0}


def _cases(session: Any, areas: list[int], out: dict[int, dict[str, Any]]) -> None:
    for area_id, level, n in session.execute(
            select(Case.area_id, Case.level, func.count()).where(Case.area_id.in_(areas), Case.child_sex_offender)
            .group_by(Case.area_id, Case.level)):
        out[area_id]["cases"][str(level)] = n


def _considerations(session: Any, areas: list[int], start: datetime, stop: datetime,
                    out: dict[int, dict[str, Any]]) -> None:
    base = (select(ProcessInstance.area_id, func.count()).join(ProcessDefinition)
            .where(ProcessDefinition.key == CONSIDERATION, ProcessInstance.area_id.in_(areas)))
    for area_id, n in session.execute(base.where(ProcessInstance.started_at >= start, ProcessInstance.started_at < stop)
                                      .group_by(ProcessInstance.area_id)):
        out[area_id]["considerations_started"] = n
    for area_id, n in session.execute(base.where(ProcessInstance.completed_at >= start,
                                                 ProcessInstance.completed_at < stop)
                                      .group_by(ProcessInstance.area_id)):
        out[area_id]["considerations_completed"] = n


def _decisions(session: Any, areas: list[int], start: datetime, stop: datetime,
               out: dict[int, dict[str, Any]]) -> None:
    newer = aliased(Decision)
    # in the period the decision was taken: a correction made later does not move it
    current = and_(Decision.area_id.in_(areas), Decision.made_at >= start, Decision.made_at < stop,
                   ~exists().where(newer.supersedes_id == Decision.id))
    q = (select(Decision.area_id, Decision.workflow_key, Decision.outcome, Decision.presumption_applies,
                Decision.overdue_at_decision, func.count())
         .where(current).group_by(Decision.area_id, Decision.workflow_key, Decision.outcome,
                                  Decision.presumption_applies, Decision.overdue_at_decision))
    for area_id, workflow, outcome, presumption, overdue, n in session.execute(q):
        row = out[area_id]
        row["decisions"][workflow][outcome or "none"] += n
        if presumption and outcome not in ("disclose", None):
            row["presumption_rebutted"] += n
        if overdue:
            row["decided_when_overdue"] += n


def _delivered(session: Any, areas: list[int], start: datetime, stop: datetime,
               out: dict[int, dict[str, Any]]) -> None:
    for key, end in DELIVERED.items():
        for area_id, n in session.execute(
                select(ProcessInstance.area_id, func.count()).join(ProcessDefinition)
                .where(ProcessDefinition.key == key, ProcessInstance.end_event == end,
                       ProcessInstance.area_id.in_(areas), ProcessInstance.completed_at >= start,
                       ProcessInstance.completed_at < stop)
                .group_by(ProcessInstance.area_id)):
            out[area_id]["disclosures_delivered"] += n


def _overdue(session: Any, areas: list[int], now: datetime, out: dict[int, dict[str, Any]]) -> None:
    for area_id, n in session.execute(
            select(HumanTask.area_id, func.count()).where(HumanTask.status == "open", HumanTask.due_at < now,
                                                          HumanTask.area_id.in_(areas))
            .group_by(HumanTask.area_id)):
        out[area_id]["tasks_overdue"] = n


def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total = _empty()
    for row in rows:
        for level, n in row["cases"].items():
            total["cases"][level] += n
        for workflow, outcomes in row["decisions"].items():
            for outcome, n in outcomes.items():
                total["decisions"][workflow][outcome] += n
        for name in ("considerations_started", "considerations_completed", "presumption_rebutted",
                     "decided_when_overdue", "disclosures_delivered", "tasks_overdue"):
            total[name] += row[name]
    for row in [*rows, total]:
        row["decisions"] = {w: dict(sorted(o.items())) for w, o in sorted(row["decisions"].items())}
    return total
