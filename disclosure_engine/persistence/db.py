"""Engine, sessions and the one-transaction-per-use-case rule.

Services open exactly one transaction with ``Database.transaction()``; nothing commits inside
model methods. On SQLite every transaction starts with BEGIN IMMEDIATE so two writers are
serialised (the second waits, then sees the first's result) instead of failing half-way with
"database is locked"; on PostgreSQL instance rows are locked with SELECT ... FOR UPDATE.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, poolclass=NullPool,
                               connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_pragmas(engine)
        return engine
    # no pre-ping (a round trip per transaction); recycle connections instead, and a dropped
    # connection surfaces as an error on that one request
    return create_engine(url, echo=echo, pool_recycle=1800, pool_size=10, max_overflow=20)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the SQLAlchemy engine; hands out one session per transaction."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception."""
        session = self._sessions()
        session.info.clear()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


# PostgreSQL undefined_table / undefined_column; SQLite says "no such table/column"
_SCHEMA_SQLSTATES = ("42P01", "42703")
_SCHEMA_MESSAGES = ("no such table", "no such column")


def schema_missing(exc: SQLAlchemyError) -> bool:
    """True when the error means the schema is older than the code (not migrated yet)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _SCHEMA_SQLSTATES:
        return True
    return any(m in str(orig or exc) for m in _SCHEMA_MESSAGES)


def error_line(exc: SQLAlchemyError) -> str:
    """One line for an operator: what went wrong and, for an unmigrated database, what to run.

    Only the driver's first line is kept: later lines repeat the SQL statement, and
    PostgreSQL's DETAIL line can quote row values.
    """
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    detail = lines[0].strip() if lines else type(exc).__name__
    if schema_missing(exc):
        return f"the database schema is missing or older than this release ({detail}); " \
               "run `disclosure-engine db upgrade` first"
    if isinstance(exc, OperationalError):
        return f"cannot use the database: {detail}"
    return f"database error: {detail}"
