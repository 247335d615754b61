"""``de_guard(ok, message)``: a write that must not go through unless its guard held.

A task completion sends its writes as one statement with COMMIT right behind it, in one round
trip (``persistence.batch``, ``persistence.pg_pipeline``). A guard that matched no row (the
instance's version moved, the task was claimed by someone else) must then stop the statement
itself, so that the COMMIT after it never runs: this function raises SQLSTATE DE409 when
``ok`` is not true. PostgreSQL only; SQLite runs the writes one by one and checks each guard.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
CREATE OR REPLACE FUNCTION de_guard(ok boolean, message text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION USING ERRCODE = 'DE409', MESSAGE = message;
  END IF;
  RETURN true;
END
$$""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS de_guard(boolean, text)")
