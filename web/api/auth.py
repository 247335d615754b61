"""Bearer tokens: ``Authorization: Bearer <token>`` -> the Actor every service call receives.

Authentication only: what the actor may see and do (role and area) is decided by the services.
A token that is presented but unknown, revoked or belongs to a disabled user is a failed
sign-in and is audited (``auth.token_rejected``, with the token's public prefix only) and
counted against the client's address: from an address with too many bad tokens in the window
a bad token is a 429 with Retry-After, unaudited (``services.sign_in_throttle``).
"""
from __future__ import annotations

from flask import current_app, g, request

from disclosure_engine.domain.roles import Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.services.sign_in_throttle import SourceLimit
from disclosure_engine.services.users import authenticate_token
from web.api.errors import Unauthorized


def db() -> Database:
    return current_app.extensions["db"]


def authenticate() -> None:
    """``before_request`` of every API blueprint: set ``g.actor`` or raise 401 (429 for a bad
    token from an address that has sent too many)."""
    if request.method == "OPTIONS":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authentication required: send Authorization: Bearer <token>")
    actor = authenticate_token(db(), token, source=request.remote_addr, path=request.path,
                               limit=SourceLimit.from_settings(current_app.config["SETTINGS"]))
    if actor is None:
        raise Unauthorized("The bearer token is not valid (unknown, revoked, or the account is disabled)")
    g.actor = actor
    return None


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:  # a view reached without authenticate(): refuse rather than act as nobody
        raise Unauthorized("Authentication required: send Authorization: Bearer <token>")
    return actor
