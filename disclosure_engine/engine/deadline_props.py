"""Deadline properties: process-level defaults merged with each user task's own.

A process may declare defaults with ``spiffworkflow:properties`` on its ``bpmn:process``
element; a task's property of the same name wins, a task that sets ``due_period`` drops the
process's ``due_working_days`` (and the other way round: only one may apply), and an empty
task value switches a default off. See docs/workflows-deadlines.md.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping

from lxml import etree

from disclosure_engine.engine.bundle import BPMN_NS, SPIFF_NS, WorkflowBundle
from disclosure_engine.engine.xml_safety import parse_xml

DEADLINE_PROPS = ("due_period", "due_working_days", "reminder_before", "escalate_after", "escalate_to_role")
_EXCLUSIVE = {"due_period": "due_working_days", "due_working_days": "due_period"}


def own_properties(element: etree._Element) -> dict[str, str]:
    """The ``spiffworkflow:property`` values directly on ``element`` (not on its children)."""
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return {}
    props = ext.find(f"{{{SPIFF_NS}}}properties")
    if props is None:
        return {}
    return {p.get("name"): p.get("value", "") for p in props.findall(f"{{{SPIFF_NS}}}property") if p.get("name")}


def process_defaults_of(process: etree._Element | None) -> dict[str, str]:
    if process is None:
        return {}
    return {k: v for k, v in own_properties(process).items() if k in DEADLINE_PROPS and v != ""}


def enclosing_process(node: etree._Element) -> etree._Element | None:
    for ancestor in node.iterancestors():
        if ancestor.tag == f"{{{BPMN_NS}}}process":
            return ancestor
    return None


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


_CACHE: dict[str, dict[str, str]] = {}
_LOCK = threading.Lock()


def bundle_defaults(bundle: WorkflowBundle) -> dict[str, str]:
    """The primary process's deadline defaults (cached per content hash)."""
    with _LOCK:
        hit = _CACHE.get(bundle.content_hash)
    if hit is not None:
        return hit
    root = parse_xml(bundle.files[bundle.primary], path=bundle.primary)
    process = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == bundle.key), None)
    defaults = process_defaults_of(process)
    with _LOCK:
        _CACHE[bundle.content_hash] = defaults
    return defaults
