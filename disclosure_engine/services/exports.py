"""Exports: the decision log as CSV, streamed in constant memory and audited before any row leaves.

An export is a disclosure of personal data out of the system, so it needs a justification the
user gives, and it is recorded as ``decisions.exported`` (with the filters and the row count)
*before* the first row is produced. The rows are a fixed snapshot: decisions are append-only,
so bounding the query by the highest decision id at the time of the count (also for the
"superseded by a newer version" test) makes the stream hold exactly the counted rows, however
long the download takes.

Constant memory: on PostgreSQL the rows come from one server-side cursor (``yield_per``) in
one read transaction; on SQLite (where every transaction takes the write lock) they come in
short keyset-paged transactions of ``batch`` rows, so a long download never blocks writers.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select

from disclosure_engine.domain.errors import Forbidden, ValidationFailed
from disclosure_engine.domain.roles import Actor, Role
from disclosure_engine.domain.vocabulary import DECISION_FIELDS, reason_problem
from disclosure_engine.persistence.db import Database
from disclosure_engine.persistence.models import Decision
from disclosure_engine.services import audit
from disclosure_engine.services.access import require_case_role
from disclosure_engine.services.decisions import CONTEXT_FIELDS, LOG_FILTERS, listing_area, log_query

#: roles that may export the decision log (the people who review it)
EXPORTER_ROLES = (Role.CHAIR, Role.MANAGER, Role.AUDITOR, Role.ADMIN)
#: CSV columns, in order: identity, case context, the vocabulary, process facts, who and when
COLUMNS: tuple[str, ...] = (
    "id", "case_id", "case_reference", "area", "process_id", "workflow", "version", "supersedes",
    "supersede_reason", "mappa_category", "mappa_level", *DECISION_FIELDS, *CONTEXT_FIELDS,
    "decided_by", "decided_at", "overdue_at_decision",
)
#: characters that make spreadsheet programs treat a cell as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DecisionExport:
    """A counted, audited export whose ``rows()`` streams the CSV text in chunks."""

    db: Database
    actor: Actor
    filters: Mapping[str, Any]
    max_id: int
    count: int
    batch: int = 1000
    columns: tuple[str, ...] = field(default=COLUMNS)

    def filename(self, today: date | None = None) -> str:
        return f"decisions-{(today or date.today()).isoformat()}.csv"

    def chunks(self) -> Iterator[str]:
        """The header line, then one chunk of CSV text per batch of rows."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.columns)
        yield _drain(buffer)
        for rows in self._batches():
            for d in rows:
                writer.writerow(csv_row(d, self.columns))
            yield _drain(buffer)

    def _batches(self) -> Iterator[list[Decision]]:
        if self.count == 0:
            return
        if self.db.dialect == "postgresql":
            with self.db.transaction() as session:
                q = log_query(session, self.actor, **self.filters, max_id=self.max_id).order_by(Decision.id)
                result = session.execute(q.execution_options(yield_per=self.batch)).scalars()
                for part in result.partitions():  # the identity map holds rows weakly: freed per batch
                    yield list(part)
            return
        last = 0
        while True:
            with self.db.transaction() as session:
                q = (log_query(session, self.actor, **self.filters, max_id=self.max_id)
                     .where(Decision.id > last).order_by(Decision.id).limit(self.batch))
                rows = list(session.execute(q).scalars())
            if not rows:
                return
            last = rows[-1].id
            yield rows


def export_decisions(db: Database, actor: Actor, *, justification: str | None,
                     source: str | None = None, batch: int = 1000, justification_required: bool = True,
                     **filters: Any) -> DecisionExport:
    """Check, count and audit an export of the decision log; stream it with ``.chunks()``.

    ``filters`` are those of :func:`decisions.decision_log`. Raises Forbidden for roles that
    may not export and ValidationFailed when the justification is a placeholder, or missing
    while ``justification_required`` (the web page always requires one; an API client that
    gives none is recorded as having given none, ``justification_given: false``, so an
    auditor can follow it up).
    """
    unknown = set(filters) - set(LOG_FILTERS)
    if unknown:
        raise TypeError(f"unknown decision log filters: {', '.join(sorted(unknown))}")
    filters.setdefault("current_only", True)
    require_case_role(actor)
    if not actor.has_role(*EXPORTER_ROLES):
        raise Forbidden("Only chairs, managers, auditors and administrators may export the decision log")
    given = bool(justification and justification.strip())
    if given or justification_required:
        problem = reason_problem(justification)
        if problem:
            raise ValidationFailed("Give the reason for this export", {"justification": [problem]})
    with db.transaction() as session:
        max_id = session.execute(select(func.max(Decision.id))).scalar() or 0
        q = log_query(session, actor, **filters, max_id=max_id)
        count = session.execute(select(func.count()).select_from(
            q.with_only_columns(Decision.id).subquery())).scalar_one()
        audit.record(session, actor, "decisions.exported", "decision_log", "csv", source=source,
                     area=listing_area(actor, filters),
                     justification=justification.strip() if given and justification else None,
                     detail={"filters": _jsonable_filters(filters), "rows": count, "up_to_decision_id": max_id,
                             "format": "csv", "justification_given": given})
    return DecisionExport(db=db, actor=actor, filters=dict(filters), max_id=max_id, count=count, batch=batch)


def csv_row(d: Decision, columns: tuple[str, ...] = COLUMNS) -> list[str]:
    record = d.record or {}
    fixed: dict[str, Any] = {
        "id": d.id, "case_id": d.case_id, "process_id": d.process_id, "workflow": d.workflow_key,
        "version": d.version, "supersedes": d.supersedes_id, "supersede_reason": d.supersede_reason,
        "decided_by": d.decided_by_name, "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        "overdue_at_decision": d.overdue_at_decision,
    }
    return [cell(fixed[c] if c in fixed else record.get(c)) for c in columns]


def cell(value: Any) -> str:
    """One CSV cell: lists and objects as JSON, booleans as true/false, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text


def _jsonable_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in sorted(filters.items()) if v is not None}
