"""Which date timers a pause pushes back: the BPMN says so, timer by timer.

A pause gives time back to everything that runs from when a step opened: the tasks' due,
reminder and escalation times and the duration timers (``P28D`` after the step opened) all wait
as long again. A date timer (``timeDate``) is different: it is an instant computed from the
process's data when the step opened, and whether a pause should move it depends on what the
instant is. The representations window closes 28 days after the offender was asked: while the
process is paused (the offender in hospital, a court hearing pending) that window must not run
out unused, so it moves. A review date the panel chose stays where they put it.

So policy marks the date timers to move, on the timer event itself::

    <bpmn:boundaryEvent id="representations_window_lapsed" ...>
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="pause_extends" value="true" />

(The process-level ``pause_extends`` names date *fields* of the data, such as CSODS's
``scheme_deadline``; see ``engine.handoff``.) On resume, a marked timer that is waiting moves by
the calendar days paused (in Europe/London), the same days the date fields move by.
"""
from __future__ import annotations

import threading

from lxml import etree

from disclosure_engine.engine.bundle import BPMN_NS, WorkflowBundle
from disclosure_engine.engine.deadline_props import own_properties
from disclosure_engine.engine.xml_safety import parse_xml

#: the property, on a timer event with a timeDate, that a pause pushes it back
PAUSE_EXTENDS = "pause_extends"
#: the event elements a timer can wait on
TIMER_EVENTS = ("boundaryEvent", "intermediateCatchEvent")
_BIG = 1 << 40
_LOCK = threading.Lock()
_BY_VERSION: dict[str, frozenset[str]] = {}


def _timer_kind(element: etree._Element) -> str | None:
    """``timeDate``, ``timeDuration`` or ``timeCycle`` for a timer event, else None."""
    timer = element.find(f"{{{BPMN_NS}}}timerEventDefinition")
    if timer is None:
        return None
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        if timer.find(f"{{{BPMN_NS}}}{kind}") is not None:
            return kind
    return None


def extended_timers(bundle: WorkflowBundle) -> frozenset[str]:
    """The element ids of the date timer events marked ``pause_extends`` in any BPMN file of the
    bundle (read from the XML once per version: SpiffWorkflow keeps no extensions of events)."""
    with _LOCK:
        hit = _BY_VERSION.get(bundle.content_hash)
    if hit is not None:
        return hit
    found: set[str] = set()
    for name in bundle.bpmn_files:
        root = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
        for kind in TIMER_EVENTS:
            for node in root.iter(f"{{{BPMN_NS}}}{kind}"):
                if own_properties(node).get(PAUSE_EXTENDS, "").lower() == "true" \
                        and _timer_kind(node) == "timeDate" and node.get("id"):
                    found.add(str(node.get("id")))
    result = frozenset(found)
    with _LOCK:
        _BY_VERSION[bundle.content_hash] = result
    return result


def timer_property_problem(element: etree._Element, value: str) -> str | None:
    """Why ``pause_extends`` = ``value`` on ``element`` (not a process) is refused, or None."""
    kind = etree.QName(element).localname
    timer = _timer_kind(element) if kind in TIMER_EVENTS else None
    if timer is None:
        return (f"{PAUSE_EXTENDS} is read only on a bpmn:process (the date fields a pause pushes back) "
                f"or on a timer event with a timeDate (a date timer a pause pushes back), not on a {kind}")
    if timer != "timeDate":
        return (f"{PAUSE_EXTENDS} is for date timers (timeDate): a {timer} timer waits as much longer "
                "after a pause by itself; remove the property")
    if value.lower() not in ("true", "false"):
        return f"{PAUSE_EXTENDS} {value!r} on a timer event must be true or false"
    return None
