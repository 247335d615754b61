"""Signing in and out, and the one gate every page passes through.

``require_actor`` runs before every request to a page blueprint: it loads the signed-in user
(fresh roles and areas from the database, so a disabled account is signed out at once) onto
``g.actor`` or redirects to the sign-in page, then applies the page's role rule from
``PAGE_ROLES``. Area scoping is the services' job (a case in another area is a 404 there).
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from disclosure_engine.domain.errors import Forbidden, Throttled
from disclosure_engine.domain.roles import (
    AUDIT_ROLES,
    CASE_ROLES,
    POLICY_ROLES,
    SUPERVISOR_ROLES,
    Actor,
    Role,
)
from disclosure_engine.services import web_sessions
from disclosure_engine.services.sign_in_throttle import SourceLimit

bp = Blueprint("auth", __name__)

#: who reviews decisions (the decision log and its export)
REVIEW_ROLES = frozenset({Role.CHAIR, Role.MANAGER, Role.AUDITOR, Role.ADMIN})
#: endpoint -> roles allowed (any one of them); endpoints not listed need only a sign-in
PAGE_ROLES: dict[str, Collection[str]] = {
    "tasks.inbox": CASE_ROLES,
    "tasks.reassign": SUPERVISOR_ROLES,
    "decisions.log": REVIEW_ROLES,
    "decisions.export": REVIEW_ROLES,
    "work.overdue": SUPERVISOR_ROLES | AUDIT_ROLES,
    "audit.events": AUDIT_ROLES,
    "audit.verify": AUDIT_ROLES,
}
#: policy authoring (web.ui.views_authoring): every page and JSON endpoint, policy and admin only
AUTHORING_ENDPOINTS = ("edit", "new_workflow", "drafts", "delete", "editor", "diagram", "save", "validate",
                       "forms", "diff", "compare", "deploy", "migrations", "revert")
PAGE_ROLES.update({f"authoring.{name}": POLICY_ROLES for name in AUTHORING_ENDPOINTS})
SESSION_LIFETIME = timedelta(hours=8)


def db() -> Any:
    return current_app.extensions["db"]


def current_actor() -> Actor | None:
    if "actor" in g:
        return g.actor
    token = session.get("sid")
    actor = web_sessions.session_actor(db(), token) if isinstance(token, str) and token else None
    if actor is None and session:
        session.clear()  # ended, expired, or a cookie from before server-side sessions
    g.actor = actor
    return actor


def require_actor() -> Any:
    """before_request for every page blueprint (not the sign-in page or static files)."""
    actor = current_actor()
    if actor is None:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=target.rstrip("?") if target else None))
    roles = PAGE_ROLES.get(request.endpoint or "")
    if roles is not None and not actor.has_role(*roles):
        raise Forbidden("Your role does not give access to this page")
    return None


def home_for(actor: Actor) -> str:
    if actor.roles & CASE_ROLES - {Role.AUDITOR}:
        return url_for("tasks.inbox")
    if actor.has_role(Role.AUDITOR):
        return url_for("decisions.log")
    return url_for("workflows.index")


def safe_next(value: str | None) -> str | None:
    """Only a local path (no scheme, no host, no '//' or backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    errors: dict[str, str] = {}
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        if not username:
            errors["username"] = "Enter your username"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            try:
                signed_in = web_sessions.sign_in(db(), username, password, source=request.remote_addr,
                                                 limit=SourceLimit.from_settings(current_app.config["SETTINGS"]))
            except Throttled as exc:
                return throttled(exc, username)
            if signed_in is None:
                errors["username"] = ("Enter a correct username and password. After 5 failed attempts "
                                      "the account is locked for 15 minutes")
            else:
                session.clear()  # a fresh session: no fixation, nothing carried over
                session.permanent = True
                session["sid"] = signed_in.token
                return redirect(safe_next(request.args.get("next")) or home_for(signed_in.actor))
        error_list = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
        return render_template("sign_in.html", errors=errors, error_list=error_list, username=username), 422
    if current_actor() is not None:
        return redirect(home_for(g.actor))
    return render_template("sign_in.html", errors=errors, username=username)


def throttled(exc: Throttled, username: str) -> Any:
    """429 for a source with too many failed sign-ins: the page says when to try again (no
    field is wrong, so the summary links to none) and ``Retry-After`` says it to machines."""
    return (render_template("sign_in.html", errors={}, error_list=[{"text": exc.message}], username=username),
            429, {"Retry-After": str(exc.retry_after)})


@bp.post("/sign-out")
def sign_out() -> Any:
    actor = current_actor()
    if actor is not None:
        web_sessions.sign_out(db(), actor, session.get("sid"), source=request.remote_addr)
    session.clear()
    return redirect(url_for("auth.signed_out"))


@bp.get("/signed-out")
def signed_out() -> Any:
    return render_template("signed_out.html")


@bp.get("/")
def home() -> Any:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("auth.sign_in"))
    return redirect(home_for(actor))
