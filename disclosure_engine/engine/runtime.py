"""Start, step, inspect and time-advance workflow instances: the only SpiffWorkflow surface
services and path tests use.

Every workflow object handed out here has the safe script engine, and every engine step is
wrapped so a failing expression surfaces as :class:`WorkflowError` naming the element instead
of a SpiffWorkflow exception. Timers are compared against a caller-supplied ``now`` so path
tests can simulate elapsed time (a 28-day representations window) without waiting.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from disclosure_engine.domain.deadlines import deadline_instant
from disclosure_engine.domain.errors import Conflict, DisclosureError
from disclosure_engine.engine import task_rules
from disclosure_engine.engine.compiler import (
    CompiledWorkflow,
    clear_cache,
    compile_bundle,
    compiled_cache,
)
from disclosure_engine.engine.handoff import start_fields
from disclosure_engine.engine.script_engine import make_script_engine
from disclosure_engine.engine.serializer import StateError, dump_state, dump_state_text, load_state
from disclosure_engine.engine.timer_values import aware as _aware
from disclosure_engine.engine.timer_values import due_at as _due_at
from disclosure_engine.engine.timer_values import extend_date_timers, next_timer_at, shift_timers
from disclosure_engine.engine.timer_values import timer_definitions as _timer_defs
from disclosure_engine.engine.timer_values import timer_tasks as _timer_tasks

__all__ = [
    "CompiledWorkflow",
    "ReadyTask",
    "StateError",
    "WorkflowError",
    "advance_timers",
    "clear_cache",
    "compile_bundle",
    "compiled_cache",
    "complete_user_task",
    "completed_path",
    "dump_state",
    "dump_state_text",
    "end_data",
    "extend_date_timers",
    "Inspection",
    "inspect",
    "load_state",
    "next_timer_at",
    "ready_user_task",
    "ready_user_tasks",
    "shift_timers",
    "start_workflow",
    "task_due_by",
    "workflow_status",
]

Status = Literal["completed", "waiting", "error"]
T = TypeVar("T")
_MAX_TIMER_ROUNDS = 1000
_PAST = datetime(1970, 1, 1, tzinfo=UTC)


class WorkflowError(DisclosureError):
    """An engine step failed (bad expression, missing data); ``element_id`` says where."""

    status = 500

    def __init__(self, message: str, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


def _engine(call: Callable[[], T]) -> T:
    """Run a Spiff call, turning its exceptions into WorkflowError with the element id."""
    try:
        return call()
    except DisclosureError:
        raise
    except Exception as exc:  # SpiffWorkflow raises many exception types
        task = getattr(exc, "task", None)
        element = getattr(getattr(task, "task_spec", None), "bpmn_id", None) or \
            getattr(getattr(task, "task_spec", None), "name", None)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"{element}: " if element else ""
        raise WorkflowError(f"{where}{detail}", element) from exc


# -- starting ---------------------------------------------------------------------------------

def start_workflow(compiled: CompiledWorkflow, data: dict[str, Any]) -> BpmnWorkflow:
    """A new instance with ``data`` on the start task, run to its first wait."""
    wf = BpmnWorkflow(compiled.spec, compiled.subprocess_specs,
                      script_engine=make_script_engine(compiled.timeout_ms))
    start = wf.get_next_task(state=TaskState.READY)
    if start is not None:
        given = {name: None for name in start_fields(compiled.bundle)}
        given.update(copy.deepcopy(dict(data)))
        start.set_data(**given)
    _engine(wf.do_engine_steps)
    return wf


# -- user tasks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadyTask:
    """What services project into task rows and forms: no Spiff objects leak out."""

    id: str
    element_id: str
    name: str
    lane: str | None
    #: normalised (``task_rules.candidate_role``); None or not a role is ``role_problem``'s to say
    candidate_role: str | None
    form_name: str | None
    ui_form_name: str | None
    instructions: str | None
    properties: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    #: the BPMN file of the (sub)process running the task: its process-level deadline defaults
    process_file: str | None = None
    #: when an interrupting boundary timer on the task falls due and takes the task away
    #: (UTC), or None: the task cannot be done after it, so it is due by then at the latest
    closes_at: datetime | None = None


def _ready_task(task: Task, with_data: bool = True) -> ReadyTask:
    spec = task.task_spec
    ext = getattr(spec, "extensions", None) or {}
    props = task_rules.spec_properties(spec)
    lane = getattr(spec, "lane", None)
    return ReadyTask(
        id=str(task.id), element_id=spec.bpmn_id or spec.name,
        name=getattr(spec, "bpmn_name", None) or spec.bpmn_id or spec.name, lane=lane,
        candidate_role=task_rules.candidate_role(props, lane),
        form_name=props.get("formJsonSchemaFilename"),
        ui_form_name=props.get("formUiSchemaFilename"),
        instructions=ext.get("instructionsForEndUser"), properties=props,
        data=copy.deepcopy(dict(task.data)) if with_data else {},
        process_file=getattr(getattr(task.workflow, "spec", None), "file", None),
        closes_at=_closes_at(task),
    )


def task_due_by(wf: BpmnWorkflow, task_id: str, expression: str) -> datetime | None:
    """The overall deadline a ready task falls under: its ``due_by`` property, a safe expression
    over the task's data naming a date or date-time (``scheme_deadline``), as an aware instant.

    A model whose expression fails, or names something that is not a date, is the model's
    fault, not the officer's: a WorkflowError naming the element.
    """
    task = _find_task(wf, task_id)
    element = task.task_spec.bpmn_id or task.task_spec.name
    from disclosure_engine.engine import safe_eval

    try:
        return deadline_instant(safe_eval.evaluate(expression, dict(task.data)))
    except Exception as exc:  # noqa: BLE001 - any failure is the model's, reported with the element
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkflowError(f"{element}: due_by {expression!r}: {detail}", element) from exc


def _closes_at(task: Task) -> datetime | None:
    """The earliest due time of the interrupting boundary timers waiting on ``task``.

    SpiffWorkflow puts a task with boundary events under a split whose other children are the
    boundary events, waiting while the task is ready.
    """
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    times = [at for sibling in parent.children
             if isinstance(sibling.task_spec, BoundaryEvent) and sibling.task_spec.cancel_activity
             and sibling.state == TaskState.WAITING
             for timer in _timer_defs(sibling) if (at := _due_at(sibling, timer)) is not None]
    return min(times) if times else None


def ready_user_tasks(wf: BpmnWorkflow, *, with_data: bool = True) -> list[ReadyTask]:
    """Manual tasks (user/manual tasks) that are READY, across subprocesses; ``with_data=False``
    leaves out a copy of each task's data (projection to rows does not need it)."""
    return [_ready_task(t, with_data) for t in wf.get_tasks(state=TaskState.READY, manual=True)]


