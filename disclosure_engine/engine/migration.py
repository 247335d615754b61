"""Move a running instance to another version of its workflow, safely.

Alignment is by BPMN element id (SpiffWorkflow's spec diff). An instance is *safe* to migrate
when no element it has already completed, started or failed in was changed or removed in the
new version: what happened stays true of the process it is now said to run. Only READY tasks
are reset and re-predicted; waiting timers keep their due times, so a migration never restarts
a deadline clock (the task rows' own deadlines are carried across by the service).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from disclosure_engine.engine.compiler import CompiledWorkflow
from disclosure_engine.engine.script_engine import make_script_engine
from disclosure_engine.engine.serializer import dump_state, load_state, serializer

#: states in which a task's element has already shaped what happened
_HISTORIC = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class MigrationCheck:
    safe: bool
    reasons: list[str] = field(default_factory=list)
    changed_elements: list[str] = field(default_factory=list)
    removed_elements: list[str] = field(default_factory=list)


def _element(task: Any) -> str:
    spec = task.task_spec
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def _diffs(old: CompiledWorkflow, new: CompiledWorkflow, state: dict[str, Any]) -> tuple[Any, Any, Any]:
    wf = load_state(old, state)
    registry = serializer().registry
    top, subs = diff_workflow(registry, wf, new.spec, new.subprocess_specs)
    return wf, top, subs


def check_migration(old: CompiledWorkflow, new: CompiledWorkflow, state: dict[str, Any]) -> MigrationCheck:
    """Whether this instance can move from ``old`` to ``new`` without rewriting its history."""
    _wf, top, subs = _diffs(old, new, state)
    return _check(top, subs)


def migrate_if_safe(old: CompiledWorkflow, new: CompiledWorkflow,
                    state: dict[str, Any]) -> tuple[MigrationCheck, Any]:
    """Check and, when safe, migrate in one load and one diff; returns (check, migrated
    workflow or None). Only READY tasks are reset, so timers keep their due times."""
    wf, top, subs = _diffs(old, new, state)
    check = _check(top, subs)
    if not check.safe:
        return check, None
    _apply(wf, top, subs, new)
    return check, wf


def _check(top: Any, subs: dict[Any, Any]) -> MigrationCheck:
    reasons: list[str] = []
    changed = sorted({_element(t) for t in top.changed if getattr(t.task_spec, "bpmn_id", None)})
    removed = sorted({_element(t) for t in top.removed if getattr(t.task_spec, "bpmn_id", None)})
    for task in top.changed:
        if task.state & _HISTORIC and getattr(task.task_spec, "bpmn_id", None):
            reasons.append(f"{_element(task)} was changed after this instance had already done it")
    for task in top.removed:
        if task.state & (_HISTORIC | TaskState.READY | TaskState.WAITING) and getattr(task.task_spec, "bpmn_id", None):
            reasons.append(f"{_element(task)} was removed but this instance has reached it")
    for sp_id, diff in subs.items():
        if diff is None:
            reasons.append(f"subprocess {sp_id} has no counterpart in the new version")
        elif any(t.state & _HISTORIC for t in diff.changed) or diff.removed:
            reasons.append(f"subprocess {sp_id} changed where this instance has already been")
    return MigrationCheck(safe=not reasons, reasons=sorted(set(reasons)),
                          changed_elements=changed, removed_elements=removed)


def migrate_state(old: CompiledWorkflow, new: CompiledWorkflow, state: dict[str, Any]) -> dict[str, Any]:
    """The instance's state re-based on ``new``; only READY tasks are reset (timers keep time)."""
    wf, top, subs = _diffs(old, new, state)
    _apply(wf, top, subs, new)
    return dump_state(wf)


def _apply(wf: Any, top: Any, subs: dict[Any, Any], new: CompiledWorkflow) -> None:
    migrate_workflow(top, wf, new.spec, reset_mask=TaskState.READY)
    for sp_id, diff in subs.items():
        if diff is not None:
            sub = wf.subprocesses[sp_id]
            migrate_workflow(diff, sub, new.subprocess_specs[sub.spec.name], reset_mask=TaskState.READY)
    wf.script_engine = make_script_engine(new.timeout_ms)
