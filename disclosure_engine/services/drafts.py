"""Server-side drafts of workflows: edit, validate (lint + BPMN unit tests), diff, deploy.

A draft is a working copy of a bundle (BPMN, DMN, forms as text) that only policy teams and
administrators can see or change. Every save is audited. A draft deploys only when it has no
validation problem and every path in the workflow's BPMN unit tests passes against it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import Forbidden, NotFound, ValidationFailed
from disclosure_engine.domain.roles import POLICY_ROLES, Actor
from disclosure_engine.engine.bundle import WorkflowBundle, bundle_from_files
from disclosure_engine.engine.problems import InvalidWorkflow
from disclosure_engine.engine.spec_diff import diff_bundles
from disclosure_engine.engine.validate import validate_bundle
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import WorkflowDraft, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.views import iso
from disclosure_engine.services.workflows import (
    DeployResult,
    deploy_bundle,
    latest_definition,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "engine" / "templates"
KEY = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(bpmn|dmn|json)$")
MAX_FILES = 60


def _require_policy(actor: Actor) -> None:
    if not actor.has_role(*POLICY_ROLES):
        raise Forbidden("Only the policy role or an administrator may edit workflows")


def _check_files(files: Any, max_bytes: int) -> dict[str, str]:
    if not isinstance(files, dict) or not files:
        raise ValidationFailed("The draft has no files", {"files": ["Send the BPMN, DMN and form files"]})
    errors: dict[str, list[str]] = {}
    if len(files) > MAX_FILES:
        errors["files"] = [f"A workflow may have at most {MAX_FILES} files"]
    for name, text in files.items():
        if not isinstance(name, str) or not FILE_NAME.match(name):
            errors[f"files.{name}"] = ["File names are letters, digits, '.', '_' or '-', ending .bpmn, .dmn or .json"]
        elif not isinstance(text, str):
            errors[f"files.{name}"] = ["File content must be text"]
        elif len(text.encode()) > max_bytes:
            errors[f"files.{name}"] = [f"File is larger than {max_bytes} bytes"]
    if errors:
        raise ValidationFailed("The draft could not be saved", errors)
    return dict(files)


def create_draft(db: Database, actor: Actor, key: str, *, from_version: int | None = None,
                 name: str | None = None, note: str | None = None) -> dict[str, Any]:
    """A new draft: a copy of a deployed version, or (for a new key) the starter template."""
    _require_policy(actor)
    if not KEY.match(key):
        raise ValidationFailed("Invalid workflow key", {"key": ["Use 3-64 lower-case letters, digits and '_', starting with a letter"]})
    now = utcnow()
    with db.transaction() as session:
        try:
            base = latest_definition(session, key, from_version)
            files = {f.name: f.content.decode("utf-8") for f in base.files}
            base_version: int | None = base.version
        except NotFound:
            if from_version is not None:
                raise
            files, base_version = _template(key, name or key.replace("_", " ").capitalize()), None
        draft = WorkflowDraft(key=key, base_version=base_version, files=files, note=note,
                              created_by_name=actor.username, created_at=now,
                              updated_by_name=actor.username, updated_at=now)
        session.add(draft)
        session.flush()
        audit.record(session, actor, "workflow.draft_created", "workflow_draft", draft.id,
                     detail={"key": key, "base_version": base_version})
        return _view(draft)


def _template(key: str, name: str) -> dict[str, str]:
    bpmn = (TEMPLATES / "new_workflow.bpmn").read_text().replace("__KEY__", key).replace("__NAME__", name)
    return {f"{key}.bpmn": bpmn, f"{key}--first_step.schema.json": (TEMPLATES / "first_step.schema.json").read_text()}


def save_draft(db: Database, actor: Actor, draft_id: int, files: Any, *, note: str | None = None,
               max_bytes: int = 2 * 1024 * 1024) -> dict[str, Any]:
    """Replace the draft's files (whole bundle); audited with the resulting content hash."""
    _require_policy(actor)
    checked = _check_files(files, max_bytes)
    with db.transaction() as session:
        draft = _get(session, draft_id)
        draft.files, draft.updated_by_name, draft.updated_at = checked, actor.username, utcnow()
        if note is not None:
            draft.note = note
        bundle = _bundle_or_none(draft)
        audit.record(session, actor, "workflow.draft_saved", "workflow_draft", draft.id,
                     detail={"key": draft.key, "files": sorted(checked),
                             "content_hash": bundle.content_hash if bundle else None})
        return _view(draft)


def get_draft(db: Database, actor: Actor, draft_id: int) -> dict[str, Any]:
    _require_policy(actor)
    with db.transaction() as session:
        return _view(_get(session, draft_id), with_files=True)


