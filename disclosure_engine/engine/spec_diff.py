"""A readable diff between two versions of a workflow bundle, for policy review before deploy.

Elements are aligned by BPMN id (the reason ids must stay stable). For each element we compare
what the engine reads — kind, name, lane, extension properties (form, role, due period,
escalation), officer instructions, conditions, timer expressions, scripts, called decisions,
flow ends — so a changed due period or condition shows up by name. Diagram-only moves are
reported separately as layout changes. Forms are compared field by field.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from disclosure_engine.engine.bundle import BPMN_NS, SPIFF_NS, WorkflowBundle
from disclosure_engine.engine.xml_safety import parse_xml

_SKIP = {"definitions", "process", "collaboration", "extensionElements", "laneSet", "incoming", "outgoing",
         "documentation", "conditionExpression", "timerEventDefinition", "timeDuration", "timeDate",
         "timeCycle", "script", "flowNodeRef", "participant", "text"}
_DI = "http://www.omg.org/spec/BPMN/20100524/DI"
_DC = "http://www.omg.org/spec/DD/20100524/DC"


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class ElementChange:
    element_id: str
    kind: str
    name: str | None
    change: str  # added | removed | changed
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class BundleDiff:
    elements: list[ElementChange] = field(default_factory=list)
    layout_changed: list[str] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.elements or self.layout_changed or any(self.files.values()) or self.forms)

    def to_dict(self) -> dict[str, Any]:
        return {"elements": [asdict(e) for e in self.elements], "layout_changed": self.layout_changed,
                "files": self.files, "forms": self.forms,
                "summary": {k: sum(1 for e in self.elements if e.change == k) for k in ("added", "removed", "changed")}}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _text(node: etree._Element | None) -> str | None:
    return node.text.strip() if node is not None and node.text else None


def _signature(node: etree._Element, lanes: dict[str, str]) -> dict[str, Any]:
    sig: dict[str, Any] = {"kind": _local(node), "name": node.get("name")}
    ident = node.get("id")
    if ident in lanes:
        sig["lane"] = lanes[ident]
    for attr in ("sourceRef", "targetRef", "default", "attachedToRef", "cancelActivity", "calledElement"):
        if node.get(attr) is not None:
            sig[attr] = node.get(attr)
    if sig["kind"] == "boundaryEvent":  # BPMN's default; bpmn-js omits default values when it saves
        sig["cancelActivity"] = (node.get("cancelActivity") or "true").strip().lower()
    sig["condition"] = _text(node.find(f"{{{BPMN_NS}}}conditionExpression"))
    for kind in ("timeDuration", "timeDate", "timeCycle"):
        found = node.find(f".//{{{BPMN_NS}}}{kind}")
        if found is not None:
            sig[f"timer.{kind}"] = _text(found)
    sig["script"] = _text(node.find(f"{{{BPMN_NS}}}script"))
    ext = node.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is not None:
        for prop in ext.iter(f"{{{SPIFF_NS}}}property"):
            sig[f"property.{prop.get('name')}"] = prop.get("value")
        for name in ("instructionsForEndUser", "calledDecisionId", "preScript", "postScript"):
            sig[name] = _text(ext.find(f"{{{SPIFF_NS}}}{name}"))
    return {k: v for k, v in sig.items() if v is not None}


def _elements(bundle: WorkflowBundle) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[float, ...]]]:
    elements: dict[str, dict[str, Any]] = {}
    layout: dict[str, tuple[float, ...]] = {}
    for name, content in sorted(bundle.files.items()):
        if not name.endswith(".bpmn"):
            continue
        root = parse_xml(content, path=name)
        lanes = {ref.text.strip(): lane.get("name") or lane.get("id")
                 for lane in root.iter(f"{{{BPMN_NS}}}lane") for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef")
                 if ref.text}
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            ns = etree.QName(node).namespace
            if ns == BPMN_NS and node.get("id") and _local(node) not in _SKIP and not _local(node).endswith("EventDefinition"):
                elements[node.get("id")] = _signature(node, lanes)
            elif ns == _DI and node.get("bpmnElement"):
                bounds = node.find(f"{{{_DC}}}Bounds")
                points = [(float(w.get("x", 0)), float(w.get("y", 0))) for w in node if _local(w) == "waypoint"]
                if bounds is not None:
                    layout[node.get("bpmnElement")] = tuple(float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))
                elif points:
                    layout[node.get("bpmnElement")] = tuple(c for p in points for c in p)
    return elements, layout


def _form_fields(content: bytes) -> dict[str, Any]:
    try:
        schema = json.loads(content)
    except ValueError:
        return {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    return {k: {**v, "_required": k in required} if isinstance(v, dict) else v for k, v in props.items()}


def diff_bundles(old: WorkflowBundle, new: WorkflowBundle) -> BundleDiff:
    """What changed from ``old`` to ``new`` (both already safe to parse: they were validated)."""
    result = BundleDiff()
    before, layout_before = _elements(old)
    after, layout_after = _elements(new)
    for ident in sorted(set(before) | set(after)):
        a, b = before.get(ident), after.get(ident)
        if a is None:
            result.elements.append(ElementChange(ident, b["kind"], b.get("name"), "added"))
        elif b is None:
            result.elements.append(ElementChange(ident, a["kind"], a.get("name"), "removed"))
        elif a != b:
            fields = [FieldChange(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            result.elements.append(ElementChange(ident, b["kind"], b.get("name"), "changed", fields))
        elif layout_before.get(ident) != layout_after.get(ident):
            result.layout_changed.append(ident)
    names = set(old.files) | set(new.files)
    for name in sorted(names):
        if name not in old.files:
            result.files["added"].append(name)
        elif name not in new.files:
            result.files["removed"].append(name)
        elif old.files[name] != new.files[name]:
            result.files["changed"].append(name)
            if name.endswith(".json"):
                fa, fb = _form_fields(old.files[name]), _form_fields(new.files[name])
                changes = {"added": sorted(set(fb) - set(fa)), "removed": sorted(set(fa) - set(fb)),
                           "changed": sorted(k for k in set(fa) & set(fb) if fa[k] != fb[k])}
                if any(changes.values()):
                    result.forms[name] = changes
    return result
