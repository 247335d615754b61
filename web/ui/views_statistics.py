"""Area statistics: the disclosure figures for a period, per area, as a page and as CSV."""
from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.services import statistics as statistics_service
from web.ui.auth import db
from web.ui.filters import area_choices, parse_day

bp = Blueprint("statistics", __name__)
#: decision columns shown, in this order: (workflow, outcome, heading)
DECISION_COLUMNS = (
    ("s327a_consideration", "disclose", "s.327A: disclose"),
    ("s327a_consideration", "do_not_disclose", "s.327A: do not disclose"),
    ("s327a_consideration", "defer", "s.327A: deferred"),
)
CSV_COLUMNS = ("area", "name", "cso_cases_level_1", "cso_cases_level_2", "cso_cases_level_3",
               "considerations_started", "considerations_completed", "s327a_disclose", "s327a_do_not_disclose",
               "s327a_defer", "csods_decisions", "urgent_decisions", "presumption_rebutted",
               "decided_when_overdue", "disclosures_delivered", "tasks_overdue_now")


def _period() -> tuple[dict[str, str], dict[str, Any], dict[str, list[str]]]:
    raw = {k: (request.values.get(k) or "").strip() for k in ("area", "from", "to")}
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {"area": raw["area"] if raw["area"] in AREAS else None,
                              "date_from": parse_day(raw["from"], "from", errors),
                              "date_to": parse_day(raw["to"], "to", errors)}
    return raw, parsed, errors


def _result(parsed: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    try:
        return statistics_service.area_statistics(db(), g.actor, **parsed), {}
    except ValidationFailed as exc:
        return None, exc.errors or {"from": [exc.message]}


def _decided(row: dict[str, Any], workflow: str) -> int:
    return sum(row["decisions"].get(workflow, {}).values())


@bp.get("/statistics")
def index() -> Any:
    raw, parsed, errors = _period()
    result, service_errors = (None, {}) if errors else _result(parsed)
    errors = errors or service_errors
    query = urlencode({k: v for k, v in raw.items() if v})
    return render_template("statistics.html", filters=raw, errors=errors, result=result, areas=area_choices(),
                           decision_columns=DECISION_COLUMNS, decided=_decided, query=query), 422 if errors else 200


@bp.get("/statistics.csv")
def export() -> Any:
    raw, parsed, errors = _period()
    if errors:
        return index()
    result, errors = _result(parsed)
    if result is None:
        return index()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in [*result["areas"], {**result["totals"], "area": "total", "name": "All areas shown"}]:
        s327a = row["decisions"].get("s327a_consideration", {})
        writer.writerow([row["area"], row["name"], row["cases"]["1"], row["cases"]["2"], row["cases"]["3"],
                         row["considerations_started"], row["considerations_completed"],
                         s327a.get("disclose", 0), s327a.get("do_not_disclose", 0), s327a.get("defer", 0),
                         _decided(row, "csods_application"), _decided(row, "urgent_disclosure"),
                         row["presumption_rebutted"], row["decided_when_overdue"], row["disclosures_delivered"],
                         row["tasks_overdue"]])
    name = f"disclosure-statistics-{result['from']}-to-{result['to']}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
