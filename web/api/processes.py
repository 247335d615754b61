"""Process instances: status, open tasks and history."""
from __future__ import annotations

from typing import Any

from disclosure_engine.services import processes
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint

blp = ApiBlueprint("api_processes", __name__, description="Running and finished workflow instances of a case")


@blp.route("/<int(max=2147483647):process_id>", methods=["GET"])
@blp.response(200, s.ProcessOut)
@blp.errors(401, 403, 404)
def get_process(process_id: int) -> Any:
    """Read a process: status, open tasks and history (steps done, by whom, when)"""
    return processes.get_process(db(), current_actor(), process_id)
