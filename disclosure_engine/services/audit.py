"""The audit log (DPA 2018 s.62): record events inside the caller's transaction, verify the chain.

Each event's hash covers a canonical serialisation of every stored field plus the previous
event's hash, so altering any field of any row, deleting a row, or truncating the tail (the
head row remembers the last sequence and hash) is detected by ``verify_chain``.
Appends lock the single head row first, so concurrent transactions queue rather than fork.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.roles import AUDIT_ROLES, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    GENESIS_HASH,
    AuditEvent,
    AuditHead,
    utcnow,
)


def canonical_payload(event: AuditEvent) -> dict[str, Any]:
    """Every stored field except the hash itself, in a form that survives a database round trip."""
    return {
        "seq": int(event.seq),
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "area": event.area,
        "justification": event.justification,
        "recipient": event.recipient,
        "source": event.source,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    text = json.dumps(canonical_payload(event), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    *,
    area: str | None = None,
    justification: str | None = None,
    recipient: str | None = None,
    source: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; it commits or rolls back with the change."""
    head = session.info.get("audit_head")
    if head is None:  # first event of this transaction: lock the head until commit
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
        session.info["audit_head"] = head
    occurred = now or utcnow()
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=occurred,
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        area=area,
        justification=justification,
        recipient=recipient,
        source=source,
        detail=jsonable(dict(detail or {})),
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    session.add(event)  # inserted with the rest of the unit of work, in sequence order
    return event


def jsonable(value: Any) -> Any:
    """Normalise detail through JSON so what we hash is exactly what the database returns."""
    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    broken_seq: int | None = None
    reason: str | None = None

    def line(self) -> str:
        if self.ok:
            return f"OK {self.count} events"
        return f"BROKEN at event {self.broken_seq}: {self.reason}"


def verify_chain(db: Database, *, batch: int = 2000) -> ChainReport:
    """Walk the whole chain in constant memory; report the first broken event."""
    with db.transaction() as session:
        head = session.get(AuditHead, 1)
        prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
        rows: Iterable[AuditEvent] = session.execute(
            select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
        ).scalars()
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(False, count, expected_seq,
                                   f"event {expected_seq} is missing (next stored is {event.seq})")
            if event.prev_hash != prev_hash:
                return ChainReport(False, count, event.seq, "prev_hash does not match the event before")
            if compute_hash(event) != event.hash:
                return ChainReport(False, count, event.seq, "stored fields do not match the event's hash")
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
            session.expunge(event)
        if head is None:
            return ChainReport(False, count, None, "the chain head row is missing")
        if head.last_seq != count or head.last_hash != prev_hash:
            return ChainReport(False, count, count + 1 if head.last_seq > count else head.last_seq,
                               f"chain head says {head.last_seq} events ending {head.last_hash[:12]}; "
                               f"found {count} ending {prev_hash[:12]} (events deleted from the end?)")
        return ChainReport(True, count)


def chain_head(db: Database) -> dict[str, Any]:
    """The head to anchor outside the database (print it, send it elsewhere)."""
    with db.transaction() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        return {"seq": head.last_seq, "hash": head.last_hash}


def list_events(db: Database, actor: Actor, *, subject_type: str | None = None,
                subject_id: str | None = None, action: str | None = None,
                limit: int = 100, before_seq: int | None = None) -> list[dict[str, Any]]:
    """Audit events newest first, for managers, auditors and admins within their areas."""
    if not actor.has_role(*AUDIT_ROLES):
        raise Forbidden("Only managers, auditors and administrators may read the audit log")
    with db.transaction() as session:
        q = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(min(max(limit, 1), 500))
        if subject_type:
            q = q.where(AuditEvent.subject_type == subject_type)
        if subject_id:
            q = q.where(AuditEvent.subject_id == str(subject_id))
        if action:
            q = q.where(AuditEvent.action == action)
        if before_seq:
            q = q.where(AuditEvent.seq < before_seq)
        if not actor.national:
            q = q.where(AuditEvent.area.in_(sorted(actor.areas)))
        return [event_view(e) for e in session.execute(q).scalars()]


def event_view(e: AuditEvent) -> dict[str, Any]:
    return {**canonical_payload(e), "hash": e.hash}


def count_events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())
