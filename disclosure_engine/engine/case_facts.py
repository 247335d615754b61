"""The case's facts a running workflow carries, brought up to date when the case changes.

Every workflow starts with the case's MAPPA facts in its data (``services.instances.start_data``)
and its gateways, forms and decision records read them from there. When a fact changes while the
workflow runs (a MAPP meeting moves the case to another level), the steps still to come must see
the new value: a level 3 case's disclosure decision is the meeting's, not the lead agency's, even
if the consideration began at level 1. Finished steps keep what they saw: they are the record.
"""
from __future__ import annotations

from collections.abc import Mapping
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
