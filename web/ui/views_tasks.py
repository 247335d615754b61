"""Officers' work: the inbox, claiming, releasing, reassigning, and the task page."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from disclosure_engine.domain.errors import NotFound, ValidationFailed
from disclosure_engine.domain.roles import SUPERVISOR_ROLES
from disclosure_engine.services import assignment
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import page_reads as queries
from disclosure_engine.services import tasks as task_service
from web.ui import forms_parse, forms_render
from web.ui.auth import safe_next, db
from web.ui.filters import page_number, pagination
from web.ui.instructions import render_instructions

bp = Blueprint("tasks", __name__)
PER_PAGE = 25
TABS = {
    "mine": {"label": "My tasks", "scope": "mine", "overdue": None},
    "available": {"label": "Available to claim", "scope": "available", "overdue": None},
    "overdue": {"label": "Overdue", "scope": "all", "overdue": True},
}


def _with_references(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    refs = queries.case_references(db(), g.actor, {t["case_id"] for t in items})
    for t in items:
        t["case_reference"] = refs.get(t["case_id"], f"Case {t['case_id']}")
    return items


@bp.get("/tasks")
def inbox() -> Any:
    tab = request.args.get("tab", "mine")
    if tab not in TABS:
        abort(404)
    page = page_number()
    counts = {}
    for name, spec in TABS.items():
        if name != tab:
            counts[name] = task_service.list_tasks(db(), g.actor, scope=spec["scope"], overdue=spec["overdue"],
                                                   limit=1)["total"]
    spec = TABS[tab]
    result = task_service.list_tasks(db(), g.actor, scope=spec["scope"], overdue=spec["overdue"],
                                     limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    counts[tab] = result["total"]
    items = _with_references(result["items"])
    waiting = case_service.waiting_count(db(), g.actor)
    return render_template("inbox.html", tabs=TABS, tab=tab, counts=counts, tasks=items, total=result["total"],
                           waiting_cases=waiting,
                           page=page, per_page=PER_PAGE, can_reassign=g.actor.has_role(*SUPERVISOR_ROLES),
                           pagination=pagination(page, PER_PAGE, result["total"], "tasks.inbox", tab=tab))


def _back() -> str:
    # the same check as sign-in's next=: a local path only (no //host, backslash or tab tricks)
    return safe_next((request.form.get("return_to") or "").strip()) or url_for("tasks.inbox")


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int) -> Any:
    task = task_service.claim(db(), g.actor, task_id)
    flash(f"You claimed ‘{task['name']}’. It is now in My tasks.", "success")
    if request.form.get("return_to") == "task":
        return redirect(url_for("tasks.task", task_id=task_id))
    return redirect(_back())


@bp.post("/tasks/<int:task_id>/release")
def release(task_id: int) -> Any:
    task = task_service.release(db(), g.actor, task_id)
    flash(f"You released ‘{task['name']}’. It is back in Available to claim.", "success")
    return redirect(_back())


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
def reassign(task_id: int) -> Any:
    task = task_service.get_task(db(), g.actor, task_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            assignment.reassign(db(), g.actor, task_id, request.form.get("username", ""))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(f"‘{task['name']}’ was reassigned to {request.form.get('username')}.", "success")
            return redirect(url_for("tasks.inbox", tab="overdue") if task.get("overdue") else url_for("cases.case", case_id=task["case_id"]))
    people = assignment.candidates(db(), g.actor, task_id)
    refs = queries.case_references(db(), g.actor, {task["case_id"]})
    return render_template("reassign.html", task=task, people=people, errors=errors,
                           case_reference=refs.get(task["case_id"], "")), (422 if errors else 200)


def _form_parts(task: dict[str, Any], ctx: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return task.get("form") or {}, ctx.get("ui_schema") or {}


def _render_task(task: dict[str, Any], ctx: dict[str, Any], *, values: dict[str, Any],
                 errors: dict[str, list[str]] | None = None, extra_rows: dict[str, int] | None = None,
                 status: int = 200) -> Any:
    schema, ui = _form_parts(task, ctx)
    errors = errors or {}
    case = case_service.get_case(db(), g.actor, task["case_id"])
    decisions = queries.decisions_for_case(db(), g.actor, task["case_id"])
    process_data = ctx.get("process_data") or {}
    render_ctx = forms_render.RenderContext(values=values, errors=errors, process_data=process_data,
                                            extra_rows=extra_rows or {})
    holder_is_me = task.get("assignee") in (None, g.actor.username)
    # the services decide (role, an administrator's limit, the four-eyes rule); the page only shows it
    refusal = task_service.work_refusal(db(), g.actor, task["id"]) if task["status"] == "open" else None
    may_work = refusal is None
    return render_template(
        "task.html", task=task, case=case, decisions=decisions,
        instructions=render_instructions(task.get("instructions"), {**process_data, **values}),
        fields=forms_render.render_fields(schema, ui, render_ctx) if task["status"] == "open" else None,
        answers=forms_render.answers_summary(schema, ui, task.get("data") or {}) if task["status"] != "open" else [],
        error_list=forms_render.error_summary(schema, ui, errors), errors=errors,
        form_title=schema.get("title"), form_description=schema.get("description"),
        editable=task["status"] == "open" and holder_is_me and may_work, may_work=may_work, refusal=refusal,
    ), status


@bp.get("/tasks/<int:task_id>")
def task(task_id: int) -> Any:
    task = task_service.get_task(db(), g.actor, task_id)
    ctx = queries.task_context(db(), g.actor, task_id)
    values = dict(task.get("data") or {})
    if task["status"] == "open" and not values:  # a fresh form starts from the policy's defaults
        values = {name: prop["default"] for name, prop in ((task.get("form") or {}).get("properties") or {}).items()
                  if isinstance(prop, dict) and "default" in prop and not prop.get("readOnly")}
    return _render_task(task, ctx, values=values)


@bp.post("/tasks/<int:task_id>")
def submit(task_id: int) -> Any:
    action = request.form.get("_action", "save_draft")
    task = task_service.get_task(db(), g.actor, task_id)
    ctx = queries.task_context(db(), g.actor, task_id)
    schema, ui = _form_parts(task, ctx)
    if action.startswith(("add:", "remove:")):
        values = forms_parse.parse_form(schema, ui, request.form, keep_blank_rows=True)
        extra = forms_parse.apply_row_action(values, action)
        return _render_task(task, ctx, values=values, extra_rows=extra)
    values = forms_parse.parse_form(schema, ui, request.form)
    if action == "save_draft":
        task_service.save_draft(db(), g.actor, task_id, values)
        flash("Your draft was saved. You can come back to it from My tasks.", "success")
        return redirect(url_for("tasks.task", task_id=task_id))
    if action != "complete":
        abort(400)
    try:
        outcome = task_service.complete(db(), g.actor, task_id, values)
    except ValidationFailed as exc:
        return _render_task(task, ctx, values=values, errors=exc.errors or {"_form": [exc.message]}, status=422)
    session["completed"] = {
        "task_id": task_id, "name": task["name"], "case_id": task["case_id"],
        "process": outcome["process"], "next_tasks": outcome["next_tasks"], "decision_id": outcome["decision_id"],
    }
    return redirect(url_for("tasks.completed", task_id=task_id))


@bp.get("/tasks/<int:task_id>/completed")
def completed(task_id: int) -> Any:
    info = session.get("completed")
    if not info or info.get("task_id") != task_id:
        task = task_service.get_task(db(), g.actor, task_id)
        if task["status"] == "open":
            return redirect(url_for("tasks.task", task_id=task_id))
        info = {"task_id": task_id, "name": task["name"], "case_id": task["case_id"], "process": None,
                "next_tasks": [], "decision_id": None}
    refs = queries.case_references(db(), g.actor, {info["case_id"]})
    if info["case_id"] not in refs:
        raise NotFound("not found")
    return render_template("completed.html", info=info, case_reference=refs[info["case_id"]],
                           my_roles=g.actor.roles)
