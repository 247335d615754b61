"""Finds every expression in BPMN and DMN and checks it (safety, timers, sample evaluation).

Each problem names the flow element (or DMN cell) and the source line of the expression, so a
policy author can go straight to it in a modeller or editor.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from disclosure_engine.engine import safe_eval
from disclosure_engine.engine.problems import Problem
from disclosure_engine.engine.safe_builtins import ExpressionError

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_ISO_LIKE = re.compile(r"^\s*(R\d*/|P(?=\d|T)|\d{4}-\d{2})", re.IGNORECASE)
QUOTE_HINT = 'timer expression must be a quoted string, e.g. "P10D"'

#: (namespace, local name) -> (mode, what)
_BPMN_EXPRESSIONS: dict[tuple[str, str], tuple[safe_eval.Mode, str]] = {
    (BPMN, "conditionExpression"): ("eval", "condition"),
    (BPMN, "condition"): ("eval", "condition"),
    (BPMN, "loopCardinality"): ("eval", "loop cardinality"),
    (BPMN, "completionCondition"): ("eval", "completion condition"),
    (BPMN, "loopCondition"): ("eval", "loop condition"),
    (BPMN, "script"): ("exec", "script"),
    (SPIFF, "preScript"): ("exec", "pre-script"),
    (SPIFF, "postScript"): ("exec", "post-script"),
    (BPMN, "timeDuration"): ("eval", "timeDuration"),
    (BPMN, "timeDate"): ("eval", "timeDate"),
    (BPMN, "timeCycle"): ("eval", "timeCycle"),
}


def local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def owner(node: etree._Element) -> etree._Element:
    """The flow element an expression belongs to (not its event definition or wrapper)."""
    current: etree._Element | None = node
    while current is not None:
        name = local(current)
        if current.get("id") and not name.endswith("EventDefinition") and name not in (
                "conditionExpression", "multiInstanceLoopCharacteristics",
                "standardLoopCharacteristics", "extensionElements"):
            return current
        current = current.getparent()
    return node


def _problem(path: str, node: etree._Element, message: str) -> Problem:
    return Problem(path, node.sourceline or 1, owner(node).get("id") or "-", message)


def timer_problem(kind: str, text: str) -> str | None:
    """Why a timer expression is unusable, judged by evaluating it with no task data."""
    reason = safe_eval.check_expression(text, mode="eval")
    if reason is not None:
        return QUOTE_HINT if _ISO_LIKE.match(text) else f"unsafe {kind} expression: {reason}"
    stripped = text.strip()
    if _ISO_LIKE.match(stripped) and re.fullmatch(r"[A-Za-z0-9_]+", stripped):
        return QUOTE_HINT
    try:
        value = safe_eval.evaluate(text, {}, timeout_ms=200)
    except NameError:
        if _ISO_LIKE.match(stripped):
            return QUOTE_HINT  # e.g. R3/PT1H parses as a division of two unknown names
        return None  # the value comes from task data (e.g. due_period): checked at run time
    except ExpressionError as exc:
        return f"{kind} expression refused: {exc}"
    except Exception as exc:  # noqa: BLE001 - third-party code raises anything; report it
        return f"{kind} expression fails: {type(exc).__name__}: {exc}"
    if not isinstance(value, str):
        return f"{kind} must evaluate to an ISO 8601 string, got {type(value).__name__}"
    try:
        if kind == "timeDuration":
            if not value.strip().upper().startswith("P"):
                raise ValueError(value)
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeDate":
            TimerEventDefinition.parse_time_or_duration(value)
            if "W" not in value.upper() and not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip()):
                return f"timeDate {value!r} needs a UTC offset (e.g. +00:00); " \
                       "without one it is read in the server's local time"
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # noqa: BLE001 - third-party code raises anything; report it
        expected = {"timeDuration": "an ISO 8601 duration such as P10D",
                    "timeDate": "an ISO 8601 date-time such as 2025-01-31T09:00:00+00:00",
                    "timeCycle": "an ISO 8601 repeating interval such as R3/PT1H"}[kind]
        return f"{kind} {value!r} is not {expected}"
    return None


def bpmn_expression_problems(path: str, root: etree._Element) -> Iterator[Problem]:
    """Every expression-bearing node of a BPMN document, checked."""
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        spec = _BPMN_EXPRESSIONS.get((qname.namespace or "", qname.localname))
        if spec is None:
            continue
        mode, what = spec
        text = node.text or ""
        if not text.strip():
            if what in ("condition", "timeDuration", "timeDate", "timeCycle") and \
                    local(node.getparent()) != "sequenceFlow":
                yield _problem(path, node, f"{what} is empty")
            continue
        if what.startswith("time"):
            reason = timer_problem(what, text)
            if reason:
                yield _problem(path, node, reason)
            continue
        reason = safe_eval.check_expression(text, mode=mode)
        if reason is not None:
            yield _problem(path, node, f"{what} refused: {reason}")
        elif mode == "eval":
            sample = _sample_problem(text)
            if sample:
                yield _problem(path, node, f"{what} {sample}")


def _sample_problem(text: str) -> str | None:
    """Evaluate a condition with no data: only refusals and timeouts are errors here (missing
    names are normal; the data arrives at run time)."""
    try:
        safe_eval.evaluate(text, {}, timeout_ms=200)
    except ExpressionError as exc:
        return f"refused when evaluated: {exc}"
    except Exception:  # noqa: BLE001 - third-party code raises anything; report it
        return None
    return None


# -- DMN -----------------------------------------------------------------------------------

def dmn_cell_expression(input_expr: str, match: str) -> str:
    """The Python text SpiffWorkflow's DMN engine evaluates for an input cell (see notes)."""
    replaced = re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", match)
    if "dmninputexpr" in replaced:
        return replaced
    try:
        ast.parse(match)  # Spiff's own test (script_engine.validate): exec-mode parse only
        return f"({input_expr}) == ({match})"
    except SyntaxError:
        return input_expr + match


