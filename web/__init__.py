"""Flask app factory (the full front-end and API arrive with the web issue).

Views stay thin: parse, authorise through services, call one service, render.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from disclosure_engine.config import Settings, load_settings
from disclosure_engine.persistence.db import Database


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, SETTINGS=settings, **overrides)
    app.extensions["db"] = Database(settings.database_url)
    register_health(app)
    return app


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        from sqlalchemy import text

        try:
            with app.extensions["db"].engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return jsonify(status="unavailable", database="unreachable"), 503
        return jsonify(status="ok", database="ok")
