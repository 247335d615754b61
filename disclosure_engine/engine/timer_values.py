"""Reading and moving the values of a workflow's waiting timers, without stepping the engine.

SpiffWorkflow stores, when a timer starts waiting, the instant or duration it waits for in the
timer task's internal data (``event_value``); it never re-evaluates the BPMN expression. So
when the product must say when a timer falls due (``next_timer_at``, a task's closing time),
or give time back after a pause, it reads or rewrites that stored value here. Firing timers
(which steps the engine) stays in ``runtime``.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task


def timer_definitions(task: Task) -> list[TimerEventDefinition]:
    """The timers a (catching) event task waits for: one, or several of a multiple event."""
    ed = task.task_spec.event_definition
    if isinstance(ed, TimerEventDefinition):
        return [ed]
    if isinstance(ed, MultipleEventDefinition):
        return [e for e in ed.event_definitions if isinstance(e, TimerEventDefinition)]
    return []


def due_at(task: Task, timer: TimerEventDefinition) -> datetime | None:
    """When a waiting timer falls due, from the value Spiff stored when it started waiting."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    try:
        if isinstance(timer, CycleTimerEventDefinition):
            if not isinstance(value, dict) or value.get("cycles") == 0:
                return None
            return aware(datetime.fromisoformat(value["next"]))
        if isinstance(timer, TimeDateEventDefinition):
            parsed = TimerEventDefinition.parse_time_or_duration(value)
            return aware(parsed) if isinstance(parsed, datetime) else None
        return aware(TimerEventDefinition.get_datetime(value))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def aware(value: datetime) -> datetime:
    """``value`` in UTC (a naive value is taken to be UTC already, as Spiff writes them)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timer_tasks(wf: BpmnWorkflow) -> list[Task]:
    """The tasks waiting for a timer, across subprocesses."""
    return [t for t in list(wf.event_manager.tasks.values()) if timer_definitions(t)]


def next_timer_at(wf: BpmnWorkflow) -> datetime | None:
    """Earliest due time of the pending timers (UTC aware), or None."""
    times = [d for t in timer_tasks(wf) for timer in timer_definitions(t)
             if (d := due_at(t, timer)) is not None]
    return min(times) if times else None


def shift_timers(wf: BpmnWorkflow, offset: timedelta, *, skip: set[UUID] | frozenset[UUID] = frozenset(),
                 dates: bool = False) -> None:
    """Move every waiting duration and cycle timer by ``offset`` (either sign), as if it had
    started ``offset`` later. Dates (``timeDate``) are absolute and stay, unless ``dates``: a
    review date does not move because the work around it is older, but a window that runs from
    a date recorded in the process (the representations request) does, when demo data ages the
    whole process. Demo data uses a negative offset to age a process together with its task
    rows, so a sweep fires what would have fallen due by now.
    """
    for task in timer_tasks(wf):
        if task.id in skip:
            continue
        value = task._get_internal_data("event_value")
        for timer in timer_definitions(task):
            if isinstance(timer, (DurationTimerEventDefinition, TimeDateEventDefinition) if dates
                          else DurationTimerEventDefinition) and isinstance(value, str):
                shifted = TimerEventDefinition.get_datetime(value) + offset
                task._set_internal_data(event_value=shifted.isoformat())
            elif isinstance(timer, CycleTimerEventDefinition) and isinstance(value, dict):
                nxt = datetime.fromisoformat(value["next"]) + offset
                task._set_internal_data(event_value=dict(value, next=nxt.isoformat()))


def extend_date_timers(wf: BpmnWorkflow, element_ids: Collection[str], *, days: int) -> list[dict[str, str]]:
    """Push the waiting date timers (``timeDate``) of the events ``element_ids`` back by
    ``days`` calendar days (a pause's, see ``engine.pause_rules``); returns, per timer moved,
    its element id and name and its due time before and after (ISO 8601, UTC)."""
    moved: list[dict[str, str]] = []
    if days <= 0 or not element_ids:
        return moved
    for task in timer_tasks(wf):
        element = getattr(task.task_spec, "bpmn_id", None)
        if element not in element_ids:
            continue
        for timer in timer_definitions(task):
            if not isinstance(timer, TimeDateEventDefinition):
                continue
            before = due_at(task, timer)
            if before is None:
                continue
            after = before + timedelta(days=days)
            task._set_internal_data(event_value=after.isoformat())
            moved.append({"element_id": str(element), "name": getattr(task.task_spec, "bpmn_name", None) or "",
                          "from": before.isoformat(), "to": after.isoformat()})
    return moved
