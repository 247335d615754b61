"""Find a case (the Cases page) and start a process for one (a consideration on new
information, a CSODS application, the urgent route, a disclosure delivery): before, both needed
the API."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from disclosure_engine.domain.areas import AREA_SLUGS
from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import processes as process_service
from web.ui.auth import db
from web.ui.filters import page_number, pagination

bp = Blueprint("case_work", __name__)
PER_PAGE = 25

#: what an officer may start from a case page, with the start fields each asks for
STARTABLE = {
    "s327a_consideration": "A new s.327A consideration, on new information",
    "csods_application": "A Child Sex Offender Disclosure Scheme (Sarah's Law) application",
    "urgent_disclosure": "Urgent risk: immediate safeguarding and emergency disclosure",
    "disclosure_delivery": "Disclosure delivery: carry out a decision to disclose",
}
DELIVERY = "disclosure_delivery"
#: the new information a consideration starts on (domain: new address, relationship,
#: employment, contact with children); the value is the process's ``trigger``
NEW_INFORMATION = {
    "new_address": "A new address",
    "new_relationship": "A new relationship",
    "new_employment": "New employment or volunteering",
    "contact_with_children": "Contact with children",
    "new_information": "Other new information",
}
URGENT_TRIGGERS = {
    "police_report": "A police report of immediate risk",
    "partner_agency_report": "A partner agency's report of immediate risk",
    "csods_immediate_risk": "Immediate risk found in a CSODS application",
}
ROUTES = {"right_to_ask": "Right to ask (a member of the public asks)",
          "right_to_know": "Right to know (the police decide to tell)"}


@bp.get("/cases")
def index() -> Any:
    """Cases in the actor's areas, newest first; a reference finds one (exact, as written on
    the case). Showing any is a consultation: ``list_cases`` audits the page."""
    reference = (request.args.get("reference") or "").strip()
    visor_ref = (request.args.get("visor_ref") or "").strip()
    area = (request.args.get("area") or "").strip()
    if area not in AREA_SLUGS or (not g.actor.national and area not in g.actor.areas):
        area = ""
    waiting = request.args.get("waiting") == "yes"
    page = page_number()
    result = case_service.list_cases(db(), g.actor, reference=reference or None, visor_ref=visor_ref or None,
                                     area=area or None,
                                     needs_review=True if waiting else None, limit=PER_PAGE,
                                     offset=(page - 1) * PER_PAGE)
    areas = sorted(AREA_SLUGS if g.actor.national else g.actor.areas)
    return render_template("cases.html", can_add=g.actor.has_role(*case_service.CREATOR_ROLES),
                           cases=result["items"], total=result["total"], reference=reference, visor_ref=visor_ref,
                           area=area, areas=areas, waiting=waiting,
                           pagination=pagination(page, PER_PAGE, result["total"], "case_work.index",
                                                 reference=reference, visor_ref=visor_ref, area=area,
                                                 waiting="yes" if waiting else ""))


@bp.route("/cases/<int:case_id>/start", methods=["GET", "POST"])
def start(case_id: int) -> Any:
    """Start one of :data:`STARTABLE` for the case, with the start fields it needs."""
    case = case_service.get_case(db(), g.actor, case_id)  # audited: case.viewed; NotFound elsewhere
    if not may_start(case["area"]):
        abort(403)
    values = {name: (request.form.get(name) or "").strip()
              for name in ("workflow", "new_information", "urgent_trigger", "scheme_route", "application_reference",
                           "decision_id")}
    # a delivery usually starts by itself when a decision to disclose is recorded; by hand it is
    # for the cases that do not (a correction to disclose, a delivery cancelled and restarted)
    to_deliver = process_service.decisions_to_carry_out(db(), g.actor, case_id, DELIVERY)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        key, data, errors = _start_fields(values, to_deliver)
        running = [p["id"] for p in case["processes"] if p["workflow"] == key and p["status"] == "waiting"]
        if not errors and key == "s327a_consideration" and running:
            # one consideration at a time: two would reach two decisions on the same facts
            errors = {"workflow": [f"A consideration is already running for this case (process {running[0]}): "
                                   "record the new information in it"]}
        if not errors:
            try:
                started = process_service.start_process(db(), g.actor, case_id, key, data=data)
            except ValidationFailed as failed:
                field = "decision_id" if key == DELIVERY and to_deliver else "workflow"
                errors = {field: [" ".join(" ".join(m) for m in failed.errors.values()) or failed.message]}
            else:
                message = f"Started: {STARTABLE[key]} (process {started['id']})."
                if started.get("interrupted"):
                    count = len(started["interrupted"])
                    message += (f" It paused the case's {count} other running "
                                f"{'process' if count == 1 else 'processes'} until it ends.")
                if started.get("paused"):
                    message += f" It waits: {started['paused']['reason']}"
                flash(message, "success")
                return redirect(url_for("cases.case", case_id=case_id) + f"#process-{started['id']}")
    return render_template("case_start.html", case=case, values=values, errors=errors, startable=STARTABLE,
                           new_information=NEW_INFORMATION, urgent_triggers=URGENT_TRIGGERS,
                           routes=ROUTES, to_deliver=to_deliver), 422 if errors else 200


def may_start(area: str) -> bool:
    return g.actor.has_role(*process_service.STARTER_ROLES) and g.actor.in_area(area)


def _start_fields(values: dict[str, str], to_deliver: list[dict[str, Any]]
                  ) -> tuple[str, dict[str, Any], dict[str, list[str]]]:
    """The workflow and its start data from the form, or the field errors."""
    key = values["workflow"]
    if key not in STARTABLE:
        return key, {}, {"workflow": ["Select the process to start"]}
    if key == DELIVERY:
        if not to_deliver:
            return key, {}, {"workflow": ["No current decision to disclose is recorded on this case: record "
                                          "the decision first (a delivery carries one out)"]}
        chosen = next((d["id"] for d in to_deliver if str(d["id"]) == values["decision_id"]), None)
        if chosen is None:
            return key, {}, {"decision_id": ["Select the decision to disclose that this delivery carries out"]}
        return key, {"decision_id": chosen}, {}
    if key == "s327a_consideration":
        if values["new_information"] not in NEW_INFORMATION:
            return key, {}, {"new_information": ["Select the new information the consideration is about"]}
        return key, {"trigger": values["new_information"]}, {}
    if key == "urgent_disclosure":
        if values["urgent_trigger"] not in URGENT_TRIGGERS:
            return key, {}, {"urgent_trigger": ["Select what showed the immediate risk"]}
        return key, {"trigger": values["urgent_trigger"]}, {}
    if values["scheme_route"] not in ROUTES:
        return key, {}, {"scheme_route": ["Select the scheme's route: right to ask or right to know"]}
    data: dict[str, Any] = {"scheme_route": values["scheme_route"]}
    reference = values["application_reference"]
    if reference:
        if len(reference) > 64 or not all(ch.isalnum() or ch in "-/_ " for ch in reference):
            return key, {}, {"application_reference": [
                "Enter the application reference as it is written (letters, digits, '-', '/' or '_', "
                "at most 64)"]}
        data["application_reference"] = reference
    return key, data, {}
