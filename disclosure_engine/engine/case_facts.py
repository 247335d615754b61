"""The case's facts a running workflow carries, brought up to date when the case changes.

Every workflow starts with the case's MAPPA facts in its data (``services.instances.start_data``)
and its gateways, forms and decision records read them from there. When a fact changes while the
workflow runs (a MAPP meeting moves the case to another level), the steps still to come must see
the new value: a level 3 case's disclosure decision is the meeting's, not the lead agency's, even
if the consideration began at level 1. Finished steps keep what they saw: they are the record.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


def refresh_facts(wf: BpmnWorkflow, facts: Mapping[str, Any]) -> int:
    """Set ``facts`` in the data of every step of ``wf`` not finished yet (ready, waiting, or
    predicted), where the step carries the fact already; returns how many steps changed.

    Only facts a step already carries are changed, so a workflow that never read one is left
    alone; predicted steps inherit their parent's data again when they become ready, which by
    then holds the new value too."""
    changed = 0
    for task in wf.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        data = task.data
        updates = {name: value for name, value in facts.items() if name in data and data[name] != value}
        if updates:
            data.update(updates)
            changed += 1
    if any(name in wf.data and wf.data[name] != value for name, value in facts.items()):
        wf.data.update({name: value for name, value in facts.items() if name in wf.data})
    return changed


def push_back_dates(wf: BpmnWorkflow, names: tuple[str, ...], *, days: int) -> dict[str, str]:
    """Move the dates (``YYYY-MM-DD`` text or dates) held in ``names`` by ``days`` in every step
    not finished yet, as :func:`refresh_facts` does; returns the new values by name (names the
    steps to come do not hold, or hold something that is not a date, are left alone)."""
    moved: dict[str, str] = {}
    for task in wf.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        for name in names:
            if name in moved or name not in task.data:
                continue
            day = _as_date(task.data[name])
            if day is not None:
                moved[name] = (day + timedelta(days=days)).isoformat()
    if moved:
        refresh_facts(wf, moved)
    return moved


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None  # a date-time is an instant: not this function's to move by calendar days
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
