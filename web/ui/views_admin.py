"""Managers' and auditors' views (overdue and escalated work, the audit log with chain
verification), the policy teams' read-only workflow pages, and notifications."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from lxml import etree

from disclosure_engine.domain.errors import NotFound
from disclosure_engine.engine.xml_safety import parse_xml
from disclosure_engine.persistence.models import LEVEL_REMINDED
from disclosure_engine.services import audit as audit_service
from disclosure_engine.services import escalation
from disclosure_engine.services import page_reads as queries
from disclosure_engine.services import tasks as task_service
from disclosure_engine.services import workflows as workflow_service
from web.ui.auth import db
from web.ui.filters import page_number, pagination

work_bp = Blueprint("work", __name__)
audit_bp = Blueprint("audit", __name__)
workflows_bp = Blueprint("workflows", __name__)
notifications_bp = Blueprint("notifications", __name__)
PER_PAGE = 25
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@work_bp.get("/work")
def overdue() -> Any:
    view = request.args.get("view", "overdue")
    if view not in ("overdue", "escalated", "paused"):
        abort(404)
    page = page_number()
    lists = {
        "overdue": lambda limit, offset: task_service.list_tasks(db(), g.actor, scope="all", overdue=True,
                                                                 limit=limit, offset=offset),
        "escalated": lambda limit, offset: escalation.escalated_tasks(db(), g.actor, min_level=LEVEL_REMINDED,
                                                                      limit=limit, offset=offset),
        # the tasks of paused processes: nothing escalates them, so they are listed to be resumed
        "paused": lambda limit, offset: task_service.list_tasks(db(), g.actor, scope="all", status="paused",
                                                                limit=limit, offset=offset),
    }
    result = lists[view](PER_PAGE, (page - 1) * PER_PAGE)
    counts = {name: (result["total"] if name == view else run(1, 0)["total"]) for name, run in lists.items()}
    refs = queries.case_references(db(), g.actor, {t["case_id"] for t in result["items"]})
    for t in result["items"]:
        t["case_reference"] = refs.get(t["case_id"], f"Case {t['case_id']}")
    return render_template("work.html", view=view, tasks=result["items"], counts=counts, total=result["total"],
                           pagination=pagination(page, PER_PAGE, result["total"], "work.overdue", view=view))


@audit_bp.get("/audit")
def events() -> Any:
    action = (request.args.get("action") or "").strip() or None
    subject_type = (request.args.get("subject_type") or "").strip() or None
    subject_id = (request.args.get("subject_id") or "").strip() or None
    try:
        before = int(request.args.get("before", "")) if request.args.get("before") else None
    except ValueError:
        before = None
    rows = audit_service.list_events(db(), g.actor, action=action, subject_type=subject_type,
                                     subject_id=subject_id, before_seq=before, limit=PER_PAGE + 1)
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    older = None
    if more and rows:
        older = url_for("audit.events", action=action, subject_type=subject_type, subject_id=subject_id,
                        before=rows[-1]["seq"])
    return render_template("audit.html", events=rows, older=older, newest=url_for(
        "audit.events", action=action, subject_type=subject_type, subject_id=subject_id) if before else None,
        filters={"action": action or "", "subject_type": subject_type or "", "subject_id": subject_id or ""})


@audit_bp.post("/audit/verify")
def verify() -> Any:
    report = audit_service.verify_chain(db())
    flash(("Audit chain verified: " if report.ok else "Audit chain is broken: ") + report.line(),
          "success" if report.ok else "error")
    return redirect(url_for("audit.events"))


@workflows_bp.get("/workflows")
def index() -> Any:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for d in workflow_service.list_definitions(db()):
        grouped.setdefault(d["key"], []).append(d)
    for versions in grouped.values():
        versions.sort(key=lambda d: d["version"], reverse=True)
    return render_template("workflows.html", workflows=grouped)


def _steps(xml: bytes, path: str) -> list[dict[str, str]]:
    """The process's flow nodes in document order, for readers who cannot see the diagram."""
    root = parse_xml(xml, path=path)
    kinds = {"startEvent": "Start", "userTask": "Task", "manualTask": "Task", "scriptTask": "Automatic step",
             "businessRuleTask": "Rule (DMN)", "serviceTask": "Automatic step", "exclusiveGateway": "Decision point",
             "parallelGateway": "Parallel split or join", "inclusiveGateway": "Decision point",
             "eventBasedGateway": "Wait for an event", "intermediateCatchEvent": "Wait",
             "boundaryEvent": "Deadline or interruption", "endEvent": "End", "callActivity": "Sub-process",
             "subProcess": "Sub-process"}
    lanes: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    steps = []
    for process in root.iter(f"{{{BPMN}}}process"):
        for el in process.iter():
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local in kinds and el.get("id"):
                steps.append({"kind": kinds[local], "name": el.get("name") or el.get("id"), "id": el.get("id"),
                              "lane": lanes.get(el.get("id"), "")})
    return steps


def _version(key: str, version: int) -> dict[str, Any]:
    try:
        return workflow_service.get_version(db(), key, version)
    except NotFound:
        raise


@workflows_bp.get("/workflows/<key>/versions/<int:version>")
def version(key: str, version: int) -> Any:
    d = _version(key, version)
    primary = d["content"].get(d["primary_file"], "")
    steps = _steps(primary.encode("utf-8"), d["primary_file"]) if primary else []
    return render_template("workflow_version.html", d=d, steps=steps,
                           files=sorted(d["files"]),
                           diagram_url=url_for("workflows.diagram", key=key, version=version))


@workflows_bp.get("/workflows/<key>/versions/<int:version>/diagram.bpmn")
def diagram(key: str, version: int) -> Any:
    d = _version(key, version)
    return Response(d["content"].get(d["primary_file"], ""), mimetype="application/xml",
                    headers={"Cache-Control": "private, max-age=300"})


def index_notifications() -> Any:
    from disclosure_engine.services import notifications

    items = notifications.list_notifications(db(), g.actor)
    return render_template("notifications.html", items=items)


notifications_bp.add_url_rule("/notifications", endpoint="index", view_func=index_notifications)


def read_all_notifications() -> Any:
    from disclosure_engine.services import notifications

    count = notifications.mark_all_read(db(), g.actor)
    flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notifications.index"))


notifications_bp.add_url_rule("/notifications/read-all", endpoint="read_all", view_func=read_all_notifications,
                              methods=["POST"])
