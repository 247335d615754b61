"""Several writes of one transaction sent as one statement where the database allows it.

A task completion writes to five tables. Sent one by one, each write is a network round trip
and, through the ORM's unit of work, a good deal of Python; together they cost more than the
workflow engine itself. PostgreSQL runs data-modifying CTEs (``WITH w1 AS (UPDATE ...), w2 AS
(INSERT ...) SELECT ...``) as one statement, atomically; SQLite runs the same statements in
order. The caller allocates any ids it needs beforehand (see ``id_allocation``), so no write
depends on another's result.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    case,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.dml import Insert, Update, UpdateBase


class WriteBatch:
    """``guards`` (UPDATEs that must each match exactly one row: version and state checks),
    ``others``, and ``returning`` (single-row INSERTs with the same ``.returning(...)``
    columns), run as one unit.

    Build one per shape of write and keep it: the statements take their values as bound
    parameters at :meth:`run`, so SQLAlchemy's compiled cache and the driver's prepared
    statements are reused instead of compiling a large statement for every call. (Single-row
    inserts because SQLAlchemy cannot cache a multi-row VALUES.)
    """

    def __init__(self, guards: Sequence[Update], others: Sequence[UpdateBase],
                 returning: Sequence[Insert] = ()) -> None:
        self.guards, self.others, self.returning = list(guards), list(others), list(returning)
        checked = [guard.returning(literal_column("1").label("ok")).cte(f"w_guard_{i}")
                   for i, guard in enumerate(self.guards)]
        ctes = [statement.cte(f"w_{i}") for i, statement in enumerate(self.others)]
        # one row per returned insert row (or one row) when every guard matched; none otherwise
        joined: FromClause = checked[0]
        for cte in checked[1:]:
            joined = joined.join(cte, true())
        columns = [cte.c.ok for cte in checked]
        if self.returning:
            inserted = [statement.cte(f"w_ret_{i}") for i, statement in enumerate(self.returning)]
            rows = union_all(*(select(*cte.c) for cte in inserted)).subquery("w_returned")
            joined = joined.outerjoin(rows, true())
            columns += list(rows.c)
        self._width = len(checked)
        self._combined = select(*columns).select_from(joined).add_cte(*ctes)

    def run(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]] | None:
        """The rows the ``returning`` inserts produced, or None when a guard matched no row, in
        which case the caller must raise so that the transaction rolls back."""
        if session.get_bind().dialect.name == "postgresql":
            rows = session.execute(self._combined, params).all()
            if not rows:
                return None
            return [tuple(row[self._width:]) for row in rows
                    if self.returning and row[self._width] is not None]
        for guard in self.guards:
            if session.execute(guard, params).rowcount != 1:  # type: ignore[attr-defined]
                return None
        for statement in self.others:
            session.execute(statement, params)
        return [tuple(row) for statement in self.returning for row in session.execute(statement, params)]


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
