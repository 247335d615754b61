"""The audit log (DPA 2018 s.62): record events inside the caller's transaction, verify the chain.

Each event's hash covers a canonical serialisation of every stored field plus the previous
event's hash, so altering any field of any row, deleting a row, or truncating the tail (the
head row remembers the last sequence and hash) is detected by ``verify_chain``.
Events are appended at commit under the single head row's lock, so concurrent transactions
queue rather than fork, and hold that lock only for the last moment of their work. A caller
that sends its writes together may chain onto the head as it read it, unlocked, provided its
write moves the head only if it has not moved since (``chained_writes``, ADR 0004).
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, func, insert, literal_column, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from disclosure_engine.domain.errors import Forbidden
from disclosure_engine.domain.roles import AUDIT_ROLES, Actor
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import (
    GENESIS_HASH,
    AuditEvent,
    AuditHead,
    utcnow,
)
from disclosure_engine.persistence.pg_pipeline import COMMITTED

#: the stored fields an event's hash covers, in the order they are written
HASHED_FIELDS = ("seq", "occurred_at", "actor_id", "actor_name", "action", "subject_type", "subject_id",
                 "area", "justification", "recipient", "source", "detail", "prev_hash")


def canonical_payload(event: AuditEvent | Mapping[str, Any]) -> dict[str, Any]:
    """Every stored field except the hash itself, in a form that survives a database round trip."""
    get = event.get if isinstance(event, Mapping) else functools.partial(getattr, event)
    payload = {name: get(name) for name in HASHED_FIELDS}
    payload["seq"] = int(payload["seq"])
    payload["occurred_at"] = payload["occurred_at"].isoformat(timespec="microseconds")
    return payload


def compute_hash(event: AuditEvent | Mapping[str, Any]) -> str:
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
) -> None:
    """Add one event to the caller's transaction; it commits or rolls back with the change.

    Events are chained and written when the transaction commits (see ``write_pending``), so
    the chain's head is locked only for the last moment of a transaction, not for all of it.
    """
    session.info.setdefault(_PENDING, []).append({
        "occurred_at": now or utcnow(),
        "actor_id": actor.user_id,
        "actor_name": actor.username,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "area": area,
        "justification": justification,
        "recipient": recipient,
        "source": source,
        "detail": jsonable(dict(detail or {})),
    })


_PENDING = "audit_pending"


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(COMMITTED) and session.info.get(_PENDING):
        # the transaction was already committed through a pipeline: these would be lost
        raise RuntimeError("audit events were recorded after the transaction was committed")
    write_pending(session)


def write_pending(session: Session) -> None:
    """Chain this transaction's events onto the head and insert them, just before COMMIT.

    The head row is locked here (concurrent writers queue rather than fork the chain) and the
    lock goes with the commit a moment later. Statements: lock, one multi-row insert, update.
    """
    events = take_pending(session)
    if events:
        seq, last_hash = _chain(events, lock_head(session))
        session.execute(insert(AuditEvent.__table__), events)
        session.execute(_MOVE_HEAD, {"head_seq": seq, "head_hash": last_hash})


def lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain's head row for the rest of the transaction: its (last_seq, last_hash)."""
    seq, last_hash = session.execute(LOCK_HEAD).one()
    return seq, last_hash


def take_pending(session: Session) -> list[dict[str, Any]]:
    """The events recorded in this transaction and not written yet (the caller writes them:
    see :func:`chained_writes`)."""
    return session.info.pop(_PENDING, None) or []


def chained_writes(dialect: str, events: list[dict[str, Any]], head: tuple[int, str], *,
                   head_unlocked: bool = False) -> tuple[list[UpdateBase], UpdateBase, dict[str, Any]]:
    """Chain ``events`` onto ``head`` (its ``last_seq, last_hash``): the statements inserting
    them, the statement moving the head, and their parameters.

    ``head_unlocked``: the caller read the head without locking it, to save a round trip. The
    head's move then matches only while the head is still exactly ``head``: the caller sends it
    as a guard (``persistence.batch``), so if another transaction appended meanwhile the write
    fails whole and the caller chains again from the locked head. Calling again re-chains the
    same events."""
    seq, last_hash = _chain(events, head)
    params: dict[str, Any] = {"head_seq": seq, "head_hash": last_hash}
    move_head = _MOVE_HEAD
    if head_unlocked:
        params.update(head_was_seq=head[0], head_was_hash=head[1])
        move_head = _MOVE_HEAD_IF_UNMOVED
    if dialect == "postgresql":
        # all the events as one JSON parameter: a few parameters, so the driver caches the query
        params["events"] = [{**row, "occurred_at": row["occurred_at"].isoformat()} for row in events]
        return [_EVENTS_FROM_JSON], move_head, params
    for i, row in enumerate(events):
        params.update({f"ev{i}_{name}": value for name, value in row.items()})
    return list(_event_inserts(len(events))), move_head, params


def _chain(events: list[dict[str, Any]], head: tuple[int, str]) -> tuple[int, str]:
    """Give each event its sequence number, previous hash and hash, after ``head``; returns
    the new head."""
    seq, prev_hash = head
    for row in events:
        seq += 1
        row["seq"], row["prev_hash"] = seq, prev_hash
        row["hash"] = prev_hash = compute_hash(row)
    return seq, prev_hash


_EVENTS, _HEAD = AuditEvent.__table__, AuditHead.__table__
#: the chain's head as it stands, unlocked: (last_seq, last_hash)
READ_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1)
#: lock the chain's head row for this transaction: (last_seq, last_hash)
LOCK_HEAD = READ_HEAD.with_for_update()
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(
    last_seq=bindparam("head_seq", type_=_HEAD.c.last_seq.type),
    last_hash=bindparam("head_hash", type_=_HEAD.c.last_hash.type))
_MOVE_HEAD_IF_UNMOVED = _MOVE_HEAD.where(
    _HEAD.c.last_seq == bindparam("head_was_seq", type_=_HEAD.c.last_seq.type),
    _HEAD.c.last_hash == bindparam("head_was_hash", type_=_HEAD.c.last_hash.type))


_STORED = (*HASHED_FIELDS, "hash")
_RECORDS = func.json_populate_recordset(literal_column("NULL::audit_event"),
                                        bindparam("events", type_=JSON())).table_valued(*_STORED)
#: the events of ``chained_writes`` as one JSON parameter, on PostgreSQL
_EVENTS_FROM_JSON = insert(_EVENTS).from_select(list(_STORED), select(*(_RECORDS.c[name] for name in _STORED)))


@functools.lru_cache(maxsize=32)
def _event_inserts(n: int) -> tuple[UpdateBase, ...]:
    """n single-row inserts, parameters bound at execution: built once per n, so SQLAlchemy
    and the driver reuse the compiled statement (a multi-row VALUES is not cacheable)."""
    return tuple(insert(_EVENTS).values({name: bindparam(f"ev{i}_{name}", type_=_EVENTS.c[name].type)
                                         for name in _STORED}) for i in range(n))


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
