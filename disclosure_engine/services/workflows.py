"""Deploy, list and load process definitions. A version is keyed by its content hash.

Deploying the same content again returns the existing version (idempotent); new content gets
the next version number. Running instances stay on the version they started with.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import Conflict, Forbidden, NotFound
from disclosure_engine.domain.roles import POLICY_ROLES, SYSTEM, Actor
from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_files
from disclosure_engine.engine.given_paths import bundles_from_paths, classify
from disclosure_engine.engine.handoff import SHIPPED_KEYS, handoff_targets
from disclosure_engine.engine.problems import InvalidWorkflow, Problem
from disclosure_engine.engine.runtime import CompiledWorkflow, compile_bundle
from disclosure_engine.engine.validate import check_paths, validate_bundle
from disclosure_engine.engine.xml_safety import DEFAULT_MAX_BYTES
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import DefinitionFile, ProcessDefinition
from disclosure_engine.services import audit
from disclosure_engine.services.views import iso


@dataclass(frozen=True)
class DeployResult:
    """``created`` is False when identical content was already deployed: ``version`` is then
    that version (not deployed again, no note recorded) and ``latest`` may be newer."""

    key: str
    version: int
    content_hash: str
    created: bool
    latest: int = 0


def _require_policy(actor: Actor) -> None:
    if not actor.has_role(*POLICY_ROLES):
        raise Forbidden("Only the policy role or an administrator may deploy workflows")


def deploy_bundle(db: Database, actor: Actor, bundle: WorkflowBundle, *, note: str | None = None,
                  shipped: bool = False) -> DeployResult:
    """Validate and store a new version; nothing is stored when any problem is found."""
    _require_policy(actor)
    problems = validate_bundle(bundle, shipped=shipped)
    if problems:
        raise InvalidWorkflow(problems)
    with db.transaction() as session:
        _require_handoff_targets(session, [bundle])
        return _store(session, actor, bundle, note)


def _require_handoff_targets(session: Session, bundles: list[WorkflowBundle],
                             shown: Callable[[WorkflowBundle, Problem], Problem] = lambda _b, p: p) -> None:
    """A hand-off (``start_process`` on an end event) must name a workflow that is deployed,
    deployed in the same call, or shipped (``deploy_shipped`` installs those): else the
    instances ending there would wait for it. Nothing is stored when one does not."""
    deploying = {b.key for b in bundles}
    wanted = [(b, t) for b in bundles for t in handoff_targets(b)]
    if not wanted:
        return
    deployed = set(session.execute(select(ProcessDefinition.key).where(
        ProcessDefinition.key.in_({key for _b, (_f, _l, _e, key) in wanted})).distinct()).scalars())
    known = deployed | deploying | set(SHIPPED_KEYS)
    problems = [shown(b, Problem(file, line, element, f"start_process names workflow {key!r}, which is not "
                                                      "deployed: deploy it first (or with this one)"))
                for b, (file, line, element, key) in wanted if key not in known]
    if problems:
        raise InvalidWorkflow(problems)


def _store(session: Session, actor: Actor, bundle: WorkflowBundle, note: str | None) -> DeployResult:
    existing = session.execute(select(ProcessDefinition).where(
        ProcessDefinition.key == bundle.key, ProcessDefinition.content_hash == bundle.content_hash)
    ).scalar_one_or_none()
    latest = session.execute(select(func.max(ProcessDefinition.version)).where(
        ProcessDefinition.key == bundle.key)).scalar()
    if existing is not None:
        return DeployResult(existing.key, existing.version, existing.content_hash, False, latest)
    definition = ProcessDefinition(
        key=bundle.key, version=(latest or 0) + 1, content_hash=bundle.content_hash,
        primary_file=bundle.primary, note=(note or "").strip() or None,
        deployed_by_id=actor.user_id, deployed_by_name=actor.username,
        files=[DefinitionFile(name=n, content=c, sha256=hashlib.sha256(c).hexdigest())
               for n, c in sorted(bundle.files.items())])
    session.add(definition)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the (key, version) unique key lost a race with another deploy
        raise Conflict(f"Another version of {bundle.key} was deployed at the same time; try again") from None
    audit.record(session, actor, "workflow.deployed", "workflow", f"{bundle.key}:{definition.version}",
                 detail={"key": bundle.key, "version": definition.version,
                         "content_hash": bundle.content_hash, "files": sorted(bundle.files), "note": note})
    return DeployResult(bundle.key, definition.version, bundle.content_hash, True, definition.version)


def deploy_paths(db: Database, actor: Actor, paths: Iterable[str | Path], *, note: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> list[DeployResult]:
    """Deploy each BPMN path (a directory: every .bpmn under it) with the DMN and form files
    given alongside it or found beside it; all or nothing.

    Paths that cannot be used at all raise BadInput; any problem (the same checks as
    ``workflows validate``) raises InvalidWorkflow naming files by the paths as given.
    """
    _require_policy(actor)
    given = classify(paths)
    given.require_usable()
    built, problems = check_paths(given, max_bytes=max_bytes)
    if problems:
        raise InvalidWorkflow(problems)
    with db.transaction() as session:
        by_bundle = {id(item.bundle): item for item in built}
        _require_handoff_targets(session, [item.bundle for item in built],
                                 lambda b, p: by_bundle[id(b)].as_given(p))
        return [_store(session, actor, item.bundle, note) for item in built]


def deploy_uploaded(db: Database, actor: Actor, files: dict[str, bytes], *, note: str | None = None) -> DeployResult:
    _require_policy(actor)
    return deploy_bundle(db, actor, bundle_from_files(files), note=note)


SHIPPED_NOTE = "shipped with the release"


@dataclass(frozen=True)
class ShippedState:
    """What ``db upgrade`` finds for the shipped workflows: the files of this release to deploy,
    and the keys whose release files changed but whose newest version a person deployed."""

    to_deploy: list[Path]
    held: list[tuple[str, int]]


def shipped_state(db: Database, settings: Settings) -> ShippedState:
    """A shipped key is deployed from this release's files when it has no version yet (first
    install, a new key) or when its newest version is itself a shipped one and the files
    differ (an upgrade brings the release's fixes). A key whose newest version a person
    deployed belongs to the policy team: it is never replaced, only reported as held."""
    with db.transaction() as session:
        rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.content_hash,
                                      ProcessDefinition.deployed_by_name, ProcessDefinition.note)
                               .where(ProcessDefinition.key.in_(SHIPPED_KEYS))
                               .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
    newest = {row.key: row for row in rows}  # ordered by version: the last one wins
    paths = {k: settings.workflows_dir / f"{k}.bpmn" for k in SHIPPED_KEYS
             if (settings.workflows_dir / f"{k}.bpmn").exists()}
    fresh = [path for key, path in paths.items() if key not in newest]
    known = [path for key, path in paths.items() if key in newest]
    changed: list[str] = []
    if known:
        built = bundles_from_paths(classify(known), max_bytes=DEFAULT_MAX_BYTES)
        changed = [item.bundle.key for item in built.bundles
                   if item.bundle.key in newest and item.bundle.content_hash != newest[item.bundle.key].content_hash]
    ours = {key for key in changed
            if newest[key].deployed_by_name == SYSTEM.username and newest[key].note == SHIPPED_NOTE}
    return ShippedState(to_deploy=fresh + [paths[key] for key in changed if key in ours],
                        held=[(key, newest[key].version) for key in changed if key not in ours])


def deploy_shipped(db: Database, settings: Settings) -> list[tuple[str, int]]:
    """Deploy the shipped workflows :func:`shipped_state` finds to deploy; returns the new
    (key, version) pairs. Running instances stay on the version they started on."""
    todo = shipped_state(db, settings).to_deploy
    if not todo:
        return []
    results = deploy_paths(db, SYSTEM, todo, note=SHIPPED_NOTE)
    return [(r.key, r.version) for r in results if r.created]


def latest_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinition:
    q = select(ProcessDefinition).where(ProcessDefinition.key == key)
    q = q.where(ProcessDefinition.version == version) if version else q.order_by(ProcessDefinition.version.desc())
    definition = session.execute(q.limit(1)).scalar_one_or_none()
    if definition is None:
        raise NotFound(f"Workflow {key}" + (f" version {version}" if version else "") + " is not deployed")
    return definition


def compiled(definition: ProcessDefinition) -> CompiledWorkflow:
    """The parsed spec for a stored version; files are read and parsed once per process."""
    hit = _cached(definition.content_hash)
    if hit is not None:
        return hit
    spec = compile_bundle(bundle_from_files({f.name: f.content for f in definition.files}))
    with _CACHE_LOCK:
        _COMPILED[definition.content_hash] = spec
        while len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.popitem(last=False)
    return spec


def compiled_by_id(session: Session, definition_id: int, content_hash: str) -> CompiledWorkflow:
    """:func:`compiled` for a caller that read only the version's id and hash: the definition
    row and its files are loaded only when the version is not parsed yet."""
    hit = _cached(content_hash)
    if hit is not None:
        return hit
    definition = session.get(ProcessDefinition, definition_id)
    assert definition is not None, "an instance's definition is never deleted"
    return compiled(definition)


def _cached(content_hash: str) -> CompiledWorkflow | None:
    with _CACHE_LOCK:
        hit = _COMPILED.get(content_hash)
        if hit is not None:
            _COMPILED.move_to_end(content_hash)
        return hit


_CACHE_SIZE = 64
_CACHE_LOCK = threading.Lock()
_COMPILED: OrderedDict[str, CompiledWorkflow] = OrderedDict()


def form_schema(definition: ProcessDefinition, form_name: str | None) -> dict[str, Any] | None:
    if not form_name:
        return None
    return compiled(definition).forms.get(form_name)


def list_definitions(db: Database) -> list[dict[str, Any]]:
    with db.transaction() as session:
        rows = session.execute(select(ProcessDefinition).order_by(
            ProcessDefinition.key, ProcessDefinition.version)).scalars()
        return [definition_view(d) for d in rows]


def definition_view(d: ProcessDefinition, *, with_files: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"key": d.key, "version": d.version, "content_hash": d.content_hash,
                           "primary_file": d.primary_file, "note": d.note,
                           "deployed_by": d.deployed_by_name, "deployed_at": iso(d.deployed_at),
                           "files": [f.name for f in d.files]}
    if with_files:
        out["content"] = {f.name: f.content.decode("utf-8", "replace") for f in d.files}
    return out


def get_version(db: Database, key: str, version: int) -> dict[str, Any]:
    with db.transaction() as session:
        return definition_view(latest_definition(session, key, version), with_files=True)


def diff_versions(db: Database, key: str, from_version: int, to_version: int) -> dict[str, Any]:
    """What changed between two deployed versions of ``key`` (elements, properties, forms)."""
    from disclosure_engine.engine.spec_diff import diff_bundles

    with db.transaction() as session:
        old = latest_definition(session, key, from_version)
        new = latest_definition(session, key, to_version)
        result = diff_bundles(bundle_from_files({f.name: f.content for f in old.files}),
                              bundle_from_files({f.name: f.content for f in new.files}))
        return {"key": key, "from": from_version, "to": to_version,
                "from_hash": old.content_hash, "to_hash": new.content_hash, **result.to_dict()}
