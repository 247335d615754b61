"""Lighter writes for every task completion.

- ``ix_human_task_instance_id`` and ``ix_decision_process_id`` go: each duplicates the leading
  column of a unique index on the same table (``(instance_id, spiff_task_id)`` and
  ``(process_id, version)``), which serves the same lookups, and every completion paid to
  maintain both.
- PostgreSQL 14+ built with LZ4: instance state (about 11 KB of JSON, rewritten by every step)
  is compressed with LZ4 instead of pglz, which took half of the instance update's time
  (bench/engine_overhead.py). Stored values keep their compression until rewritten; reading
  either kind is transparent. Where LZ4 is not available the column is left as it is.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_instance_id")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_process_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    BEGIN
      ALTER TABLE process_instance ALTER COLUMN state SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
      NULL;  -- a server built without LZ4: keep pglz
    END;
  END IF;
END
$$""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    ALTER TABLE process_instance ALTER COLUMN state SET COMPRESSION pglz;
  END IF;
END
$$""")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index("ix_decision_process_id", ["process_id"], unique=False)
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.create_index("ix_human_task_instance_id", ["instance_id"], unique=False)
