"""Product rules for BPMN a policy team deploys, beyond what SpiffWorkflow itself checks.

SpiffWorkflow accepts a user task with no form, no role and no deadline, and it parses service
tasks and data stores this product cannot run. Such a model would deploy and then strand cases,
so it is refused up front, each problem as ``PATH:LINE: element-id: message``. The checks here
read the XML; a task's role and deadlines are checked on the compiled spec instead
(``engine.task_checks``), because that is what the runtime reads.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from lxml import etree

from disclosure_engine.domain.forms import AFTER_TODAY
from disclosure_engine.domain.vocabulary import REASON_PAIRS
from disclosure_engine.engine import decision_rules, safe_eval
from disclosure_engine.engine.bundle import decision_ids, process_ids
from disclosure_engine.engine.expressions import BPMN, SPIFF, local
from disclosure_engine.engine.handoff import handoff_problems
from disclosure_engine.engine.problems import Problem

GENERATED_ID = re.compile(
    r"^(Activity|Event|Gateway|Flow|StartEvent|EndEvent|Task|UserTask|ManualTask|ScriptTask|"
    r"Lane|LaneSet|Participant|Collaboration|DataObject|DataObjectReference|Process|Proccess|"
    r"SubProcess|CallActivity|BusinessRuleTask|Timer|TimerEventDefinition|MessageFlow|"
    r"Association|TextAnnotation|Group|Definitions|Decision|Rule|DecisionRule|InputClause|"
    r"OutputClause|UnaryTests|LiteralExpression|ErrorEventDefinition|EscalationEventDefinition|"
    r"Escalation|Error|Signal|Message)_(?=[0-9a-z]*[0-9])[0-9a-z]{5,}$",
)
_RANDOM_HEX = re.compile(r"(?<![0-9a-f])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}(?![0-9a-f])",
                         re.IGNORECASE)
_UNSUPPORTED: dict[str, str] = {
    "serviceTask": "service tasks are not supported: this product calls no external services "
                   "from a workflow (model the step as a user task)",
    "sendTask": "send tasks are not supported: instances do not exchange messages",
    "receiveTask": "receive tasks are not supported: instances do not exchange messages",
    "messageEventDefinition": "message events are not supported: instances do not exchange "
                              "messages (use a user task or a timer)",
    "messageFlow": "message flows are not supported: instances do not exchange messages",
    "dataStore": "data stores are not supported: case data lives in task data and the case record",
    "dataStoreReference": "data stores are not supported: case data lives in task data and the "
                          "case record",
    "complexGateway": "complex gateways are not supported",
    "transaction": "transactions are not supported",
}


def _problem(path: str, node: etree._Element, message: str, element_id: str | None = None) -> Problem:
    return Problem(path, node.sourceline or 1, element_id or node.get("id") or "-", message)


def properties_of(node: etree._Element) -> dict[str, str]:
    props: dict[str, str] = {}
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                              {"bpmn": BPMN, "spiffworkflow": SPIFF}):
        if prop.get("name"):
            props[prop.get("name")] = (prop.get("value") or "").strip()
    return props


def _schema_fields(schema: Any) -> set[str]:
    """Every property name anywhere in a JSON Schema (nested objects, allOf, dependencies)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            found.update(str(k) for k in props)
        for value in schema.values():
            found |= _schema_fields(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= _schema_fields(item)
    return found


def _keyword_properties(schema: Any, keyword: str, depth: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, subschema) of every property anywhere in a JSON Schema that carries ``keyword``."""
    if depth > 16:
        return
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for name, prop in props.items():
                if isinstance(prop, dict) and keyword in prop:
                    yield str(name), prop
        for value in schema.values():
            yield from _keyword_properties(value, keyword, depth + 1)
    elif isinstance(schema, list):
        for item in schema:
            yield from _keyword_properties(item, keyword, depth + 1)


def form_problems(path: str, node: etree._Element, form: str,
                  files: Mapping[str, bytes]) -> Iterator[Problem]:
    if form not in files:
        yield _problem(path, node, f"form file {form} is not in the bundle (put it beside the BPMN)")
        return
    try:
        schema = json.loads(files[form].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield _problem(path, node, f"form file {form} is not valid JSON: {exc}")
        return
    if not isinstance(schema, dict):
        yield _problem(path, node, f"form file {form} must hold a JSON Schema object")
        return
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        yield _problem(path, node, f"form file {form} is not a valid JSON Schema: {exc.message}")
        return
    for name, prop in _keyword_properties(schema, AFTER_TODAY):
        if prop[AFTER_TODAY] is not True or prop.get("format") not in ("date", "date-time"):
            yield _problem(path, node, f"form {form}: {name!r} has {AFTER_TODAY!r}, which must be "
                                       "true on a field with format date or date-time")
    fields = _schema_fields(schema)
    for field, reasons in REASON_PAIRS.items():
        if field in fields and not fields.intersection(reasons):
            yield _problem(path, node, f"form {form} asks for {field!r} but none of its reasons "
                                       f"fields ({', '.join(reasons)})")


def user_task_problems(path: str, node: etree._Element, files: Mapping[str, bytes]) -> Iterator[Problem]:
    """A user task's form files. Its role and deadlines are checked on the compiled spec, the
    way the runtime reads them (``engine.task_checks``)."""
    props = properties_of(node)
    form = props.get("formJsonSchemaFilename")
    if not form:
        yield _problem(path, node, "user task has no form (spiffworkflow:property "
                                   "formJsonSchemaFilename)")
    else:
        yield from form_problems(path, node, form, files)
    ui = props.get("formUiSchemaFilename")
    if ui and ui not in files:
        yield _problem(path, node, f"UI schema file {ui} is not in the bundle")


def _form_schema(props: Mapping[str, str], files: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The task's form as a dict, or None (an unreadable form is ``form_problems``' to report)."""
    try:
        schema = json.loads(files[props["formJsonSchemaFilename"]].decode("utf-8"))
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return schema if isinstance(schema, dict) else None


def _routing_names(root: etree._Element, element_id: str) -> set[str]:
    """Task data names read by the conditions of the gateways straight after ``element_id``
    (following gateway to gateway): the answers that choose the route out of the step."""
    flows = [n for n in root.iter() if local(n) == "sequenceFlow"]
    kinds = {n.get("id"): local(n) for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    names: set[str] = set()
    seen: set[str] = set()
    todo = [f.get("targetRef") for f in flows if f.get("sourceRef") == element_id]
    while todo:
        target = todo.pop()
        if not target or target in seen or not kinds.get(target, "").endswith("Gateway"):
            continue
        seen.add(target)
        for flow in (f for f in flows if f.get("sourceRef") == target):
            condition = next((c.text or "" for c in flow if local(c) == "conditionExpression"), "")
            if condition.strip() and safe_eval.check_expression(condition, mode="eval") is None:
                names |= decision_rules.read_names(condition)
            todo.append(flow.get("targetRef"))
    return names


def decision_property_problems(path: str, node: etree._Element, root: etree._Element,
                               files: Mapping[str, bytes]) -> Iterator[Problem]:
    """``records_decision`` and ``records_decision_when`` as the engine reads them
    (``engine.decision_rules``): a condition must be usable, and a step that confirms another
    step's decision but can also send it back or refuse it must say which answers decide."""
    props = properties_of(node)
    condition = decision_rules.decision_condition(props)
    records = decision_rules.records_decision(props)
    schema = _form_schema(props, files)
    if condition is not None and not records:
        yield _problem(path, node, f"{decision_rules.RECORDS_DECISION_WHEN} has no effect without "
                                   f"{decision_rules.RECORDS_DECISION} = true")
        return
    if condition is not None:
        for message in decision_rules.condition_problems(condition, schema):
            yield _problem(path, node, message)
        return
    if not records or schema is None:
        return
    fields = schema.get("properties") or {}
    if any(name in fields for name in decision_rules.OUTCOME_FIELDS):
        return  # the step asks the decision itself: every answer is one
    routed = sorted(_routing_names(root, node.get("id") or "") & set(fields))
    if routed:
        name = routed[0]
        options = (fields.get(name) or {}).get("enum") if isinstance(fields.get(name), dict) else None
        example = f"{name} == {options[0]!r}" if isinstance(options, list) and options else f"{name} == ..."
        yield _problem(path, node, f"this step records a decision, but its answer to {name!r} chooses "
                                   f"the route after it: set {decision_rules.RECORDS_DECISION_WHEN} to the "
                                   f"answers that are a decision (e.g. {example}), so an answer that "
                                   "returns or refuses the decision records none")


def is_generated_id(value: str) -> bool:
    return bool(GENERATED_ID.match(value) or _RANDOM_HEX.search(value))


def lint_bpmn(path: str, root: etree._Element, files: Mapping[str, bytes],
              all_roots: Mapping[str, etree._Element], *, shipped: bool = False) -> list[Problem]:
    """Product rules for one BPMN document of a bundle (``all_roots``: every parsed file)."""
    problems: list[Problem] = []
    known_processes = {pid for r in all_roots.values() for pid in process_ids(r)}
    known_decisions = {d for r in all_roots.values() for d in decision_ids(r)}
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN:
            continue
        kind = local(node)
        owner_id = node.get("id")
        if kind in _UNSUPPORTED:
            target = node if owner_id else node.getparent()
            problems.append(_problem(path, node, _UNSUPPORTED[kind], target.get("id")))
        elif kind == "userTask":
            problems.extend(user_task_problems(path, node, files))
            problems.extend(decision_property_problems(path, node, root, files))
        elif kind == "businessRuleTask":
            decision = node.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId",
                                     namespaces={"bpmn": BPMN, "spiffworkflow": SPIFF})
            if not (decision or "").strip():
                problems.append(_problem(path, node, "business rule task names no decision "
                                                     "(spiffworkflow:calledDecisionId)"))
            elif decision.strip() not in known_decisions:
                problems.append(_problem(path, node, f"decision {decision.strip()!r} is not "
                                                     "defined in any DMN file of the bundle"))
        elif kind == "callActivity":
            called = node.get("calledElement")
            if not called:
                problems.append(_problem(path, node, "call activity names no process"))
            elif called not in known_processes:
                problems.append(_problem(path, node, f"called process {called!r} is not defined "
                                                     "in any BPMN file of the bundle"))
        if shipped and owner_id and kind != "definitions" and is_generated_id(owner_id):
            problems.append(_problem(path, node, f"element id {owner_id!r} looks generated; "
                                                 "shipped workflows need stable names "
                                                 "(e.g. assess_tests)"))
    problems.extend(handoff_problems(path, root, shipped=shipped))
    return problems
