"""What completing a task reads, under the instance's lock, in two plain (Core) queries.

1. Lock the task's instance, with the facts of its case and version (one row).
2. After any wait for that lock, and so seeing the winner's commit: the instance's open task
   rows and the target task, locked too, its latest decision record, and an id allocated for
   the decision the task records, if it records one. Locking the task rows here, before the
   audit head is locked at the write, keeps the order every writer takes them in (task rows,
   then the head: escalation does the same), so a completion that withdraws a task cannot
   deadlock with that task's escalation; and a claim committed meanwhile is seen here. The
   same query says which of the instance's steps the actor was the last to complete (the
   four-eyes rule, ``not_completed_by``: see ``services.completion``).

On PostgreSQL both go in one round trip with BEGIN (``persistence.pg_pipeline``): the server
still runs the second only once the first has its lock, with a snapshot taken then, so it sees
what the lock's previous holder committed. The same round trip reads the audit chain's head,
unlocked: the write checks it has not moved (``services.completion``). Elsewhere the two
queries are sent one after the other.

Plain rows rather than ORM objects: completion writes in one batch (``persistence.batch``)
and must not leave objects for the unit of work to flush, and loading six mapped objects cost
more than the two queries themselves. Another area's task is NotFound, as everywhere.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import NotFound
from disclosure_engine.domain.roles import Actor
from disclosure_engine.persistence.batch import id_allocation
from disclosure_engine.persistence.models import (
    Case,
    Decision,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
)
from disclosure_engine.persistence.pg_pipeline import PgStatement, Pipeline
from disclosure_engine.services import audit
from disclosure_engine.services.access import area_slug, require_case_role

_I, _D, _C = ProcessInstance.__table__, ProcessDefinition.__table__, Case.__table__
_T, _DEC = HumanTask.__table__, Decision.__table__


@dataclass(frozen=True)
class InstanceFacts:
    id: int
    definition_id: int
    workflow_key: str
    content_hash: str
    case_id: int
    area_id: int
    state: dict[str, Any]
    lock_version: int
    completed_at: datetime | None
    end_event: str | None


@dataclass(frozen=True)
class CaseFacts:
    """What a decision record copies from its case."""

    id: int
    reference: str
    area_id: int
    area: str
    category: int
    level: int
    visor_ref: str | None
    pnc_ref: str | None
    ndelius_crn: str | None
    schedule_34a_matches: list[dict[str, Any]]


@dataclass
class LockedTask:
    instance: InstanceFacts
    case: CaseFacts
    #: every column of the task row, as attributes (a copy: completion updates it for its reply)
    task: SimpleNamespace
    #: the instance's open task rows (id, spiff_task_id, status)
    open_rows: list[Any]
    #: (id, version) of the process's current decision record, if it has one
    latest_decision: tuple[int, int] | None
    #: an id allocated for the decision the task records (None when it records none)
    new_decision_id: int | None
    #: the audit chain's head (last_seq, last_hash) as read, unlocked (PostgreSQL only)
    audit_head: tuple[int, str] | None = None
    #: element ids of the instance's steps whose latest completion was by the actor
    own_steps: frozenset[str] = frozenset()


def lock_for_task(session: Session, actor: Actor, task_id: int, pipe: Pipeline | None = None) -> LockedTask:
    """Lock the task's instance and read what completing the task needs (module docstring);
    through ``pipe`` when the caller has one (its first statements: BEGIN goes with them)."""
    require_case_role(actor)
    dialect = session.get_bind().dialect
    lock, rows = _statements(dialect.name)
    params = {"task_id": task_id, "user_id": actor.user_id}
    head = None
    if pipe is not None:
        locked, task_rows, (head,) = pipe.run(*((statement, params) for statement in _pg_statements(dialect)))
        found = locked[0] if locked else None
    else:
        found = session.execute(lock, params).one_or_none()
        task_rows = session.execute(rows, params).all() if found is not None else []
    if found is None or not actor.can_see_case_in(area_slug(session, found.area_id)):
        raise NotFound(f"Task {task_id} not found")
    instance = InstanceFacts(**{name: getattr(found, name) for name in InstanceFacts.__dataclass_fields__})
    case = CaseFacts(id=found.case_id, reference=found.reference, area_id=found.case_area_id,
                     area=area_slug(session, found.case_area_id), category=found.category, level=found.level,
                     visor_ref=found.visor_ref, pnc_ref=found.pnc_ref, ndelius_crn=found.ndelius_crn,
                     schedule_34a_matches=found.schedule_34a_matches)
    target = next((row for row in task_rows if row.id == task_id), None)
    if target is None:
        raise NotFound(f"Task {task_id} not found")
    latest = (target.latest_id, target.latest_version) if target.latest_id is not None else None
    task = SimpleNamespace(**target._asdict())  # the row's columns (and the few read with them)
    return LockedTask(instance=instance, case=case, task=task,
                      open_rows=[row for row in task_rows if row.status == "open" and row.id != task_id],
                      latest_decision=latest, new_decision_id=target.new_decision_id,
                      audit_head=(head.last_seq, head.last_hash) if head is not None else None,
                      own_steps=_element_ids(target.own_steps))


def own_latest_steps(session: Session, instance_id: int, user_id: int | None) -> frozenset[str]:
    """Element ids of the instance's user tasks whose latest completion was by ``user_id``
    (what claiming, drafting or reassigning a task checks the four-eyes rule against)."""
    if user_id is None:
        return frozenset()
    found = session.execute(select(_own_steps(bindparam("instance_id"))),
                            {"instance_id": instance_id, "user_id": user_id}).scalar_one_or_none()
    return _element_ids(found)


def latest_completers(session: Session, instance_id: int, element_ids: tuple[str, ...]) -> dict[str, int]:
    """Who completed the latest run of each of ``element_ids`` in the instance (those run)."""
    done, later = _T.alias("done"), _T.alias("later")
    rows = session.execute(
        select(done.c.element_id, done.c.completed_by_id)
        .where(done.c.instance_id == instance_id, done.c.completed_by_id.is_not(None),
               done.c.element_id.in_(element_ids), ~_replaced(done, later))).all()
    return {row.element_id: row.completed_by_id for row in rows}


def _replaced(done: Any, later: Any) -> Any:
    """A later completion of the same element in the same instance exists.

    "Completed" is ``completed_by_id`` set (only a completion sets it), not ``status``: every
    index on ``status`` spans all areas' tasks, so no plan may start from it; these queries
    only ever use the instance's own rows (the (instance_id, spiff_task_id) index)."""
    return (select(later.c.id)
            .where(later.c.instance_id == done.c.instance_id, later.c.element_id == done.c.element_id,
                   later.c.completed_by_id.is_not(None), later.c.id > done.c.id)
            .exists())


