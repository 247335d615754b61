"""Start and inspect process instances of a case."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased, joinedload

from disclosure_engine.domain.errors import Forbidden, NotFound, ValidationFailed
from disclosure_engine.domain.roles import Actor, Role
from disclosure_engine.engine import runtime
from disclosure_engine.engine.handoff import decision_outcomes
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Case,
    Decision,
    HumanTask,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.services import audit
from disclosure_engine.services.access import (
    area_slug,
    usernames,
    visible_case,
    visible_process,
)
from disclosure_engine.services.instances import persist, start_data
from disclosure_engine.services.interruptions import interrupt_others, wait_if_interrupted
from disclosure_engine.services.pauses import pause_info
from disclosure_engine.services.views import iso, process_summary, task_view
from disclosure_engine.services.workflows import compiled, latest_definition

STARTER_ROLES = (Role.OFFICER, Role.CHAIR, Role.MANAGER, Role.ADMIN)


def start_in_session(session: Session, actor: Actor, case: Case, key: str, *, version: int | None = None,
                     trigger: str = "manual", now: datetime | None = None,
                     data: dict[str, Any] | None = None,
                     started_from: ProcessInstance | None = None) -> ProcessInstance:
    """Start ``key`` for ``case`` inside the caller's transaction (case creation uses this too).

    ``data`` adds start fields a workflow needs (e.g. ``scheme_route`` for CSODS); the case's
    own facts (ids, area, category, level) always come from the case and cannot be overridden.
    A ``decision_id`` must name a current decision of this case, with one of the outcomes the
    workflow's ``decision_outcome`` property allows (disclosure_delivery: ``disclose``), else
    a 422 on ``data.decision_id``. ``started_from`` is the instance a hand-off starts this one
    from (``services.handoffs``): recorded, and unique, so it can start only one.
    """
    now = now or utcnow()
    definition = latest_definition(session, key, version)
    spec = compiled(definition)
    extra = check_start_data(data)
    outcomes = decision_outcomes(spec.bundle)
    if "decision_id" in extra:
        extra["decision_id"] = check_decision(session, case, key, extra["decision_id"], outcomes)
    elif outcomes:
        extra["decision_id"] = only_current_decision(session, case, key, outcomes)
    # a start by hand; a hand-off checks this itself, before, to start nothing instead
    if "decision_id" in extra and started_from is None:
        running = running_carrier(session, extra["decision_id"])
        if running is not None:
            _refuse(f"Process {running} is already carrying out this decision (it runs until it ends): a "
                    "second would disclose twice; finish or cancel that one first")
    if "decision_id" in extra and "legal_basis" not in extra:
        basis = session.execute(select(Decision.legal_basis).where(Decision.id == extra["decision_id"])).scalar()
        if basis:
            extra["legal_basis"] = basis
    wf = runtime.start_workflow(spec, {**extra, **start_data(case, extra.get("trigger") or trigger)})
    instance = ProcessInstance(definition=definition, case_id=case.id, area_id=case.area_id,
                               status="waiting", state={}, started_at=now, started_by_id=actor.user_id,
                               updated_at=now, started_from_id=started_from.id if started_from else None,
                               carries_decision_id=extra.get("decision_id"))
    session.add(instance)
    session.flush()
    persist(session, instance, wf, spec, now)
    detail: dict[str, Any] = {"case_id": case.id, "workflow": key, "version": definition.version,
                              "content_hash": definition.content_hash, "trigger": extra.get("trigger") or trigger}
    if started_from is not None:
        detail["started_from"] = started_from.id
    if "decision_id" in extra:
        detail["decision_id"] = extra["decision_id"]
    audit.record(session, actor, "process.started", "process", instance.id, area=case.area.slug,
                 detail=detail)
    # the urgent route interrupts the others: those running when it starts, and those started meanwhile
    if not interrupt_others(session, actor, case, instance, spec, now):
        wait_if_interrupted(session, actor, case, instance, now)
    return instance


DECISION_FIELD = "data.decision_id"


def check_decision(session: Session, case: Case, key: str, value: Any, outcomes: tuple[str, ...]) -> int:
    """The id of a current decision of ``case`` (nothing supersedes it) whose outcome is one of
    ``outcomes`` (any, when empty); else a 422 on ``data.decision_id``. A decision of another
    case, or none at all, gets the same answer, so no other case's decisions are revealed."""
    decision_id = _as_id(value)
    if decision_id is None:
        _refuse("Give the id of a decision recorded on this case (a whole number)")
    row = session.execute(select(Decision.case_id, Decision.outcome).where(Decision.id == decision_id)).one_or_none()
    if row is None or row.case_id != case.id:
        _refuse(f"Decision {decision_id} is not a decision recorded on this case")
    newer = session.execute(select(Decision.id, Decision.version).where(
        Decision.supersedes_id == decision_id).limit(1)).one_or_none()
    if newer is not None:
        _refuse(f"Decision {decision_id} was superseded by version {newer.version} (decision {newer.id}); "
                "give the current version")
    if outcomes and row.outcome not in outcomes:
        _refuse(f"Decision {decision_id}'s outcome is {row.outcome or 'not recorded'}; {key} starts only "
                f"from a decision to {' or '.join(outcomes)}")
    return decision_id


