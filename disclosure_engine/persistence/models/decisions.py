"""Decision records: append-only. A correction is a new row that supersedes, never an UPDATE."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime, utcnow


class Decision(Base):
    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        Index("ix_decision_log", "area_id", "decided_at", "id"),
        Index("ix_decision_decided", "decided_at", "id"),
        Index("ix_decision_outcome", "outcome", "decided_at"),
        Index("ix_decision_made", "area_id", "made_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    #: no index of its own: the unique (process_id, version) index leads with it
    process_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    workflow_key: Mapped[str] = mapped_column(String(128))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    version: Mapped[int] = mapped_column(Integer)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), index=True)
    supersede_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(32))
    presumption_applies: Mapped[bool | None] = mapped_column(Boolean)
    legal_basis: Mapped[str | None] = mapped_column(String(32))
    review_date: Mapped[date | None] = mapped_column(Date)
    overdue_at_decision: Mapped[bool] = mapped_column(Boolean, default=False)
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    decided_by_name: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when the decision was taken: ``decided_at`` for a version a decision step recorded, the
    #: corrected version's ``made_at`` for a correction (``services.decisions.supersede``), so a
    #: record put right later still counts in the period it was decided (area statistics)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
