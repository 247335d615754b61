"""The decision log: filter, read, correct (supersede), export as streamed CSV."""
from __future__ import annotations

from typing import Any

from flask import Response, request, url_for

from disclosure_engine.services import decisions, exports
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint, fast_json
from disclosure_engine.domain.vocabulary import DECISION_FIELDS

VOCABULARY_NULLS = dict.fromkeys((*DECISION_FIELDS, *decisions.CONTEXT_FIELDS))

blp = ApiBlueprint("api_decisions", __name__, description="Decision records (append-only; corrections supersede)")

CSV_DOC = {"responses": {"200": {
    "description": "A page of decisions (JSON), or with format=csv every matching decision as CSV",
    "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                        "description": "attachment; filename=\"decisions-DATE.csv\" (CSV only)"},
                "X-Export-Rows": {"schema": {"type": "integer"}, "description": "Rows in the CSV (CSV only)"}},
    "content": {"application/json": {"schema": s.DecisionPage},
                "text/csv": {"schema": {"type": "string"}}},
}}}


@blp.route("", methods=["GET"])
@blp.arguments(s.DecisionQuery, location="query", as_kwargs=True)
@blp.arguments(s.ExportHeaders, location="headers", as_kwargs=True)
@blp.response(200, s.DecisionPage)
@blp.doc(**CSV_DOC)
@blp.errors(401, 403, 422)
def list_decisions(format: str = "json", justification: str | None = None, include_superseded: bool = False,
                   limit: int = 50, offset: int = 0, header_justification: str | None = None,
                   **filters: Any) -> Any:
    """The decision log, newest first, within my areas

    Filters combine (AND); an empty filter (``?area=``) is no filter. ``from``/``to`` take a
    day (YYYY-MM-DD, UTC) or an ISO 8601 date-time with an offset. ``format=csv`` streams every
    matching row (no paging) as ``text/csv``, audited as ``decisions.exported`` with the
    filters, the row count and the justification (``justification`` parameter or
    ``X-Justification`` header: when given, at least 20 characters and not a placeholder; when
    not, the event says ``justification_given: false``) before the first row is sent. Exports
    are for chairs, managers, auditors and administrators.
    """
    actor = current_actor()
    filters["current_only"] = not include_superseded
    if format == "csv":
        reason = justification or header_justification
        export = exports.export_decisions(db(), actor, justification=reason, source=request.remote_addr,
                                          justification_required=False, **filters)
        return Response(export.chunks(), status=200, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{export.filename()}"',
            "X-Export-Rows": str(export.count), "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})
    page = decisions.decision_log(db(), actor, limit=limit, offset=offset, **filters)
    page["items"] = [with_vocabulary(d) for d in page["items"]]
    return fast_json(page)


def with_vocabulary(view: dict[str, Any]) -> dict[str, Any]:
    """Every vocabulary and context field present (null when not recorded), as the schema says."""
    return {**VOCABULARY_NULLS, **view}


@blp.route("/<int(max=2147483647):decision_id>", methods=["GET"])
@blp.response(200, s.DecisionDetail)
@blp.errors(401, 403, 404)
def get_decision(decision_id: int) -> Any:
    """Read a decision record with its version chain (recorded as 'decision.viewed')"""
    return decisions.get_decision(db(), current_actor(), decision_id)


@blp.route("/<int(max=2147483647):decision_id>/supersede", methods=["POST"])
@blp.arguments(s.SupersedeIn)
@blp.response(201, s.DecisionOut)
@blp.errors(400, 401, 403, 404, 409, 422)
def supersede(body: dict[str, Any], decision_id: int) -> Any:
    """Correct a decision: a new version with the changes and the reason (chair, manager, admin)

    Only the current version can be superseded (409 otherwise). ``changes`` may hold only
    decision vocabulary fields, never ``presumption_applies`` (derived again from test (a) and
    test (b)). The corrected record must meet the statutory rules: allowed values, real dates,
    real reasons, rebuttal reasons when the presumption applies and the decision is not to
    disclose, a review date for a deferral (422 naming each field; nothing written).
    """
    view = decisions.supersede(db(), current_actor(), decision_id, body["changes"], body["reason"])
    return view, 201, {"Location": url_for("api_decisions.get_decision", decision_id=view["id"])}
