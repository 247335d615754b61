"""When completing a user task writes a decision record: the policy's ``records_decision`` and
``records_decision_when`` properties, read the same way by the runtime, the path runner and the
lint.

``records_decision`` = ``true`` marks a task whose completion can be the decision. Most such
steps always are (the officer's ``decide``, the forum's decision). A step that confirms another
step's decision can also refuse it: a chair who *returns* a proposal, a meeting that does *not
ratify* an out-of-meeting decision. Such an answer decides nothing, and a record written from it
would state the proposal as decided, with the refusing chair as decision maker. So the policy
names the answer that makes the step a decision::

    <spiffworkflow:property name="records_decision" value="true" />
    <spiffworkflow:property name="records_decision_when" value="chair_outcome == 'agreed'" />

The condition is an expression of the safe evaluator over the completed task's data; it may
read only fields the task's own form requires, so it can always be evaluated, and a quoted
answer compared with a choice field must be one of that field's options (the lint checks
both). When it is false the task is completed and audited as usual and no record is written.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from disclosure_engine.engine import safe_eval
from disclosure_engine.engine.safe_builtins import CONSTANTS, FUNCTIONS

RECORDS_DECISION = "records_decision"
RECORDS_DECISION_WHEN = "records_decision_when"
#: fields whose answer is itself the decision (vocabulary ``decision``, a CSODS forum outcome):
#: a form that asks one of them is the deciding step, not a confirmation of another's
OUTCOME_FIELDS = ("decision", "csods_outcome")


def records_decision(properties: Mapping[str, Any]) -> bool:
    """Whether the task can record a decision at all (``records_decision`` = ``true``)."""
    return str(properties.get(RECORDS_DECISION, "")).strip().lower() == "true"


def decision_condition(properties: Mapping[str, Any]) -> str | None:
    """The task's ``records_decision_when`` expression, or None when it has none."""
    text = str(properties.get(RECORDS_DECISION_WHEN, "") or "").strip()
    return text or None


def decides(properties: Mapping[str, Any], data: Mapping[str, Any], *, element_id: str = "task",
            timeout_ms: int | None = None) -> bool:
    """Whether completing the task with ``data`` (the task's data with the submission merged
    in) writes a decision record.

    A condition that cannot be evaluated is a fault of the model, never of the person
    completing the task: it raises :class:`~disclosure_engine.engine.runtime.WorkflowError`
    naming the element, so nothing is written rather than a record that may be wrong.
    """
    if not records_decision(properties):
        return False
    condition = decision_condition(properties)
    if condition is None:
        return True
    try:
        return bool(safe_eval.evaluate(condition, data, timeout_ms=timeout_ms))
    except Exception as exc:  # noqa: BLE001 - any failure of the policy's expression
        from disclosure_engine.engine.runtime import WorkflowError

        raise WorkflowError(f"{element_id}: {RECORDS_DECISION_WHEN} {condition!r} could not be "
                            f"evaluated: {exc}", element_id) from exc


# -- lint -------------------------------------------------------------------------------------

def read_names(text: str) -> set[str]:
    """Task data names an expression reads (not functions, constants or comprehension
    variables); ``text`` must already pass the safe evaluator's check."""
    tree = safe_eval.parse_checked(text, "eval")
    bound = {t.id for node in ast.walk(tree) if isinstance(node, ast.comprehension)
             for t in ast.walk(node.target) if isinstance(t, ast.Name)}
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            and node.id not in bound and node.id not in FUNCTIONS and node.id not in CONSTANTS}


def condition_problems(text: str, schema: Mapping[str, Any] | None) -> list[str]:
    """Why ``records_decision_when`` = ``text`` is unusable on a task with this form."""
    reason = safe_eval.check_expression(text, mode="eval")
    if reason is not None:
        return [f"{RECORDS_DECISION_WHEN} refused: {reason}"]
    props = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or [])
    problems = []
    for name in sorted(read_names(text)):
        if name not in props or name not in required:
            problems.append(f"{RECORDS_DECISION_WHEN} reads {name!r}, which is not a required "
                            "field of this task's form (the condition is about this step's answer)")
    for name, value in _compared_constants(text):
        options = (props.get(name) or {}).get("enum") if isinstance(props.get(name), dict) else None
        if isinstance(options, list) and value not in options:
            shown = ", ".join(repr(o) for o in options)
            problems.append(f"{RECORDS_DECISION_WHEN} compares {name!r} with {value!r}, which is "
                            f"not one of its answers ({shown})")
    return problems


def _compared_constants(text: str) -> Iterator[tuple[str, Any]]:
    """(field, constant) for ``field == 'x'``, ``'x' != field``, ``field in ('x', 'y')``."""
    tree = safe_eval.parse_checked(text, "eval")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:]):
            for name, other in ((left, right), (right, left)):
                if not isinstance(name, ast.Name):
                    continue
                if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(other, ast.Constant):
                    yield name.id, other.value
                elif isinstance(op, (ast.In, ast.NotIn)) and name is left and \
                        isinstance(other, (ast.Tuple, ast.List, ast.Set)):
                    for item in other.elts:
                        if isinstance(item, ast.Constant):
                            yield name.id, item.value
