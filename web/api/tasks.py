"""Officers' work through the API: the inbox, a task with its form, claim, release, draft, complete."""
from __future__ import annotations

from typing import Any

from disclosure_engine.services import tasks
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint, fast_json

blp = ApiBlueprint("api_tasks", __name__, description="User tasks: the inbox, forms, claiming and completing")


@blp.route("", methods=["GET"])
@blp.arguments(s.TaskQuery, location="query", as_kwargs=True)
@blp.response(200, s.TaskPage)
@blp.errors(401, 403)
def list_tasks(**query: Any) -> Any:
    """List tasks (the inbox), most urgent first

    ``scope=mine`` (default): tasks I hold; ``available``: unclaimed tasks for my roles in my
    areas; ``all``: every task I may see. Items are task summaries (no ``form``/``data``;
    read ``GET /tasks/{id}`` for those).
    """
    return fast_json(tasks.list_tasks(db(), current_actor(), **query))


@blp.route("/<int(max=2147483647):task_id>", methods=["GET"])
@blp.response(200, s.TaskOut)
@blp.errors(401, 403, 404)
def get_task(task_id: int) -> Any:
    """Read a task with its form (JSON Schema), deadline and saved data"""
    return tasks.get_task(db(), current_actor(), task_id)


@blp.route("/<int(max=2147483647):task_id>/claim", methods=["POST"])
@blp.response(200, s.TaskSummary)
@blp.errors(401, 403, 404, 409)
def claim_task(task_id: int) -> Any:
    """Claim a task for my role (409 when someone else holds it or it is finished)"""
    return tasks.claim(db(), current_actor(), task_id)


@blp.route("/<int(max=2147483647):task_id>/release", methods=["POST"])
@blp.response(200, s.TaskSummary)
@blp.errors(401, 403, 404, 409)
def release_task(task_id: int) -> Any:
    """Give a claimed task back (the holder, or a chair or manager)"""
    return tasks.release(db(), current_actor(), task_id)


@blp.route("/<int(max=2147483647):task_id>/draft", methods=["POST"])
@blp.arguments(s.TaskData)
@blp.response(200, s.TaskOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def save_draft(body: dict[str, Any], task_id: int) -> Any:
    """Save unfinished answers with the task (not validated)"""
    return tasks.save_draft(db(), current_actor(), task_id, body["data"])


@blp.route("/<int(max=2147483647):task_id>/complete", methods=["POST"])
@blp.arguments(s.TaskData)
@blp.response(200, s.CompleteOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def complete_task(body: dict[str, Any], task_id: int) -> Any:
    """Complete a task with its form data

    The data is validated against the task's form: 422 with field errors (keys are the
    form's field names), nothing changes. 409 when the task is already completed or another
    user holds it. Completing a decision step writes a decision record (``decision_id``).
    """
    return tasks.complete(db(), current_actor(), task_id, body["data"])
