"""What a human task needs when it is created, read once from the compiled task spec.

The runtime (``runtime._ready_task`` and ``services.instances.task_projection``) and the lint
(``engine.task_checks``) both call these functions on what SpiffWorkflow actually parsed, so a
model the lint accepts cannot fail, or silently take another role, when its task becomes ready.
Reading the XML a second way drifted: the lint took a nameless lane's id as the role and
stripped whitespace that SpiffWorkflow keeps, while the runtime fell back to "officer".
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import ROLES, normalise_role
from disclosure_engine.engine.bundle import WorkflowBundle
from disclosure_engine.engine.deadline_props import merge, task_defaults


def spec_properties(task_spec: Any) -> dict[str, str]:
    """The task's own ``spiffworkflow:properties``, each value stripped.

    SpiffWorkflow keeps attribute values as written; a form name or ``records_decision`` with a
    stray space would otherwise name no form or no decision at runtime while the lint (which
    reads the XML) accepted it.
    """
    ext = getattr(task_spec, "extensions", None) or {}
    return {str(k): str(v).strip() for k, v in (ext.get("properties") or {}).items()}


def candidate_role(properties: Mapping[str, str], lane: str | None) -> str | None:
    """The role whose members may take the task: ``candidate_role`` if set, else the lane
    SpiffWorkflow gave the task spec (for a task in an embedded subprocess, the subprocess's
    lane), normalised (``roles.normalise_role``). None when neither names anything; whether it
    is a product role is :func:`role_problem`'s question."""
    return normalise_role(properties.get("candidate_role")) or normalise_role(lane)


def role_problem(properties: Mapping[str, str], lane: str | None, kind: str = "task") -> str | None:
    """Why the task has no usable candidate role (None when it has one). The lint reports it,
    the runtime raises it: a task is never silently given to a role nobody chose."""
    written = properties.get("candidate_role")
    role = candidate_role(properties, lane)
    if role is None:
        return (f"{kind} has no candidate role (set property candidate_role or put it in a lane "
                "named after a role)")
    if role in ROLES:
        return None
    if normalise_role(written):
        return f"candidate_role {written!r} is not a role (one of {', '.join(ROLES)})"
    return (f"lane {lane!r} is not a role (one of {', '.join(ROLES)}); rename the lane or set "
            "candidate_role")


def deadline_properties(bundle: WorkflowBundle, process_file: str | None, element_id: str,
                        properties: Mapping[str, str]) -> dict[str, str]:
    """The task's properties with its process's deadline defaults merged in: what
    ``domain.deadlines.due_at_for`` reads, in the lint (with a fixed now) and when the task is
    created."""
    return merge(task_defaults(bundle, process_file, element_id), properties)


def refusal(exc: ValidationFailed) -> str:
    """``due_at_for``'s refusal as one line naming the property (the lint's message, and the
    runtime's after the element id)."""
    return "; ".join(m for messages in exc.errors.values() for m in messages) or exc.message


def human_task_specs(compiled: Any) -> Iterator[tuple[str | None, Any]]:
    """(BPMN file, task spec) of every task a person completes (SpiffWorkflow's ``manual``
    specs: user, manual and plain tasks), in the main process and every subprocess it runs."""
    for process in [compiled.spec, *compiled.subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "manual", False):
                yield getattr(process, "file", None), task_spec


#: the four-eyes property: element ids of earlier user tasks whose completer may not do this one
NOT_COMPLETED_BY = "not_completed_by"
_ID_LIST = re.compile(r"[\s,]+")


def not_completed_by(properties: Mapping[str, str]) -> tuple[str, ...]:
    """The element ids a task's ``not_completed_by`` names (separated by commas or spaces), in
    the order written; empty when the task has no four-eyes rule."""
    value = properties.get(NOT_COMPLETED_BY) or ""
    return tuple(dict.fromkeys(part for part in _ID_LIST.split(value) if part))


def human_task_spec(compiled: Any, element_id: str) -> Any | None:
    """The task spec of the human task ``element_id`` (main process or a subprocess), or None."""
    for _process_file, spec in human_task_specs(compiled):
        if (getattr(spec, "bpmn_id", None) or spec.name) == element_id:
            return spec
    return None


def task_label(spec: Any, element_id: str) -> str:
    """A task's name as officers see it (the BPMN name, else its id)."""
    return str(getattr(spec, "bpmn_name", None) or element_id) if spec is not None else element_id
