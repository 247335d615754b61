"""Instance state to and from JSON-able dicts, with the spec stored once per version.

The spec is over half of a small instance's serialized state, and it is identical for every
instance of a version, so state is stored without it and the compiled spec is merged back on
load. The script engine is not part of SpiffWorkflow's serialization: ``load_state`` always
puts the safe engine back, since a restored workflow would otherwise evaluate with plain eval.
"""
from __future__ import annotations

import json
import threading
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from disclosure_engine.domain.errors import DisclosureError
from disclosure_engine.engine.script_engine import make_script_engine

if TYPE_CHECKING:
    from disclosure_engine.engine.compiler import CompiledWorkflow

__all__ = ["StateError", "dump_state", "dump_state_text", "load_state", "serializer", "standalone_state"]


class StateError(DisclosureError):
    """Stored state could not be restored against this version's spec (a bug or corruption)."""

    status = 500


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Saves and restores a workflow without its spec when asked to.

    Every instance of a version runs on that version's one compiled spec (new instances always
    have): re-building the spec from JSON on every load, and converting it on every save only to
    drop it, was more than half of the engine's time per step. Specs are read-only to the engine;
    per-instance state lives in tasks. Without the keywords this is SpiffWorkflow's own converter.
    """

    def to_dict(self, workflow: BpmnWorkflow, *, include_spec: bool = True) -> dict[str, Any]:
        if include_spec:
            return super().to_dict(workflow)
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], *, spec: Any = None,
                  subprocess_specs: dict[str, Any] | None = None) -> BpmnWorkflow:
        if spec is None:
            return super().from_dict(dct)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, dict(subprocess_specs or {}), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SharedSpecWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # datetime and timedelta are registered by Spiff; plain dates (forms' "format": "date"
    # once parsed) and sets are not, and would otherwise break or change type on a round trip.
    registry.register(date, lambda v: {"value": v.isoformat()},
                      lambda v: date.fromisoformat(v["value"]), typename="date")
    registry.register(set, lambda v: {"value": sorted(v, key=repr)},
                      lambda v: set(v["value"]), typename="set")
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _make_serializer()
# the registry's own convert() takes no keywords, so the spec-less save calls the converter itself
_WORKFLOW_CONVERTER = _SharedSpecWorkflowConverter(BpmnWorkflow, _SERIALIZER.registry)
# Spiff's registry converts task data (dates, sets) only in its "encoder mode", a flag on the
# shared registry; the lock keeps concurrent dumps/loads in threads from seeing each other's mode.
_ENCODER_LOCK = threading.Lock()


def serializer() -> BpmnWorkflowSerializer:
    """The one configured serializer (stateless apart from its registry, so shareable)."""
    return _SERIALIZER


def standalone_state(compiled: CompiledWorkflow, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with its spec put back: what SpiffWorkflow's own serializer loads unaided
    (for exports and for measuring against plain SpiffWorkflow)."""
    registry = _SERIALIZER.registry
    return {**state, "spec": registry.convert(compiled.spec),
            "subprocess_specs": {name: registry.convert(s) for name, s in compiled.subprocess_specs.items()}}


def dump_state_text(wf: BpmnWorkflow) -> str:
    """The state of ``wf`` without ``spec`` and ``subprocess_specs``, as JSON text (what is
    stored; producing the text here proves it is storable now, not at commit time)."""
    registry = _SERIALIZER.registry
    with _ENCODER_LOCK:
        registry._encoder_mode = True
        try:
            state = _WORKFLOW_CONVERTER.to_dict(wf, include_spec=False)
            state["typename"] = _SERIALIZER.registry.typenames[BpmnWorkflow]
            state[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
            return json.dumps(state, cls=_SERIALIZER._encoder_cls)
        finally:
            registry._encoder_mode = False


def dump_state(wf: BpmnWorkflow) -> dict[str, Any]:
    """JSON-serialisable state of ``wf`` without ``spec`` and ``subprocess_specs``."""
    return json.loads(dump_state_text(wf))


def load_state(compiled: CompiledWorkflow, state: dict[str, Any] | str) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output (or its JSON text) on this version's
    compiled spec, with the safe script engine (``state`` itself is not modified)."""
    if isinstance(state, str):
        dct = json.loads(state)
    else:
        # restoring copies every container it converts; only these two are popped from in place
        dct = dict(state)
        dct["subprocesses"] = dict(dct.get("subprocesses") or {})
    dct.setdefault(_SERIALIZER.VERSION_KEY, _SERIALIZER.VERSION)
    try:
        if dct[_SERIALIZER.VERSION_KEY] != _SERIALIZER.VERSION:
            # an older format: migrations may rewrite anything, so they work on a private copy
            dct = json.loads(json.dumps(dct))
        _SERIALIZER.migrate(dct)
        with _ENCODER_LOCK:
            wf = _SERIALIZER.from_dict(dct, spec=compiled.spec, subprocess_specs=compiled.subprocess_specs)
    except Exception as exc:  # Spiff raises KeyError/TypeError etc. on mismatched state
        raise StateError(f"cannot restore instance state: {type(exc).__name__}: {exc}") from exc
    if not isinstance(wf, BpmnWorkflow):
        raise StateError("cannot restore instance state: it is not a serialized workflow")
    wf.script_engine = make_script_engine(compiled.timeout_ms)
    return wf
