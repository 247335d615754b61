"""A workflow bundle: the BPMN with every DMN, called BPMN and form file it needs, hashed.

A deployed version must be self-contained and immutable: the hash over all its files is the
version's identity (the compiled-spec cache and migrations key on it), and instances never
read files from disk again. Bundles are built from a path (CLI, shipped workflows) or from
uploaded files (API); both end in the same structure, so validation has one input.
"""
from __future__ import annotations

import hashlib
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import MappingProxyType

from lxml import etree

from disclosure_engine.engine.problems import InvalidWorkflow, Problem
from disclosure_engine.engine.xml_safety import DEFAULT_MAX_BYTES, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


def content_hash(files: Mapping[str, bytes]) -> str:
    """sha256 over the sorted (name, sha256(content)) pairs: stable across upload order."""
    outer = hashlib.sha256()
    for name in sorted(files):
        outer.update(name.encode("utf-8") + b"\0" + hashlib.sha256(files[name]).hexdigest().encode()
                     + b"\n")
    return outer.hexdigest()


@dataclass(frozen=True)
class WorkflowBundle:
    """Everything one workflow version needs; ``key`` is the primary BPMN process id."""

    key: str
    primary: str
    files: Mapping[str, bytes] = field(repr=False)
    content_hash: str

    @classmethod
    def build(cls, key: str, primary: str, files: Mapping[str, bytes]) -> WorkflowBundle:
        frozen = MappingProxyType(dict(files))
        return cls(key=key, primary=primary, files=frozen, content_hash=content_hash(frozen))

    @property
    def bpmn_files(self) -> list[str]:
        return sorted(n for n in self.files if n.lower().endswith(".bpmn"))

    @property
    def dmn_files(self) -> list[str]:
        return sorted(n for n in self.files if n.lower().endswith(".dmn"))


# -- reading references out of BPMN/DMN -----------------------------------------------------

def process_ids(root: etree._Element, *, executable_only: bool = False) -> list[str]:
    ids = []
    for proc in root.iterfind(".//bpmn:process", NS):
        if executable_only and proc.get("isExecutable", "true").lower() == "false":
            continue
        if proc.get("id"):
            ids.append(proc.get("id"))
    return ids


def form_references(root: etree._Element) -> list[str]:
    """Form file names named by spiffworkflow:property formJsonSchemaFilename/formUiSchemaFilename."""
    names = []
    for prop in root.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") in FORM_PROPERTIES and (prop.get("value") or "").strip():
            names.append(prop.get("value").strip())
    return names


def decision_references(root: etree._Element) -> list[str]:
    return [(e.text or "").strip() for e in root.iterfind(".//spiffworkflow:calledDecisionId", NS)
            if (e.text or "").strip()]


def called_processes(root: etree._Element) -> list[str]:
    return [e.get("calledElement") for e in root.iterfind(".//bpmn:callActivity", NS)
            if e.get("calledElement")]


def decision_ids(root: etree._Element) -> list[str]:
    """Decision ids in a DMN file, whatever DMN namespace version it uses."""
    return [e.get("id") for e in root.iter() if isinstance(e.tag, str)
            and etree.QName(e).localname == "decision" and e.get("id")]


def choose_process(root: etree._Element, stem: str) -> str | None:
    """The executable process of a file; if several, the one named like the file stem."""
    candidates = process_ids(root, executable_only=True) or process_ids(root)
    if not candidates:
        return None
    if len(candidates) > 1:
        for pid in candidates:
            if pid == stem or pid.replace("_", "-") == stem.replace("_", "-"):
                return pid
    return candidates[0]


# -- building ---------------------------------------------------------------------------------

def bundle_from_path(bpmn_path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                     extras: Mapping[str, bytes] | None = None) -> WorkflowBundle:
    """The BPMN at ``bpmn_path`` plus the files it references from the same directory.

    ``extras`` (file name -> content) are DMN and form files the user gave alongside the BPMN,
    perhaps from another directory: a referenced name found there is taken from there, in
    preference to a same-named file beside the BPMN (the author named that file on purpose),
    and a decision is looked up in the given DMN before the ones beside the BPMN.

    Unsafe or unreadable primary XML raises InvalidWorkflow; a referenced file that is missing
    is simply absent from the bundle, and validation reports it against the referencing element.
    """
    bpmn_path = Path(bpmn_path)
    extras = extras or {}
    name = bpmn_path.name
    content = read_file(bpmn_path, max_bytes)
    root = parse_xml(content, path=str(bpmn_path), max_bytes=max_bytes)
    key = choose_process(root, bpmn_path.stem)
    if key is None:
        raise InvalidWorkflow([Problem(str(bpmn_path), root.sourceline or 1, "-",
                                       "no bpmn:process in this file")])
    directory = bpmn_path.parent
    files: dict[str, bytes] = {name: content}

    def take(fname: str) -> None:
        if fname not in files:
            files[fname] = extras[fname] if fname in extras else read_file(directory / fname, max_bytes)

    pending = [root]
    dmn_index: dict[str, str] | None = None
    bpmn_index: dict[str, str] | None = None
    while pending:
        current = pending.pop()
        for form in form_references(current):
            fname = PurePath(form).name
            if fname in extras or (directory / fname).is_file():
                take(fname)
        wanted = decision_references(current)
        if wanted:
            if dmn_index is None:
                dmn_index = _given_index(extras, ".dmn", decision_ids)
                for ident, fname in _index(directory, "*.dmn", max_bytes, decision_ids,
                                           skip=extras).items():
                    dmn_index.setdefault(ident, fname)
            for decision in wanted:
                if decision in dmn_index:
                    take(dmn_index[decision])
        for called in called_processes(current):
            bpmn_index = bpmn_index if bpmn_index is not None else _index(
                directory, "*.bpmn", max_bytes, process_ids)
            fname = bpmn_index.get(called)
            if fname and fname not in files:
                files[fname] = read_file(directory / fname, max_bytes)
                pending.append(parse_xml(files[fname], path=str(directory / fname),
                                         max_bytes=max_bytes))
    return WorkflowBundle.build(key, name, files)


