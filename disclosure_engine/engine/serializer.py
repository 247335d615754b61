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

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from disclosure_engine.domain.errors import DisclosureError
from disclosure_engine.engine.script_engine import make_script_engine

if TYPE_CHECKING:
    from disclosure_engine.engine.compiler import CompiledWorkflow

__all__ = ["StateError", "dump_state", "load_state", "serializer", "spec_json"]


class StateError(DisclosureError):
    """Stored state could not be restored against this version's spec (a bug or corruption)."""

    status = 500


def _make_serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    # datetime and timedelta are registered by Spiff; plain dates (forms' "format": "date"
    # once parsed) and sets are not, and would otherwise break or change type on a round trip.
    registry.register(date, lambda v: {"value": v.isoformat()},
                      lambda v: date.fromisoformat(v["value"]), typename="date")
    registry.register(set, lambda v: {"value": sorted(v, key=repr)},
                      lambda v: set(v["value"]), typename="set")
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _make_serializer()
# Spiff's registry converts task data (dates, sets) only in its "encoder mode", a flag on the
# shared registry; the lock keeps concurrent dumps/loads in threads from seeing each other's mode.
_ENCODER_LOCK = threading.Lock()


def serializer() -> BpmnWorkflowSerializer:
    """The one configured serializer (stateless apart from its registry, so shareable)."""
    return _SERIALIZER


def spec_json(spec: Any, subprocess_specs: dict[str, Any]) -> tuple[str, str]:
    """The spec and subprocess specs as JSON text, computed once per compiled version."""
    registry = _SERIALIZER.registry
    top = json.dumps(registry.convert(spec))
    subs = json.dumps({name: registry.convert(s) for name, s in subprocess_specs.items()})
    return top, subs


def dump_state(wf: BpmnWorkflow) -> dict[str, Any]:
    """JSON-serialisable state of ``wf`` without ``spec`` and ``subprocess_specs``."""
    registry = _SERIALIZER.registry
    with _ENCODER_LOCK:
        registry._encoder_mode = True
        try:
            state = _SERIALIZER.to_dict(wf)
            state.pop("spec", None)
            state.pop("subprocess_specs", None)
            state[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
            text = json.dumps(state, cls=_SERIALIZER._encoder_cls)
        finally:
            registry._encoder_mode = False
    # the JSON round trip proves the result is storable now, not at commit time
    return json.loads(text)


def load_state(compiled: CompiledWorkflow, state: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output with this version's spec and the
    safe script engine (``state`` itself is not modified)."""
    dct = json.loads(json.dumps(state))
    dct["spec"] = json.loads(compiled.spec_json)
    dct["subprocess_specs"] = json.loads(compiled.subprocess_specs_json)
    dct.setdefault(_SERIALIZER.VERSION_KEY, _SERIALIZER.VERSION)
    try:
        _SERIALIZER.migrate(dct)
        with _ENCODER_LOCK:
            wf = _SERIALIZER.from_dict(dct)
    except Exception as exc:  # Spiff raises KeyError/TypeError etc. on mismatched state
        raise StateError(f"cannot restore instance state: {type(exc).__name__}: {exc}") from exc
    if not isinstance(wf, BpmnWorkflow):
        raise StateError("cannot restore instance state: it is not a serialized workflow")
    wf.script_engine = make_script_engine(compiled.timeout_ms)
    return wf
