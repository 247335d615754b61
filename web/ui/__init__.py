"""The GOV.UK pages: ``init_app(app)`` mounts them on the app built by ``web.create_app``.

One blueprint per user group (auth, tasks, cases, decisions, work, audit, workflows and,
when the notifications service exists, notifications). Each page blueprint runs
``auth.require_actor`` first, so a page cannot forget to authenticate; services do the role
and area checks and raise NotFound/Forbidden/Conflict, which render as GOV.UK error pages.
CSRF protects every form outside ``/api/`` (the API uses bearer tokens, not cookies).
"""
from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from disclosure_engine.domain.errors import (
    Conflict,
    DisclosureError,
    Forbidden,
    NotFound,
)
from web.ui import filters, security

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "static" / "build"
csrf = CSRFProtect()


def notifications_available() -> bool:
    try:
        return importlib.util.find_spec("disclosure_engine.services.notifications") is not None
    except ModuleNotFoundError:
        return False


def init_app(app: Flask) -> None:
    security.init_app(app)
    _configure(app)
    _register_assets(app)
    _register_blueprints(app)
    _register_errors(app)
    filters.init_app(app)


def _configure(app: Flask) -> None:
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=8))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tied to the session instead
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below for everything but /api/
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(HERE / "templates")),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    csrf.init_app(app)

    @app.before_request
    def _csrf_outside_api() -> None:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.path.startswith("/api/"):
            csrf.protect()


def _register_assets(app: Flask) -> None:
    """GOV.UK/MoJ/bpmn-js files copied by scripts/build-assets, and our own CSS/JS."""

    @app.get("/assets/<path:filename>")
    def govuk_assets(filename: str) -> Response:
        return send_from_directory(BUILD / "assets", filename, max_age=86400)

    @app.get("/static/build/<path:filename>")
    def build_static(filename: str) -> Response:
        return send_from_directory(BUILD, filename, max_age=3600)

    @app.get("/static/ui/<path:filename>")
    def ui_static(filename: str) -> Response:
        return send_from_directory(HERE / "static", filename, max_age=300)


def _register_blueprints(app: Flask) -> None:
    from web.ui import (
        auth,
        views_admin,
        views_areas,
        views_authoring,
        views_case_new,
        views_case_work,
        views_cases,
        views_decisions,
        views_statistics,
        views_tasks,
    )

    blueprints = [views_tasks.bp, views_case_new.bp, views_case_work.bp, views_cases.bp, views_decisions.bp,
                  views_statistics.bp, views_admin.work_bp, views_admin.audit_bp, views_admin.workflows_bp,
                  views_authoring.bp, views_areas.bp]
    if notifications_available():
        blueprints.append(views_admin.notifications_bp)
    for bp in blueprints:
        if not getattr(bp, "_ui_setup_done", False):  # blueprints are module singletons: set up once
            bp.before_request(auth.require_actor)
            bp.register_error_handler(DisclosureError, _service_error)
            bp._ui_setup_done = True  # type: ignore[attr-defined]
        app.register_blueprint(bp)
    if not getattr(auth.bp, "_ui_setup_done", False):
        auth.bp.register_error_handler(DisclosureError, _service_error)
        auth.bp._ui_setup_done = True  # type: ignore[attr-defined]
    app.register_blueprint(auth.bp)

    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        return {"nav": filters.navigation(), "notifications_count": filters.notification_count}


ERROR_PAGES = {
    400: ("There is a problem with your request", None),
    403: ("You do not have access to this page", None),
    404: ("Page not found", "If you typed the web address, check it is correct. If you followed a link, "
                            "the page may not exist or you may not have access to it."),
    405: ("There is a problem with your request", None),
    409: ("This has changed since you opened it", None),
    413: ("The upload is too large", None),
    500: ("Sorry, there is a problem with the service", "Try again later."),
}


def _api_request() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    title, default = ERROR_PAGES.get(status, ERROR_PAGES[500])
    return render_template("error.html", title=title, message=message or default, status=status), status


def _service_error(exc: DisclosureError) -> Any:
    if isinstance(exc, NotFound):
        return render_error(404)
    if isinstance(exc, Forbidden):
        return render_error(403, exc.message)
    if isinstance(exc, Conflict):
        return render_error(409, exc.message)
    if exc.status >= 500:  # the page says "Sorry"; the log says what failed and where
        current_app.logger.error("%s %s failed: %s", request.method, request.path, exc, exc_info=exc)
    return render_error(exc.status if exc.status in ERROR_PAGES else 500,
                        exc.message if exc.status < 500 else None)


def _register_errors(app: Flask) -> None:
    from flask import jsonify

    def json_error(status: int, message: str) -> Any:
        return jsonify(message=message, errors={}), status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        if _api_request():
            return json_error(400, "CSRF check failed")
        return render_error(400, "The form had expired or was sent from somewhere else. Go back, reload the "
                                 "page and try again.")

    def _http(exc: HTTPException) -> Any:
        if _api_request():
            return json_error(exc.code or 500, exc.description or exc.name)
        return render_error(exc.code or 500)

    for code in (404, 405, 413):
        if not app.error_handler_spec.get(None, {}).get(code):
            app.register_error_handler(code, _http)

    @app.errorhandler(500)
    def _server_error(exc: Exception) -> Any:
        if _api_request():
            return json_error(500, "Internal error")
        return render_error(500)
