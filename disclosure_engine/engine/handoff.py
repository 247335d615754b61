"""Hand-offs: an end event that starts another workflow for the same case, as policy says.

Policy teams write it on the end event (docs/workflows.md, "Hand-offs")::

    <bpmn:endEvent id="end_disclose">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="start_process" value="disclosure_delivery" />
          <spiffworkflow:property name="start_data" value="decision_id, legal_basis" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:endEvent>

``start_process_when`` (optional) is a safe expression over the ending process's data, e.g.
``s327a_handoff == True``: the hand-off happens only when it is true at the end.
``start_unless_running`` = ``true`` (optional): nothing starts while the case already has a
running instance of that workflow (a CSODS application about an offender whose s.327A
consideration is under way adds to it rather than starting a second one).

``start_process`` is the workflow key to start; ``start_data`` names the start fields to pass
(default ``decision_id, legal_basis``): ``decision_id`` is the ending process's current decision,
``legal_basis`` that decision's legal basis (else the process's own ``legal_basis``), any other
name the ending process's value of it. The case's own facts are always passed.

A started workflow may say on its ``bpmn:process`` which decisions it takes:
``decision_outcome`` (e.g. ``disclose``) means a ``decision_id`` start field must name a current
decision of the case with that outcome (checked by ``services.processes``); and which start
fields it reads: ``start_fields`` (e.g. ``scheme_route, application_reference``), each None
when a start does not give it.

This module only reads the properties (from the compiled spec, as the runtime sees them, and from
the XML for the lint); ``services.instances`` marks a completed instance and ``services.handoffs``
starts the follow-on.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent

from disclosure_engine.domain.vocabulary import DECISION_OUTCOMES
from disclosure_engine.engine.bundle import BPMN_NS, WorkflowBundle
from disclosure_engine.engine.deadline_props import own_properties
from disclosure_engine.engine.pause_rules import PAUSE_EXTENDS, timer_property_problem
from disclosure_engine.engine.problems import Problem
from disclosure_engine.engine.xml_safety import parse_xml

START_PROCESS = "start_process"
START_DATA = "start_data"
#: a safe expression over the ending process's data: hand off only when it holds
START_WHEN = "start_process_when"
#: "true": no hand-off while the case already has a running instance of the workflow
START_UNLESS_RUNNING = "start_unless_running"
HANDOFF_PROPERTIES = (START_PROCESS, START_DATA, START_WHEN, START_UNLESS_RUNNING)
#: on a ``bpmn:process``: the outcomes a ``decision_id`` start field's decision may have
DECISION_OUTCOME = "decision_outcome"
#: on a ``bpmn:process``: the start fields it reads, None when a start leaves them out
START_FIELDS = "start_fields"
#: on a ``bpmn:process``: the workflow keys whose running processes of the same case it pauses
#: while it runs (the urgent route "interrupts the others"; ``services.interruptions``)
INTERRUPTS = "interrupts"
DEFAULT_START_DATA = ("decision_id", "legal_basis")
#: start fields filled from the ending process's current decision rather than its data
FROM_DECISION = ("decision_id", "legal_basis")
#: a workflow key as ``process_definition.key`` holds it (a BPMN process id, at most 128)
WORKFLOW_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
#: start field names, as ``services.processes.check_start_data`` accepts them
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: the keys shipped in workflows/ (the contract's list); shipped files may only hand off to these
SHIPPED_KEYS = ("s327a_consideration", "disclosure_delivery", "csods_application", "urgent_disclosure")
_BIG = 1 << 40


@dataclass(frozen=True)
class Handoff:
    """What an end event asks for: the workflow to start and the start fields to pass."""

    workflow: str
    fields: tuple[str, ...] = DEFAULT_START_DATA
    when: str | None = None
    unless_running: bool = False

    def applies(self, data: Mapping[str, Any]) -> bool:
        """Whether the ending process's ``data`` asks for this hand-off (``start_process_when``).
        A condition that cannot be evaluated on the data (a name it reads is missing) is false:
        the lint checks the expression, the data decides."""
        if not self.when:
            return True
        from disclosure_engine.engine import safe_eval

        try:
            return bool(safe_eval.evaluate(self.when, dict(data)))
        except Exception:  # noqa: BLE001 - any refusal of the evaluator means "no hand-off"
            return False


def listed(value: str | None) -> list[str]:
    """A property's comma- or space-separated items, in order (``start_data``, ``interrupts``...)."""
    return [n for n in re.split(r"[,\s]+", value or "") if n]


def field_names(value: str | None) -> tuple[list[str], list[str]]:
    """``start_data`` as (valid names, refused names): comma- or space-separated, in order."""
    names = listed(value)
    good = [n for n in dict.fromkeys(names) if FIELD_NAME.match(n)]
    return good, [n for n in names if not FIELD_NAME.match(n)]


