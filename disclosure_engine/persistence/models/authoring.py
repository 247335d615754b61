"""Policy authoring: server-side drafts of workflows, and the log of instance migrations.

A migration row keeps the state the instance had before it moved, so a revert is exact as long
as the instance has not moved on since (its lock_version still equals ``lock_version_after``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime, utcnow


class WorkflowDraft(Base):
    __tablename__ = "workflow_draft"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)
    files: Mapped[dict[str, str]] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_name: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessMigration(Base):
    __tablename__ = "process_migration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    from_hash: Mapped[str] = mapped_column(String(64))
    to_hash: Mapped[str] = mapped_column(String(64))
    #: plain JSON for the same reason as process_instance.state (delta order matters)
    state_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    lock_version_after: Mapped[int] = mapped_column(Integer)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("process_migration.id"))
    migrated_by_name: Mapped[str] = mapped_column(String(64))
    migrated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
