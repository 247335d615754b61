"""Hand-offs between processes: an end event that starts a follow-on workflow.

- ``process_instance.handoff_pending``: set when an instance completes at an end event with a
  ``start_process`` property; the sweep starts the follow-on and clears it. Existing rows get
  false: instances that completed before this release are not handed off retroactively.
- ``process_instance.started_from_id``: the instance a hand-off started this one from. UNIQUE,
  so one instance can never start two follow-ons, whatever races.
- ``ix_process_instance_handoff_pending``: a partial index of the pending rows only, so the
  sweep's query stays small however many instances there are (PostgreSQL and SQLite).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handoff_pending", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("started_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_process_instance_started_from_id_process_instance"),
                                    "process_instance", ["started_from_id"], ["id"])
        batch_op.create_unique_constraint(batch_op.f("uq_process_instance_started_from_id"),
                                          ["started_from_id"])
    op.create_index("ix_process_instance_handoff_pending", "process_instance", ["id"], unique=False,
                    postgresql_where=sa.text("handoff_pending"), sqlite_where=sa.text("handoff_pending"))


def downgrade() -> None:
    op.drop_index("ix_process_instance_handoff_pending", table_name="process_instance")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_process_instance_started_from_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_process_instance_started_from_id_process_instance"),
                                 type_="foreignkey")
        batch_op.drop_column("started_from_id")
        batch_op.drop_column("handoff_pending")
