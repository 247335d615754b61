"""Persisting engine state and projecting ready user tasks to rows (used inside a transaction).

Every step ends here: state saved without the spec, status and next timer updated, task rows
made to match the engine's ready tasks (new ones inserted with deadlines from the BPMN, ones
the engine withdrew — e.g. interrupted by a boundary timer — cancelled). The ORM version
column turns a lost race into a Conflict instead of a silent overwrite.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from disclosure_engine.domain.deadlines import DeadlinePlan, due_at_for
from disclosure_engine.domain.errors import Conflict, ValidationFailed
from disclosure_engine.domain.reviews import CONSIDERATION
from disclosure_engine.engine import runtime, task_rules
from disclosure_engine.engine.handoff import end_event_handoff
from disclosure_engine.engine.runtime import CompiledWorkflow
from disclosure_engine.persistence.models import (
    Case,
    HumanTask,
    ProcessInstance,
)


def start_data(case: Case, trigger: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What every workflow can read at its start: opaque ids and the MAPPA facts, no personal data."""
    return {
        "case_id": case.id,
        "case_reference": case.reference,
        "area": case.area.slug,
        "mappa_category": case.category,
        "mappa_level": case.level,
        "lead_agency": case.lead_agency,
        "child_sex_offender": case.child_sex_offender,
        "trigger": trigger,
        **(extra or {}),
    }


def persist(session: Session, instance: ProcessInstance, wf: Any, compiled: CompiledWorkflow,
            now: datetime) -> list[HumanTask]:
    """Save the workflow state and re-project its tasks through the ORM; returns the newly
    opened task rows. (Task completion, the hot path, writes the same changes in one statement:
    see ``services.completion``.)"""
    seen = runtime.inspect(wf)
    for name, value in state_changes(instance, wf, now, seen=seen).items():
        setattr(instance, name, value)
    with session.no_autoflush:  # one flush at the end, not one per query
        open_rows = list(session.execute(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")).scalars())
    withdrawn, new_rows = task_projection(instance, instance.definition.key, wf, compiled, now, open_rows,
                                          ready=seen.ready)
    for row in withdrawn:
        row.status, row.completed_at = "cancelled", now
    created = [HumanTask(**values) for values in new_rows]
    session.add_all(created)
    flush_or_conflict(session)
    return created


def state_changes(instance: Any, wf: Any, now: datetime, *, state_as_text: bool = False,
                  seen: runtime.Inspection | None = None) -> dict[str, Any]:
    """The instance columns that change after an engine step (state, status, next timer...).

    ``state_as_text`` gives the state as the JSON text to store, for a writer that binds it as
    text (completion): parsing it only for the driver to serialise it again cost 0.3 ms.
    ``seen`` is ``runtime.inspect(wf)`` when the caller has it already.
    """
    seen = seen or runtime.inspect(wf)
    status = seen.status
    state = runtime.dump_state_text(wf) if state_as_text else runtime.dump_state(wf)
    changes: dict[str, Any] = {
        "state": state, "status": status, "updated_at": now,
        "next_timer_at": runtime.next_timer_at(wf) if status == "waiting" else None,
    }
    if status == "completed" and instance.completed_at is None:
        path = runtime.completed_path(wf)
        end_event = path[-1] if path else None
        changes.update(completed_at=now, end_event=end_event)
        # an end event with start_process: the sweep starts the follow-on (services.handoffs);
        # only a flag here, so the step that completes the instance stays as cheap as it was
        handoff = end_event_handoff(wf, end_event)
        if handoff is not None and handoff.applies(runtime.end_data(wf) if handoff.when else {}):
            changes["handoff_pending"] = True
        # a completed consideration: the sweep schedules the case's next MAPPA review from it
        if getattr(wf.spec, "name", None) == CONSIDERATION:
            changes["review_pending"] = True
    return changes


def flush_or_conflict(session: Session) -> None:
    """Write the unit of work now; a lost race on an instance's version is a Conflict."""
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(LOST_RACE) from None


LOST_RACE = "This process was changed by someone else at the same time; reload and try again"


def task_projection(instance: Any, workflow_key: str, wf: Any, compiled: CompiledWorkflow, now: datetime,
                    open_rows: list[Any], *, ready: list[runtime.ReadyTask] | None = None,
                    ) -> tuple[list[Any], list[dict[str, Any]]]:
    """Make the task rows match the engine's ready user tasks: the open rows the engine has
    withdrawn (e.g. interrupted by a boundary timer), to cancel, and the column values of a new
    row for each newly ready task, with its deadlines from the BPMN.

    ``instance`` and ``open_rows`` need only ids (and the rows ``status`` and ``spiff_task_id``):
    ORM objects or plain rows. Open rows already marked otherwise in memory (the task just
    completed) are left out by their in-memory status. ``ready`` is ``runtime.inspect(wf).ready``
    when the caller has it already.
    """
    ready_now = {t.id: t for t in (ready if ready is not None else runtime.ready_user_tasks(wf, with_data=False))}
    open_rows = [row for row in open_rows if row.status == "open"]
    withdrawn = [row for row in open_rows if row.spiff_task_id not in ready_now]
    known = {row.spiff_task_id for row in open_rows}
    new_rows: list[dict[str, Any]] = []
    for task in ready_now.values():
        if task.id in known:
            continue
        props = task_rules.deadline_properties(compiled.bundle, task.process_file, task.element_id,
                                               task.properties)
        closes = task.closes_at
        if props.get("due_by"):
            overall = runtime.task_due_by(wf, task.id, props["due_by"])
            if overall is not None and (closes is None or overall < closes):
                closes = overall
        role, plan = _role_and_plan(task, props, now, closes)
        new_rows.append(dict(
            instance_id=instance.id, case_id=instance.case_id, area_id=instance.area_id,
            workflow_key=workflow_key, spiff_task_id=task.id, element_id=task.element_id,
            name=task.name, form_name=task.form_name, ui_form_name=task.ui_form_name,
            instructions=task.instructions, candidate_role=role,
            records_decision=str(props.get("records_decision", "")).lower() == "true",
            status="open", created_at=now, due_at=plan.due_at, reminder_at=plan.reminder_at,
            escalate_at=plan.escalate_at, escalate_to_role=plan.escalate_to_role,
            escalation_level=0, next_escalation_at=plan.reminder_at or plan.due_at,
        ))
    return withdrawn, new_rows


def _role_and_plan(task: runtime.ReadyTask, props: dict[str, str], now: datetime,
                   closes_at: datetime | None = None) -> tuple[str, DeadlinePlan]:
    """The new row's candidate role and deadlines, or a WorkflowError naming the element.

    Both are faults of the deployed model, never of the officer whose step made the task
    ready, so they are not a 422 about the submission; and a task with no usable role is
    refused rather than given to "officer" (the lint refuses such a model before deploy).
    """
    problem = task_rules.role_problem(task.properties, task.lane)
    if problem is not None:
        raise runtime.WorkflowError(f"{task.element_id}: {problem}", task.element_id)
    try:
        plan = due_at_for(props, now, closes_at=closes_at)
    except ValidationFailed as exc:
        raise runtime.WorkflowError(f"{task.element_id}: {task_rules.refusal(exc)}",
                                    task.element_id) from exc
    return str(task.candidate_role), plan


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    """Row-lock the instance (PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE)."""
    instance = session.execute(
        select(ProcessInstance).where(ProcessInstance.id == instance_id)
        .with_for_update(of=ProcessInstance).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if instance is None:
        raise Conflict(f"Process {instance_id} no longer exists")
    return instance
