"""Process instances: status, open tasks and history."""
from __future__ import annotations

from typing import Any

from disclosure_engine.services import pauses, processes
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint, json_body

blp = ApiBlueprint("api_processes", __name__, description="Running and finished workflow instances of a case")


@blp.route("/<int(max=2147483647):process_id>", methods=["GET"])
@blp.response(200, s.ProcessOut)
@blp.errors(401, 403, 404)
def get_process(process_id: int) -> Any:
    """Read a process: status, open tasks and history (steps done, by whom, when)"""
    return processes.get_process(db(), current_actor(), process_id)


@blp.route("/<int(max=2147483647):process_id>/pause", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": s.PauseIn}}})
@blp.response(200, s.PauseOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def pause_process(process_id: int) -> Any:
    """Pause a running process, with a reason (chairs, managers, administrators of its area)

    Its open tasks become ``paused`` (out of inboxes, overdue lists and escalation; they cannot
    be claimed or completed) and its timers wait. 409 when it is paused already or not running.
    Audited as ``process.paused``.
    """
    return pauses.pause(db(), current_actor(), process_id, json_body())


@blp.route("/<int(max=2147483647):process_id>/resume", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": s.PauseIn}}})
@blp.response(200, s.PauseOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def resume_process(process_id: int) -> Any:
    """Resume a paused process, with a reason; its deadlines get the paused time back

    The tasks open again with due, reminder and escalation times later by the pause's length;
    duration timers wait as much longer; the dates the workflow names in ``pause_extends``
    (CSODS's overall deadline) move by the calendar days paused. Audited as ``process.resumed``.
    """
    return pauses.resume(db(), current_actor(), process_id, json_body())
