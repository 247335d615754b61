"""Add a case from the browser: its MAPPA facts, the offender's opaque references and up to
three convictions (more, and corrections, on the case page). The service checks everything and
starts the s.327A consideration for a child sex offender; this page only turns the form into
the case's JSON shape and the service's field errors back into the form's fields."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from disclosure_engine.domain.areas import AREA_SLUGS
from disclosure_engine.domain.cases import DISPOSALS, ENGLAND_WALES, LEAD_AGENCIES
from disclosure_engine.domain.errors import Conflict, ValidationFailed
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import convictions as conviction_service
from web.ui.auth import db

bp = Blueprint("case_new", __name__)
ROWS = 3
CASE_FIELDS = ("reference", "area", "category", "level", "lead_agency", "visor_ref", "pnc_ref", "ndelius_crn")
CONVICTION_FIELDS = ("statute", "section", "date-day", "date-month", "date-year", "disposal", "victim_age",
                     "jurisdiction")
DISPOSAL_LABELS = {"conviction": "Conviction", "caution": "Caution",
                   "insanity": "Finding of not guilty by reason of insanity",
                   "disability": "Finding of disability (did the act)"}


@bp.route("/cases/new", methods=["GET", "POST"])
def new() -> Any:
    if not g.actor.has_role(*case_service.CREATOR_ROLES):
        abort(403)
    areas = sorted(AREA_SLUGS if g.actor.national else g.actor.areas)
    values = {name: (request.form.get(name) or "").strip() for name in CASE_FIELDS}
    rows = [form_row(i) for i in range(ROWS)]
    if request.method == "GET":
        values["area"] = areas[0] if len(areas) == 1 else ""
        rows[0]["jurisdiction"] = rows[1]["jurisdiction"] = rows[2]["jurisdiction"] = ENGLAND_WALES
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        payload, included, errors = _payload(values, rows)
        if values["area"] not in areas:
            errors["area"] = ["Select the MAPPA area the case is managed in"]
        if not errors:
            try:
                view = case_service.create_case(db(), g.actor, payload)
            except ValidationFailed as failed:
                errors = _form_errors(failed.errors, included)
            except Conflict as conflict:
                errors = {"reference": [conflict.message]}
            else:
                started = " Its s.327A consideration has started." if view["processes"] else ""
                flash(f"Case {view['reference']} added.{started}", "success")
                return redirect(url_for("cases.case", case_id=view["id"]))
    return render_template("case_new.html", values=values, rows=rows, errors=errors, areas=areas,
                           lead_agencies=LEAD_AGENCIES, disposals=DISPOSALS, disposal_labels=DISPOSAL_LABELS), \
        422 if errors else 200


def _payload(values: dict[str, str], rows: list[dict[str, str]],
             ) -> tuple[dict[str, Any], list[int], dict[str, list[str]]]:
    """The case as the API takes it, the form rows its convictions came from (blank rows after
    the first are left out), and the errors only the form can see (a date half filled in)."""
    errors: dict[str, list[str]] = {}
    included: list[int] = []
    offender = {name: values[name] for name in ("visor_ref", "pnc_ref", "ndelius_crn") if values[name]}
    payload: dict[str, Any] = {
        "reference": values["reference"], "area": values["area"], "lead_agency": values["lead_agency"] or None,
        "category": int(values["category"]) if values["category"].isdigit() else None,
        "level": int(values["level"]) if values["level"].isdigit() else None,
        "offender": offender, "convictions": [],
    }
    for i, row in enumerate(rows):
        if i > 0 and not any(v for k, v in row.items() if k != "jurisdiction"):
            continue
        conviction = conviction_from_row(row, i, errors)
        payload["convictions"].append(conviction)
        included.append(i)
    return payload, included, errors


def conviction_from_row(row: dict[str, str], i: int, errors: dict[str, list[str]]) -> dict[str, Any]:
    """Form row ``i`` as a conviction in the API's shape; adds to ``errors`` what only the form
    can see (a date half filled in, an age that is not a number)."""
    date_parts = (row["date-year"], row["date-month"], row["date-day"])
    when = ""
    if all(date_parts):
        when = f"{row['date-year'].zfill(4)}-{row['date-month'].zfill(2)}-{row['date-day'].zfill(2)}"
    elif any(date_parts):
        errors[f"convictions-{i}-date"] = ["Enter the date in full: day, month and year"]
    conviction: dict[str, Any] = {"statute": row["statute"], "section": row["section"], "date": when,
                                  "disposal": row["disposal"] or None,
                                  "jurisdiction": row["jurisdiction"] or ENGLAND_WALES}
    if row["victim_age"]:
        if not row["victim_age"].isdigit():
            errors[f"convictions-{i}-victim_age"] = ["Enter the victim's age as a whole number, or leave it "
                                                     "blank if it is not known"]
        else:
            conviction["victim_age"] = int(row["victim_age"])
    return conviction


def form_row(i: int) -> dict[str, str]:
    """What was typed in conviction row ``i`` of the posted form."""
    return {name: (request.form.get(f"convictions-{i}-{name}") or "").strip() for name in CONVICTION_FIELDS}


def _form_errors(errors: dict[str, list[str]], included: list[int], *,
                 fallback: str = "reference") -> dict[str, list[str]]:
    """The service's keys (``convictions.0.date``, ``offender.visor_ref``) as the form's field
    ids; ``included[n]`` is the form row of the payload's conviction n; a key the form has no
    field for goes to ``fallback``."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key.startswith("offender."):
            field = key.split(".", 1)[1]
        elif key.startswith("convictions."):
            parts = key.split(".")
            row = included[int(parts[1])] if parts[1].isdigit() and int(parts[1]) < len(included) else 0
            field = f"convictions-{row}-{parts[2]}" if len(parts) > 2 else f"convictions-{row}-statute"
        elif key == "convictions":
            field = "convictions-0-statute"
        else:
            field = key if key in (*CASE_FIELDS, "reason") else fallback
        out.setdefault(field, []).extend(messages)
    return out


