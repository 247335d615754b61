"""Bundle -> parsed SpiffWorkflow specs, with a cache keyed by the bundle's content hash.

Parsing BPMN costs milliseconds; services load an instance on every request, so compiled
versions are cached by content hash (immutable, so the cache can never be stale). Each
compile uses a fresh parser: one SpiffBpmnParser refuses a process id it has already seen.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from disclosure_engine.engine import time_limit
from disclosure_engine.engine.bundle import WorkflowBundle
from disclosure_engine.engine.problems import InvalidWorkflow, Problem
from disclosure_engine.engine.xml_safety import parse_xml

CACHE_SIZE = 64
_BIG = 1 << 40  # size was checked when the bundle was built; re-parsing must not refuse it


@dataclass
class CompiledWorkflow:
    """A parsed, runnable workflow version (shared read-only between instances)."""

    key: str
    content_hash: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]
    bundle: WorkflowBundle
    timeout_ms: int = time_limit.DEFAULT_MS


def line_of(root: etree._Element, element_id: str | None) -> int:
    """The source line of the element with this id (1 when unknown)."""
    if element_id:
        for node in root.iter():
            if isinstance(node.tag, str) and node.get("id") == element_id:
                return node.sourceline or 1
    return 1


_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn:",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow:",
}


def _short(message: str) -> str:
    """One line, with namespace URIs replaced by their usual prefixes (XSD messages are long)."""
    text = " ".join(message.split())
    for uri, prefix in _NAMESPACES.items():
        text = text.replace("{" + uri + "}", prefix)
    return text


def id_at_line(root: etree._Element, line: int) -> str:
    """The id of the element at ``line`` (or of its nearest ancestor with an id)."""
    for node in root.iter():
        if isinstance(node.tag, str) and node.sourceline == line:
            current: etree._Element | None = node
            while current is not None:
                if current.get("id"):
                    return current.get("id")
                current = current.getparent()
    return "-"


def parse_forms(bundle: WorkflowBundle) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    forms: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for name, content in bundle.files.items():
        if not name.lower().endswith(".json"):
            continue
        try:
            value = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            problems.append(Problem(name, line, "-", f"not valid JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(name, 1, "-", "a form file must hold a JSON object"))
            continue
        forms[name] = value
    return forms, problems


def _spiff_problem(exc: Exception, bundle: WorkflowBundle,
                   roots: dict[str, etree._Element], fallback: str) -> Problem:
    if isinstance(exc, ValidationException):
        file_name = exc.file_name or fallback
        element_id = getattr(exc, "id", "") or "-"
        line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else 0
        if not line and file_name in roots:
            line = line_of(roots[file_name], element_id if element_id != "-" else None)
        message = str(exc.args[0]) if exc.args else str(exc)
        if element_id == "-" and line and file_name in roots:
            element_id = id_at_line(roots[file_name], line)
        return Problem(file_name, line or 1, element_id, _short(message))
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Problem(fallback, 1, "-", f"cannot parse workflow: {type(exc).__name__}: {text}")


def compile_bundle(bundle: WorkflowBundle, *, timeout_ms: int | None = None) -> CompiledWorkflow:
    """Parse every BPMN and DMN of the bundle (each through the XML safety check first); its
    expressions get ``timeout_ms`` each (default: the process's limit, ``engine.time_limit``)."""
    timeout_ms = time_limit.current() if timeout_ms is None else timeout_ms
    parser = SpiffBpmnParser(validator=VALIDATOR)
    roots: dict[str, etree._Element] = {}
    current = bundle.primary
    try:
        for name in [bundle.primary] + [n for n in bundle.bpmn_files if n != bundle.primary]:
            current = name
            root = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
            roots[name] = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
            parser.add_bpmn_xml(root, filename=name)
        for name in bundle.dmn_files:
            current = name
            root = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
            roots[name] = root
            parser.add_dmn_xml(root, filename=name)
        current = bundle.primary
        spec = parser.get_spec(bundle.key)
        subprocess_specs = parser.get_subprocess_specs(bundle.key)
    except InvalidWorkflow:
        raise
    except RecursionError:
        raise InvalidWorkflow([Problem(current, 1, "-", "workflow is too deeply nested to parse")])\
            from None
    except Exception as exc:  # Spiff raises ValidationException, KeyError, etc.
        raise InvalidWorkflow([_spiff_problem(exc, bundle, roots, current)]) from exc
    forms, problems = parse_forms(bundle)
    if problems:
        raise InvalidWorkflow(problems)
    return CompiledWorkflow(key=bundle.key, content_hash=bundle.content_hash, spec=spec,
                            subprocess_specs=subprocess_specs, forms=forms, bundle=bundle,
                            timeout_ms=timeout_ms)


_cache: OrderedDict[tuple[str, int], CompiledWorkflow] = OrderedDict()
_lock = threading.Lock()


def compiled_cache(bundle: WorkflowBundle, *, timeout_ms: int | None = None) -> CompiledWorkflow:
    """compile_bundle with an LRU keyed by (content_hash, timeout); safe across threads."""
    timeout_ms = time_limit.current() if timeout_ms is None else timeout_ms
    key = (bundle.content_hash, timeout_ms)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    compiled = compile_bundle(bundle, timeout_ms=timeout_ms)
    with _lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def clear_cache() -> None:
    with _lock:
        _cache.clear()
