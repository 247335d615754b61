"""The 42 MAPPA areas, named by slug; one area with its MAPPA review periods."""
from __future__ import annotations

from typing import Any

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.errors import NotFound, ValidationFailed
from disclosure_engine.services import reviews
from web.api import schemas as s
from web.api.auth import current_actor, db
from web.api.blueprint import ApiBlueprint, json_body

blp = ApiBlueprint("api_areas", __name__, description="The 42 MAPPA areas of England and Wales")
PERIOD_FIELDS = {f"level_{level}": level for level in (1, 2, 3)}


def _view(area: dict[str, Any]) -> dict[str, Any]:
    return {"slug": area["area"], "name": area["name"], "review_periods": area["review_periods"]}


@blp.route("", methods=["GET"])
@blp.response(200, s.AreaOut(many=True))
@blp.errors(401)
def list_areas() -> Any:
    """List the areas (slug and name); areas are addressed by slug everywhere"""
    return [{"slug": slug, "name": name} for slug, name in AREAS.items()]


@blp.route("/<slug>", methods=["GET"])
@blp.response(200, s.AreaDetail)
@blp.errors(401, 404)
def get_area(slug: str) -> Any:
    """One area, with its MAPPA review periods (how often the s.327A consideration restarts)"""
    current_actor()
    found = reviews.area_review_periods(db(), slug)
    if found is None:
        raise NotFound(f"No area {slug}")
    return _view(found)


@blp.route("/<slug>/review-periods", methods=["PUT"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": s.ReviewPeriodsIn}}})
@blp.response(200, s.AreaDetail)
@blp.errors(400, 401, 403, 404, 422)
def set_review_periods(slug: str) -> Any:
    """Set an area's MAPPA review periods (administrators)

    ``level_1``, ``level_2``, ``level_3``: an ISO 8601 duration from P1W to P104W, or null for
    no automatic review; levels left out keep theirs. All are checked first and saved together,
    each change audited as ``area.review_period_set``. Cases already scheduled keep their date.
    """
    if slug not in AREAS:
        raise NotFound(f"No area {slug}")
    body = json_body()
    if not isinstance(body, dict) or not body:
        raise ValidationFailed("Send the periods to set", {"_form": ["Send level_1, level_2 and/or level_3"]})
    unknown = {key: [f"Remove {key}: only level_1, level_2 and level_3 are set here"]
               for key in body if key not in PERIOD_FIELDS}
    wrong_type = {key: ["Give an ISO 8601 duration such as P16W, or null for no automatic review"]
                  for key, value in body.items() if key in PERIOD_FIELDS and value is not None
                  and not isinstance(value, str)}
    if unknown or wrong_type:
        raise ValidationFailed("Invalid review periods", {**unknown, **wrong_type})
    return _view(reviews.set_review_periods(db(), current_actor(), slug,
                                            {PERIOD_FIELDS[key]: value for key, value in body.items()}))
