"""Cases: create (matching Schedule 34A and starting the s.327A consideration), read, list.

The duty is to *consider* disclosure in every case of a child sex offender managed by the
area, so creating such a case starts ``s327a_consideration`` in the same transaction: a case
can never exist without its consideration having begun.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disclosure_engine.domain.cases import validate_case_input
from disclosure_engine.domain.errors import Conflict, Forbidden, NotFound
from disclosure_engine.domain.reviews import CONSIDERATION
from disclosure_engine.domain.roles import Actor, Role
from disclosure_engine.domain.schedule34a import match_convictions
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Area,
    Case,
    Conviction,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import require_case_role, visible_area_ids, visible_case
from disclosure_engine.services.processes import start_in_session
from disclosure_engine.services.views import case_view

CREATOR_ROLES = (Role.OFFICER, Role.CHAIR, Role.MANAGER, Role.ADMIN)


def create_case(db: Database, actor: Actor, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Validate, match Schedule 34A, store, and start the s.327A consideration for a CSO."""
    data = validate_case_input(payload)
    if not actor.has_role(*CREATOR_ROLES):
        raise Forbidden("Your role may not create cases")
    if not actor.in_area(data.area):
        raise Forbidden(f"You do not work in {data.area}")
    match = match_convictions(list(data.convictions))
    now = utcnow()
    with db.transaction() as session:
        if session.execute(select(Case.id).where(Case.reference == data.reference)).first():
            raise Conflict(f"A case with reference {data.reference} already exists")
        area = session.execute(select(Area).where(Area.slug == data.area)).scalar_one()
        case = Case(reference=data.reference, area=area, category=data.category, level=data.level,
                    lead_agency=data.lead_agency, visor_ref=data.offender.visor_ref,
                    pnc_ref=data.offender.pnc_ref, ndelius_crn=data.offender.ndelius_crn,
                    child_sex_offender=match.child_sex_offender, schedule_34a_matches=match.matches,
                    schedule_34a_version=match.schedule_version, schedule_34a_review=match.review(),
                    schedule_34a_review_needed=match.review_needed, created_at=now, created_by_id=actor.user_id,
                    convictions=[new_conviction(i, c) for i, c in enumerate(data.convictions)])
        session.add(case)
        session.flush()
        audit.record(session, actor, "case.created", "case", case.id, area=area.slug,
                     detail={"reference": case.reference, "child_sex_offender": case.child_sex_offender,
                             "schedule_34a_version": case.schedule_34a_version,
                             "needs_equivalence_opinion": match.needs_equivalence_opinion,
                             "schedule_34a_review_needed": match.review_needed})
        processes = []
        if case.child_sex_offender:
            processes.append(start_consideration(session, actor, case, "case_created", now))
        view = case_view(case, processes)
        view["schedule_34a_notes"] = match.notes
        return view


def start_consideration(session: Session, actor: Actor, case: Case, trigger: str, now: datetime) -> ProcessInstance:
    """Start the s.327A consideration for ``case`` in the caller's transaction; Conflict (so
    nothing of the caller's is kept) when the workflow is not deployed: the duty must not be
    silently skipped."""
    try:
        return start_in_session(session, actor, case, CONSIDERATION, trigger=trigger, now=now)
    except NotFound:
        raise Conflict(f"The {CONSIDERATION} workflow is not deployed, so the duty to consider "
                       "disclosure cannot start; deploy it (disclosure-engine db upgrade)") from None


def new_conviction(position: int, c: Any) -> Conviction:
    """The row for one validated conviction (creation and amendment)."""
    opinion = None
    if c.equivalence_opinion is not None:
        o = c.equivalence_opinion
        opinion = {"equivalent_statute": o.equivalent_statute, "equivalent_section": o.equivalent_section,
                   "reasons": o.reasons, "by": o.by}
    return Conviction(position=position, statute=c.statute, section=c.section, date=c.date,
                      disposal=c.disposal, victim_age=c.victim_age, jurisdiction=c.jurisdiction,
                      inchoate=c.inchoate, equivalence_opinion=opinion, condition_met=c.condition_met,
                      statute_confirmed=c.statute_confirmed)


def get_case(db: Database, actor: Actor, case_id: int, *, justification: str | None = None) -> dict[str, Any]:
    """A case the actor may see; recorded as a DPA 2018 s.62 consultation ('case.viewed')."""
    with db.transaction() as session:
        case = visible_case(session, actor, case_id)
        processes = list(session.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id)
                                         .order_by(ProcessInstance.id)).scalars())
        audit.record(session, actor, "case.viewed", "case", case.id, area=case.area.slug,
                     justification=justification)
        return case_view(case, processes)


def list_cases(db: Database, actor: Actor, *, area: str | None = None, reference: str | None = None,
               visor_ref: str | None = None, needs_review: bool | None = None, limit: int = 50,
               offset: int = 0) -> dict[str, Any]:
    """Cases in the actor's areas, newest first (summaries; opening one is audited separately).
    ``needs_review``: only the cases whose Schedule 34A matching waits for a person's judgement
    (true), or only the others (false). A page that shows any case is a consultation (DPA 2018
    s.62): audited as ``cases.listed`` with the ids shown, as the decision log's pages are.
    ``reference`` and ``visor_ref`` match exactly (no partial search: a list is no way to browse
    other offenders' references)."""
    from disclosure_engine.services.decisions import listing_area

    require_case_role(actor)
    with db.transaction() as session:
        q = _visible_cases(session, actor)
        if area:
            q = q.join(Area, Area.id == Case.area_id).where(Area.slug == area)
        if reference:
            q = q.where(Case.reference == reference)
        if visor_ref:
            q = q.where(Case.visor_ref == visor_ref)
        if needs_review is not None:
            q = q.where(Case.schedule_34a_review_needed.is_(needs_review))
        total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = list(session.execute(q.order_by(Case.id.desc()).limit(min(max(limit, 1), 200))
                                    .offset(max(offset, 0))).scalars())
        items = [{"id": c.id, "reference": c.reference, "area": c.area.slug, "category": c.category,
                  "level": c.level, "child_sex_offender": c.child_sex_offender,
                  "schedule_34a_review_needed": c.schedule_34a_review_needed} for c in rows]
        if rows:
            filters = {"area": area, "reference": reference, "visor_ref": visor_ref, "needs_review": needs_review}
            audit.record(session, actor, "cases.listed", "case_list", "page", area=listing_area(actor, filters),
                         detail={"ids": [c.id for c in rows], "offset": offset,
                                 "filters": {k: v for k, v in filters.items() if v is not None}})
        return {"items": items, "total": total, "limit": limit, "offset": offset}


def waiting_count(db: Database, actor: Actor) -> int:
    """How many cases in the actor's areas wait for a Schedule 34A judgement (a number only,
    shown on the inbox: no case is shown, so nothing is consulted)."""
    require_case_role(actor)
    with db.transaction() as session:
        q = _visible_cases(session, actor).where(Case.schedule_34a_review_needed.is_(True))
        return session.execute(select(func.count()).select_from(q.subquery())).scalar_one()


def _visible_cases(session: Any, actor: Actor) -> Any:
    q = select(Case)
    ids = visible_area_ids(session, actor)
    if ids is not None:
        q = q.where(Case.area_id.in_(ids))
    return q