def list_drafts(db: Database, actor: Actor, key: str | None = None) -> list[dict[str, Any]]:
    _require_policy(actor)
    with db.transaction() as session:
        q = select(WorkflowDraft).order_by(WorkflowDraft.updated_at.desc())
        if key:
            q = q.where(WorkflowDraft.key == key)
        return [_view(d) for d in session.execute(q).scalars()]


def delete_draft(db: Database, actor: Actor, draft_id: int) -> None:
    _require_policy(actor)
    with db.transaction() as session:
        draft = _get(session, draft_id)
        audit.record(session, actor, "workflow.draft_deleted", "workflow_draft", draft.id, detail={"key": draft.key})
        session.delete(draft)


def validate_draft(db: Database, actor: Actor, draft_id: int, settings: Settings) -> dict[str, Any]:
    """Lint problems (PATH:LINE: element-id: message, with element ids for highlighting) and
    the result of every path in the workflow's BPMN unit tests run against the draft."""
    _require_policy(actor)
    with db.transaction() as session:
        draft = _get(session, draft_id)
        key, files = draft.key, dict(draft.files)
    return check_files(key, files, settings)


def check_files(key: str, files: dict[str, str], settings: Settings) -> dict[str, Any]:
    try:
        bundle = bundle_from_files({n: t.encode() for n, t in files.items()}, max_bytes=settings.max_upload_bytes)
    except InvalidWorkflow as exc:
        return _report([p for p in exc.problems], [])
    problems = validate_bundle(bundle)
    if bundle.key != key:
        from disclosure_engine.engine.problems import Problem

        problems.append(Problem(bundle.primary, 1, bundle.key,
                                f"the process id is {bundle.key!r} but this draft is for {key!r}"))
    paths = [] if problems else _run_paths(bundle, settings)
    return _report(problems, paths)


def _report(problems: list[Any], paths: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ok": not problems and all(p["ok"] for p in paths),
            "problems": [{"file": p.path, "line": p.line, "element_id": p.element_id, "message": p.message,
                          "text": str(p)} for p in problems],
            "paths": paths}


def _run_paths(bundle: WorkflowBundle, settings: Settings) -> list[dict[str, Any]]:
    from disclosure_engine.engine import runtime
    from disclosure_engine.engine.path_tests import run_path

    test_file = settings.workflows_dir / "tests" / f"{bundle.key}.json"
    if not test_file.exists():
        return []
    compiled = runtime.compile_bundle(bundle)
    results = []
    for path in json.loads(test_file.read_text())["paths"]:
        r = run_path(compiled, path)
        results.append({"name": r.name, "ok": r.ok, "message": r.message})
    return results


def diff_draft(db: Database, actor: Actor, draft_id: int, against_version: int | None = None) -> dict[str, Any]:
    """The draft against a deployed version (default: the version it was copied from, else latest)."""
    _require_policy(actor)
    with db.transaction() as session:
        draft = _get(session, draft_id)
        base = latest_definition(session, draft.key, against_version or draft.base_version)
        old = bundle_from_files({f.name: f.content for f in base.files})
        new = bundle_from_files({n: t.encode() for n, t in draft.files.items()})
        return {"key": draft.key, "from": base.version, "to": "draft", **diff_bundles(old, new).to_dict()}


def deploy_draft(db: Database, actor: Actor, draft_id: int, settings: Settings, *, note: str) -> DeployResult:
    """Deploy the draft as the next version if it validates and all its path tests pass."""
    _require_policy(actor)
    if not note or not note.strip():
        raise ValidationFailed("Say why this version exists", {"note": ["Enter a note for this version"]})
    with db.transaction() as session:
        draft = _get(session, draft_id)
        files = {n: t.encode() for n, t in draft.files.items()}
        key = draft.key
    report = check_files(key, {n: b.decode() for n, b in files.items()}, settings)
    if not report["ok"]:
        errors = [p["text"] for p in report["problems"]] + [f"path '{p['name']}': {p['message']}"
                                                            for p in report["paths"] if not p["ok"]]
        raise ValidationFailed("The draft cannot be deployed", {"files": errors})
    return deploy_bundle(db, actor, bundle_from_files(files), note=note.strip())


def _get(session: Any, draft_id: int) -> WorkflowDraft:
    draft = session.get(WorkflowDraft, draft_id)
    if draft is None:
        raise NotFound(f"Draft {draft_id} not found")
    return draft


def _bundle_or_none(draft: WorkflowDraft) -> WorkflowBundle | None:
    try:
        return bundle_from_files({n: t.encode() for n, t in draft.files.items()})
    except Exception:
        return None


def _view(d: WorkflowDraft, *, with_files: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": d.id, "key": d.key, "base_version": d.base_version, "note": d.note,
                           "files": sorted(d.files), "created_by": d.created_by_name, "created_at": iso(d.created_at),
                           "updated_by": d.updated_by_name, "updated_at": iso(d.updated_at)}
    if with_files:
        out["content"] = dict(d.files)
    return out
