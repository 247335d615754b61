"""Escalation steps (recorded once per task and level) and in-app notifications.

``EscalationStep`` carries the exactly-once guarantee: a UNIQUE key on (task_id, level), written
in the same transaction as the step's audit event, its notifications and the task's new
escalation level. A retried, duplicated or racing job either sees the step already done (the
task row is locked first) or fails on the key and rolls back everything it did.

``Notification`` rows hold only opaque references (task id, case reference) and a link; never
offender details. E-mail delivery state lives on the row so a lost worker's e-mail is found
and sent again by a later sweep.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

#: ladder levels (HumanTask.escalation_level holds the highest level reached)
LEVEL_REMINDED = 1
LEVEL_OVERDUE = 2
LEVEL_ESCALATED = 3
LEVEL_NAMES = {LEVEL_REMINDED: "reminded", LEVEL_OVERDUE: "overdue", LEVEL_ESCALATED: "escalated"}


class EscalationStep(Base):
    __tablename__ = "escalation_step"
    __table_args__ = (UniqueConstraint("task_id", "level"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))  # reminded|overdue|escalated
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    target_role: Mapped[str | None] = mapped_column(String(32))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_inbox", "user_id", "read_at", "created_at"),
        Index("ix_notification_email", "email_status", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_step.id", ondelete="CASCADE"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: None (no e-mail wanted/possible) | pending | sending | sent | failed
    email_status: Mapped[str | None] = mapped_column(String(16))
    email_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    email_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(String(255))
