"""Policy authoring pages: drafts, the BPMN editor, forms with preview, validate, diff, deploy,
and migration of running instances.

Every endpoint here is listed in ``auth.PAGE_ROLES`` (policy or admin) and every service it
calls checks the role again, so an officer, chair, manager or auditor gets 403 whichever way
they come in. The editor's JavaScript talks to the small JSON endpoints below with the
session cookie and the CSRF token in a header (same origin only); everything else is a plain
GOV.UK form post, so the forms, diff, deploy and migration pages work without JavaScript.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from disclosure_engine.domain.errors import DisclosureError, NotFound, ValidationFailed
from disclosure_engine.domain.roles import ROLES
from disclosure_engine.services import drafts as draft_service
from disclosure_engine.services import migration as migration_service
from disclosure_engine.services import workflows as workflow_service
from web.ui import forms_render, security
from web.ui.auth import db

bp = Blueprint("authoring", __name__)
DRAFT = "/workflows/drafts/<int(max=2147483647):draft_id>"
#: inline style attributes bpmn-js 18.31.1 writes (align-elements popup icons); see web-notes.md.
#: Re-hash them when bpmn-js is upgraded. Only the editor page gets this relaxation.
MODELER_STYLE_HASHES = ("'sha256-d2xoiruNEGKe7tm8eQYZ4wZfl8lYgb2Sr9xKlvmCmcU='",
                        "'sha256-yCTUeVKU6CD7LMSHPoB5JSg4Cl/BZ8jCyNCepX770PY='",
                        "'sha256-HXhQM6ELrVUcZms/DLHL1dH06lIksex0j+VgqIIlSmM='",
                        "'sha256-YYsquP+xqomqgdAIk5J+Ecd2u1EqIWPCaE4ltXAtPYE='")
FORM_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.schema\.json$")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _primary(draft: dict[str, Any]) -> str:
    """The process BPMN of a draft: ``<key>.bpmn`` when present, else the first .bpmn file."""
    names = sorted(n for n in draft["content"] if n.endswith(".bpmn"))
    return f"{draft['key']}.bpmn" if f"{draft['key']}.bpmn" in names else (names[0] if names else "")


def _json_error(exc: DisclosureError) -> tuple[Response, int]:
    return jsonify(message=exc.message, errors=getattr(exc, "errors", {})), exc.status


# -- starting drafts ----------------------------------------------------------------------------

@bp.post("/workflows/<key>/edit")
def edit(key: str) -> Any:
    """'Edit' on the workflow list: a new draft copied from the latest (or a chosen) version."""
    raw = request.form.get("from_version") or ""
    draft = draft_service.create_draft(db(), g.actor, key, from_version=int(raw) if raw.isdigit() else None)
    return redirect(url_for("authoring.editor", draft_id=draft["id"]))


@bp.route("/workflows/new", methods=["GET", "POST"])
def new_workflow() -> Any:
    errors: dict[str, str] = {}
    values = {"key": "", "name": ""}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in values}
        if not values["key"]:
            errors["key"] = "Enter a key for the workflow"
        elif any(d["key"] == values["key"] for d in workflow_service.list_definitions(db())):
            errors["key"] = "A workflow with this key is already deployed: use Edit on the workflow list"
        if not values["name"]:
            errors["name"] = "Enter a name for the workflow"
        if not errors:
            try:
                draft = draft_service.create_draft(db(), g.actor, values["key"], name=values["name"])
            except ValidationFailed as exc:
                errors = {k: " ".join(v) for k, v in exc.errors.items()}
            else:
                flash(f"Draft of {values['key']} created from the starter template.", "success")
                return redirect(url_for("authoring.editor", draft_id=draft["id"]))
    error_list = [{"text": t, "href": f"#{k}"} for k, t in errors.items()]
    return render_template("authoring/new.html", errors=errors, error_list=error_list,
                           values=values), 422 if errors else 200


@bp.get("/workflows/drafts")
def drafts() -> Any:
    return render_template("authoring/drafts.html", drafts=draft_service.list_drafts(db(), g.actor))


@bp.post(f"{DRAFT}/delete")
def delete(draft_id: int) -> Any:
    draft_service.delete_draft(db(), g.actor, draft_id)
    flash(f"Draft {draft_id} deleted.", "success")
    return redirect(url_for("authoring.drafts"))


# -- the editor and its JSON endpoints ----------------------------------------------------------

@bp.get(DRAFT)
def editor(draft_id: int) -> Any:
    draft = draft_service.get_draft(db(), g.actor, draft_id)
    config = {"draftId": draft_id, "primary": _primary(draft), "roles": list(ROLES),
              "forms": sorted(n for n in draft["content"] if n.endswith(".schema.json")),
              "uiForms": sorted(n for n in draft["content"] if n.endswith(".uischema.json")),
              "diagramUrl": url_for("authoring.diagram", draft_id=draft_id),
              "saveUrl": url_for("authoring.save", draft_id=draft_id),
              "validateUrl": url_for("authoring.validate", draft_id=draft_id)}
    html = render_template("authoring/editor.html", draft=draft, config=json.dumps(config))
    response = Response(html)
    response.headers["Content-Security-Policy"] = (
        security.CSP.format(nonce=security.csp_nonce())
        + "; style-src-attr 'unsafe-hashes' " + " ".join(MODELER_STYLE_HASHES))
    return response


@bp.get(f"{DRAFT}/diagram.bpmn")
def diagram(draft_id: int) -> Any:
    draft = draft_service.get_draft(db(), g.actor, draft_id)
    return Response(draft["content"].get(_primary(draft), ""), mimetype="application/xml",
                    headers={"Cache-Control": "no-store"})


@bp.post(f"{DRAFT}/save")
def save(draft_id: int) -> Any:
    """The editor's "Save draft": the BPMN XML replaces the primary file; other files stay."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("bpmn"), str):
        return jsonify(message="Send {\"bpmn\": \"<xml>\"} as JSON", errors={}), 400
    try:
        draft = draft_service.get_draft(db(), g.actor, draft_id)
        files = {**draft["content"], _primary(draft): body["bpmn"]}
        saved = draft_service.save_draft(db(), g.actor, draft_id, files,
                                         max_bytes=_settings().max_upload_bytes)
    except DisclosureError as exc:
        return _json_error(exc)
    return jsonify(saved=True, updated_at=saved["updated_at"], updated_by=saved["updated_by"])