def only_current_decision(session: Session, case: Case, key: str, outcomes: tuple[str, ...]) -> int:
    """The case's one current decision with one of ``outcomes``, for a workflow that carries a
    decision out (``decision_outcome``) started without naming one; else a 422 on
    ``data.decision_id``: with none, nothing may be delivered (no disclosure without a recorded
    decision); with several, the caller must say which."""
    ids = [d.id for d in _current_with_outcome(session, case.id, outcomes)]
    wanted = " or ".join(outcomes)
    if not ids:
        _refuse(f"{key} carries out a decision to {wanted}, and no current decision to {wanted} is "
                "recorded on this case; record the decision first")
    if len(ids) > 1:
        _refuse(f"This case has {len(ids)} current decisions to {wanted} (decisions "
                f"{', '.join(map(str, ids))}); give the one this {key} carries out")
    return ids[0]


def running_carrier(session: Session, decision_id: int) -> int | None:
    """A running process (waiting, paused or not) that carries out this decision or another
    version of it (a decision of the same process): a delivery is not started twice at once."""
    carried = aliased(Decision)
    wanted = select(Decision.process_id).where(Decision.id == decision_id).scalar_subquery()
    return session.execute(select(ProcessInstance.id).join(carried, carried.id == ProcessInstance.carries_decision_id)
                           .where(carried.process_id == wanted, ProcessInstance.status == "waiting")
                           .order_by(ProcessInstance.id).limit(1)).scalar()


def _current_with_outcome(session: Session, case_id: int, outcomes: tuple[str, ...]) -> list[Decision]:
    """The case's current decisions (nothing supersedes them) with one of ``outcomes``, oldest first."""
    newer = aliased(Decision)
    return list(session.execute(select(Decision).where(
        Decision.case_id == case_id, Decision.outcome.in_(outcomes),
        ~exists().where(newer.supersedes_id == Decision.id)).order_by(Decision.id)).scalars())


def decisions_to_carry_out(db: Database, actor: Actor, case_id: int, key: str) -> list[dict[str, Any]]:
    """The decisions a start of ``key`` could carry out on this case: its current decisions with
    an outcome the workflow's ``decision_outcome`` property allows (disclosure_delivery: the
    decisions to disclose); ``[]`` for a workflow that carries out none. What the start page
    offers, so a person picks the decision instead of typing its id."""
    with db.transaction() as session:
        visible_case(session, actor, case_id)
        try:
            outcomes = decision_outcomes(compiled(latest_definition(session, key, None)).bundle)
        except NotFound:  # not deployed: nothing to offer (starting it says so)
            return []
        if not outcomes:
            return []
        return [{"id": d.id, "workflow": d.workflow_key, "version": d.version, "outcome": d.outcome,
                 "decided_at": iso(d.decided_at), "decided_by": d.decided_by_name}
                for d in _current_with_outcome(session, case_id, outcomes)]


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**31 else None
    if isinstance(value, str) and value.strip().isdigit():
        return _as_id(int(value.strip()))
    return None


def _refuse(message: str) -> NoReturn:
    raise ValidationFailed("Invalid start data", {DECISION_FIELD: [message]})


