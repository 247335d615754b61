"""Several writes of one transaction sent as one statement where the database allows it.

A task completion writes to five tables. Sent one by one, each write is a network round trip
and, through the ORM's unit of work, a good deal of Python; together they cost more than the
workflow engine itself. PostgreSQL runs data-modifying CTEs (``WITH w1 AS (UPDATE ...), w2 AS
(INSERT ...) SELECT ...``) as one statement, atomically; SQLite runs the same statements in
order. The caller allocates any ids it needs beforehand (see ``id_allocation``), so no write
depends on another's result.

On PostgreSQL a guard that matches no row raises (``de_guard``, migration 0005) instead of
letting the other writes of the statement through, so the statement can be sent together with
COMMIT (``run_and_commit``): if it fails, the COMMIT never runs and nothing is kept.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.dml import Insert, Update, UpdateBase

from disclosure_engine.persistence.pg_pipeline import GUARD_SQLSTATE, PgStatement, Pipeline


class WriteBatch:
    """``guards`` (UPDATEs that must each match exactly one row: version and state checks, by
    name), ``others``, and ``returning`` (single-row INSERTs with the same ``.returning(...)``
    columns), run as one unit.

    Build one per shape of write and keep it: the statements take their values as bound
    parameters at :meth:`run`, so SQLAlchemy's compiled cache and the driver's prepared
    statements are reused instead of compiling a large statement for every call. (Single-row
    inserts because SQLAlchemy cannot cache a multi-row VALUES.)
    """

    def __init__(self, guards: Mapping[str, Update], others: Sequence[UpdateBase],
                 returning: Sequence[Insert] = ()) -> None:
        self.guards, self.others, self.returning = list(guards.values()), list(others), list(returning)
        checked = [guard.returning(literal_column("1").label("ok")).cte(f"w_guard_{i}")
                   for i, guard in enumerate(self.guards)]
        ctes = [statement.cte(f"w_{i}") for i, statement in enumerate(self.others)]
        # PostgreSQL: one row (one per returned insert row) when every guard matched its one
        # row; otherwise de_guard raises, naming the first guard that failed, and the whole
        # statement fails, every CTE with it
        held = [select(func.count()).select_from(cte).scalar_subquery() == 1 for cte in checked]
        first_failed = case(*((~ok, literal(name)) for ok, name in zip(held, guards, strict=True)), else_=None)
        check = select(func.de_guard(and_(*held), first_failed).label("ok")).subquery("w_check")
        joined: FromClause = check
        columns = [check.c.ok]
        if self.returning:
            inserted = [statement.cte(f"w_ret_{i}") for i, statement in enumerate(self.returning)]
            rows = union_all(*(select(*cte.c) for cte in inserted)).subquery("w_returned")
            joined = joined.outerjoin(rows, true())
            columns += list(rows.c)
        self._combined = select(*columns).select_from(joined).add_cte(*checked, *ctes)
        self._pg: PgStatement | None = None

    def run(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]] | None:
        """The rows the ``returning`` inserts produced, or None when a guard matched no row, in
        which case the caller must raise so that the transaction rolls back."""
        if session.get_bind().dialect.name == "postgresql":
            try:
                rows = session.execute(self._combined, params).all()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) == GUARD_SQLSTATE:
                    return None
                raise
            return self._returned(rows)
        for guard in self.guards:
            if session.execute(guard, params).rowcount != 1:  # type: ignore[attr-defined]
                return None
        for statement in self.others:
            session.execute(statement, params)
        return [tuple(row) for statement in self.returning for row in session.execute(statement, params)]

    def run_and_commit(self, pipe: Pipeline, dialect: Dialect, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """PostgreSQL: the writes and COMMIT in one round trip. A guard that matched no row
        raises GuardFailed naming it, with the transaction back where it was before the
        writes (``Pipeline.commit``): the caller may correct and call again, or give up."""
        if self._pg is None:
            self._pg = PgStatement(self._combined, dialect)
        (rows,) = pipe.commit((self._pg, params))
        return self._returned(rows)

    def _returned(self, rows: Any) -> list[tuple[Any, ...]]:
        return [tuple(row[1:]) for row in rows if self.returning and row[1] is not None]


def id_allocation(dialect: str, table: Table, when: ColumnElement[bool]) -> ColumnElement[Any]:
    """A column expression that allocates the next id of ``table`` for rows where ``when`` holds
    (NULL elsewhere), to add to a query the caller makes anyway on this ``dialect``.

    PostgreSQL takes it from the table's sequence (never reused). SQLite has no sequences; its
    writers are serialised (BEGIN IMMEDIATE), so the next id after the largest is safe there.
    """
    if dialect == "postgresql":
        allocate: ColumnElement[Any] = func.nextval(func.pg_get_serial_sequence(table.name, "id"))
    else:
        allocate = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
    return case((when, allocate), else_=None)
