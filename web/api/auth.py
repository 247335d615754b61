"""Bearer tokens: ``Authorization: Bearer <token>`` -> the Actor every service call receives.

Authentication only: what the actor may see and do (role and area) is decided by the services.
A token that is presented but unknown, revoked or belongs to a disabled user is a failed
sign-in and is audited (``auth.token_rejected``, with the token's public prefix only).
"""
from __future__ import annotations

from flask import current_app, g, request

from disclosure_engine.domain.roles import SYSTEM, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.services import audit
from disclosure_engine.services.users import actor_for_token
from web.api.errors import Unauthorized

MAX_TOKEN_LENGTH = 256


def db() -> Database:
    return current_app.extensions["db"]


def authenticate() -> None:
    """``before_request`` of every API blueprint: set ``g.actor`` or raise 401."""
    if request.method == "OPTIONS":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authentication required: send Authorization: Bearer <token>")
    actor = None
    if len(token) <= MAX_TOKEN_LENGTH and token.isascii():
        with db().transaction() as session:
            actor = actor_for_token(session, token)
    if actor is None:
        with db().transaction() as session:
            audit.record(session, SYSTEM, "auth.token_rejected", "api_token", _prefix(token),
                         source=request.remote_addr, detail={"path": request.path})
        raise Unauthorized("The bearer token is not valid (unknown, revoked, or the account is disabled)")
    g.actor = actor
    return None


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:  # a view reached without authenticate(): refuse rather than act as nobody
        raise Unauthorized("Authentication required: send Authorization: Bearer <token>")
    return actor


def _prefix(token: str) -> str:
    safe = "".join(ch for ch in token[:10] if ch.isalnum() or ch in "_-")
    return safe or "-"