@bp.post(f"{DRAFT}/validate")
def validate(draft_id: int) -> Any:
    """Lint problems (with element ids to highlight) and the BPMN unit tests, as JSON."""
    try:
        return jsonify(draft_service.validate_draft(db(), g.actor, draft_id, _settings()))
    except DisclosureError as exc:
        return _json_error(exc)


# -- forms --------------------------------------------------------------------------------------

def _ui_name(schema_name: str) -> str:
    return schema_name.removesuffix(".schema.json") + ".uischema.json"


def _parse(text: str, label: str, errors: dict[str, str], field: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        errors[field] = f"The {label} is not valid JSON: {exc}"
        return None
    if not isinstance(value, dict):
        errors[field] = f"The {label} must be a JSON object"
        return None
    return value


@bp.route(f"{DRAFT}/forms", methods=["GET", "POST"])
def forms(draft_id: int) -> Any:
    """Edit a form's JSON Schema and UI hints; the preview is the officers' rendering."""
    draft = draft_service.get_draft(db(), g.actor, draft_id)
    content: dict[str, str] = draft["content"]
    names = sorted(n for n in content if n.endswith(".schema.json"))
    current = request.values.get("file") or (names[0] if names else "")
    errors: dict[str, str] = {}
    action = request.form.get("_action", "")
    if request.method == "POST" and action == "add":
        new = (request.form.get("new_file") or "").strip()
        if not FORM_FILE.match(new):
            errors["new_file"] = "Enter a file name ending .schema.json (letters, digits, '.', '_' or '-')"
        elif new in content:
            errors["new_file"] = "A form with this name already exists"
        else:
            template = (draft_service.TEMPLATES / "first_step.schema.json").read_text()
            draft_service.save_draft(db(), g.actor, draft_id, {**content, new: template},
                                     max_bytes=_settings().max_upload_bytes)
            flash(f"Form {new} added. Name it in a task's 'Form file' in the editor.", "success")
            return redirect(url_for("authoring.forms", draft_id=draft_id, file=new))
    if current and current not in content:
        raise NotFound(f"No form {current} in draft {draft_id}")
    schema_text = content.get(current, "")
    ui_text = content.get(_ui_name(current), "")
    if request.method == "POST" and action in ("preview", "save"):
        schema_text, ui_text = request.form.get("schema", ""), request.form.get("uischema", "")
    schema = _parse(schema_text, "JSON Schema", errors, "schema") if current else None
    ui = _parse(ui_text, "UI hints", errors, "uischema") if current else None
    if request.method == "POST" and action == "save" and not errors:
        files = {**content, current: schema_text}
        if ui_text.strip() or _ui_name(current) in content:
            files[_ui_name(current)] = ui_text
        try:
            draft_service.save_draft(db(), g.actor, draft_id, files, max_bytes=_settings().max_upload_bytes)
        except ValidationFailed as exc:
            errors["schema"] = " ".join(m for msgs in exc.errors.values() for m in msgs) or exc.message
        else:
            flash(f"Form {current} saved to the draft.", "success")
            return redirect(url_for("authoring.forms", draft_id=draft_id, file=current))
    preview = None
    if schema is not None and ui is not None:
        ctx = forms_render.RenderContext(values={}, errors={}, process_data={})
        try:
            preview = forms_render.render_fields(schema, ui, ctx)
        except Exception as exc:  # noqa: BLE001 - a half-written schema must not break the page; say why
            errors["schema"] = f"The form cannot be shown: {exc.__class__.__name__}: {exc}"
    error_list = [{"text": t, "href": f"#{k}"} for k, t in errors.items()]
    return render_template("authoring/forms.html", draft=draft, names=names, current=current,
                           schema_text=schema_text, ui_text=ui_text, has_ui=_ui_name(current) in content,
                           schema=schema or {}, preview=preview, errors=errors,
                           error_list=error_list), 422 if errors else 200


# -- diff ---------------------------------------------------------------------------------------

def _diff_page(result: dict[str, Any], *, key: str, old_label: str, new_label: str, old_url: str,
               new_url: str, back: str, draft: dict[str, Any] | None = None) -> Any:
    marks = {"added": [], "removed": [], "changed": []}
    for e in result["elements"]:
        marks[e["change"]].append(e["element_id"])
    return render_template("authoring/diff.html", result=result, key=key, old_label=old_label,
                           new_label=new_label, back=back, draft=draft,
                           config=json.dumps({"oldUrl": old_url, "newUrl": new_url, "marks": marks,
                                              "layout": result["layout_changed"]}))


@bp.get(f"{DRAFT}/diff")
def diff(draft_id: int) -> Any:
    raw = request.args.get("against", "")
    against = int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None
    result = draft_service.diff_draft(db(), g.actor, draft_id, against)
    draft = draft_service.get_draft(db(), g.actor, draft_id)
    return _diff_page(result, key=result["key"], old_label=f"Version {result['from']}", new_label="This draft",
                      old_url=url_for("workflows.diagram", key=result["key"], version=result["from"]),
                      new_url=url_for("authoring.diagram", draft_id=draft_id),
                      back=url_for("authoring.editor", draft_id=draft_id), draft=draft)


@bp.get("/workflows/<key>/compare")
def compare(key: str) -> Any:
    try:
        old, new = int(request.args.get("from", "")), int(request.args.get("to", ""))
    except ValueError:
        raise NotFound("Choose two versions to compare") from None
    if not (0 < old < 2**31 and 0 < new < 2**31):
        raise NotFound("No such version")
    result = workflow_service.diff_versions(db(), key, old, new)
    return _diff_page(result, key=key, old_label=f"Version {old}", new_label=f"Version {new}",
                      old_url=url_for("workflows.diagram", key=key, version=old),
                      new_url=url_for("workflows.diagram", key=key, version=new),
                      back=url_for("workflows.index"))


# -- deploy -------------------------------------------------------------------------------------

@bp.route(f"{DRAFT}/deploy", methods=["GET", "POST"])
def deploy(draft_id: int) -> Any:
    """Check the draft, then deploy it with a required note; refused while validation fails."""
    draft = draft_service.get_draft(db(), g.actor, draft_id)
    errors: dict[str, str] = {}
    note = (request.form.get("note") or "").strip()
    if request.method == "POST":
        if not note:
            errors["note"] = "Enter a note saying why this version exists"
        else:
            try:
                result = draft_service.deploy_draft(db(), g.actor, draft_id, _settings(), note=note)
            except ValidationFailed as exc:
                errors["note" if "note" in exc.errors else "report"] = exc.message
            else:
                flash(f"Version {result.version} of {result.key} deployed." if result.created else
                      f"Identical content is already version {result.version}; nothing new was deployed.",
                      "success")
                return redirect(url_for("authoring.migrations", key=result.key))
    report = draft_service.validate_draft(db(), g.actor, draft_id, _settings())
    error_list = [{"text": t, "href": "#note" if k == "note" else "#validation"} for k, t in errors.items()]
    return render_template("authoring/deploy.html", draft=draft, report=report, note=note, errors=errors,
                           error_list=error_list), 422 if errors else 200


# -- migration ----------------------------------------------------------------------------------

@bp.route("/workflows/<key>/migrations", methods=["GET", "POST"])
def migrations(key: str) -> Any:
    """Running instances on older versions, safe or not, migrated selected or all safe."""
    raw = request.values.get("to", "")
    to = int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None
    result = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        plan = migration_service.migration_candidates(db(), g.actor, key, to)
        to = plan["to_version"]
        if request.form.get("_action") == "all_safe":
            result = migration_service.migrate_instances(db(), g.actor, key, to, all_safe=True)
        else:
            chosen = [int(i) for i in request.form.getlist("instances") if i.isdigit() and int(i) < 2**31]
            if not chosen:
                errors["instances"] = "Select at least one instance to migrate"
            else:
                result = migration_service.migrate_instances(db(), g.actor, key, to, instance_ids=chosen)
    plan = migration_service.migration_candidates(db(), g.actor, key, to)
    error_list = [{"text": t, "href": "#instances"} for t in errors.values()]
    history = migration_service.migration_history(db(), g.actor, key)
    return render_template("authoring/migrations.html", key=key, plan=plan, result=result, errors=errors,
                           error_list=error_list, history=history), 422 if errors else 200


@bp.post("/workflows/migrations/<int(max=2147483647):migration_id>/revert")
def revert(migration_id: int) -> Any:
    done = migration_service.revert_migration(db(), g.actor, migration_id)
    flash(f"Migration {migration_id} reverted: process {done['id']} is back on version {done['to_version']}.",
          "success")
    key = request.form.get("key", "")
    return redirect(url_for("authoring.migrations", key=key) if re.match(r"^[a-z][a-z0-9_]{2,63}$", key)
                    else url_for("workflows.index"))

