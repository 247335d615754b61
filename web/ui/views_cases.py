"""The case page: facts, processes with their timeline and open tasks, decisions, viewers."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from disclosure_engine.domain.roles import AUDIT_ROLES, SUPERVISOR_ROLES
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import page_reads as queries
from disclosure_engine.services import processes as process_service
from web.ui.auth import db

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
def case(case_id: int) -> Any:
    case = case_service.get_case(db(), g.actor, case_id)  # audited: case.viewed
    processes = [process_service.get_process(db(), g.actor, p["id"]) for p in case["processes"]]
    for p in processes:
        p["workflow"] = next((s["workflow"] for s in case["processes"] if s["id"] == p["id"]), None)
        p["version"] = next((s["version"] for s in case["processes"] if s["id"] == p["id"]), None)
    decisions = queries.decisions_for_case(db(), g.actor, case_id)
    viewers = None
    if g.actor.has_role(*SUPERVISOR_ROLES, *AUDIT_ROLES):
        viewers = queries.case_viewers(db(), g.actor, case_id)
    return render_template("case.html", case=case, processes=processes, decisions=decisions, viewers=viewers)
