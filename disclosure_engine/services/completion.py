"""Completing a user task: the product's hot path, one transaction, few round trips.

1. ``task_lock.lock_for_task``: lock the instance (with its case and version), then lock and
   read its open task rows and its latest decision, allocating the new decision's id in the
   same query; on PostgreSQL, read the audit chain's head too (not locked).
2. Check the task is open and the actor may do it (``services.eligibility``: the role, an
   administrator's limit, and the four-eyes rule from the BPMN, on the steps read in 1);
   validate the submission against the form; step the engine (nothing touches the database
   while it runs).
3. Hash the audit events onto the head (SQLite: lock it first).
4. Write everything together (``persistence.batch``): the instance's state and version, the
   completed task, withdrawn tasks, new tasks, the decision record, the audit events and the
   head. On PostgreSQL that is one statement, sent with COMMIT.

On PostgreSQL that is two round trips (``persistence.pg_pipeline``): BEGIN with the reads, and
the write with COMMIT; two more only when another transaction appended to the audit chain in
between (see ``_write``). Elsewhere each statement goes on its own.

A second concurrent completion of the task waits for the instance lock, then reads the task
as completed and gets a Conflict. The instance's version column is checked by the write as
well, so an update that slipped past the lock could never be overwritten silently.
"""
from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Integer, Table, Text, any_, bindparam, cast, insert, null, or_, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from disclosure_engine.domain.errors import Conflict, ValidationFailed
from disclosure_engine.domain.forms import apply_read_only, undeclared_fields, validate_submission
from disclosure_engine.domain.roles import Actor
from disclosure_engine.engine import runtime
from disclosure_engine.persistence.batch import WriteBatch
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    Decision,
    HumanTask,
    ProcessInstance,
    utcnow,
)
from disclosure_engine.persistence.pg_pipeline import GuardFailed, PgStatement, Pipeline, pipelined
from disclosure_engine.services import audit
from disclosure_engine.services.decisions import audit_recorded, decision_row
from disclosure_engine.services.eligibility import (
    require_four_eyes,
    require_holder,
    require_open,
)
from disclosure_engine.services.instances import (
    LOST_RACE,
    state_changes,
    task_projection,
)
from disclosure_engine.services.task_lock import LockedTask, lock_for_task
from disclosure_engine.services.views import task_view
from disclosure_engine.services.workflows import compiled_by_id

_INSTANCES, _TASKS, _DECISIONS = ProcessInstance.__table__, HumanTask.__table__, Decision.__table__


