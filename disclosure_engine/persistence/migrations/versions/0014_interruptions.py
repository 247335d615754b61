"""A process that interrupts others (the urgent route) pauses them, and they resume when it ends.

- ``process_instance.paused_by_process_id``: set while the process is paused because another
  process of its case interrupted it (``services.interruptions``: a workflow whose BPMN names
  it in ``interrupts``); the sweep resumes it once that process has ended. Cleared on resume,
  whoever resumes it.
- ``ix_process_instance_paused_by_process``: a partial index of those rows only, for the sweep.

No existing row changes: nothing was interrupted before this revision.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_by_process_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_process_instance_paused_by_process_id_process_instance",
                                    "process_instance", ["paused_by_process_id"], ["id"])
    op.create_index("ix_process_instance_paused_by_process", "process_instance", ["paused_by_process_id"],
                    unique=False, postgresql_where=sa.text("paused_by_process_id IS NOT NULL"),
                    sqlite_where=sa.text("paused_by_process_id IS NOT NULL"))


def downgrade() -> None:
    # an interrupted process stays paused, as if a person had paused it (its reason says why)
    op.drop_index("ix_process_instance_paused_by_process", table_name="process_instance")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_constraint("fk_process_instance_paused_by_process_id_process_instance", type_="foreignkey")
        batch_op.drop_column("paused_by_process_id")
