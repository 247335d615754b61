"""PostgreSQL: a transaction's statements sent in as few network round trips as possible.

A task completion is a handful of small statements, and on PostgreSQL each one sent on its
own is a round trip: the client waits for the server, and an idle server process has to be
woken for every one of them. psycopg's pipeline mode sends several statements at once and
reads their results afterwards; the server still runs them one after the other, in order,
each with its own snapshot, exactly as if they had been sent one by one.

:class:`Pipeline` runs on the session's own connection, inside the session's transaction, so
SQLAlchemy and the pipeline see and change the same rows. It sends ``BEGIN`` itself, with the
first statements (psycopg would otherwise send it alone and wait for it), and it sends
``COMMIT`` with the last ones: :meth:`Pipeline.commit` ends the transaction, and the service
must write nothing after it. Whatever happens, the connection goes back to SQLAlchemy as it
came: in no transaction, not in autocommit.

:class:`PgStatement` is a Core statement compiled once by SQLAlchemy for this dialect, with
SQLAlchemy's own parameter processing (JSON wrapped, UTC checked), so there is one way of
writing SQL in the product, and this module only changes how it travels.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import psycopg
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

Row = tuple[Any, ...]  # a named tuple of the statement's columns


class GuardFailed(Exception):
    """A statement's guard (``de_guard`` in migration 0005) refused the write: someone else
    changed the rows since they were read. ``guard`` names it."""

    def __init__(self, guard: str) -> None:
        super().__init__(f"guard failed: {guard}")
        self.guard = guard


#: the SQLSTATE ``de_guard`` raises (migration 0005)
GUARD_SQLSTATE = "DE409"
_BEFORE_COMMIT = "before_commit"
#: ``session.info`` key set once a pipeline has committed the session's transaction: the
#: session must not write after that (``services.audit`` refuses to lose events that way)
COMMITTED = "pipeline_committed"


class PgStatement:
    """A Core statement compiled once for PostgreSQL, run through psycopg directly.

    Parameters are processed exactly as SQLAlchemy would process them (its bind processors:
    JSON wrapped for psycopg, UTC datetimes checked); rows come back as named tuples of the
    statement's columns, datetimes made UTC as the product's ``UTCDateTime`` columns make them.
    Statements with expanding ("IN") parameters cannot be compiled once: use ``= ANY(array)``.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:  # type: ignore[attr-defined]
            raise ValueError("a statement with expanding parameters cannot be compiled once")
        self.sql: str = compiled.string
        self._compiled = compiled
        processors = {}
        for bind, name in compiled.bind_names.items():  # type: ignore[attr-defined]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        self._processors = processors
        columns = list(getattr(statement, "selected_columns", None) or ())
        self._row = namedtuple("Row", [getattr(c, "key", None) or f"c{i}" for i, c in enumerate(columns)],
                               rename=True) if columns else None
        #: the columns holding datetimes, made UTC on the way out (as UTCDateTime does)
        self._datetimes = [i for i, c in enumerate(columns) if _is_datetime_type(getattr(c, "type", None))]

    def rows(self, values: list[tuple[Any, ...]]) -> list[Row]:
        make = self._row._make if self._row is not None else tuple
        if not self._datetimes:
            return [make(row) for row in values]
        out = []
        for row in values:
            row = list(row)
            for i in self._datetimes:
                value = row[i]
                if value is not None and value.tzinfo is not None:
                    row[i] = value.astimezone(UTC)
            out.append(make(row))
        return out

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        params = dict(self._compiled.construct_params(dict(values)))
        for name, processor in self._processors.items():
            if name in params:
                params[name] = processor(params[name])
        return params


def _is_datetime_type(type_: Any) -> bool:
    impl = getattr(type_, "impl", type_)
    return isinstance(impl, DateTime)


class Pipeline:
    """Statements of the session's transaction, sent together (see the module docstring)."""

    def __init__(self, raw: Any, session: Session) -> None:
        self._raw, self._session = raw, session
        self._begun = False
        #: a guard refused the last commit: roll back to before its writes first
        self._refused = False

    def run(self, *calls: tuple[PgStatement, Mapping[str, Any]]) -> list[list[Row]]:
        """Send ``calls`` (with BEGIN first, if not sent yet) in one round trip; return each
        statement's rows (``[]`` for one that returns none)."""
        return self._send(calls, commit=False)

    def commit(self, *calls: tuple[PgStatement, Mapping[str, Any]]) -> list[list[Row]]:
        """Send ``calls`` and COMMIT in one round trip.

        If a guard refuses (GuardFailed), the COMMIT never ran and the transaction is put back
        as it was before ``calls`` (they run after a savepoint), in the same round trip as
        whatever the caller sends next: it may correct and commit again, or raise."""
        rows = self._send(calls, commit=True)
        self._session.info[COMMITTED] = True
        return rows

    def _send(self, calls: Sequence[tuple[PgStatement, Mapping[str, Any]]], *, commit: bool) -> list[list[Row]]:
        raw = self._raw
        cursors = []
        try:
            with raw.pipeline():
                if not self._begun:
                    raw.execute("BEGIN")
                    self._begun = True
                if self._refused:
                    raw.execute(f"ROLLBACK TO SAVEPOINT {_BEFORE_COMMIT}")
                    self._refused = False
                if commit:
                    raw.execute(f"SAVEPOINT {_BEFORE_COMMIT}")
                for statement, values in calls:
                    cursors.append(raw.execute(statement.sql, statement.params(values)))
                if commit:
                    raw.execute("COMMIT")
        except psycopg.Error as exc:
            if commit and getattr(exc, "sqlstate", None) == GUARD_SQLSTATE:
                self._refused = True
                raise GuardFailed(exc.diag.message_primary or "") from None
            raise
        return [statement.rows(cursor.fetchall()) if cursor.description else []
                for (statement, _values), cursor in zip(calls, cursors, strict=True)]


@contextmanager
def pipelined(session: Session) -> Iterator[Pipeline | None]:
    """A :class:`Pipeline` over the session's connection, or None where there is none to use
    (SQLite, another driver, or a transaction that has already sent statements).

    Use it first thing in ``db.transaction()``. psycopg sends BEGIN by itself, alone, unless
    its connection is in autocommit, so the connection is put in autocommit for the pipeline
    to send BEGIN with the first statements; on the way out (success or not) any transaction
    left open is rolled back and autocommit is turned off again. A connection that cannot be
    put back so is invalidated, never returned to the pool.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or bind.dialect.driver != "psycopg":
        yield None
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        yield None
        return
    raw.autocommit = True
    try:
        yield Pipeline(raw, session)
    finally:
        try:
            if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raw.rollback()
            raw.autocommit = False
        except Exception:
            connection.invalidate()
            raise