def from_properties(props: Mapping[str, Any]) -> Handoff | None:
    """The hand-off the properties of an end event describe, or None (no ``start_process``)."""
    key = str(props.get(START_PROCESS) or "").strip()
    if not key:
        return None
    when = str(props.get(START_WHEN) or "").strip() or None
    unless = str(props.get(START_UNLESS_RUNNING) or "").strip().lower() == "true"
    raw = props.get(START_DATA)
    if raw is None or not str(raw).strip():
        return Handoff(key, when=when, unless_running=unless)
    good, _bad = field_names(str(raw))
    return Handoff(key, tuple(good), when=when, unless_running=unless)


def spec_handoff(process_spec: Any, end_event: str | None) -> Handoff | None:
    """The hand-off of a top-level end event of a compiled process spec (None when the element
    is not one, or has no ``start_process``): one dict lookup, cheap enough for every step
    that completes an instance. An end event of an embedded subprocess is not in the top-level
    spec: it does not end the instance (and the lint refuses a hand-off there)."""
    if not end_event:
        return None
    spec = process_spec.task_specs.get(end_event)
    if not isinstance(spec, EndEvent):
        return None
    props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
    return from_properties(props) if props else None


def end_event_handoff(wf: Any, end_event: str | None) -> Handoff | None:
    """:func:`spec_handoff` for the end event a running workflow completed at."""
    return spec_handoff(wf.spec, end_event)


# -- the started workflow's own rules: decision_id, start fields ------------------------------

_PROCESS_PROPS: dict[str, dict[str, str]] = {}
_LOCK = threading.Lock()


def _process_properties(bundle: WorkflowBundle) -> dict[str, str]:
    """The primary ``bpmn:process``'s own properties, read from the XML once per version
    (content hash): SpiffWorkflow keeps no extensions of a process."""
    with _LOCK:
        hit = _PROCESS_PROPS.get(bundle.content_hash)
    if hit is not None:
        return hit
    found: dict[str, str] = {}
    root = parse_xml(bundle.files[bundle.primary], path=bundle.primary, max_bytes=_BIG)
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == bundle.key:
            found = own_properties(process)
    with _LOCK:
        _PROCESS_PROPS[bundle.content_hash] = found
    return found


def decision_outcomes(bundle: WorkflowBundle) -> tuple[str, ...]:
    """The outcomes the primary process's ``decision_outcome`` property allows (``()``: any)."""
    raw = _process_properties(bundle).get(DECISION_OUTCOME, "")
    return tuple(dict.fromkeys(listed(raw)))


def start_fields(bundle: WorkflowBundle) -> tuple[str, ...]:
    """The start fields the primary process declares it reads (``start_fields``): those a start
    does not give begin as None, so a gateway can ask whether one was given instead of failing
    on a name that does not exist (a CSODS application started without its route)."""
    good, _bad = field_names(_process_properties(bundle).get(START_FIELDS))
    return tuple(good)


def interrupts(bundle: WorkflowBundle) -> tuple[str, ...]:
    """The workflow keys the primary process's ``interrupts`` names (``()``: none); never its own
    (the lint refuses that, and a process is not paused by itself)."""
    keys = listed(_process_properties(bundle).get(INTERRUPTS))
    return tuple(dict.fromkeys(k for k in keys if WORKFLOW_KEY.match(k) and k != bundle.key))


def pause_extends(bundle: WorkflowBundle) -> tuple[str, ...]:
    """The date fields the primary process's ``pause_extends`` names (``()``: none)."""
    good, _bad = field_names(_process_properties(bundle).get(PAUSE_EXTENDS))
    return tuple(good)


# -- lint -------------------------------------------------------------------------------------

