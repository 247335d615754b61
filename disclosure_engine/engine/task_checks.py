"""Lint of each human task as the runtime will create it: role and deadlines, from the compiled spec.

A task row gets its candidate role from what SpiffWorkflow parsed (the task spec's lane) and its
deadlines from ``domain.deadlines.due_at_for``. Checking the XML with rules of our own let
models through that then failed, or took the wrong role, when the task became ready (for
``s327a_consideration``, inside case creation). So this check asks the same functions the
runtime asks (``engine.task_rules``), on the compiled spec, with a fixed "now", and reports
their refusals as ``PATH:LINE: element-id: message``.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from lxml import etree

from disclosure_engine.domain.deadlines import due_at_for
from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.engine import task_rules
from disclosure_engine.engine.compiler import CompiledWorkflow
from disclosure_engine.engine.expressions import local
from disclosure_engine.engine.problems import Problem

#: the "now" deadlines are computed from in the lint; what is refused does not depend on it
#: (a duration too long for the calendar from this date is refused too: see ``_shift``)
LINT_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def compiled_task_problems(compiled: CompiledWorkflow,
                           roots: Mapping[str, etree._Element]) -> list[Problem]:
    """Every human task the compiled workflow can make ready, checked as the runtime creates it."""
    problems: list[Problem] = []
    indexes: dict[str, dict[str, etree._Element]] = {}
    human_ids = {spec.bpmn_id or spec.name for _file, spec in task_rules.human_task_specs(compiled)}
    for process_file, spec in task_rules.human_task_specs(compiled):
        path = process_file or compiled.bundle.primary
        if path not in indexes:
            indexes[path] = _ids(roots.get(path))
        element_id = spec.bpmn_id or spec.name
        node = indexes[path].get(element_id)
        line = (node.sourceline if node is not None else None) or 1
        kind = local(node) if node is not None else "task"
        problems.extend(Problem(path, line, element_id, message)
                        for message in _task_messages(compiled, process_file, spec, kind, node))
        problems.extend(Problem(path, line, element_id, message)
                        for message in _four_eyes_messages(spec, element_id, human_ids, indexes[path]))
    return problems


def _four_eyes_messages(spec: object, element_id: str, human_ids: set[str],
                        elements: Mapping[str, etree._Element]) -> Iterator[str]:
    """``not_completed_by`` must name other user tasks of the workflow: a misspelt id would
    silently check nothing, and only a task people complete has a completer to compare."""
    named = task_rules.not_completed_by(task_rules.spec_properties(spec))
    written = task_rules.spec_properties(spec).get(task_rules.NOT_COMPLETED_BY)
    if written is not None and not named:
        yield f"{task_rules.NOT_COMPLETED_BY} is empty: name the earlier user task(s) whose completer may not do this one"
    for other in named:
        if other == element_id:
            yield (f"{task_rules.NOT_COMPLETED_BY} names the task itself ({other!r}): name the earlier "
                   "user task(s) whose completer may not do this one")
        elif other not in human_ids:
            node = elements.get(other)
            what = f"a BPMN {local(node)}, not a user task" if node is not None else "not a user task of this workflow"
            yield f"{task_rules.NOT_COMPLETED_BY} names {other!r}, which is {what}"


def _task_messages(compiled: CompiledWorkflow, process_file: str | None, spec: object, kind: str,
                   node: etree._Element | None) -> Iterator[str]:
    props = task_rules.spec_properties(spec)
    lane = getattr(spec, "lane", None)
    problem = task_rules.role_problem(props, lane, kind)
    if problem is not None:
        hint = _lane_hint(node) if task_rules.candidate_role(props, lane) is None else None
        yield f"{problem}: {hint}" if hint else problem
    element_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", "")
    merged = task_rules.deadline_properties(compiled.bundle, process_file, element_id, props)
    try:
        plan = due_at_for(merged, LINT_NOW)
    except ValidationFailed as exc:
        yield task_rules.refusal(exc)
        return
    if plan.due_at is None:
        yield f"{kind} has no due period (property due_period, e.g. P10D, or due_working_days)"
    due_by = merged.get("due_by")
    if due_by:
        from disclosure_engine.engine import safe_eval

        reason = safe_eval.check_expression(due_by, mode="eval")
        if reason:
            yield f"due_by {due_by!r} is not a safe expression: {reason}"


def _ids(root: etree._Element | None) -> dict[str, etree._Element]:
    if root is None:
        return {}
    return {n.get("id"): n for n in root.iter() if isinstance(n.tag, str) and n.get("id")}


def _lane_hint(node: etree._Element | None) -> str | None:
    """Why a task that looks as if it sits in a lane got none from SpiffWorkflow.

    SpiffWorkflow takes the role from the lane's ``name`` (not its id) and matches a
    ``flowNodeRef`` to the element id exactly (spaces or line breaks around it match nothing).
    A task in an embedded subprocess gets the subprocess's lane, so its ancestors are looked at.
    """
    if node is None:
        return None
    ids = [n.get("id") for n in [node, *node.iterancestors()]
           if isinstance(n.tag, str) and local(n) != "process" and n.get("id")]
    root = node.getroottree().getroot()
    for lane in (n for n in root.iter() if isinstance(n.tag, str) and local(n) == "lane"):
        for ref in (n for n in lane if isinstance(n.tag, str) and local(n) == "flowNodeRef"):
            text = ref.text or ""
            if text.strip() not in ids:
                continue
            if text != text.strip():
                return (f"the flowNodeRef {text.strip()!r} in lane {lane.get('id')!r} has spaces or "
                        "line breaks around the id, and SpiffWorkflow matches it exactly")
            if not (lane.get("name") or "").strip():
                return (f"lane {lane.get('id')!r} has no name, and the lane's name (not its id) is "
                        "the role")
    return None
