"""The case page (facts, processes with their timeline and open tasks, decisions, viewers), the
cases waiting for a Schedule 34A judgement, and the page that answers one of those questions."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from disclosure_engine.domain.errors import ValidationFailed
from disclosure_engine.domain.roles import AUDIT_ROLES, SUPERVISOR_ROLES
from disclosure_engine.services import case_level as level_service
from disclosure_engine.services import cases as case_service
from disclosure_engine.services import convictions as conviction_service
from disclosure_engine.services import page_reads as queries
from disclosure_engine.services import pauses as pause_service
from disclosure_engine.services import processes as process_service
from web.ui.auth import db
from web.ui.filters import page_number, pagination, uk_datetime
from web.ui.views_case_new import amendable_case
from web.ui.views_case_work import may_start

bp = Blueprint("cases", __name__)
PER_PAGE = 25
#: the answer fields of the question page, by the conviction field they fill
OPINION_FIELDS = ("equivalent_statute", "equivalent_section", "opinion_reasons", "opinion_by")
ANSWER_FIELDS = ("victim_age", "condition_met", "statute_answer", "section", "reason", *OPINION_FIELDS)


def may_amend() -> bool:
    return g.actor.has_role(*case_service.CREATOR_ROLES)


@bp.get("/cases/<int:case_id>")
def case(case_id: int) -> Any:
    case = case_service.get_case(db(), g.actor, case_id)  # audited: case.viewed
    processes = process_service.case_processes(db(), g.actor, case_id)
    decisions = queries.decisions_for_case(db(), g.actor, case_id)
    viewers = None
    if g.actor.has_role(*SUPERVISOR_ROLES, *AUDIT_ROLES):
        viewers = queries.case_viewers(db(), g.actor, case_id)
    return render_template("case.html", case=case, processes=processes, decisions=decisions, viewers=viewers,
                           can_amend=may_amend() and g.actor.in_area(case["area"]),
                           can_change_level=level_service.may_change_level(g.actor, case["area"]),
                           can_pause=pause_service.may_pause(g.actor, case["area"]),
                           can_start=may_start(case["area"]))


@bp.route("/processes/<int:process_id>/<any(pause, resume):action>", methods=["GET", "POST"])
def pause_or_resume(process_id: int, action: str) -> Any:
    """Pause a running process, or resume a paused one, with the reason (``services.pauses``)."""
    process = process_service.get_process(db(), g.actor, process_id)  # audited; NotFound elsewhere
    if not pause_service.may_pause(g.actor, process["area"]):
        abort(403)
    reason, errors = "", {}
    if request.method == "POST":
        reason = (request.form.get("reason") or "").strip()
        run = pause_service.pause if action == "pause" else pause_service.resume
        try:
            result = run(db(), g.actor, process_id, {"reason": reason})
        except ValidationFailed as failed:
            errors = failed.errors
        else:
            flash("The process is paused: its tasks wait and its deadlines stop." if action == "pause" else
                  " ".join(["The process is running again: its deadlines were moved by the time it was paused.",
                            *(f"“{moved['name'] or moved['element_id']}” now falls due on {uk_datetime(moved['to'])}."
                              for moved in result.get("timers_extended", ()))]), "success")
            return redirect(url_for("cases.case", case_id=process["case_id"]) + f"#process-{process_id}")
    return render_template("process_pause.html", process=process, action=action, reason=reason,
                           errors=errors), 422 if errors else 200


@bp.route("/cases/<int:case_id>/level", methods=["GET", "POST"])
def level(case_id: int) -> Any:
    """Move the case to another MAPPA level, with the reason (``services.case_level``)."""
    case = case_service.get_case(db(), g.actor, case_id)  # audited: case.viewed; NotFound elsewhere
    if not level_service.may_change_level(g.actor, case["area"]):
        abort(403)
    values = {"level": "", "reason": ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: (request.form.get(name) or "").strip() for name in values}
        chosen: Any = int(values["level"]) if values["level"] in ("1", "2", "3") else None
        try:
            result = level_service.change_level(db(), g.actor, case_id,
                                                {"level": chosen, "reason": values["reason"]})
        except ValidationFailed as failed:
            errors = {key if key in values else "level": messages for key, messages in failed.errors.items()}
        else:
            flash(" ".join([f"The case is now at MAPPA level {result['level']}.", *result["notices"]]), "success")
            return redirect(url_for("cases.case", case_id=case_id))
    return render_template("case_level.html", case=case, values=values, errors=errors), 422 if errors else 200


@bp.get("/cases/waiting")
def waiting() -> Any:
    """Cases whose Schedule 34A matching waits for a person: the duty's trigger is undecided."""
    page = page_number()
    result = case_service.list_cases(db(), g.actor, needs_review=True, limit=PER_PAGE,
                                     offset=(page - 1) * PER_PAGE)
    return render_template("cases_waiting.html", cases=result["items"], total=result["total"],
                           pagination=pagination(page, PER_PAGE, result["total"], "cases.waiting"))


