"""The decision log (filters, pagination, CSV export with a justification) and decision detail."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import chain
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request, stream_with_context

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.vocabulary import DECISION_FIELDS, DECISION_OUTCOMES
from disclosure_engine.services import decisions as decision_service
from disclosure_engine.services.workflows import SHIPPED_KEYS
from web.ui.auth import db
from web.ui.filters import area_choices, page_number, pagination, parse_day

bp = Blueprint("decisions", __name__)
PER_PAGE = 25
FILTERS = ("area", "from", "to", "outcome", "workflow", "officer", "presumption", "overdue")
#: fields shown on the decision page besides the vocabulary (process facts kept with the record)
CONTEXT_LABELS = {
    "chair_outcome": "Chair's outcome", "meeting_reference": "MAPP meeting reference",
    "attendees": "Attendees", "decided_out_of_meeting": "Decided out of meeting",
    "ratification_note": "Ratification note", "decision_route": "Decision route",
}
FIELD_LABELS = {
    "children_at_risk": "Children at risk", "recipients": "Recipients",
    "serious_harm_risk": "Test (a): risk of serious harm", "serious_harm_reasons": "Reasons for test (a)",
    "disclosure_necessary": "Test (b): disclosure necessary", "necessity_reasons": "Reasons for test (b)",
    "presumption_applies": "Presumption to disclose applies", "proportionality_reasons": "Proportionality reasons",
    "representations_sought": "Representations sought", "representations_reasons": "Representations: reasons",
    "representations_summary": "Summary of representations", "decision": "Decision",
    "decision_reasons": "Reasons for the decision", "presumption_rebuttal_reasons": "Why the presumption is rebutted",
    "review_date": "Review date", "information_disclosed": "Information disclosed", "conditions": "Conditions",
    "undertaking_signed": "Undertaking signed", "disclosers": "Disclosers", "disclosure_method": "Disclosure method",
    "disclosed_at": "Disclosed at", "offender_notified": "Offender notified",
    "offender_notification_reasons": "Reasons about notifying the offender", "legal_basis": "Legal basis",
    "decision_makers": "Decision makers", "dissent": "Dissent", "security_marking": "Security marking",
}


def _filters() -> tuple[dict[str, str], dict[str, Any], dict[str, list[str]]]:
    raw = {k: (request.values.get(k) or "").strip() for k in FILTERS}
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {
        "area": raw["area"] if raw["area"] in AREAS else None,
        "outcome": raw["outcome"] if raw["outcome"] in DECISION_OUTCOMES else None,
        "workflow": raw["workflow"] or None,
        "date_from": parse_day(raw["from"], "from", errors), "date_to": parse_day(raw["to"], "to", errors),
        "officer": raw["officer"].lower() or None,
        "presumption_applied": {"yes": True, "no": False}.get(raw["presumption"]),
        "overdue_at_decision": {"yes": True, "no": False}.get(raw["overdue"]),
    }
    return raw, {k: v for k, v in parsed.items() if v is not None}, errors


@bp.get("/decisions")
def log() -> Any:
    raw, parsed, errors = _filters()
    page = page_number()
    result = decision_service.decision_log(db(), g.actor, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, **parsed)
    query = urlencode({k: v for k, v in raw.items() if v})
    return render_template("decision_log.html", filters=raw, errors=errors, decisions=result["items"],
                           total=result["total"], total_capped=result.get("total_capped", False), areas=area_choices(), outcomes=DECISION_OUTCOMES,
                           workflows=SHIPPED_KEYS, query=query,
                           pagination=pagination(page, PER_PAGE, result["total"], "decisions.log", **raw))


def _export_function() -> Any:
    """``(db, actor, *, justification, **filters) -> Iterator[str]`` from services.exports, or None."""
    try:
        from disclosure_engine.services import exports
    except ImportError:
        return None
    if hasattr(exports, "stream_decisions_csv"):
        return exports.stream_decisions_csv
    if hasattr(exports, "export_decisions"):
        def stream(db_: Any, actor: Any, *, justification: str, **filters: Any) -> Iterator[str]:
            # checked, counted and audited here, before the first row is produced
            export = exports.export_decisions(db_, actor, justification=justification,
                                              source=request.remote_addr, **filters)
            return export.chunks()
        return stream
    return None


@bp.route("/decisions/export", methods=["GET", "POST"])
def export() -> Any:
    raw, parsed, errors = _filters()
    stream = _export_function()
    justification = (request.form.get("justification") or "").strip()
    if request.method == "POST" and stream is not None and not errors:
        if not justification:
            errors["justification"] = ["Enter why you need this export"]
        else:
            try:
                rows: Iterator[str] = iter(stream(db(), g.actor, justification=justification, **parsed))
                first = next(rows, "")
            except ValidationFailed as exc:
                errors = exc.errors or {"justification": [exc.message]}
            else:
                name = f"decisions-{date.today().isoformat()}.csv"
                return Response(stream_with_context(chain([first], rows)), mimetype="text/csv",
                                headers={"Content-Disposition": f'attachment; filename="{name}"',
                                         "Cache-Control": "no-store"})
    status = 422 if errors else (503 if stream is None else 200)
    return render_template("decision_export.html", filters=raw, errors=errors, justification=justification,
                           available=stream is not None, query=urlencode({k: v for k, v in raw.items() if v})), status


@bp.get("/decisions/<int:decision_id>")
def decision(decision_id: int) -> Any:
    d = decision_service.get_decision(db(), g.actor, decision_id)  # audited: decision.viewed
    rows = [{"key": FIELD_LABELS.get(f, f), "field": f, "value": d.get(f)} for f in DECISION_FIELDS]
    context = [{"key": label, "value": d.get(f)} for f, label in CONTEXT_LABELS.items() if d.get(f) not in (None, "")]
    latest = d["versions"][-1] if d.get("versions") else None
    return render_template("decision.html", d=d, rows=rows, context=context, latest=latest)
