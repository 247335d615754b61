"""Failed sign-ins per source, the record the per-source sign-in throttle counts.

One small row per failure (which source, what kind of credential, when); nothing about the
account or the password, which the audit log holds. Rows older than the throttle's window
are deleted as new failures are recorded, so the table holds about one window's failures.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

#: a password on the sign-in page; a bearer token on the API (counted apart, see the service)
KIND_PASSWORD = "password"
KIND_TOKEN = "token"


class SignInFailure(Base):
    """A failed sign-in from ``source`` (a client address, or its IPv6 /64) at ``attempted_at``."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        # the throttle's count: one source's newest failures of one kind, newest first
        Index("ix_sign_in_failure_source_kind_attempted_at", "source", "kind", "attempted_at"),
        # the prune: every row older than the window, whatever its source
        Index("ix_sign_in_failure_attempted_at", "attempted_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
