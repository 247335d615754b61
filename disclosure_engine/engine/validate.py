"""Validation of workflow bundles and paths: the single gate before a deploy.

It layers the checks from cheapest to most expensive (XML safety, structure, product lint,
expressions, SpiffWorkflow's own parse, then each human task's role and deadlines read from the
parsed spec exactly as the runtime reads them) and reports every problem it can find at once, so
a policy author fixes a file in one pass. It never raises: an unexpected failure anywhere is
itself reported as a problem against the file, because the CLI and the upload API must answer
with ``PATH:LINE: element-id: message`` lines, never a traceback.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from disclosure_engine.engine.bundle import BPMN_NS, WorkflowBundle
from disclosure_engine.engine.compiler import compile_bundle
from disclosure_engine.engine.expressions import (
    bpmn_expression_problems,
    dmn_expression_problems,
    local,
)
from disclosure_engine.engine.given_paths import (
    GivenPaths,
    PathBundle,
    bundles_from_paths,
    classify,
)
from disclosure_engine.engine.lint import lint_bpmn
from disclosure_engine.engine.problems import InvalidWorkflow, Problem
from disclosure_engine.engine.task_checks import compiled_task_problems
from disclosure_engine.engine.xml_safety import DEFAULT_MAX_BYTES, parse_xml

_BIG = 1 << 40
_FLOW_TARGETS = ("sourceRef", "targetRef")


def _structure_problems(path: str, root: etree._Element) -> list[Problem]:
    """XSD-lite: the shape every later check relies on, with clearer messages than the XSD."""
    problems: list[Problem] = []
    if etree.QName(root).namespace != BPMN_NS or local(root) != "definitions":
        return [Problem(path, root.sourceline or 1, root.get("id") or "-",
                        "not a BPMN file: the root element must be bpmn:definitions")]
    processes = [n for n in root if local(n) == "process"]
    if not processes:
        problems.append(Problem(path, root.sourceline or 1, root.get("id") or "-",
                                "the file defines no bpmn:process"))
    seen: dict[str, int] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        ident = node.get("id")
        if ident:
            if ident in seen:
                problems.append(Problem(path, node.sourceline or 1, ident,
                                        f"duplicate id (first used on line {seen[ident]})"))
            else:
                seen[ident] = node.sourceline or 1
    for flow in (n for n in root.iter() if local(n) == "sequenceFlow"):
        for attr in _FLOW_TARGETS:
            ref = flow.get(attr)
            if not ref:
                problems.append(Problem(path, flow.sourceline or 1, flow.get("id") or "-",
                                        f"sequence flow has no {attr}"))
            elif ref not in seen:
                problems.append(Problem(path, flow.sourceline or 1, flow.get("id") or "-",
                                        f"sequence flow {attr} {ref!r} is not an element"))
    for gateway in (n for n in root.iter() if local(n).endswith("Gateway")):
        default = gateway.get("default")
        if default and default not in seen:
            problems.append(Problem(path, gateway.sourceline or 1, gateway.get("id") or "-",
                                    f"default flow {default!r} does not exist"))
    for proc in processes:
        if not any(local(n) == "startEvent" for n in proc):
            problems.append(Problem(path, proc.sourceline or 1, proc.get("id") or "-",
                                    "process has no start event"))
    return problems


def _safe_roots(bundle: WorkflowBundle) -> tuple[dict[str, etree._Element], list[Problem]]:
    roots: dict[str, etree._Element] = {}
    problems: list[Problem] = []
    for name in sorted(bundle.files):
        if not name.lower().endswith((".bpmn", ".dmn")):
            continue
        try:
            roots[name] = parse_xml(bundle.files[name], path=name, max_bytes=_BIG)
        except InvalidWorkflow as exc:
            problems.extend(exc.problems)
    return roots, problems


def validate_bundle(bundle: WorkflowBundle, *, shipped: bool = False) -> list[Problem]:
    """Every problem found in the bundle ([] means deployable). Never raises."""
    try:
        return _validate(bundle, shipped=shipped)
    except Exception as exc:  # noqa: BLE001 - a bug or an input we did not foresee: report, do not crash
        return [Problem(bundle.primary, 1, "-",
                        f"internal error while validating: {type(exc).__name__}: {exc}")]


def _validate(bundle: WorkflowBundle, *, shipped: bool) -> list[Problem]:
    roots, problems = _safe_roots(bundle)
    if problems:
        return problems
    for name, root in roots.items():
        if name.lower().endswith(".bpmn"):
            structure = _structure_problems(name, root)
            problems.extend(structure)
            if structure:
                continue
            problems.extend(lint_bpmn(name, root, bundle.files, roots, shipped=shipped))
            problems.extend(bpmn_expression_problems(name, root))
        else:
            problems.extend(dmn_expression_problems(name, root))
    compiled = None
    try:
        compiled = compile_bundle(bundle)
    except InvalidWorkflow as exc:
        if not problems:  # else often a consequence of what is already reported
            problems.extend(exc.problems)
    if compiled is not None:
        problems.extend(compiled_task_problems(compiled, roots))
    return _unique(problems)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out


def validate_paths(paths: Iterable[str | Path], *, shipped: bool = False,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> list[Problem]:
    """Validate each BPMN path (a directory means every .bpmn under it) with the DMN and form
    files given alongside it (see ``given_paths``). Never raises: paths that cannot be used are
    problems too.

    Problem paths are the paths as given (or found under a given directory), so editors and CI
    can jump to them.
    """
    given = classify(paths)
    _, problems = check_paths(given, shipped=shipped, max_bytes=max_bytes)
    return [r.problem() for r in given.refused] + problems


def check_paths(given: GivenPaths, *, shipped: bool = False,
                max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[PathBundle], list[Problem]]:
    """The bundles the given paths make, and every problem with them ([] means deployable);
    the one gate ``validate`` and ``deploy`` share, so they refuse exactly the same files."""
    built = bundles_from_paths(given, max_bytes=max_bytes)
    problems = list(built.problems)
    for item in built.bundles:
        problems.extend(item.as_given(p) for p in validate_bundle(item.bundle, shipped=shipped))
    return built.bundles, problems