def dmn_expression_problems(path: str, root: etree._Element) -> Iterator[Problem]:
    """Input expressions, input cells (as Spiff combines them) and output cells."""
    for table in (n for n in root.iter() if local(n) == "decisionTable"):
        inputs = [n for n in table if local(n) == "input"]
        input_texts: list[str] = []
        for inp in inputs:
            expr = next((n for n in inp.iter() if local(n) == "text"), None)
            text = (expr.text or "").strip() if expr is not None else ""
            input_texts.append(text)
            if not text:
                yield Problem(path, inp.sourceline or 1, inp.get("id") or "-",
                              "decision input has no expression")
                continue
            reason = safe_eval.check_expression(text, mode="eval")
            if reason:
                yield Problem(path, expr.sourceline or 1, inp.get("id") or "-",
                              f"input expression refused: {reason}")
        outputs = [n for n in table if local(n) == "output"]
        for rule in (n for n in table if local(n) == "rule"):
            yield from _boolean_output_problems(path, rule, outputs)
            cells = [n for n in rule if local(n) in ("inputEntry", "outputEntry")]
            in_index = 0
            for cell in cells:
                text_node = next((n for n in cell if local(n) == "text"), None)
                text = (text_node.text or "").strip() if text_node is not None else ""
                is_input = local(cell) == "inputEntry"
                index, in_index = in_index, in_index + (1 if is_input else 0)
                if not text:
                    continue
                if is_input and index < len(input_texts) and input_texts[index]:
                    expr = dmn_cell_expression(input_texts[index], text)
                else:
                    expr = text
                reason = safe_eval.check_expression(expr, mode="eval")
                if reason:
                    kind = "input" if is_input else "output"
                    yield Problem(path, cell.sourceline or 1, cell.get("id") or rule.get("id") or "-",
                                  f"{kind} cell {text!r} refused: {reason}")


def _boolean_output_problems(path: str, rule: etree._Element, outputs: list[etree._Element]) -> Iterator[Problem]:
    """An output declared ``typeRef="boolean"`` whose cell is a literal that is not True or
    False ('yes', "true", 1): gateways and forms test such outputs with ``== True``, so a text
    would silently take the other branch. Other type annotations are not enforced (real
    SpiffArena tables often declare "number" and return text, and SpiffWorkflow ignores them)."""
    cells = [n for n in rule if local(n) == "outputEntry"]
    for cell, output in zip(cells, outputs, strict=False):
        if (output.get("typeRef") or "").lower() != "boolean":
            continue
        text_node = next((n for n in cell if local(n) == "text"), None)
        text = (text_node.text or "").strip() if text_node is not None else ""
        if not text:
            continue
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue  # an expression: its value is only known at run time
        if not isinstance(value, bool):
            name = output.get("name") or output.get("id") or "-"
            yield Problem(path, cell.sourceline or 1, cell.get("id") or rule.get("id") or "-",
                          f"output cell {text!r} is not True or False, but output {name!r} is boolean "
                          "(typeRef): write True or False")


def all_expression_texts(root: etree._Element) -> list[tuple[etree._Element, Any]]:
    """(node, text) of BPMN expressions; used by tests to prove nothing is skipped."""
    out = []
    for node in root.iter():
        if isinstance(node.tag, str):
            q = etree.QName(node)
            if (q.namespace or "", q.localname) in _BPMN_EXPRESSIONS:
                out.append((node, node.text))
    return out