def read_file(path: Path, max_bytes: int, *, shown: str | None = None) -> bytes:
    """The file's bytes, or InvalidWorkflow naming it (as ``shown``, else ``path``) when it is
    over ``max_bytes`` or unreadable."""
    label = shown if shown is not None else str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidWorkflow([Problem(label, 1, "-", f"file is {size} bytes, larger than "
                                                          f"the {max_bytes}-byte limit")])
        return path.read_bytes()
    except OSError as exc:
        raise InvalidWorkflow([Problem(label, 1, "-", f"cannot read file: {exc.strerror}")])\
            from None


def _index(directory: Path, pattern: str, max_bytes: int, ids_of: object,
           skip: Container[str] = ()) -> dict[str, str]:
    """id -> file name for sibling files; files that fail the safety check are skipped here
    (they are not part of the bundle, so the missing reference is what gets reported), and so
    are names in ``skip`` (replaced by a file the user gave)."""
    index: dict[str, str] = {}
    for path in sorted(directory.glob(pattern)):
        if path.name in skip:
            continue
        try:
            node = parse_xml(read_file(path, max_bytes), path=str(path), max_bytes=max_bytes)
        except InvalidWorkflow:
            continue
        for ident in ids_of(node):  # type: ignore[operator]
            index.setdefault(ident, path.name)
    return index


def _given_index(files: Mapping[str, bytes], suffix: str, ids_of: object) -> dict[str, str]:
    """id -> file name for given files; unsafe ones are skipped (the caller reports them)."""
    index: dict[str, str] = {}
    for fname in sorted(files):
        if not fname.lower().endswith(suffix):
            continue
        try:
            node = parse_xml(files[fname], path=fname, max_bytes=len(files[fname]) + 1)
        except InvalidWorkflow:
            continue
        for ident in ids_of(node):  # type: ignore[operator]
            index.setdefault(ident, fname)
    return index


def bundle_from_files(files: Mapping[str, bytes], *,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> WorkflowBundle:
    """A bundle from uploaded files; exactly one BPMN must hold the primary process.

    The primary is the BPMN whose processes no other uploaded BPMN calls. File names are
    flattened to their last component so an upload cannot name a path.
    """
    flat: dict[str, bytes] = {}
    for raw_name, content in files.items():
        name = PurePath(str(raw_name).replace("\\", "/")).name
        if not name or name in (".", ".."):
            raise InvalidWorkflow([Problem(str(raw_name), 1, "-", "invalid file name")])
        if name in flat:
            raise InvalidWorkflow([Problem(name, 1, "-", "the same file name was given twice")])
        if len(content) > max_bytes:
            raise InvalidWorkflow([Problem(name, 1, "-", f"file is {len(content)} bytes, larger "
                                                         f"than the {max_bytes}-byte limit")])
        flat[name] = content
    bpmns = {n: parse_xml(c, path=n, max_bytes=max_bytes) for n, c in flat.items()
             if n.lower().endswith(".bpmn")}
    for n, c in flat.items():
        if n.lower().endswith(".dmn"):
            parse_xml(c, path=n, max_bytes=max_bytes)
    if not bpmns:
        raise InvalidWorkflow([Problem("-", 1, "-", "no .bpmn file was given")])
    called = {pid for root in bpmns.values() for pid in called_processes(root)}
    primaries = [n for n, root in bpmns.items()
                 if not set(process_ids(root)) & called or len(bpmns) == 1]
    if len(primaries) != 1:
        listed = ", ".join(sorted(primaries or bpmns))
        raise InvalidWorkflow([Problem("-", 1, "-", "exactly one BPMN file must hold the primary "
                                                    f"(not called) process; candidates: {listed}")])
    primary = primaries[0]
    key = choose_process(bpmns[primary], PurePath(primary).stem)
    if key is None:
        raise InvalidWorkflow([Problem(primary, 1, "-", "no bpmn:process in this file")])
    return WorkflowBundle.build(key, primary, flat)
