"""Flask app factory: small named steps, settings from the environment only.

Views stay thin: resolve the actor, parse input, call one service, render. Authorisation by
role and area lives in the services (one place); the web layer maps their errors to status
codes: NotFound 404, Forbidden 403, Conflict 409, ValidationFailed 422, BadInput 400.
``web.api`` (JSON, bearer tokens, OpenAPI) and ``web.ui`` (GOV.UK pages, session sign-in,
CSRF) each expose ``init_app(app)``.
"""
from __future__ import annotations

import importlib
from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from disclosure_engine.config import Settings, load_settings
from disclosure_engine.engine import time_limit
from disclosure_engine.persistence.db import Database
from web import text_guard


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, static_folder=None)
    if settings.trusted_proxy_hops:
        # behind a TLS-terminating proxy: the client's address (audited as "from where") and
        # https (HSTS, secure cookies) come from its X-Forwarded-* headers, and only its
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_hops,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxy_hops, x_host=settings.trusted_proxy_hops)
    configure(app, settings, overrides)
    register_extensions(app, settings)
    register_health(app)
    text_guard.init_app(app)  # before every blueprint's hooks: no NUL reaches a view
    register_blueprints(app)
    return app


def configure(app: Flask, settings: Settings, overrides: dict[str, Any]) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes * 8,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="de_session",
    )
    app.config.update(overrides)


def register_extensions(app: Flask, settings: Settings) -> None:
    # the expression time limit is the process's (``engine.time_limit``), set before any compile
    time_limit.configure(settings.expression_timeout_ms)
    app.extensions["db"] = Database(settings.database_url)
    app.extensions["redis_check"] = importlib.import_module("disclosure_engine.jobs.connection").redis_check_for(settings)


def register_blueprints(app: Flask) -> None:
    """Mount the API and the pages when their packages are present."""
    for name in ("web.api", "web.ui"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.init_app(app)


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        from disclosure_engine.persistence.migrate import schema_problem

        checks: dict[str, str] = {}
        try:
            # reachable and at this release's migration: a replica started before `db upgrade`
            # ran must not take traffic it would answer with errors
            checks["database"] = "ok" if schema_problem(app.extensions["db"].engine) is None else "not migrated"
        except Exception:
            checks["database"] = "unreachable"
        redis_check = app.extensions.get("redis_check")
        if redis_check is not None:
            checks["redis"] = "ok" if redis_check() else "unreachable"
        ok = all(v == "ok" for v in checks.values())
        return jsonify(status="ok" if ok else "unavailable", **checks), 200 if ok else 503


def db_of(app: Flask) -> Database:
    return app.extensions["db"]
