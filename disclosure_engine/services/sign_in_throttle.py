"""The per-source sign-in throttle: after ``limit`` failed sign-ins from one source within
``window``, further attempts from it are refused, unchecked, until the window has room again.

Why: the per-account lockout (``services.users``) stops guessing at one account; it does
nothing against one address trying a password on many usernames, or guessing names that do
not exist, and each of those failures is an audit event, so the log could be grown without
bound. Here:

- a refused attempt costs one indexed query: no password check (no argon2 work), no audit
  event, no write (:func:`refuse_if_throttled` raises ``Throttled``);
- the failure that brings a source to the limit also records one ``auth.source_throttled``
  event; nothing more is audited for that source until it is under the limit again (at
  most ``limit`` failures and ``limit`` such events per window, however hard it tries);
- a success neither counts nor clears anything (one valid account must not reset the count);
- the count is in the database (``sign_in_failure``), not Redis: sign-in works with Redis
  down, and every web replica sees the same count.

Concurrency: the check before the password is unlocked (a refusal need not be exact).
Recording a failure (:func:`record_failure`) first takes a lock on the source for the rest of
the transaction (a PostgreSQL advisory lock; SQLite already serialises writers with BEGIN
IMMEDIATE), then counts and inserts, so no failure is ever missing from the count and exactly
one transaction makes the crossing (one event). Attempts already past the check when the limit
is reached still finish their password check: a source gets at most ``limit`` plus its attempts
in flight at that moment (bounded by the servers' request concurrency) checks per window.

Passwords and bearer tokens are counted apart (``kind``): a misconfigured integration
retrying a revoked token must not lock the officers who share its address out of the sign-in
page, and guessing a 256-bit token is hopeless anyway; what its limit stops is the audit flood.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import Throttled
from disclosure_engine.domain.roles import SYSTEM
from disclosure_engine.persistence.models import KIND_PASSWORD, KIND_TOKEN, SignInFailure
from disclosure_engine.services import audit

#: expired rows deleted per recorded failure: more than one, so the table drains faster than
#: failures fill it, and few enough that no single sign-in pays for a long-idle table
PRUNE_BATCH = 100
_WHAT = {KIND_PASSWORD: "failed sign-in attempts", KIND_TOKEN: "requests with a bad bearer token"}


@dataclass(frozen=True)
class SourceLimit:
    """How many failures one source may make within how long (``SIGN_IN_SOURCE_LIMIT`` and
    ``SIGN_IN_SOURCE_WINDOW_MINUTES``)."""

    limit: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> SourceLimit:
        return cls(settings.sign_in_source_limit, timedelta(minutes=settings.sign_in_source_window_minutes))


DEFAULT_LIMIT = SourceLimit()


def source_key(source: str) -> str:
    """What is counted for a client address: IPv4 as given, IPv6 by its /64 (a single host may
    use any address of its network, so counting addresses would not slow it at all), an
    IPv4-mapped IPv6 address as the IPv4 one; anything else as given (at most 64 characters)."""
    try:
        address = ipaddress.ip_address(source.strip())
    except ValueError:
        return source.strip()[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def refuse_if_throttled(session: Session, source: str, kind: str, limit: SourceLimit, now: datetime) -> None:
    """Raise ``Throttled`` (with the seconds until the window has room) when ``source`` has
    ``limit.limit`` failures of ``kind`` within the window ending ``now``."""
    retry = retry_after(session, source, kind, limit, now)
    if retry is not None:
        raise Throttled(message(kind, retry), retry)


def retry_after(session: Session, source: str, kind: str, limit: SourceLimit, now: datetime) -> int | None:
    """Whole seconds until ``source`` may try again, or None when it may now.

    The source is under the limit again once its ``limit``-th newest failure leaves the
    window; one index range scan, newest first, of at most ``limit`` rows.
    """
    nth_newest = session.execute(
        select(SignInFailure.attempted_at)
        .where(SignInFailure.source == source_key(source), SignInFailure.kind == kind,
               SignInFailure.attempted_at > now - limit.window)
        .order_by(SignInFailure.attempted_at.desc()).offset(limit.limit - 1).limit(1)
    ).scalar_one_or_none()
    if nth_newest is None:
        return None
    return max(1, math.ceil((nth_newest + limit.window - now).total_seconds()))


def record_failure(session: Session, source: str, kind: str, limit: SourceLimit, now: datetime) -> bool:
    """Count a failed sign-in from ``source`` in the caller's transaction; True (and one
    ``auth.source_throttled`` audit event) when this failure brings the source to the limit.

    Call it after the credential was checked and found wrong (the lock it takes is held to
    the commit, which follows at once).
    """
    key = source_key(source)
    _lock_source(session, key, kind)
    cutoff = now - limit.window
    _prune(session, cutoff)
    before = session.execute(
        select(func.count()).select_from(SignInFailure)
        .where(SignInFailure.source == key, SignInFailure.kind == kind, SignInFailure.attempted_at > cutoff)
    ).scalar_one()
    session.execute(insert(SignInFailure).values(source=key, kind=kind, attempted_at=now))
    if not before < limit.limit <= before + 1:
        return False
    window_minutes = int(limit.window.total_seconds() // 60)
    audit.record(session, SYSTEM, "auth.source_throttled", "source", key, source=source,
                 detail={"source": key, "kind": kind, "failures": before + 1, "window_minutes": window_minutes})
    return True


def message(kind: str, retry_after_seconds: int) -> str:
    """What the person (or integrator) refused is told: why, and when to try again."""
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    return (f"Too many {_WHAT.get(kind, 'failed sign-in attempts')} from your network. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.")


def _lock_source(session: Session, key: str, kind: str) -> None:
    """Serialise the recording of one source's failures (PostgreSQL; SQLite's writers are
    serialised already). An advisory lock, not a row lock: the source may have no row yet."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"sign_in_failure:{kind}:{key}".encode()).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


def _prune(session: Session, cutoff: datetime) -> None:
    """Delete up to ``PRUNE_BATCH`` rows older than the window, of any source (a source that
    never fails again leaves none behind); rows another transaction is deleting are skipped,
    never waited for, so concurrent failures from different sources do not queue here."""
    expired = (select(SignInFailure.id).where(SignInFailure.attempted_at <= cutoff)
               .order_by(SignInFailure.attempted_at).limit(PRUNE_BATCH).with_for_update(skip_locked=True))
    session.execute(delete(SignInFailure).where(SignInFailure.id.in_(expired.scalar_subquery()))
                    .execution_options(synchronize_session=False))