def start_process(db: Database, actor: Actor, case_id: int, key: str, *, version: int | None = None,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start a workflow for a case the actor can see; returns the process view."""
    if not actor.has_role(*STARTER_ROLES):
        raise Forbidden("Your role may not start processes")
    with db.transaction() as session:
        case = visible_case(session, actor, case_id)
        instance = start_in_session(session, actor, case, key, version=version, data=data)
        return _view(session, instance)


START_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def check_start_data(data: Any) -> dict[str, Any]:
    """Extra start fields: a flat object of short scalar values with snake_case names."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed("Start data must be an object", {"data": ["Send the start fields as an object"]})
    errors: dict[str, list[str]] = {}
    if len(data) > 30:
        errors["data"] = ["At most 30 start fields"]
    for key, value in data.items():
        if not isinstance(key, str) or not START_KEY.match(key):
            errors[f"data.{key}"] = ["Field names are lower-case letters, digits and '_'"]
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            errors[f"data.{key}"] = ["Start fields hold text, numbers or yes/no values"]
        elif isinstance(value, str) and len(value) > 500:
            errors[f"data.{key}"] = ["At most 500 characters"]
    if errors:
        raise ValidationFailed("Invalid start data", errors)
    return dict(data)


def get_process(db: Database, actor: Actor, process_id: int) -> dict[str, Any]:
    """Status, open tasks and history (steps done, by whom, when); the read is audited."""
    with db.transaction() as session:
        instance = visible_process(session, actor, process_id)
        audit.record(session, actor, "process.viewed", "process", instance.id,
                     area=_area(session, instance))
        return _view(session, instance)


def _area(session: Session, instance: ProcessInstance) -> str:
    return area_slug(session, instance.area_id)


def case_processes(db: Database, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    """Every process of a case the actor can see, as :func:`get_process` shows one, oldest first.

    For the case page: one transaction and a fixed number of queries however many processes
    the case has gathered (a consideration at every review, applications, deliveries). Not
    audited per process: the page that shows them records the consultation (``case.viewed``)."""
    with db.transaction() as session:
        visible_case(session, actor, case_id)
        instances = list(session.execute(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                                         .options(joinedload(ProcessInstance.definition))
                                         .order_by(ProcessInstance.id)).scalars())
        return _views(session, instances)


def _view(session: Session, instance: ProcessInstance) -> dict[str, Any]:
    return _views(session, [instance])[0]


def _views(session: Session, instances: list[ProcessInstance]) -> list[dict[str, Any]]:
    """The process views, with their tasks, names and interruptions read once for them all."""
    if not instances:
        return []
    ids = [i.id for i in instances]
    tasks: dict[int, list[HumanTask]] = {i: [] for i in ids}
    for t in session.execute(select(HumanTask).where(HumanTask.instance_id.in_(ids))
                             .order_by(HumanTask.created_at, HumanTask.id)).scalars():
        tasks[t.instance_id].append(t)
    names = usernames(session, {u for ts in tasks.values() for t in ts for u in (t.completed_by_id, t.assignee_id)}
                      | {i.paused_by_id for i in instances})
    interrupted: dict[int, list[int]] = {i: [] for i in ids}
    for paused_id, by in session.execute(select(ProcessInstance.id, ProcessInstance.paused_by_process_id)
                                         .where(ProcessInstance.paused_by_process_id.in_(ids))
                                         .order_by(ProcessInstance.id)):
        interrupted[by].append(paused_id)
    return [_one_view(session, instance, tasks[instance.id], names, interrupted[instance.id])
            for instance in instances]


def _one_view(session: Session, instance: ProcessInstance, tasks: list[HumanTask], names: dict[int | None, str],
              interrupted: list[int]) -> dict[str, Any]:
    area = _area(session, instance)
    history = [{"task_id": t.id, "element_id": t.element_id, "name": t.name, "status": t.status,
                "completed_by": names.get(t.completed_by_id), "completed_at": iso(t.completed_at),
                "created_at": iso(t.created_at)} for t in tasks if t.status not in ("open", "paused")]
    open_tasks = []
    for t in tasks:
        if t.status in ("open", "paused"):
            view = task_view(t, assignee=names.get(t.assignee_id), include_data=False)
            view["area"] = area
            open_tasks.append(view)
    return {**process_summary(instance), "case_id": instance.case_id, "area": area,
            "started_at": iso(instance.started_at), "completed_at": iso(instance.completed_at),
            "end_event": instance.end_event, "next_timer_at": iso(instance.next_timer_at),
            "started_from": instance.started_from_id, "handoff_pending": instance.handoff_pending,
            "paused": pause_info(session, instance, names), "interrupted": interrupted,
            "open_tasks": open_tasks, "history": history}
