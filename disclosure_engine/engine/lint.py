"""Product rules for BPMN a policy team deploys, beyond what SpiffWorkflow itself checks.

SpiffWorkflow accepts a user task with no form, no role and no deadline, and it parses service
tasks and data stores this product cannot run. Such a model would deploy and then strand cases,
so it is refused up front, each problem as ``PATH:LINE: element-id: message``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from disclosure_engine.domain.roles import ROLES
from disclosure_engine.domain.vocabulary import REASON_PAIRS
from disclosure_engine.engine.bundle import decision_ids, process_ids
from disclosure_engine.engine.deadline_props import (
    enclosing_process,
    merge,
    process_defaults_of,
)
from disclosure_engine.engine.expressions import BPMN, SPIFF, local
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
_HUMAN_TASKS = ("userTask", "manualTask")
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


def lanes_by_element(root: etree._Element) -> dict[str, str]:
    """flow element id -> name of the innermost lane holding it."""
    lanes: dict[str, str] = {}
    for lane in (n for n in root.iter() if local(n) == "lane"):
        for ref in (n for n in lane if local(n) == "flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = (lane.get("name") or lane.get("id") or "").strip()
    return lanes


def is_iso_duration(value: str) -> bool:
    if not value or not value.strip().upper().startswith("P"):
        return False
    try:
        TimerEventDefinition.parse_iso_duration(value.strip())
    except Exception:  # noqa: BLE001 - third-party code raises anything; report it
        return False
    return True


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
    fields = _schema_fields(schema)
    for field, reasons in REASON_PAIRS.items():
        if field in fields and not fields.intersection(reasons):
            yield _problem(path, node, f"form {form} asks for {field!r} but none of its reasons "
                                       f"fields ({', '.join(reasons)})")


def human_task_problems(path: str, node: etree._Element, lane: str | None,
                        files: Mapping[str, bytes]) -> Iterator[Problem]:
    kind = local(node)
    props = merge(process_defaults_of(enclosing_process(node)), properties_of(node))
    if kind == "userTask":
        form = props.get("formJsonSchemaFilename")
        if not form:
            yield _problem(path, node, "user task has no form (spiffworkflow:property "
                                       "formJsonSchemaFilename)")
        else:
            yield from form_problems(path, node, form, files)
        ui = props.get("formUiSchemaFilename")
        if ui and ui not in files:
            yield _problem(path, node, f"UI schema file {ui} is not in the bundle")
    role = props.get("candidate_role")
    if role:
        if role not in ROLES:
            yield _problem(path, node, f"candidate_role {role!r} is not a role "
                                       f"(one of {', '.join(ROLES)})")
    elif lane:
        if lane.lower() not in ROLES:
            yield _problem(path, node, f"lane {lane!r} is not a role (one of {', '.join(ROLES)}); "
                                       "rename the lane or set candidate_role")
    else:
        yield _problem(path, node, f"{kind} has no candidate role (set property candidate_role "
                                   "or put it in a lane named after a role)")
    period, days = props.get("due_period"), props.get("due_working_days")
    if period:
        if not is_iso_duration(period):
            yield _problem(path, node, f"due_period {period!r} is not an ISO 8601 duration (e.g. P10D)")
    elif days:
        if not days.isdigit() or int(days) <= 0:
            yield _problem(path, node, f"due_working_days {days!r} must be a positive whole number")
    else:
        yield _problem(path, node, f"{kind} has no due period (property due_period, e.g. P10D, "
                                   "or due_working_days)")
    for name in ("reminder_before", "escalate_after"):
        if props.get(name) and not is_iso_duration(props[name]):
            yield _problem(path, node, f"{name} {props[name]!r} is not an ISO 8601 duration")
    escalate_to = props.get("escalate_to_role")
    if escalate_to and escalate_to not in ROLES:
        yield _problem(path, node, f"escalate_to_role {escalate_to!r} is not a role")


def is_generated_id(value: str) -> bool:
    return bool(GENERATED_ID.match(value) or _RANDOM_HEX.search(value))


def lint_bpmn(path: str, root: etree._Element, files: Mapping[str, bytes],
              all_roots: Mapping[str, etree._Element], *, shipped: bool = False) -> list[Problem]:
    """Product rules for one BPMN document of a bundle (``all_roots``: every parsed file)."""
    problems: list[Problem] = []
    lanes = lanes_by_element(root)
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
        elif kind in _HUMAN_TASKS:
            problems.extend(human_task_problems(path, node, lanes.get(owner_id or ""), files))
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
    return problems