def ready_user_task(wf: BpmnWorkflow, task_id: str) -> ReadyTask | None:
    """The READY manual task with this id (with a copy of its data), or None."""
    try:
        task = _find_task(wf, task_id)
    except Conflict:
        return None
    if task.state != TaskState.READY or not task.task_spec.manual:
        return None
    return _ready_task(task)


def _find_task(wf: BpmnWorkflow, task_id: str) -> Task:
    try:
        task = wf.get_task_from_id(UUID(str(task_id)))
    except (ValueError, TaskNotFoundException, KeyError):
        task = None
    if task is None:
        raise Conflict(f"task {task_id} does not exist in this process")
    return task


def complete_user_task(wf: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    """Merge ``data`` into the READY user task, run it and the engine steps after it."""
    task = _find_task(wf, task_id)
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict(f"task {task_id} is not ready for completion "
                       f"(state {TaskState.get_name(task.state)})")
    payload = copy.deepcopy(dict(data))
    if hasattr(task.task_spec, "add_data_from_form"):
        task.task_spec.add_data_from_form(task, payload)
    else:
        task.set_data(**payload)
    _engine(task.run)
    _engine(wf.do_engine_steps)


# -- timers -----------------------------------------------------------------------------------

def _fire(task: Task, timer: TimerEventDefinition) -> None:
    if isinstance(timer, CycleTimerEventDefinition):
        value = dict(task._get_internal_data("event_value"))
        due = datetime.fromisoformat(value["next"])
        task._set_internal_data(event_value=dict(value, next=_PAST.isoformat()))
        task.task_spec._update(task)  # the cycle sees a past 'next', fires once, counts down
        after = task._get_internal_data("event_value")
        if isinstance(after, dict) and "next" in after:
            after["next"] = (due + timedelta(seconds=value["duration"])).isoformat()
    else:
        task._set_internal_data(event_fired=True)
        task.task_spec._update(task)


def _shift_new_timers(wf: BpmnWorkflow, before: set[UUID], offset: timedelta) -> None:
    """Timers that started during a simulated advance count from the simulated now."""
    if offset > timedelta(0):
        shift_timers(wf, offset, skip=before)


def advance_timers(wf: BpmnWorkflow, now: datetime | None = None) -> int:
    """Fire every timer due at or before ``now`` (default: real UTC now); returns how many.

    ``now`` may be in the future: due times are read from the timer's stored value and
    compared with ``now`` here (Spiff itself only compares with the wall clock), and timers
    that start as a consequence are re-based on ``now`` so simulated time is consistent.
    """
    now = _aware(now) if now is not None else datetime.now(UTC)
    # SpiffWorkflow fires what is due by the wall clock itself, in refresh_timers: count those
    # here (a timer gone, or a cycle's next firing moved on), or a real sweep reports none
    wall_due = _due_timers(wf, datetime.now(UTC))
    _engine(wf.refresh_timers)
    _engine(wf.do_engine_steps)
    still = _due_timers(wf, None)
    fired = sum(1 for key, at in wall_due.items() if still.get(key) != at)
    for _ in range(_MAX_TIMER_ROUNDS):
        due = [(t, timer) for t in _timer_tasks(wf) for timer in _timer_defs(t)
               if (at := _due_at(t, timer)) is not None and at <= now]
        if not due:
            break
        before = {t.id for t in _timer_tasks(wf)}
        for task, timer in due:
            _engine(functools.partial(_fire, task, timer))
        fired += len(due)
        _engine(wf.do_engine_steps)
        _shift_new_timers(wf, before, now - datetime.now(UTC))
    return fired


def _due_timers(wf: BpmnWorkflow, by: datetime | None) -> dict[tuple[UUID, int], datetime]:
    """(timer task, which of its timers) -> when it falls due, for those due by ``by`` (all
    when None)."""
    return {(t.id, i): at for t in _timer_tasks(wf) for i, timer in enumerate(_timer_defs(t))
            if (at := _due_at(t, timer)) is not None and (by is None or at <= by)}


# -- inspection -------------------------------------------------------------------------------

def workflow_status(wf: BpmnWorkflow) -> Status:
    """completed, waiting (for people, timers or events), or error (failed or stuck)."""
    return inspect(wf).status


def completed_path(wf: BpmnWorkflow) -> list[str]:
    """BPMN element ids of completed tasks, in completion order (engine-internal specs left out)."""
    tasks = [t for t in wf.get_tasks(state=TaskState.COMPLETED)
             if getattr(t.task_spec, "bpmn_id", None)]
    tasks.sort(key=lambda t: t.last_state_change)
    return [t.task_spec.bpmn_id for t in tasks]


@dataclass(frozen=True)
class Inspection:
    """What a service asks of a workflow after a step: its status and ready user tasks from
    one walk over its tasks (asked one by one, each walks them again)."""

    status: Status
    #: the READY user tasks, without copies of their data (projection to rows needs none)
    ready: list[ReadyTask]


def inspect(wf: BpmnWorkflow) -> Inspection:
    """:func:`workflow_status` and :func:`ready_user_tasks` (without data) at once: the same
    walk as theirs (READY or ERROR tasks, not inside completed subprocesses)."""
    tasks = wf.get_tasks(state=TaskState.READY | TaskState.ERROR)
    ready = [t for t in tasks if t.state == TaskState.READY and t.task_spec.manual]
    if any(t.state == TaskState.ERROR for t in tasks):
        status: Status = "error"
    elif wf.is_completed():
        status = "completed"
    elif ready or wf.waiting_events():
        status = "waiting"
    else:
        status = "error"
    return Inspection(status, [_ready_task(t, with_data=False) for t in ready])


def end_data(wf: BpmnWorkflow) -> dict[str, Any]:
    """The workflow's final data when completed, else the last completed task's data."""
    if wf.is_completed() and wf.data:
        return copy.deepcopy({k: v for k, v in wf.data.items() if k != "data_objects"})
    last = wf.last_task
    return copy.deepcopy(dict(last.data)) if last is not None else {}
