"""Area statistics: the disclosure figures of a period (counts only, no case named)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields as f

from disclosure_engine.services import statistics
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint, fast_json

blp = ApiBlueprint("api_statistics", __name__, description="Disclosure figures per area, for annual reports")


class StatisticsQuery(ma.Schema):
    area = f.String(load_default=None, metadata={"description": "An area slug (default: all my areas)"})
    date_from = f.Date(data_key="from", load_default=None,
                       metadata={"description": "First day (London), default 1 April of the reporting year"})
    date_to = f.Date(data_key="to", load_default=None, metadata={"description": "Last day (London), default today"})

    class Meta:
        unknown = ma.RAISE


class AreaFigures(ma.Schema):
    area = f.String()
    name = f.String()
    cases = f.Dict(metadata={"description": "Child sex offender cases now, by MAPPA level ('1', '2', '3')"})
    considerations_started = f.Integer()
    considerations_completed = f.Integer()
    decisions = f.Dict(metadata={"description": "Current decisions by workflow key, then outcome"})
    presumption_rebutted = f.Integer()
    decided_when_overdue = f.Integer()
    disclosures_delivered = f.Integer()
    tasks_overdue = f.Integer(metadata={"description": "Open tasks past their due time now"})


class StatisticsOut(ma.Schema):
    date_from = f.String(data_key="from")
    date_to = f.String(data_key="to")
    areas = f.List(f.Nested(AreaFigures))
    totals = f.Nested(AreaFigures)


@blp.route("", methods=["GET"])
@blp.arguments(StatisticsQuery, location="query", as_kwargs=True)
@blp.response(200, StatisticsOut)
@blp.errors(401, 403, 422)
def get_statistics(**query: Any) -> Any:
    """The figures per area over a period (chairs, managers, auditors, administrators)

    Decisions count their current version; cases are counted as they are now. The read is
    audited as ``statistics.viewed``.
    """
    return fast_json(statistics.area_statistics(db(), current_actor(), **query))
