"""Deadline properties: process-level defaults merged with each user task's own.

A process may declare defaults with ``spiffworkflow:properties`` on its ``bpmn:process``
element, for the tasks of that process (a called process keeps its own); a task's property of
the same name wins, a task that sets ``due_period`` drops the process's ``due_working_days``
(and the other way round: only one may apply), and an empty task value switches a default off.
See docs/workflows-deadlines.md.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping

from lxml import etree

from disclosure_engine.engine.bundle import BPMN_NS, SPIFF_NS, WorkflowBundle
from disclosure_engine.engine.xml_safety import parse_xml

_BIG = 1 << 40  # size was checked when the bundle was built; re-reading must not refuse it
DEADLINE_PROPS = ("due_period", "due_working_days", "reminder_before", "escalate_after", "escalate_to_role",
                  "due_by")
_EXCLUSIVE = {"due_period": "due_working_days", "due_working_days": "due_period"}


def own_properties(element: etree._Element) -> dict[str, str]:
    """The ``spiffworkflow:property`` values directly on ``element`` (not on its children),
    stripped like a task's own properties (see ``engine.task_rules.spec_properties``)."""
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return {}
    props = ext.find(f"{{{SPIFF_NS}}}properties")
    if props is None:
        return {}
    return {p.get("name"): p.get("value", "").strip()
            for p in props.findall(f"{{{SPIFF_NS}}}property") if p.get("name")}


def process_defaults_of(process: etree._Element | None) -> dict[str, str]:
    if process is None:
        return {}
    return {k: v for k, v in own_properties(process).items() if k in DEADLINE_PROPS and v != ""}


def merge(defaults: Mapping[str, str], task: Mapping[str, str]) -> dict[str, str]:
    """The task's properties with the process defaults filled in (deadline properties only)."""
    merged = dict(defaults)
    for name in DEADLINE_PROPS:
        if name in task:
            merged.pop(_EXCLUSIVE.get(name, ""), None)
    result = {**merged, **task}
    for name in DEADLINE_PROPS:
        if result.get(name) == "":
            result.pop(name)
    return result


_CACHE: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
_LOCK = threading.Lock()


def _defaults_by_element(bundle: WorkflowBundle) -> dict[tuple[str, str], dict[str, str]]:
    """(file, element id) -> the deadline defaults of the process holding that element, for
    every BPMN file of the bundle (cached per content hash: a version never changes)."""
    with _LOCK:
        hit = _CACHE.get(bundle.content_hash)
    if hit is not None:
        return hit
    found: dict[tuple[str, str], dict[str, str]] = {}
    for name in bundle.bpmn_files:
        root = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            defaults = process_defaults_of(process)
            for node in process.iter():
                if isinstance(node.tag, str) and node.get("id"):
                    found[(name, node.get("id"))] = defaults
    with _LOCK:
        _CACHE[bundle.content_hash] = found
    return found


def bundle_defaults(bundle: WorkflowBundle) -> dict[str, str]:
    """The primary process's deadline defaults."""
    return _defaults_by_element(bundle).get((bundle.primary, bundle.key), {})


def task_defaults(bundle: WorkflowBundle, process_file: str | None, element_id: str) -> dict[str, str]:
    """The defaults of the process that holds this task in ``process_file``: a task of a called
    process takes that process's defaults, not the caller's (as the docs and the lint say).
    An element the index does not know (no file) falls back to the primary process's."""
    by_element = _defaults_by_element(bundle)
    hit = by_element.get((process_file or "", element_id))
    return hit if hit is not None else by_element.get((bundle.primary, bundle.key), {})
