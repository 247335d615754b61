"""The areas' MAPPA review periods: how often the s.327A duty is considered again at each level.

Everyone who supervises or audits cases sees them (they explain a case's "Next review
consideration"); only administrators change them, on a page per area, in one transaction.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.reviews import describe_period
from disclosure_engine.domain.roles import AUDIT_ROLES, SUPERVISOR_ROLES, Role
from disclosure_engine.services import reviews
from web.ui.auth import db

bp = Blueprint("areas", __name__)
LEVELS = (1, 2, 3)


def may_view() -> bool:
    return g.actor.has_role(*SUPERVISOR_ROLES, *AUDIT_ROLES)


@bp.get("/areas")
def index() -> Any:
    if not may_view():
        abort(403)
    rows = [{**a, "described": {level: describe_period(a["review_periods"][str(level)]) for level in LEVELS}}
            for a in reviews.list_areas(db())]
    return render_template("areas.html", areas=rows, can_edit=g.actor.has_role(Role.ADMIN))


@bp.route("/areas/<slug>/review-periods", methods=["GET", "POST"])
def edit(slug: str) -> Any:
    if not g.actor.has_role(Role.ADMIN):
        abort(403)
    area = reviews.area_review_periods(db(), slug)
    if area is None:
        abort(404)
    values = {f"level_{level}": area["review_periods"][str(level)] or "" for level in LEVELS}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: (request.form.get(name) or "").strip() for name in values}
        try:
            reviews.set_review_periods(db(), g.actor, slug,
                                       {level: values[f"level_{level}"] or None for level in LEVELS})
        except ValidationFailed as failed:
            # the service names a field by its key (level_2): say it as the page labels it
            errors = {key: [m.replace(key, f"Level {key[-1]} review period", 1) if key in values else m
                            for m in messages] for key, messages in failed.errors.items()}
        else:
            flash(f"Review periods for {area['name']} saved. Cases already scheduled keep their date; "
                  "the next consideration to complete uses the new period.", "success")
            return redirect(url_for("areas.index") + f"#area-{slug}")
    return render_template("area_review_periods.html", area=area, values=values, errors=errors), \
        422 if errors else 200
