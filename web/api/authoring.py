"""Policy authoring over HTTP: drafts (edit, validate, diff, deploy) and instance migration.

The same services the pages use (``services.drafts``, ``services.migration``), so the rules
are enforced once: only the policy role or an administrator (Forbidden otherwise), every save
and deploy audited, a draft with problems or failing path tests is never deployed (422 with
the problems as ``PATH:LINE: element-id: message`` under ``errors.files``).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from disclosure_engine.services import drafts, migration
from web.api import authoring_schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint
from web.api.schemas import DeployOut

drafts_blp = ApiBlueprint("api_drafts", __name__,
                          description="Server-side drafts of workflows (policy role or administrator)")
authoring_blp = ApiBlueprint("api_authoring", __name__,
                             description="Start drafts of a workflow and migrate its running instances")
migrations_blp = ApiBlueprint("api_migrations", __name__, description="Revert an instance migration")

ID = "<int(max=2147483647):draft_id>"


def _settings() -> Any:
    return current_app.config["SETTINGS"]


# -- drafts -------------------------------------------------------------------------------------

@authoring_blp.route("/<string:key>/drafts", methods=["POST"])
@authoring_blp.arguments(s.DraftCreate)
@authoring_blp.response(201, s.DraftOut)
@authoring_blp.errors(400, 401, 403, 404, 422)
def create_draft(body: dict[str, Any], key: str) -> Any:
    """Start a draft of a workflow

    A copy of ``from_version`` (default: the latest); a key that has never been deployed
    starts from the starter template (one user task), named ``name``.
    """
    view = drafts.create_draft(db(), current_actor(), key, from_version=body.get("from_version"),
                               name=body.get("name"), note=body.get("note"))
    return view, 201, {"Location": url_for("api_drafts.get_draft", draft_id=view["id"])}


@drafts_blp.route("", methods=["GET"])
@drafts_blp.response(200, s.DraftOut(many=True))
@drafts_blp.errors(401, 403)
def list_drafts() -> Any:
    """List drafts, most recently changed first"""
    return drafts.list_drafts(db(), current_actor())


@drafts_blp.route(f"/{ID}", methods=["GET"])
@drafts_blp.response(200, s.DraftDetail)
@drafts_blp.errors(401, 403, 404)
def get_draft(draft_id: int) -> Any:
    """Read a draft with the text of every file"""
    return drafts.get_draft(db(), current_actor(), draft_id)


@drafts_blp.route(f"/{ID}", methods=["PUT"])
@drafts_blp.arguments(s.DraftSave)
@drafts_blp.response(200, s.DraftOut)
@drafts_blp.errors(400, 401, 403, 404, 422)
def save_draft(body: dict[str, Any], draft_id: int) -> Any:
    """Replace the draft's files (audited with the content hash)

    Send every file: files left out are removed from the draft. Saving does not validate;
    ``POST /drafts/<id>/validate`` does.
    """
    return drafts.save_draft(db(), current_actor(), draft_id, body["files"], note=body.get("note"),
                             max_bytes=_settings().max_upload_bytes)


@drafts_blp.route(f"/{ID}", methods=["DELETE"])
@drafts_blp.response(204)
@drafts_blp.errors(401, 403, 404)
def delete_draft(draft_id: int) -> Any:
    """Delete a draft (audited)"""
    drafts.delete_draft(db(), current_actor(), draft_id)
    return None


@drafts_blp.route(f"/{ID}/validate", methods=["POST"])
@drafts_blp.response(200, s.ValidationOut)
@drafts_blp.errors(401, 403, 404)
def validate_draft(draft_id: int) -> Any:
    """Validate a draft: lint problems and the workflow's BPMN unit tests

    Always 200; ``ok`` says whether it may be deployed. Problems name the element to
    highlight; path tests run only when there is no problem.
    """
    return drafts.validate_draft(db(), current_actor(), draft_id, _settings())


@drafts_blp.route(f"/{ID}/diff", methods=["GET"])
@drafts_blp.arguments(s.DraftDiffQuery, location="query")
@drafts_blp.response(200, s.DraftDiffOut)
@drafts_blp.errors(401, 403, 404, 422)
def diff_draft(query: dict[str, Any], draft_id: int) -> Any:
    """Compare a draft with a deployed version, element by element and form by form"""
    return draft_diff_view(drafts.diff_draft(db(), current_actor(), draft_id, query.get("against")))


@drafts_blp.route(f"/{ID}/deploy", methods=["POST"])
@drafts_blp.arguments(s.DraftDeploy)
@drafts_blp.response(201, DeployOut)
@drafts_blp.alt_response(200, schema=DeployOut, description="Identical content was already deployed (no new version)")
@drafts_blp.errors(400, 401, 403, 404, 409, 422)
def deploy_draft(body: dict[str, Any], draft_id: int) -> Any:
    """Deploy a draft as the next version (note required)

    Refused with 422 while validation finds a problem or a path test fails; the reasons
    are listed under ``errors.files``. Running instances stay on their version.
    """
    result = drafts.deploy_draft(db(), current_actor(), draft_id, _settings(), note=body["note"])
    return ({"key": result.key, "version": result.version, "content_hash": result.content_hash,
             "created": result.created}, 201)


def draft_diff_view(result: dict[str, Any]) -> dict[str, Any]:
    """The service's element diff in the API's diff shape (added / removed / changed)."""
    def brief(e: dict[str, Any]) -> dict[str, Any]:
        return {"id": e["element_id"], "type": e["kind"], "name": e["name"]}

    elements = result["elements"]
    return {
        "key": result["key"], "from_version": result["from"], "to_version": "draft",
        "added": [brief(e) for e in elements if e["change"] == "added"],
        "removed": [brief(e) for e in elements if e["change"] == "removed"],
        "changed": [{**brief(e), "changes": {c["field"]: {"before": c["old"], "after": c["new"]} for c in e["fields"]}}
                    for e in elements if e["change"] == "changed"],
        "layout_changed": result["layout_changed"], "forms": result["forms"], "files": result["files"],
    }


# -- migration ----------------------------------------------------------------------------------

@authoring_blp.route("/<string:key>/migrations", methods=["GET"])
@authoring_blp.arguments(s.MigrationQuery, location="query")
@authoring_blp.response(200, s.MigrationPlanOut)
@authoring_blp.errors(401, 403, 404, 422)
def migration_plan(query: dict[str, Any], key: str) -> Any:
    """Running instances on other versions, per version, each safe to migrate or not (with reasons)"""
    return migration.migration_candidates(db(), current_actor(), key, query.get("to"))


@authoring_blp.route("/<string:key>/migrations", methods=["POST"])
@authoring_blp.arguments(s.MigrateIn)
@authoring_blp.response(200, s.MigrationResultOut)
@authoring_blp.errors(400, 401, 403, 404, 422)
def migrate(body: dict[str, Any], key: str) -> Any:
    """Migrate the given instances, or every safe one, to version ``to``

    Each instance moves in its own transaction, keeping its deadlines (timers and task due
    dates), logged with both content hashes. Unsafe or unknown instances are listed under
    ``skipped`` with reasons; the rest still move.
    """
    return migration.migrate_instances(db(), current_actor(), key, body["to"],
                                       instance_ids=body.get("instances") or None,
                                       all_safe=bool(body.get("all_safe")))


@authoring_blp.route("/<string:key>/migrations/history", methods=["GET"])
@authoring_blp.response(200, s.PastMigrationOut(many=True))
@authoring_blp.errors(401, 403, 404)
def migration_history(key: str) -> Any:
    """Past migrations of this workflow's instances, newest first, and whether each can still be reverted"""
    return migration.migration_history(db(), current_actor(), key)


@migrations_blp.route("/<int(max=2147483647):migration_id>/revert", methods=["POST"])
@migrations_blp.response(200, s.MigratedOut)
@migrations_blp.errors(401, 403, 404, 409)
def revert(migration_id: int) -> Any:
    """Put the instance back exactly as it was before this migration

    409 when the instance has moved on since (a task completed, a timer fired).
    """
    return migration.revert_migration(db(), current_actor(), migration_id)


#: (blueprint, path under /api/v1), registered by web.api.init_app
RESOURCES = ((drafts_blp, "/drafts"), (authoring_blp, "/workflows"), (migrations_blp, "/migrations"))