def complete(db: Database, actor: Actor, task_id: int, data: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Validate ``data`` against the task's form and advance the process (see module docstring).

    Returns the completed task, the process's status, the tasks it opened, the id of the
    decision record written, if the task records one, and the submitted fields the form does not
    declare (``ignored_fields``: dropped, never in the process's data; ``forms.undeclared_fields``).
    """
    if not isinstance(data, dict):
        raise ValidationFailed("The form data must be an object", {"data": ["Send the form fields as an object"]})
    now = now or utcnow()
    with db.transaction() as session, pipelined(session) as pipe:
        locked = lock_for_task(session, actor, task_id, pipe)
        task, instance, case = locked.task, locked.instance, locked.case
        require_open(task)
        require_holder(actor, task)
        spec = compiled_by_id(session, instance.definition_id, instance.content_hash)
        schema = spec.forms.get(task.form_name or "") or {}
        wf = runtime.load_state(spec, instance.state)
        ready = runtime.ready_user_task(wf, task.spiff_task_id)
        if ready is None:
            raise Conflict("This task is no longer waiting for input")
        # what the task's BPMN properties add to who may do it: a sign-off is not an
        # administrator's (without its role), nor its proposer's (the four-eyes rule)
        require_holder(actor, task, ready.properties)
        require_four_eyes(spec, task, ready.properties, locked.own_steps)
        before = ready.data
        ignored = undeclared_fields(schema, data)  # never into the process's data (see there)
        if ignored:
            data = {name: value for name, value in data.items() if name not in ignored}
        data = apply_read_only(schema, data, before)
        errors = validate_submission(schema, data)
        if errors:
            raise ValidationFailed("There is a problem with the form", errors)
        runtime.complete_user_task(wf, task.spiff_task_id, data)

        # what changes, computed before anything is written
        task.status, task.data, task.completed_at = "completed", data, now
        task.completed_by_id, task.draft_data = actor.user_id, None
        if task.assignee_id is None:
            task.assignee_id, task.claimed_at = actor.user_id, now
        seen = runtime.inspect(wf)
        changes = state_changes(instance, wf, now, state_as_text=True, seen=seen)
        withdrawn, new_rows = task_projection(instance, instance.workflow_key, wf, spec, now, locked.open_rows,
                                              ready=seen.ready)
        decision = None
        if task.records_decision:
            if locked.new_decision_id is None:  # the task row said otherwise a moment ago
                raise Conflict(LOST_RACE)
            decision = decision_row(actor, case, task, data, now, step=ready, form=schema,
                                    decision_id=locked.new_decision_id, latest=locked.latest_decision)
        area = case.area
        audit.record(session, actor, "task.completed", "task", task.id, area=area,
                     detail={"process_id": instance.id, "element_id": task.element_id, "fields": sorted(data),
                             **({"ignored_fields": ignored} if ignored else {})})
        if decision is not None:
            audit_recorded(session, actor, decision, area)
        if changes["status"] == "completed":
            audit.record(session, actor, "process.completed", "process", instance.id, area=area,
                         detail={"end_event": changes.get("end_event", instance.end_event)})

        ids = _write(session, pipe, locked, actor, data, now, changes, withdrawn, new_rows, decision)
        new_ids = {spiff_id: row_id for row_id, spiff_id in ids}
        return {"task": {**task_view(task, now=now, assignee=actor.username), "area": area},
                "process": {"id": instance.id, "status": changes["status"],
                            "end_event": changes.get("end_event", instance.end_event)},
                "next_tasks": [{"id": new_ids[row["spiff_task_id"]], "name": row["name"],
                                "candidate_role": row["candidate_role"],
                                "due_at": row["due_at"].isoformat() if row["due_at"] else None}
                               for row in new_rows],
                "decision_id": decision["id"] if decision is not None else None,
                "ignored_fields": ignored}


def _write(session: Session, pipe: Pipeline | None, locked: LockedTask, actor: Actor, data: dict[str, Any],
           now: datetime, changes: dict[str, Any], withdrawn: list[Any], new_rows: list[dict[str, Any]],
           decision: dict[str, Any] | None) -> list[tuple[Any, ...]]:
    """Chain the audit events, then send every write of the completion as one batch; returns
    the (id, spiff_task_id) of the task rows opened. A failed guard is a Conflict (rolled back).

    On PostgreSQL (``pipe``) the events are chained onto the head as read with the task, not
    locked, and the write with COMMIT is guarded on the head not having moved: one round trip.
    If another transaction appended to the chain meanwhile, the write is undone, the head is
    locked and the events chained again, and the write sent again (two more round trips)."""
    instance, task = locked.instance, locked.task
    dialect = session.get_bind().dialect
    params: dict[str, Any] = dict(
        i_id=instance.id, i_version=instance.lock_version, i_next_version=instance.lock_version + 1,
        t_id=task.id, t_data=data, t_now=now, t_user=actor.user_id, t_assignee=task.assignee_id,
        t_claimed_at=task.claimed_at, w_ids=[row.id for row in withdrawn])
    params.update({f"i_{name}": value for name, value in changes.items()})
    for i, row in enumerate(new_rows):
        params.update({f"n{i}_{name}": value for name, value in row.items()})
    if decision is not None:
        params.update({f"d_{name}": value for name, value in decision.items()})
    shape = (dialect.name, tuple(changes), bool(withdrawn), tuple(new_rows[0]) if new_rows else (),
             len(new_rows), tuple(decision) if decision is not None else ())
    events = audit.take_pending(session)
    if pipe is None:
        inserts, move_head, chain = audit.chained_writes(dialect.name, events, audit.lock_head(session))
        ids = _batch(*shape, tuple(inserts), move_head).run(session, {**params, **chain})
        if ids is None:
            raise Conflict(LOST_RACE)
        return ids
    head = locked.audit_head
    assert head is not None, "the pipelined read takes the audit head"
    for head_locked in (False, True):
        inserts, move_head, chain = audit.chained_writes(dialect.name, events, head, head_unlocked=True)
        batch = _batch(*shape, tuple(inserts), move_head)
        try:
            return batch.run_and_commit(pipe, dialect, {**params, **chain})
        except GuardFailed as failed:
            if failed.guard != "audit_head" or head_locked:
                raise Conflict(LOST_RACE) from None
        ((row,),) = pipe.run((_pg_head_lock(dialect), {}))
        head = (row.last_seq, row.last_hash)
    raise AssertionError("unreachable: the second write holds the head's lock")


@functools.lru_cache(maxsize=4)
def _pg_head_lock(dialect: Dialect) -> PgStatement:
    return PgStatement(audit.LOCK_HEAD, dialect)


@functools.lru_cache(maxsize=256)
def _batch(dialect: str, changed: tuple[str, ...], withdraws: bool, new_columns: tuple[str, ...], new_count: int,
           decision_columns: tuple[str, ...], event_inserts: tuple[UpdateBase, ...],
           move_head: UpdateBase) -> WriteBatch:
    """The writes of a completion of this shape, with every value a named parameter (see
    ``WriteBatch``): a handful of shapes cover every workflow."""
    def bound(table: Table, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names}

    instance_values = bound(_INSTANCES, "i_", changed)
    # the state arrives as JSON text (state_changes(..., state_as_text=True)); PostgreSQL is told
    # it is json, SQLite keeps JSON as text anyway
    state_text = bindparam("i_state", type_=Text)
    instance_values["state"] = cast(state_text, _INSTANCES.c.state.type) if dialect == "postgresql" else state_text
    instance_guard = (update(_INSTANCES)
                      .where(_INSTANCES.c.id == bindparam("i_id"), _INSTANCES.c.lock_version == bindparam("i_version"))
                      .values(**instance_values, lock_version=bindparam("i_next_version")))
    # still open and not claimed by someone else: a claim commits without the instance's lock
    task_guard = (update(_TASKS)
                  .where(_TASKS.c.id == bindparam("t_id"), _TASKS.c.status == "open",
                         or_(_TASKS.c.assignee_id.is_(None), _TASKS.c.assignee_id == bindparam("t_user")))
                  .values(status="completed", data=bindparam("t_data", type_=_TASKS.c.data.type),
                          completed_at=bindparam("t_now", type_=_TASKS.c.completed_at.type),
                          completed_by_id=bindparam("t_user"), draft_data=null(),
                          assignee_id=bindparam("t_assignee"),
                          claimed_at=bindparam("t_claimed_at", type_=_TASKS.c.claimed_at.type)))
    writes: list[UpdateBase] = []
    if withdraws:
        # PostgreSQL: one array parameter, so the statement is compiled once (an IN list is not)
        withdrawn = (_TASKS.c.id == any_(bindparam("w_ids", type_=ARRAY(Integer)))) if dialect == "postgresql" \
            else _TASKS.c.id.in_(bindparam("w_ids", expanding=True))
        writes.append(update(_TASKS).where(withdrawn)
                      .values(status="cancelled", completed_at=bindparam("t_now", type_=_TASKS.c.completed_at.type)))
    if decision_columns:
        writes.append(insert(_DECISIONS).values(bound(_DECISIONS, "d_", decision_columns)))
    writes += event_inserts
    opened = [insert(_TASKS).values(bound(_TASKS, f"n{i}_", new_columns)).returning(_TASKS.c.id, _TASKS.c.spiff_task_id)
              for i in range(new_count)]
    # the head's move is a guard too: unlocked, it matches only while the head is where the
    # events were chained from (locked, always)
    guards = {"instance": instance_guard, "task": task_guard, "audit_head": move_head}
    return WriteBatch(guards, writes, opened)
