"""The 42 MAPPA areas, named by slug."""
from __future__ import annotations

from typing import Any

from disclosure_engine.domain.areas import AREAS
from web.api import schemas as s
from web.api.blueprint import ApiBlueprint

blp = ApiBlueprint("api_areas", __name__, description="The 42 MAPPA areas of England and Wales")


@blp.route("", methods=["GET"])
@blp.response(200, s.AreaOut(many=True))
@blp.errors(401)
def list_areas() -> Any:
    """List the areas (slug and name); areas are addressed by slug everywhere"""
    return [{"slug": slug, "name": name} for slug, name in AREAS.items()]
