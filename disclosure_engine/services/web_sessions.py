"""Signed-in browser sessions, kept on the server.

The browser's session cookie holds a random token; only its SHA-256 is stored
(``web_session``), like API tokens. A request's user is the session's user while the session
is open, the account active, and the session younger than ``MAX_AGE`` however busy it is (the
cookie's own idle limit is shorter). Signing out ends the session for good: a copy of the
cookie, taken before, opens nothing afterwards.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from disclosure_engine.domain.roles import Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import User, WebSession, utcnow
from disclosure_engine.services import audit
from disclosure_engine.services.sign_in_throttle import DEFAULT_LIMIT, SourceLimit
from disclosure_engine.services.users import actor_for, check_password

#: a session ends this long after sign-in, even if in use all along (a working day and a half)
MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    #: for the session cookie only; never stored, never logged
    token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(db: Database, username: str, password: str, *, source: str | None = None,
            limit: SourceLimit = DEFAULT_LIMIT, now: datetime | None = None) -> SignedIn | None:
    """Check the password and open a session, in one transaction (both audited); None when the
    sign-in is refused; ``Throttled`` when its source has too many failures to be checked at
    all (``services.sign_in_throttle``)."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as session:
        user = check_password(session, username, password, source=source, limit=limit, now=now)
        if user is None:
            return None
        session.add(WebSession(user_id=user.id, token_hash=_digest(token), created_at=utcnow()))
        return SignedIn(actor=actor_for(user), token=token)


def session_actor(db: Database, token: str) -> Actor | None:
    """The user of an open session, or None (ended, too old, unknown, or the account disabled)."""
    with db.transaction() as session:
        row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                              .where(WebSession.token_hash == _digest(token))).one_or_none()
        if row is None:
            return None
        web_session, user = row
        if web_session.ended_at is not None or not user.active or web_session.created_at < utcnow() - MAX_AGE:
            return None
        return actor_for(user)


def sign_out(db: Database, actor: Actor, token: str | None, *, source: str | None = None) -> None:
    """End the session (whatever copies of its cookie exist) and audit the sign-out."""
    with db.transaction() as session:
        if token:
            session.execute(update(WebSession).where(WebSession.token_hash == _digest(token),
                                                     WebSession.ended_at.is_(None)).values(ended_at=utcnow()))
        audit.record(session, actor, "auth.logout", "user", actor.user_id or actor.username, source=source)