@bp.route("/cases/<int:case_id>/convictions/new", methods=["GET", "POST"])
def add_conviction(case_id: int) -> Any:
    """Add one conviction to a case, with the reason (see :func:`_conviction_page`)."""
    return _conviction_page(case_id, None)


@bp.route("/cases/<int:case_id>/convictions/<int:index>/change", methods=["GET", "POST"])
def change_conviction(case_id: int, index: int) -> Any:
    """Correct one recorded conviction, with the reason (see :func:`_conviction_page`)."""
    return _conviction_page(case_id, index)


#: what a recorded conviction holds besides the form's fields: answers about *this* offence,
#: kept only while its statute, section and jurisdiction stay as they were; and a fact the form
#: does not show (an attempt, conspiracy...), always kept
ANSWERS = ("equivalence_opinion", "condition_met", "statute_confirmed")
KEPT = ("inchoate",)


def amendable_case(case_id: int) -> dict[str, Any]:
    """The case, for a user who may change its convictions: a case role that creates cases,
    in the case's area (403), and a case they can see at all (404); the read is audited."""
    if not g.actor.has_role(*case_service.CREATOR_ROLES):
        abort(403)
    case = case_service.get_case(db(), g.actor, case_id)  # audited: case.viewed; NotFound elsewhere
    if not g.actor.in_area(case["area"]):
        abort(403)
    return case


def _conviction_page(case_id: int, index: int | None) -> Any:
    """Add a conviction (``index`` None) or correct one; Schedule 34A is matched again and, when
    the offender becomes a child sex offender, the consideration starts
    (``services.convictions.amend_convictions``, which the API's PUT uses too)."""
    case = amendable_case(case_id)
    listed = [dict(c) for c in case["convictions"]]
    if index is not None and index >= len(listed):
        abort(404)
    position = len(listed) if index is None else index
    reason = (request.form.get("reason") or "").strip()
    row = form_row(0) if request.method == "POST" else _row_of(listed[index] if index is not None else None)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        conviction = conviction_from_row(row, 0, errors)
        if not errors:
            if index is not None:
                old = listed[index]
                same = all(old.get(k) == conviction.get(k) for k in ("statute", "section", "jurisdiction"))
                conviction.update({k: old[k] for k in (*KEPT, *(ANSWERS if same else ())) if k in old})
                listed[index] = conviction
            else:
                listed.append(conviction)
            try:
                result = conviction_service.amend_convictions(
                    db(), g.actor, case_id, {"convictions": listed, "reason": reason})
            except ValidationFailed as failed:
                errors = _form_errors({key.replace(f"convictions.{position}.", "convictions.0."): messages
                                       for key, messages in failed.errors.items()
                                       if key == "reason" or key.startswith(f"convictions.{position}.")}
                                      or failed.errors, [0], fallback="reason")
            else:
                done = "Conviction added" if index is None else f"Conviction {index + 1} changed"
                flash(" ".join([f"{done}; Schedule 34A matched again.", *result["notices"]]), "success")
                return redirect(url_for("cases.case", case_id=case_id))
    return render_template("conviction_new.html", case=case, index=index, row=row, reason=reason, errors=errors,
                           disposals=DISPOSALS, disposal_labels=DISPOSAL_LABELS), 422 if errors else 200


def _row_of(conviction: dict[str, Any] | None) -> dict[str, str]:
    """A recorded conviction as the form's row (a new one: blank, in England and Wales)."""
    if conviction is None:
        return {**{name: "" for name in CONVICTION_FIELDS}, "jurisdiction": ENGLAND_WALES}
    year, month, day = (conviction.get("date") or "--").split("-")
    return {"statute": conviction.get("statute", ""), "section": conviction.get("section", ""),
            "date-day": day.lstrip("0"), "date-month": month.lstrip("0"), "date-year": year,
            "disposal": conviction.get("disposal", ""),
            "victim_age": "" if conviction.get("victim_age") is None else str(conviction["victim_age"]),
            "jurisdiction": conviction.get("jurisdiction", ENGLAND_WALES)}


@bp.route("/cases/<int:case_id>/convictions/<int:index>/remove", methods=["GET", "POST"])
def remove_conviction(case_id: int, index: int) -> Any:
    """Remove a conviction recorded by mistake, with the reason (kept, with the list before, in
    the audit log): Schedule 34A is matched again on the rest. The last one cannot be removed:
    a case is about an offender's convictions."""
    case = amendable_case(case_id)
    listed = [dict(c) for c in case["convictions"]]
    if index >= len(listed):
        abort(404)
    reason = (request.form.get("reason") or "").strip()
    errors: dict[str, list[str]] = {}
    if len(listed) > 1 and request.method == "POST":
        try:
            result = conviction_service.amend_convictions(
                db(), g.actor, case_id, {"convictions": listed[:index] + listed[index + 1:], "reason": reason})
        except ValidationFailed as failed:
            errors = {"reason": [m for messages in failed.errors.values() for m in messages]}
        else:
            flash(" ".join([f"Conviction {index + 1} removed; Schedule 34A matched again.", *result["notices"]]),
                  "success")
            return redirect(url_for("cases.case", case_id=case_id))
    return render_template("conviction_remove.html", case=case, index=index, conviction=listed[index],
                           reason=reason, errors=errors, only=len(listed) == 1), \
        422 if errors and request.method == "POST" else 200
