"""Correcting or completing a case's convictions, and matching Schedule 34A again.

Whether the s.327A duty applies turns on facts a person sometimes has to find first: the
victim's age for a "victim under 18" paragraph, whether the particulars meet a paragraph's
condition, the England and Wales equivalent of a foreign conviction. Until they are recorded,
the case is listed as waiting for a Schedule 34A judgement (``schedule_34a_review_needed``)
instead of silently counting as "not a child sex offender".

An amendment replaces the whole list of convictions, with a reason, in one transaction:

- the case row is locked, so two amendments of one case are made one after the other;
- the list is matched again against the newest schedule version, and the case's flag,
  matches, version and open questions are rewritten from that result;
- the audit event ``case.convictions_amended`` holds the reason and the list and result
  before and after (the conviction rows are replaced; the log keeps what they were);
- when the case is now a child sex offender with a new match (it was not one before, or an
  offence matches that did not), and no s.327A consideration is running, one starts with
  trigger ``convictions_amended``: new information is a reason to consider again;
- a case that stops being a child sex offender keeps any consideration that is running: a
  person decides whether it still has a point (the reply says so), nothing is cancelled here.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disclosure_engine.domain.cases import validate_conviction_amendment
from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.roles import Actor
from disclosure_engine.domain.schedule34a import match_convictions
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Case, ProcessInstance, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.access import visible_case
from disclosure_engine.services.cases import CONSIDERATION, CREATOR_ROLES, new_conviction, start_consideration
from disclosure_engine.services.views import case_view, conviction_view

TRIGGER = "convictions_amended"


def amend_convictions(db: Database, actor: Actor, case_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the case's convictions (``{"convictions": [...], "reason": "..."}``), match
    Schedule 34A again and start the consideration when the duty now applies (module
    docstring). Returns the case as ``cases.get_case`` does, with ``consideration_started``
    (the process id, or None) and ``notices`` (what a person should look at next)."""
    amendment = validate_conviction_amendment(payload)
    if not actor.has_role(*CREATOR_ROLES):
        raise Forbidden("Your role may not change a case's convictions")
    now = utcnow()
    with db.transaction() as session:
        case = visible_case(session, actor, case_id, lock=True)
        if not actor.in_area(case.area.slug):
            raise Forbidden(f"You do not work in {case.area.slug}")
        before = _facts(case)
        match = match_convictions(list(amendment.convictions))
        case.convictions = [new_conviction(i, c) for i, c in enumerate(amendment.convictions)]
        case.child_sex_offender = match.child_sex_offender
        case.schedule_34a_matches = match.matches
        case.schedule_34a_version = match.schedule_version
        case.schedule_34a_review = match.review()
        case.schedule_34a_review_needed = match.review_needed
        session.flush()
        processes = _processes(session, case.id)
        running = [p for p in processes if p.definition.key == CONSIDERATION and p.status == "waiting"]
        started = None
        new_matches = _reasons(match.matches) - _reasons(before["schedule_34a_matches"])
        if match.child_sex_offender and new_matches and not running:
            started = start_consideration(session, actor, case, TRIGGER, now)
            processes.append(started)
        notices = _notices(before, match.child_sex_offender, match.review_needed, running, started)
        audit.record(session, actor, "case.convictions_amended", "case", case.id, area=case.area.slug,
                     justification=amendment.reason,
                     detail={"reason": amendment.reason, "before": before, "after": _facts(case),
                             "consideration_started": started.id if started is not None else None})
        view = case_view(case, processes)
        view["consideration_started"] = started.id if started is not None else None
        view["notices"] = notices
        return view


def _facts(case: Case) -> dict[str, Any]:
    """What the amendment changes, as the audit event keeps it."""
    return {"convictions": [conviction_view(c) for c in case.convictions],
            "child_sex_offender": case.child_sex_offender,
            "schedule_34a_matches": list(case.schedule_34a_matches or []),
            "schedule_34a_version": case.schedule_34a_version,
            "schedule_34a_review_needed": bool(case.schedule_34a_review_needed)}


def _reasons(matches: list[dict[str, Any]]) -> set[str]:
    """A match by what it says (offence, paragraph, victim's age), not by its position."""
    return {str(m.get("reason") or (m.get("paragraph"), m.get("statute"), m.get("section"))) for m in matches}


def _processes(session: Session, case_id: int) -> list[ProcessInstance]:
    return list(session.execute(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                                .order_by(ProcessInstance.id)).scalars())


def _notices(before: dict[str, Any], now_cso: bool, review_needed: bool, running: list[ProcessInstance],
             started: ProcessInstance | None) -> list[str]:
    notices = []
    if started is not None:
        notices.append("The offender is a child sex offender (Schedule 34A): the s.327A consideration has started.")
    elif now_cso and running:
        notices.append("A s.327A consideration is already running: its decision record will hold the new "
                       "Schedule 34A matches.")
    if before["child_sex_offender"] and not now_cso:
        notices.append("No conviction now matches Schedule 34A. "
                       + ("The s.327A consideration that is running has not been stopped: decide whether it "
                          "should continue, and record why." if running else
                          "Earlier decisions stand as recorded."))
    if review_needed:
        notices.append("Some convictions still need a person's judgement before Schedule 34A matching is "
                       "complete.")
    return notices
