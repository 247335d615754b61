"""Cases: create (starts the s.327A consideration for a child sex offender), list, read."""
from __future__ import annotations

from typing import Any

from flask import url_for

from disclosure_engine.domain.errors import NotFound, ValidationFailed
from disclosure_engine.services import case_level, cases, convictions, processes, workflows
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint, json_body

blp = ApiBlueprint("api_cases", __name__, description="Cases: offender references, category, level, "
                                                  "convictions and their Schedule 34A matches")


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": s.CaseIn}}})
@blp.response(201, s.CaseOut)
@blp.errors(400, 401, 403, 409, 422)
def create_case() -> Any:
    """Create a case

    Matches the convictions against Schedule 34A; for a child sex offender the s.327A
    consideration starts in the same transaction (see ``processes``). 422 lists every field
    problem with dotted paths (``convictions.0.date``); 409 when the reference exists.
    """
    view = cases.create_case(db(), current_actor(), json_body())
    return view, 201, {"Location": url_for("api_cases.get_case", case_id=view["id"])}


@blp.route("", methods=["GET"])
@blp.arguments(s.CaseQuery, location="query", as_kwargs=True)
@blp.response(200, s.CasePage)
@blp.errors(401, 403)
def list_cases(**query: Any) -> Any:
    """List cases in my areas, newest first (summaries; open one for the detail)"""
    return cases.list_cases(db(), current_actor(), **query)


@blp.route("/<int(max=2147483647):case_id>", methods=["GET"])
@blp.response(200, s.CaseOut)
@blp.errors(401, 403, 404)
def get_case(case_id: int) -> Any:
    """Read a case (recorded as a DPA 2018 s.62 'case.viewed' event)"""
    return cases.get_case(db(), current_actor(), case_id)


@blp.route("/<int(max=2147483647):case_id>/convictions", methods=["PUT"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": s.ConvictionsAmendIn}}})
@blp.response(200, s.CaseOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def amend_convictions(case_id: int) -> Any:
    """Correct or complete a case's convictions

    Replaces the whole list (send every conviction, as at creation) with a ``reason``, matches
    Schedule 34A again, and answers with the case as it now is. Use it to record what a
    ``schedule_34a_review`` question asks for (a victim's age, a paragraph's condition, an
    equivalence opinion). When the offender is now a child sex offender with a new match and no
    s.327A consideration is running, one starts (``consideration_started``). Audited as
    ``case.convictions_amended`` with the list before and after.
    """
    return convictions.amend_convictions(db(), current_actor(), case_id, json_body())


@blp.route("/<int(max=2147483647):case_id>/level", methods=["PUT"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": s.CaseLevelIn}}})
@blp.response(200, s.CaseOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def change_level(case_id: int) -> Any:
    """Change a case's MAPPA level

    For a chair, manager or administrator of the case's area, with a ``reason``. The steps still
    to come of every running process carry the new ``mappa_level`` (``processes_updated``): a
    consideration that has not reached its decision yet is decided as the new level requires,
    and a decision step already open is named in ``notices``. The next review consideration
    moves to the area's period for the new level. Audited as ``case.level_changed``.
    """
    return case_level.change_level(db(), current_actor(), case_id, json_body())


@blp.route("/<int(max=2147483647):case_id>/processes", methods=["POST"])
@blp.arguments(s.ProcessStart)
@blp.response(201, s.ProcessOut)
@blp.errors(400, 401, 403, 404, 422)
def start_process(body: dict[str, Any], case_id: int) -> Any:
    """Start a workflow for a case

    ``workflow`` is a deployed key (``GET /workflows``); ``version`` defaults to the latest;
    ``data`` holds start fields (a delivery's ``decision_id``). An unknown key or version, or a
    ``decision_id`` that is not a current decision of this case to disclose, is a 422 field error.
    A decision to disclose starts its delivery by itself (the sweep's hand-off): only start one
    by hand for a decision that has none.
    """
    key, version = body["workflow"], body.get("version")
    try:
        with db().transaction() as session:
            workflows.latest_definition(session, key, version)
    except NotFound:
        field = "workflow"
        if version is not None:
            try:
                with db().transaction() as session:
                    workflows.latest_definition(session, key)
                field = "version"
            except NotFound:
                pass
        raise ValidationFailed("The workflow cannot be started", {
            field: [f"No deployed workflow {key}" + (f" version {version}" if version else "")]}) from None
    view = processes.start_process(db(), current_actor(), case_id, key, version=version, data=body.get("data"))
    return view, 201, {"Location": url_for("api_processes.get_process", process_id=view["id"])}
