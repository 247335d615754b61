"""Deployed process definitions, running instances and the projection of their user tasks.

Instances keep their serialized state *without* the spec (stored once per definition) and a
``lock_version`` so two transactions can never advance one instance at once: the loser's
UPDATE matches no row and becomes a Conflict.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sql_false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, UTCDateTime, utcnow


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"), UniqueConstraint("key", "content_hash"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    primary_file: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    deployed_by_name: Mapped[str] = mapped_column(String(64))
    #: loaded only when needed: compiled specs are cached by content hash
    files: Mapped[list[DefinitionFile]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="DefinitionFile.name")


class DefinitionFile(Base):
    __tablename__ = "definition_file"
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("process_definition.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        # the sweep's "completed at a hand-off end event, follow-on not started yet" query; only
        # those rows are in the index (PostgreSQL and SQLite both keep partial indexes)
        Index("ix_process_instance_handoff_pending", "id", postgresql_where=sql_text("handoff_pending"),
              sqlite_where=sql_text("handoff_pending")),
        Index("ix_process_instance_review_pending", "id", postgresql_where=sql_text("review_pending"),
              sqlite_where=sql_text("review_pending")),
        Index("ix_process_instance_paused_by_process", "paused_by_process_id",
              postgresql_where=sql_text("paused_by_process_id IS NOT NULL"),
              sqlite_where=sql_text("paused_by_process_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # waiting|completed|error|cancelled
    #: plain JSON, never JSONB: SpiffWorkflow replays task-data deltas in stored key order,
    #: and JSONB re-orders object keys (state then loads with task data missing)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_event: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    #: completed at an end event with a ``start_process`` property whose follow-on process the
    #: sweep has not started yet (``services.handoffs``); set in the completing step itself
    handoff_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                  server_default=sql_false())
    #: a completed s.327A consideration whose case's next MAPPA review the sweep has not
    #: scheduled yet (``services.reviews``); set in the completing step itself
    review_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                 server_default=sql_false())
    #: while paused (``services.pauses``): when, why and by whom; its open tasks are ``paused``
    #: and its timers wait (``next_timer_at`` cleared) until it resumes
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    #: paused because this process of the case interrupted it (``services.interruptions``): the
    #: sweep resumes it when that one has ended
    paused_by_process_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    #: the instance whose end event started this one (a hand-off); UNIQUE, so an instance hands
    #: off at most once however many sweeps race
    started_from_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    #: the decision this process carries out (a delivery's ``decision_id`` start field), so a
    #: second one is not started while it runs (``services.processes.running_carrier``);
    #: use_alter: decisions refer to their process too
    carries_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id", use_alter=True), index=True)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A ready (or finished) user task, projected so the inbox is plain indexed SQL."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "spiff_task_id"),
        Index("ix_human_task_inbox", "status", "area_id", "candidate_role", "due_at"),
        Index("ix_human_task_assignee", "assignee_id", "status", "due_at"),
        Index("ix_human_task_due", "status", "due_at"),
        Index("ix_human_task_escalation", "status", "next_escalation_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: no index of its own: the unique (instance_id, spiff_task_id) index leads with it
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    workflow_key: Mapped[str] = mapped_column(String(128))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    form_name: Mapped[str | None] = mapped_column(String(255))
    ui_form_name: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    candidate_role: Mapped[str] = mapped_column(String(32))
    records_decision: Mapped[bool] = mapped_column(default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16))  # open|paused|completed|cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalate_to_role: Mapped[str | None] = mapped_column(String(32))
    escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    instance: Mapped[ProcessInstance] = relationship(lazy="raise")