def _own_steps(instance: Any) -> Any:
    """The element ids (space-separated, or NULL) of ``instance``'s completed task rows done by
    ``:user_id`` that no later completion of the same element replaced: one aggregate over the
    instance's rows (the (instance_id, spiff_task_id) index), however long its history."""
    done, later = _T.alias("done"), _T.alias("later")
    return (select(func.aggregate_strings(done.c.element_id, literal_column("' '")))
            .where(done.c.instance_id == instance, done.c.completed_by_id == bindparam("user_id"),
                   ~_replaced(done, later))
            .scalar_subquery())


def _element_ids(value: str | None) -> frozenset[str]:
    return frozenset(value.split()) if value else frozenset()


@functools.lru_cache(maxsize=4)
def _statements(dialect: str) -> tuple[Select[Any], Select[Any]]:
    """Built once per dialect, parameters bound at execution (compiled and prepared once)."""
    owner = select(_T.c.instance_id).where(_T.c.id == bindparam("task_id")).scalar_subquery()
    lock = (select(_I.c.id, _I.c.definition_id, _D.c.key.label("workflow_key"), _D.c.content_hash,
                   _I.c.case_id, _I.c.area_id, _I.c.state, _I.c.lock_version, _I.c.completed_at,
                   _I.c.end_event, _C.c.reference, _C.c.area_id.label("case_area_id"), _C.c.category,
                   _C.c.level, _C.c.visor_ref, _C.c.pnc_ref, _C.c.ndelius_crn, _C.c.schedule_34a_matches)
            .join_from(_I, _D, _D.c.id == _I.c.definition_id).join(_C, _C.c.id == _I.c.case_id)
            .where(_I.c.id == owner).with_for_update(of=_I))
    latest = (select(_DEC.c.id, _DEC.c.version).where(_DEC.c.process_id == owner)
              .order_by(_DEC.c.version.desc()).limit(1).subquery())
    allocate = id_allocation(dialect, _DEC, and_(_T.c.id == bindparam("task_id"), _T.c.records_decision.is_(True)))
    rows = (select(*_T.c, select(latest.c.id).scalar_subquery().label("latest_id"),
                   select(latest.c.version).scalar_subquery().label("latest_version"),
                   allocate.label("new_decision_id"), _own_steps(owner).label("own_steps"))
            .where(_T.c.instance_id == owner, or_(_T.c.status == "open", _T.c.id == bindparam("task_id")))
            .with_for_update(of=_T))
    return lock, rows


@functools.lru_cache(maxsize=4)
def _pg_statements(dialect: Any) -> tuple[PgStatement, ...]:
    """The same two statements and the audit head's read, compiled once for the pipeline."""
    return tuple(PgStatement(statement, dialect) for statement in (*_statements(dialect.name), audit.READ_HEAD))