@bp.route("/cases/<int:case_id>/convictions/<int:index>", methods=["GET", "POST"])
def answer(case_id: int, index: int) -> Any:
    """Record what a Schedule 34A question about one conviction asks for, with a reason."""
    case = amendable_case(case_id)  # 403 without the role or the area; audited: case.viewed
    if index >= len(case["convictions"]):
        abort(404)
    conviction = case["convictions"][index]
    questions = [q for q in case["schedule_34a_review"] if q["conviction_index"] == index]
    kinds = {q["kind"] for q in questions}
    suggestion = next((q.get("suggestion") for q in questions if q["kind"] == "check_statute"), None)
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: (request.form.get(name) or "").strip() for name in ANSWER_FIELDS}
        changed, errors = _answered(conviction, values, kinds, suggestion)
        if not errors:
            listed = [dict(c) for c in case["convictions"]]
            listed[index] = changed
            try:
                result = conviction_service.amend_convictions(
                    db(), g.actor, case_id, {"convictions": listed, "reason": values["reason"]})
            except ValidationFailed as failed:
                errors = _field_errors(failed.errors, index)
            else:
                flash(" ".join(["Schedule 34A matched again.", *result["notices"]]), "success")
                return redirect(url_for("cases.case", case_id=case_id))
    status = 422 if errors else 200
    return render_template("case_answer.html", case=case, index=index, conviction=conviction,
                           questions=questions, kinds=kinds, values=values, errors=errors,
                           suggestion=suggestion), status


def _answered(conviction: dict[str, Any], values: dict[str, str], kinds: set[str],
              suggested: str | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The conviction with the page's answers, and the problems the page itself can see (the
    service checks the rest, as for the API)."""
    changed = dict(conviction)
    errors: dict[str, list[str]] = {}
    if "needs_victim_age" in kinds:
        text = values["victim_age"]
        if not text:
            errors["victim_age"] = ["Enter the victim's age at the time of the offence"]
        elif not text.isdigit():
            errors["victim_age"] = ["Victim's age must be a whole number, like 15"]
        else:
            changed["victim_age"] = int(text)
    if "needs_condition" in kinds:
        if values["condition_met"] not in ("yes", "no"):
            errors["condition_met"] = ["Select yes if the particulars meet the condition"]
        else:
            changed["condition_met"] = values["condition_met"] == "yes"
    if "check_statute" in kinds:
        if values["statute_answer"] == "correct" and suggested:
            changed["statute"] = suggested
        elif values["statute_answer"] == "confirm":
            changed["statute_confirmed"] = True
        else:
            errors["statute_answer"] = ["Select whether to correct the statute or confirm it is right"]
    if "check_section" in kinds:
        if not values["section"]:
            errors["section"] = ["Enter the section number, for example 9"]
        else:
            changed["section"] = values["section"]
    if "needs_equivalence_opinion" in kinds:
        changed["equivalence_opinion"] = {
            "equivalent_statute": values["equivalent_statute"], "equivalent_section": values["equivalent_section"],
            "reasons": values["opinion_reasons"], "by": values["opinion_by"]}
    if not values["reason"]:
        errors["reason"] = ["Enter why you are recording this"]
    return changed, errors


def _field_errors(errors: dict[str, list[str]], index: int) -> dict[str, list[str]]:
    """The service's dotted keys (``convictions.2.victim_age``) as the page's field names."""
    names = {"equivalence_opinion.reasons": "opinion_reasons", "equivalence_opinion.by": "opinion_by",
             "equivalence_opinion.equivalent_statute": "equivalent_statute",
             "equivalence_opinion.equivalent_section": "equivalent_section"}
    out: dict[str, list[str]] = {}
    prefix = f"convictions.{index}."
    for key, messages in errors.items():
        field = key.removeprefix(prefix) if key.startswith(prefix) else key
        field = names.get(field, field)
        if field == "statute_confirmed":
            field = "statute_answer"
        if field not in ANSWER_FIELDS:
            field = "_form"  # another conviction's problem: not one this page can fix
        out.setdefault(field, []).extend(messages)
    return out
