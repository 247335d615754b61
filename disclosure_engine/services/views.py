"""Plain-dict views of rows in the public contract's shapes (design brief section 3).

One place builds each shape, so the API, CLI and exports cannot drift apart.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from disclosure_engine.persistence.models import (
    Case,
    Decision,
    HumanTask,
    ProcessInstance,
    utcnow,
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_view(case: Case, processes: list[ProcessInstance] | None = None) -> dict[str, Any]:
    return {
        "id": case.id,
        "reference": case.reference,
        "area": case.area.slug,
        "category": case.category,
        "level": case.level,
        "lead_agency": case.lead_agency,
        "offender": {k: v for k, v in (("visor_ref", case.visor_ref), ("pnc_ref", case.pnc_ref),
                                        ("ndelius_crn", case.ndelius_crn)) if v},
        "convictions": [conviction_view(c) for c in case.convictions],
        "child_sex_offender": case.child_sex_offender,
        "schedule_34a_matches": case.schedule_34a_matches,
        "schedule_34a_version": case.schedule_34a_version,
        "schedule_34a_review": case.schedule_34a_review or [],
        "schedule_34a_review_needed": bool(case.schedule_34a_review_needed),
        "created_at": iso(case.created_at),
        "next_review_at": iso(case.next_review_at),
        "processes": [process_summary(p) for p in (processes or [])],
    }


def conviction_view(c: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"statute": c.statute, "section": c.section, "date": c.date.isoformat(),
                           "disposal": c.disposal, "jurisdiction": c.jurisdiction}
    if c.victim_age is not None:
        out["victim_age"] = c.victim_age
    if c.inchoate:
        out["inchoate"] = c.inchoate
    if c.equivalence_opinion:
        out["equivalence_opinion"] = c.equivalence_opinion
    if c.condition_met is not None:
        out["condition_met"] = c.condition_met
    if c.statute_confirmed is not None:
        out["statute_confirmed"] = c.statute_confirmed
    return out


def process_summary(p: ProcessInstance) -> dict[str, Any]:
    return {"id": p.id, "workflow": p.definition.key, "version": p.definition.version, "status": p.status}


def task_view(t: HumanTask, *, form: dict[str, Any] | None = None, now: datetime | None = None,
              assignee: str | None = None, include_data: bool = True) -> dict[str, Any]:
    now = now or utcnow()
    out: dict[str, Any] = {
        "id": t.id,
        "case_id": t.case_id,
        "process_id": t.instance_id,
        "workflow": t.workflow_key,
        "element_id": t.element_id,
        "name": t.name,
        "candidate_role": t.candidate_role,
        "area": None,
        "assignee": assignee,
        "status": t.status,
        "created_at": iso(t.created_at),
        "completed_at": iso(t.completed_at),
        "due_at": iso(t.due_at),
        "overdue": bool(t.status == "open" and t.due_at is not None and t.due_at < now),
        "escalation_level": t.escalation_level,
        "records_decision": t.records_decision,
        "instructions": t.instructions,
    }
    if form is not None:
        out["form"] = form
    if include_data:
        out["data"] = t.data if t.status == "completed" else (t.draft_data or {})
    return out


#: record keys shown at the top level of a decision (the rest are ``step_answers``)
DECISION_HEADER_KEYS = frozenset({"case_reference", "area", "offender", "mappa_category", "mappa_level",
                                  "schedule_34a_matches", "decision_task"})


def decision_view(d: Decision, *, current: bool = True) -> dict[str, Any]:
    """The contract's decision shape: vocabulary and context at the top level; any other reasons
    and outcomes a step recorded (chair's reasons, ratification) under ``step_answers``."""
    from disclosure_engine.domain.vocabulary import DECISION_FIELDS
    from disclosure_engine.services.decisions import CONTEXT_FIELDS

    known = DECISION_HEADER_KEYS | set(DECISION_FIELDS) | set(CONTEXT_FIELDS)
    top = {k: v for k, v in d.record.items() if k in known}
    extra = {k: v for k, v in d.record.items() if k not in known}
    return {
        "id": d.id,
        "case_id": d.case_id,
        "process_id": d.process_id,
        "workflow": d.workflow_key,
        "version": d.version,
        "supersedes": d.supersedes_id,
        "supersede_reason": d.supersede_reason,
        "current": current,
        **top,
        "step_answers": extra,
        "decided_by": d.decided_by_name,
        "decided_at": iso(d.decided_at),
        "overdue_at_decision": d.overdue_at_decision,
    }
