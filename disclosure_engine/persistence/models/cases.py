"""Cases (pseudonymous) and their convictions, with the Schedule 34A result derived at write."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, UTCDateTime, utcnow
from .people import Area


class Case(Base):
    __tablename__ = "case_record"
    __table_args__ = (
        # "cases waiting for a Schedule 34A judgement" per area: only those rows are indexed
        Index("ix_case_record_review_needed", "area_id", postgresql_where=sql_text("schedule_34a_review_needed"),
              sqlite_where=sql_text("schedule_34a_review_needed")),
        # the sweep's "the next MAPPA review consideration is due" query
        Index("ix_case_record_next_review_at", "next_review_at",
              postgresql_where=sql_text("next_review_at IS NOT NULL"),
              sqlite_where=sql_text("next_review_at IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    category: Mapped[int] = mapped_column(SmallInteger)
    level: Mapped[int] = mapped_column(SmallInteger)
    lead_agency: Mapped[str] = mapped_column(String(16))
    visor_ref: Mapped[str | None] = mapped_column(String(40), index=True)  # the Cases page finds by it
    pnc_ref: Mapped[str | None] = mapped_column(String(40))
    ndelius_crn: Mapped[str | None] = mapped_column(String(40))
    child_sex_offender: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_34a_matches: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    schedule_34a_version: Mapped[str] = mapped_column(String(32))
    #: questions a person must answer before the matching is complete (``ScheduleMatchResult.review``)
    schedule_34a_review: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    #: nothing matched yet, but something might once those questions are answered: whether the
    #: s.327A duty applies is undecided (partial index: only these rows)
    schedule_34a_review_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    #: when the next s.327A consideration starts by itself (the MAPPA review after the last one
    #: completed, by the area's period for the case's level); None: none scheduled
    next_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area: Mapped[Area] = relationship(lazy="joined")
    convictions: Mapped[list[Conviction]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="Conviction.position")


class Conviction(Base):
    __tablename__ = "conviction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    statute: Mapped[str] = mapped_column(String(200))
    section: Mapped[str] = mapped_column(String(40))
    date: Mapped[date] = mapped_column(Date)
    disposal: Mapped[str] = mapped_column(String(16))
    victim_age: Mapped[int | None] = mapped_column(SmallInteger)
    jurisdiction: Mapped[str] = mapped_column(String(64))
    inchoate: Mapped[str | None] = mapped_column(String(16))
    equivalence_opinion: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: the particulars meet a paragraph's extra condition (e.g. burglary with intent to rape)
    condition_met: Mapped[bool | None] = mapped_column(Boolean)
    #: a person confirmed the statute is right as recorded (a ``check_statute`` question)
    statute_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
