"""Workflow bundles from paths as a user names them: BPMN files (or directories of them) and
the DMN and form files that go with them.

A policy author may keep a changed DMN or form somewhere other than the BPMN (a scratch
folder, a CI job's list of changed files), so ``workflows deploy a.bpmn b.dmn c.schema.json``
means "these files together", as the API's multipart upload does:

- a ``.bpmn`` path is a workflow's main file; a directory means every ``.bpmn`` under it;
- a ``.dmn`` or ``.json`` path (a decision table, a form's JSON Schema or UI schema) joins, by
  file name, the bundle of each given BPMN that uses it, in preference to a same-named file
  beside the BPMN;
- a given DMN or form file that no given BPMN uses is a problem: the author expected it to be
  validated and deployed, so it is never dropped silently;
- problems name files by the path the user gave, so editors and CI can jump to them.

Paths that cannot be used at all (missing, another kind of file, two files of one name, no
BPMN) are refusals: bad usage, reported before anything is read.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from disclosure_engine.domain.errors import BadInput
from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_path, read_file
from disclosure_engine.engine.problems import InvalidWorkflow, Problem
from disclosure_engine.engine.xml_safety import parse_xml

BPMN_SUFFIX = ".bpmn"
EXTRA_SUFFIXES = (".dmn", ".json")
NO_BPMN = "no .bpmn file given: DMN and form files are validated and deployed with the BPMN that uses them"


@dataclass(frozen=True)
class Refusal:
    """A path that cannot be used at all, and why."""

    path: str
    reason: str

    def problem(self) -> Problem:
        return Problem(self.path or "-", 1, "-", self.reason)

    def line(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


@dataclass(frozen=True)
class GivenPaths:
    """What the paths name: main BPMN files, extra files by name, and the paths refused."""

    bpmn: tuple[str, ...]
    extras: Mapping[str, str]
    refused: tuple[Refusal, ...] = ()

    def require_usable(self) -> None:
        """Raise BadInput with the first refusal's one line (bad usage, exit 2 on the CLI)."""
        if self.refused:
            raise BadInput(self.refused[0].line())


def classify(paths: Iterable[str | Path]) -> GivenPaths:
    """Sort the given paths into BPMN files and extras; never reads a file."""
    bpmn: list[str] = []
    seen_bpmn: set[Path] = set()
    extras: dict[str, str] = {}
    refused: list[Refusal] = []
    empty_dirs: list[str] = []

    def add_bpmn(shown: str, path: Path) -> None:
        real = path.resolve()
        if real not in seen_bpmn:  # `deploy workflows/ workflows/x.bpmn` deploys x once
            seen_bpmn.add(real)
            bpmn.append(shown)

    for raw in paths:
        shown, path = str(raw), Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{BPMN_SUFFIX}") if p.is_file())
            for p in found:
                add_bpmn(str(p), p)
            if not found:
                empty_dirs.append(shown)
        elif not path.exists():
            refused.append(Refusal(shown, "no such file or directory"))
        elif path.suffix.lower() == BPMN_SUFFIX:
            add_bpmn(shown, path)
        elif path.suffix.lower() in EXTRA_SUFFIXES:
            if path.name in extras and Path(extras[path.name]).resolve() != path.resolve():
                refused.append(Refusal(shown, f"has the same file name as {extras[path.name]}; "
                                              "a workflow holds one file of each name"))
            extras.setdefault(path.name, shown)
        else:
            refused.append(Refusal(shown, "not a .bpmn, .dmn or .json (form) file"))
    if not bpmn and not refused:
        where = f" (none under {', '.join(empty_dirs)})" if empty_dirs else ""
        refused.append(Refusal("", NO_BPMN + where))
    return GivenPaths(tuple(bpmn), extras, tuple(refused))


@dataclass(frozen=True)
class PathBundle:
    """A bundle and where each of its files came from (the path to show in problems)."""

    bundle: WorkflowBundle
    sources: Mapping[str, str]

    def as_given(self, problem: Problem) -> Problem:
        return _as_given(problem, self.sources)


def _as_given(problem: Problem, sources: Mapping[str, str]) -> Problem:
    shown = sources.get(problem.path)
    return dataclasses.replace(problem, path=shown) if shown else problem


@dataclass
class PathBundles:
    bundles: list[PathBundle] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def bundles_from_paths(given: GivenPaths, *, max_bytes: int) -> PathBundles:
    """A bundle per given BPMN, with the given extras; problems reading files or an extra no
    bundle uses are collected, not raised, so one run reports them all. Refusals are the
    caller's (``GivenPaths.require_usable`` or report them as problems)."""
    out = PathBundles()
    extras: dict[str, bytes] = {}
    for name, shown in given.extras.items():
        try:
            content = read_file(Path(shown), max_bytes, shown=shown)
            if name.lower().endswith(".dmn"):
                parse_xml(content, path=shown, max_bytes=max_bytes)
        except InvalidWorkflow as exc:
            out.problems.extend(exc.problems)
            continue
        extras[name] = content
    unbuilt = False
    for shown in given.bpmn:
        path = Path(shown)
        sources = {str(path): shown}  # bundle_from_path names the primary by its Path
        try:
            bundle = bundle_from_path(path, max_bytes=max_bytes, extras=extras)
        except InvalidWorkflow as exc:
            out.problems.extend(_as_given(p, sources) for p in exc.problems)
            unbuilt = True
            continue
        except Exception as exc:  # noqa: BLE001 - third-party parsing raises anything; report it
            out.problems.append(Problem(shown, 1, "-", f"cannot read workflow: {type(exc).__name__}: {exc}"))
            unbuilt = True
            continue
        sources.update({n: given.extras[n] if n in extras else str(path.parent / n) for n in bundle.files})
        sources[bundle.primary] = shown
        out.bundles.append(PathBundle(bundle, sources))
    if not unbuilt:  # a BPMN that could not be read may be the one that uses it
        used = {n for b in out.bundles for n in b.bundle.files}
        out.problems.extend(
            Problem(given.extras[n], 1, "-", "no given BPMN file uses this file (a BPMN uses a form "
                    "it names in formJsonSchemaFilename or formUiSchemaFilename, and a DMN whose "
                    "decision it calls with calledDecisionId)")
            for n in extras if n not in used)
    return out