def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def handoff_problems(path: str, root: etree._Element, *, shipped: bool = False) -> Iterator[Problem]:
    """The hand-off properties of one BPMN document, checked the way the runtime reads them:
    only on end events of a process (not of an embedded subprocess: that end does not end the
    instance), a workflow key, not the process itself, valid start field names; in shipped
    files, one of the shipped keys. Also ``decision_outcome`` on a process."""
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        props = own_properties(node)
        if not props:
            continue
        kind, ident = _local(node), node.get("id") or "-"
        line = node.sourceline or 1
        if DECISION_OUTCOME in props:
            if kind != "process":
                yield Problem(path, line, ident, f"{DECISION_OUTCOME} is read only on a bpmn:process "
                                                 "(the decisions a started workflow takes)")
            else:
                outcomes = listed(props[DECISION_OUTCOME])
                wrong = [o for o in outcomes if o not in DECISION_OUTCOMES]
                if not outcomes or wrong:
                    yield Problem(path, line, ident, f"{DECISION_OUTCOME} {props[DECISION_OUTCOME]!r} is not "
                                                     f"one or more of {', '.join(DECISION_OUTCOMES)}")
        if INTERRUPTS in props:
            yield from _interrupts_problems(path, line, kind, ident, props[INTERRUPTS], shipped=shipped)
        for name, what, fields in ((START_FIELDS, "the start fields the workflow reads", "start fields"),
                                   (PAUSE_EXTENDS, "the deadline fields a pause pushes back", "date fields")):
            if name not in props:
                continue
            good, bad = field_names(props[name])
            if kind != "process" and name == PAUSE_EXTENDS:
                problem = timer_property_problem(node, props[name])  # a date timer's own flag
                if problem:
                    yield Problem(path, line, ident, problem)
            elif kind != "process":
                yield Problem(path, line, ident, f"{name} is read only on a bpmn:process ({what})")
            elif bad or not good:
                yield Problem(path, line, ident, f"{name} {props[name]!r}: name {fields} "
                                                 "in lower-case letters, digits and '_', comma-separated")
        named = [p for p in HANDOFF_PROPERTIES if p in props]
        if not named:
            continue
        parent = node.getparent()
        if kind != "endEvent" or parent is None or _local(parent) != "process":
            where = "an end event of a subprocess" if kind == "endEvent" else f"a {kind}"
            yield Problem(path, line, ident, f"{' and '.join(named)} is read only on an end event of a "
                                             f"process, not on {where}: the hand-off starts when the "
                                             "process ends there")
            continue
        key = props.get(START_PROCESS, "")
        if not key:
            yield Problem(path, line, ident, f"{START_DATA} without {START_PROCESS}: name the workflow "
                                             "to start")
            continue
        if not WORKFLOW_KEY.match(key):
            yield Problem(path, line, ident, f"{START_PROCESS} {key!r} is not a workflow key (the "
                                             "process id of a deployed workflow, e.g. disclosure_delivery)")
        elif key == parent.get("id"):
            yield Problem(path, line, ident, f"{START_PROCESS} {key!r} is this process itself: a process "
                                             "may not start itself again when it ends")
        elif shipped and key not in SHIPPED_KEYS:
            yield Problem(path, line, ident, f"{START_PROCESS} {key!r} is not a shipped workflow "
                                             f"({', '.join(SHIPPED_KEYS)})")
        when = props.get(START_WHEN)
        if when is not None:
            problem = _condition_problem(when)
            if problem:
                yield Problem(path, line, ident, f"{START_WHEN} {when!r} {problem}")
        unless = props.get(START_UNLESS_RUNNING)
        if unless is not None and unless.lower() not in ("true", "false"):
            yield Problem(path, line, ident, f"{START_UNLESS_RUNNING} {unless!r} must be true or false")
        _good, bad = field_names(props.get(START_DATA))
        if bad:
            yield Problem(path, line, ident, f"{START_DATA} names {', '.join(repr(b) for b in bad)}: start "
                                             "fields are lower-case letters, digits and '_'")


def _interrupts_problems(path: str, line: int, kind: str, ident: str, value: str, *,
                         shipped: bool) -> Iterator[Problem]:
    if kind != "process":
        yield Problem(path, line, ident, f"{INTERRUPTS} is read only on a bpmn:process (the workflows whose "
                                         "running processes of the case it pauses while it runs)")
        return
    keys = listed(value)
    if not keys:
        yield Problem(path, line, ident, f"{INTERRUPTS} is empty: name the workflow keys it pauses, "
                                         "comma-separated, or leave the property out")
    for key in keys:
        if not WORKFLOW_KEY.match(key):
            yield Problem(path, line, ident, f"{INTERRUPTS} {key!r} is not a workflow key (the process id "
                                             "of a deployed workflow, e.g. s327a_consideration)")
        elif key == ident:
            yield Problem(path, line, ident, f"{INTERRUPTS} {key!r} is this process itself: only other "
                                             "workflows' processes are paused")
        elif shipped and key not in SHIPPED_KEYS:
            yield Problem(path, line, ident, f"{INTERRUPTS} {key!r} is not a shipped workflow "
                                             f"({', '.join(SHIPPED_KEYS)})")


def _condition_problem(text: str) -> str | None:
    """Why a ``start_process_when`` cannot be used, or None: it must be a safe expression."""
    from disclosure_engine.engine import safe_eval

    if not text.strip():
        return "is empty: leave the property out to hand off at every end here"
    reason = safe_eval.check_expression(text, mode="eval")
    return f"is not a safe expression: {reason}" if reason else None


def handoff_targets(bundle: WorkflowBundle) -> list[tuple[str, int, str, str]]:
    """(file, line, end event id, workflow key) of every hand-off in the bundle's BPMN, for the
    deploy check that the named workflow exists."""
    out = []
    for name in bundle.bpmn_files:
        root = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
        for node in root.iter(f"{{{BPMN_NS}}}endEvent"):
            key = own_properties(node).get(START_PROCESS, "")
            if key:
                out.append((name, node.sourceline or 1, node.get("id") or "-", key))
    return out
