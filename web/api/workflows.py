"""Deployed workflows: list, deploy (multipart upload), read a version, structural diff."""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from disclosure_engine.domain.errors import BadInput, Forbidden, ValidationFailed
from disclosure_engine.domain.roles import POLICY_ROLES
from disclosure_engine.engine.problems import InvalidWorkflow
from disclosure_engine.services import workflows
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint

blp = ApiBlueprint("api_workflows", __name__, description="Process definitions (BPMN with DMN and forms) and versions")

UPLOAD_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["files"], "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "The BPMN file with its DMN and form (.schema.json/.uischema.json) files, "
                                 "one part each, all named 'files'"},
        "note": {"type": "string", "maxLength": 2000, "description": "Why this version (shown in the list)"}}},
    "encoding": {"files": {"contentType": "application/octet-stream"}}}}}}


@blp.route("", methods=["GET"])
@blp.response(200, s.WorkflowOut(many=True))
@blp.errors(401)
def list_workflows() -> Any:
    """List deployed workflow keys with their versions (oldest first) and notes"""
    out: dict[str, dict[str, Any]] = {}
    for d in workflows.list_definitions(db()):
        entry = out.setdefault(d["key"], {"key": d["key"], "latest_version": d["version"], "versions": []})
        entry["versions"].append(d)
        entry["latest_version"] = max(entry["latest_version"], d["version"])
    return list(out.values())


@blp.route("", methods=["POST"])
@blp.doc(**UPLOAD_DOC)
@blp.response(201, s.DeployOut)
@blp.alt_response(200, schema=s.DeployOut, description="Identical content was already deployed (no new version)")
@blp.errors(400, 401, 403, 413, 422)
def deploy() -> Any:
    """Validate and deploy a new version (policy role or administrator)

    Every problem is listed under ``errors.files`` as ``PATH:LINE: element-id: message``
    and nothing is deployed. Deploying content identical to a deployed version returns that
    version with 200 and ``created: false``.
    """
    actor = current_actor()
    if not actor.has_role(*POLICY_ROLES):
        raise Forbidden("Only the policy role or an administrator may deploy workflows")
    if request.mimetype != "multipart/form-data":
        raise BadInput("Send multipart/form-data with the BPMN, DMN and form files as 'files' parts")
    unknown = sorted((set(request.form) - {"note"}) | (set(request.files) - {"files"}))
    if unknown:
        raise ValidationFailed("Unknown fields", {k: ["Unknown field."] for k in unknown})
    limit = current_app.config["SETTINGS"].max_upload_bytes
    files: dict[str, bytes] = {}
    problems: list[str] = []
    for part in request.files.getlist("files"):
        name = part.filename or ""
        content = part.read(limit + 1)
        if not name:
            problems.append("-:1: -: a file part has no file name")
        elif len(content) > limit:
            problems.append(f"{name}:1: -: file is larger than the {limit}-byte limit")
        elif name in files:
            problems.append(f"{name}:1: -: the same file name was given twice")
        else:
            files[name] = content
    if not files and not problems:
        problems.append("-:1: -: attach the BPMN file (and its DMN and form files) as 'files' parts")
    if problems:
        raise ValidationFailed("The workflow was not deployed", {"files": problems})
    note = request.form.get("note")
    if note is not None and len(note) > 2000:
        raise ValidationFailed("The workflow was not deployed", {"note": ["Keep the note under 2000 characters"]})
    try:
        result = workflows.deploy_uploaded(db(), actor, files, note=note)
    except InvalidWorkflow as exc:
        raise ValidationFailed("The workflow was not deployed: fix these problems", exc.errors) from None
    body = {"key": result.key, "version": result.version, "content_hash": result.content_hash,
            "created": result.created}
    # 201 either way: the version named in the reply exists; ``created`` says whether this
    # request made it (identical content already deployed is not deployed twice)
    return body, 201


@blp.route("/<string:key>/versions/<int(max=2147483647):version>", methods=["GET"])
@blp.response(200, s.WorkflowVersionDetail)
@blp.errors(401, 404)
def get_version(key: str, version: int) -> Any:
    """Read one version: metadata and the text of every file"""
    return workflows.get_version(db(), key, version)


@blp.route("/<string:key>/diff", methods=["GET"])
@blp.arguments(s.DiffQuery, location="query")
@blp.response(200, s.DiffOut)
@blp.errors(401, 404, 422)
def diff(query: dict[str, Any], key: str) -> Any:
    """Structural diff of two versions: elements added, removed and changed

    An element is changed when its type, name or an extension property (form, role,
    deadline, escalation, instructions, condition, script, called decision) differs.
    """
    result = workflows.diff_versions(db(), key, query["from_version"], query["to_version"])
    return api_diff(result)


def api_diff(result: dict[str, Any]) -> dict[str, Any]:
    """The engine's element diff in the API's shape: added / removed / changed lists."""
    def brief(e: dict[str, Any]) -> dict[str, Any]:
        return {"id": e["element_id"], "type": e["kind"], "name": e["name"]}

    elements = result["elements"]
    return {
        "key": result["key"], "from_version": result["from"], "to_version": result["to"],
        "from_hash": result["from_hash"], "to_hash": result["to_hash"],
        "added": [brief(e) for e in elements if e["change"] == "added"],
        "removed": [brief(e) for e in elements if e["change"] == "removed"],
        "changed": [{**brief(e), "changes": {c["field"]: {"before": c["old"], "after": c["new"]} for c in e["fields"]}}
                    for e in elements if e["change"] == "changed"],
        "layout_changed": result["layout_changed"], "forms": result["forms"], "files": result["files"],
    }
