"""Local accounts (argon2 hashes), sign-in with throttling (per account here, per source in
``sign_in_throttle``), and API tokens (stored hashed)."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import literal, select, update
from sqlalchemy.orm import Session

from disclosure_engine.domain.areas import AREAS
from disclosure_engine.domain.errors import Conflict, NotFound, ValidationFailed
from disclosure_engine.domain.roles import ROLES, SYSTEM, Actor, Role
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    KIND_PASSWORD,
    KIND_TOKEN,
    ApiToken,
    Area,
    User,
    UserArea,
    UserRole,
    utcnow,
)
from disclosure_engine.services import audit, sign_in_throttle
from disclosure_engine.services.sign_in_throttle import DEFAULT_LIMIT, SourceLimit

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
TOKEN_PREFIX = "de_"
#: roles that see every area when the user has no area membership
NATIONAL_CAPABLE = frozenset({Role.ADMIN, Role.AUDITOR, Role.POLICY})


@dataclass(frozen=True)
class CreatedUser:
    id: int
    username: str
    roles: tuple[str, ...]
    areas: tuple[str, ...]
    national: bool


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, roles=user.role_names,
                 areas=user.area_slugs, national=user.national)


def create_user(db: Database, username: str, *, roles: list[str], areas: list[str],
                password: str | None = None, display_name: str | None = None,
                national: bool | None = None, actor: Actor = SYSTEM) -> CreatedUser:
    """Create a local account. Area roles need an area; admin/auditor/policy without one are national."""
    errors: dict[str, list[str]] = {}
    username = username.strip().lower()
    if not USERNAME.match(username):
        errors["username"] = ["Use 2-63 lower-case letters, digits, dots, hyphens or underscores"]
    bad_roles = [r for r in roles if r not in ROLES]
    if not roles or bad_roles:
        errors["role"] = [f"Choose roles from {', '.join(ROLES)}" + (f" (not {', '.join(bad_roles)})" if bad_roles else "")]
    bad_areas = [a for a in areas if a not in AREAS]
    if bad_areas:
        errors["area"] = [f"Unknown area {', '.join(bad_areas)}; areas are named by slug, e.g. kent"]
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = [f"Passwords must be at least {MIN_PASSWORD} characters"]
    is_national = bool(national) if national is not None else (not areas and set(roles) <= NATIONAL_CAPABLE)
    if not areas and not is_national and "role" not in errors:
        errors["area"] = ["Give an area for this role (officers, chairs and managers work in an area)"]
    if errors:
        raise ValidationFailed("The user could not be created", errors)
    with db.transaction() as session:
        if session.execute(select(User.id).where(User.username == username)).first():
            raise Conflict(f"user {username} already exists")
        area_rows = {a.slug: a for a in session.execute(select(Area).where(Area.slug.in_(areas))).scalars()}
        user = User(username=username, display_name=display_name or username,
                    password_hash=_hasher.hash(password) if password else None, national=is_national,
                    roles=[UserRole(role=r) for r in sorted(set(roles))],
                    areas=[UserArea(area=area_rows[a]) for a in sorted(set(areas))])
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.created", "user", user.id, area=areas[0] if areas else None,
                     detail={"username": username, "roles": sorted(set(roles)), "areas": sorted(set(areas))})
        return CreatedUser(user.id, username, tuple(sorted(set(roles))), tuple(sorted(set(areas))), is_national)


def authenticate(db: Database, username: str, password: str, *, source: str | None = None,
                 limit: SourceLimit = DEFAULT_LIMIT, now: datetime | None = None) -> Actor | None:
    """Check a password; every success and failure is audited; repeated failures lock the
    account, and too many from one source get its further attempts refused unchecked
    (``Throttled``, see :func:`check_password`)."""
    with db.transaction() as session:
        user = check_password(session, username, password, source=source, limit=limit, now=now)
        return actor_for(user) if user is not None else None


def check_password(session: Session, username: str, password: str, *, source: str | None = None,
                   limit: SourceLimit = DEFAULT_LIMIT, now: datetime | None = None) -> User | None:
    """:func:`authenticate` inside the caller's transaction (a sign-in opens its session in the
    same one): the user when the password is right, else None; audited either way.

    A ``source`` with ``limit`` failures in the window is refused first, with ``Throttled``:
    no password check, no audit event (``services.sign_in_throttle``). Without a source (the
    command line, tests) only the account's own lockout applies. ``now`` is the throttle's and
    the lockout's clock (tests move it); audit events keep the real time.
    """
    now = now or utcnow()
    if source:
        sign_in_throttle.refuse_if_throttled(session, source, KIND_PASSWORD, limit, now)
    # locked: concurrent attempts on one account count one after the other (else lost
    # updates of failed_logins would let more than MAX_FAILED_LOGINS guesses through)
    user = session.execute(select(User).where(User.username == username.strip().lower())
                           .with_for_update()).scalar_one_or_none()
    if user is None or not user.active or not user.password_hash:
        _verify_nothing(password)  # as slow as a real check: the timing does not say who exists
        _failed(session, username[:64], "unknown or disabled account", source, limit, now)
        return None
    if user.locked_until and user.locked_until > now:
        _verify_nothing(password)
        _failed(session, user.id, "account temporarily locked", source, limit, now)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        _failed(session, user.id, "wrong password", source, limit, now)
        return None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(session, actor_for(user), "auth.login", "user", user.id, source=source)
    return user


def _failed(session: Session, subject: object, reason: str, source: str | None, limit: SourceLimit,
            now: datetime) -> None:
    """Audit a refused sign-in and count it against its source (which may make this the
    failure that throttles the source: then ``auth.source_throttled`` follows it)."""
    audit.record(session, SYSTEM, "auth.login_failed", "user", subject, source=source, detail={"reason": reason})
    if source:
        sign_in_throttle.record_failure(session, source, KIND_PASSWORD, limit, now)


_DUMMY_HASH: list[str] = []


def _verify_nothing(password: str) -> None:
    """Spend what a password check on a real account spends (a hash made once, on first use)."""
    if not _DUMMY_HASH or _hasher.check_needs_rehash(_DUMMY_HASH[0]):  # made with today's cost
        _DUMMY_HASH[:] = [_hasher.hash(secrets.token_urlsafe(16))]
    try:
        _hasher.verify(_DUMMY_HASH[0], password)
    except (VerificationError, InvalidHashError):
        pass


def create_token(db: Database, username: str, name: str, *, actor: Actor = SYSTEM) -> str:
    """Mint a bearer token for ``username``; only its SHA-256 is stored, the token is returned once."""
    if not name.strip():
        raise ValidationFailed("The token could not be created", {"name": ["Enter a name for the token"]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        user = session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
        if user is None:
            raise ValidationFailed("The token could not be created", {"user": [f"No user called {username}"]})
        row = ApiToken(user_id=user.id, name=name.strip()[:128], token_hash=_digest(token), prefix=token[:10])
        session.add(row)
        session.flush()
        audit.record(session, actor, "token.created", "api_token", row.id, detail={"user": user.username, "name": row.name})
    return token


#: longer bearer tokens are not looked up (ours are 46 characters): refused as unknown
MAX_TOKEN_LENGTH = 256


def authenticate_token(db: Database, token: str, *, source: str | None = None, path: str | None = None,
                       limit: SourceLimit = DEFAULT_LIMIT, now: datetime | None = None) -> Actor | None:
    """The actor a bearer token speaks for, or None, in one transaction.

    A token that is presented but unknown, revoked or of a disabled user is a failed sign-in:
    audited (``auth.token_rejected``, with its public prefix only, never the token) and
    counted against its ``source``. From a source with ``limit`` bad tokens in the window a
    bad token raises ``Throttled`` instead, unaudited. A good token always works, throttled
    source or not: checking it is one indexed lookup, and there is no guessing to slow.
    """
    now = now or utcnow()
    with db.transaction() as session:
        actor = actor_for_token(session, token) if len(token) <= MAX_TOKEN_LENGTH and token.isascii() else None
        if actor is not None:
            return actor
        if source:
            sign_in_throttle.refuse_if_throttled(session, source, KIND_TOKEN, limit, now)
        audit.record(session, SYSTEM, "auth.token_rejected", "api_token", token_prefix(token), source=source,
                     detail={"path": path})
        if source:
            sign_in_throttle.record_failure(session, source, KIND_TOKEN, limit, now)
        return None


def token_prefix(token: str) -> str:
    """The part of a presented token the audit log may keep (its public prefix, made safe)."""
    safe = "".join(ch for ch in token[:10] if ch.isalnum() or ch in "_-")
    return safe or "-"


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The actor a bearer token speaks for, or None when unknown, revoked or the user is disabled.

    Two indexed queries (token with its user; the user's roles and areas together) because this
    runs on every API request.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = session.execute(
        select(User.id, User.username, User.national, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).first()
    if found is None:
        return None
    user_id, username, national, token_id, last_used = found
    now = utcnow()
    if last_used is None or now - last_used > TOKEN_USE_RESOLUTION:  # a write now and then, not per request
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
                        .execution_options(synchronize_session=False))
    grants = session.execute(
        select(literal("role"), UserRole.role).where(UserRole.user_id == user_id)
        .union_all(select(literal("area"), Area.slug).join(UserArea, UserArea.area_id == Area.id)
                   .where(UserArea.user_id == user_id))
    ).all()
    return Actor(user_id=user_id, username=username, national=bool(national),
                 roles=frozenset(v for k, v in grants if k == "role"),
                 areas=frozenset(v for k, v in grants if k == "area"))


#: how stale a token's "last used" may be: recording every request would be a write per request
TOKEN_USE_RESOLUTION = timedelta(minutes=10)


def list_tokens(db: Database, *, username: str | None = None) -> list[dict[str, Any]]:
    """Every API token (never the token itself): whose, what for, when created, last used
    (to within ``TOKEN_USE_RESOLUTION``) and revoked, so an operator can find stale or leaked ones."""
    with db.transaction() as session:
        q = (select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
             .order_by(ApiToken.created_at, ApiToken.id))
        if username:
            q = q.where(User.username == username.strip().lower())
        return [{"id": t.id, "user": name, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
                 "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}
                for t, name in session.execute(q).all()]


def revoke_token(db: Database, token_id: int, *, actor: Actor = SYSTEM) -> dict[str, Any]:
    """Stop a token working from its next request; revoking twice is a Conflict."""
    with db.transaction() as session:
        row = session.execute(select(ApiToken).where(ApiToken.id == token_id)
                              .with_for_update(of=ApiToken)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No API token with id {token_id}")
        if row.revoked_at is not None:
            raise Conflict(f"Token {token_id} was already revoked at {row.revoked_at.isoformat(timespec='seconds')}")
        row.revoked_at = utcnow()
        audit.record(session, actor, "token.revoked", "api_token", row.id, detail={"name": row.name})
        return {"id": row.id, "name": row.name, "prefix": row.prefix, "revoked_at": row.revoked_at}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
