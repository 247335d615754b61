"""Template helpers: UK dates, due-date tags, navigation, pagination, labels."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, url_for

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.roles import (
    AUDIT_ROLES,
    CASE_ROLES,
    SUPERVISOR_ROLES,
    Role,
)
from web.ui.forms_render import value_label

LONDON = ZoneInfo("Europe/London")
WORKFLOW_NAMES = {
    "s327a_consideration": "s.327A consideration",
    "disclosure_delivery": "Disclosure delivery",
    "csods_application": "CSODS application",
    "urgent_disclosure": "Urgent disclosure",
}
STATUS_TAGS = {
    "waiting": ("In progress", "govuk-tag--blue"), "completed": ("Completed", "govuk-tag--green"),
    "error": ("Error", "govuk-tag--red"), "cancelled": ("Cancelled", "govuk-tag--grey"),
    "open": ("Open", "govuk-tag--blue"), "paused": ("Paused", "govuk-tag--yellow"),
}
OUTCOME_TAGS = {"disclose": "govuk-tag--green", "do_not_disclose": "govuk-tag--grey", "defer": "govuk-tag--yellow"}


def _parse(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None


def _london(value: Any) -> date | datetime | None:
    """A date as given, or a datetime on London's clock (naive values are UTC)."""
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(LONDON)
    return parsed


def uk_datetime(value: Any) -> str:
    local = _london(value)
    if local is None:
        return ""
    if isinstance(local, datetime):
        return f"{local.day} {local:%B %Y} at {local.strftime('%I:%M%p').lstrip('0').lower()}"
    return f"{local.day} {local:%B %Y}"


def uk_date(value: Any) -> str:
    local = _london(value)
    return "" if local is None else f"{local.day} {local:%B %Y}"


def due_tag(task: dict[str, Any], now: datetime | None = None) -> dict[str, str]:
    """GOV.UK tag text and colour saying how urgent a task is."""
    due = _parse(task.get("due_at"))
    if task.get("status") not in (None, "open"):
        text, cls = STATUS_TAGS.get(task["status"], (task["status"], "govuk-tag--grey"))
        return {"text": text, "classes": cls}
    if not isinstance(due, datetime):
        return {"text": "No deadline", "classes": "govuk-tag--grey"}
    now = now or datetime.now(timezone.utc)
    if due.tzinfo is None:
        due = due.replace(tzinfo=timezone.utc)
    delta = due - now
    days = abs(delta).days
    hours = abs(delta).seconds // 3600
    span = f"{days} day{'s' if days != 1 else ''}" if days else f"{hours} hour{'s' if hours != 1 else ''}"
    if delta.total_seconds() < 0:
        text = f"Overdue by {span}"
        if task.get("escalation_level"):
            text += f" (escalated, level {task['escalation_level']})"
        return {"text": text, "classes": "govuk-tag--red"}
    if days < 2:
        return {"text": f"Due in {span}", "classes": "govuk-tag--orange"}
    return {"text": f"Due in {span}", "classes": "govuk-tag--grey"}


def area_name(slug: str | None) -> str:
    return AREAS.get(slug or "", slug or "")


def workflow_name(key: str | None) -> str:
    return WORKFLOW_NAMES.get(key or "", (key or "").replace("_", " ").capitalize())


def humanise(value: Any) -> str:
    return value_label(value)


def navigation() -> list[dict[str, Any]]:
    actor = g.get("actor")
    if actor is None:
        return []
    path = request.path
    items = []
    if actor.roles & CASE_ROLES - {Role.AUDITOR}:
        items.append({"text": "Inbox", "href": url_for("tasks.inbox"), "active": path.startswith("/tasks")})
    if actor.roles & CASE_ROLES:
        items.append({"text": "Cases", "href": url_for("case_work.index"), "active": path.startswith("/cases")})
    if actor.has_role(*SUPERVISOR_ROLES, *AUDIT_ROLES):
        items.append({"text": "Overdue work", "href": url_for("work.overdue"), "active": path.startswith("/work")})
    if actor.has_role(Role.CHAIR, Role.MANAGER, Role.AUDITOR, Role.ADMIN):
        items.append({"text": "Decision log", "href": url_for("decisions.log"), "active": path.startswith("/decisions")})
        items.append({"text": "Statistics", "href": url_for("statistics.index"),
                      "active": path.startswith("/statistics")})
    if actor.has_role(*SUPERVISOR_ROLES, *AUDIT_ROLES):
        items.append({"text": "Review periods", "href": url_for("areas.index"),
                      "active": path.startswith("/areas")})
    if actor.has_role(*AUDIT_ROLES):
        items.append({"text": "Audit log", "href": url_for("audit.events"), "active": path.startswith("/audit")})
    items.append({"text": "Workflows", "href": url_for("workflows.index"), "active": path.startswith("/workflows")})
    if "notifications" in current_app.blueprints:
        count = notification_count()
        items.append({"text": f"Notifications ({count})" if count else "Notifications",
                      "href": url_for("notifications.index"), "active": path.startswith("/notifications")})
    for item in items:
        item["current"] = item.pop("active")
    return items


def notification_count() -> int:
    actor = g.get("actor")
    if actor is None or "notifications" not in current_app.blueprints:
        return 0
    if "notification_count" not in g:
        try:
            from disclosure_engine.services import notifications

            g.notification_count = int(notifications.unread_count(current_app.extensions["db"], actor))
        except Exception:  # the count is a courtesy; never break a page for it
            g.notification_count = 0
    return g.notification_count


def pagination(page: int, per_page: int, total: int, endpoint: str, **params: Any) -> dict[str, Any] | None:
    """Params for govukPagination, or None when everything fits on one page."""
    pages = max((total + per_page - 1) // per_page, 1)
    if pages <= 1:
        return None

    def href(n: int) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query["page"] = n
        return url_for(endpoint, **{k: v for k, v in query.items() if k in ("task_id", "case_id")}) + "?" + \
            urlencode({k: v for k, v in query.items() if k not in ("task_id", "case_id")})

    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    last = 0
    for n in shown:
        if n - last > 1:
            items.append({"ellipsis": True})
        items.append({"number": n, "href": href(n), "current": n == page})
        last = n
    out: dict[str, Any] = {"items": items}
    if page > 1:
        out["previous"] = {"href": href(page - 1)}
    if page < pages:
        out["next"] = {"href": href(page + 1)}
    return out


def page_number() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(uk_datetime=uk_datetime, uk_date=uk_date, area_name=area_name,
                                 workflow_name=workflow_name, humanise=humanise)
    app.jinja_env.globals.update(due_tag=due_tag, STATUS_TAGS=STATUS_TAGS, OUTCOME_TAGS=OUTCOME_TAGS)


def parse_day(value: str | None, field: str, errors: dict[str, list[str]]) -> date | None:
    """A YYYY-MM-DD filter value, or None (recording a field error when it is not a real date)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = ["Enter a real date, for example 2027-03-27"]
        return None


def area_choices() -> list[tuple[str, str]]:
    """(slug, name) of the areas the signed-in user may filter on: all for national roles."""
    slugs = sorted(AREAS) if g.actor.national else sorted(g.actor.areas)
    return [(s, AREAS.get(s, s)) for s in slugs]
