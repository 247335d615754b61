"""A running process may be paused, with a reason, and resumed: the clock stops meanwhile.

- ``process_instance.paused_at``, ``paused_reason``, ``paused_by_id``: set while the process is
  paused (``services.pauses``); its open tasks have status ``paused`` meanwhile, and its timers
  wait (``next_timer_at`` is cleared, set again when it resumes).

No existing row changes: nothing is paused before this revision.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

from disclosure_engine.persistence.models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("paused_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_process_instance_paused_by_id_app_user", "app_user",
                                    ["paused_by_id"], ["id"])


def downgrade() -> None:
    # a paused process's tasks open again (their due dates as they were when it was paused)
    op.execute("UPDATE human_task SET status = 'open' WHERE status = 'paused'")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_constraint("fk_process_instance_paused_by_id_app_user", type_="foreignkey")
        batch_op.drop_column("paused_by_id")
        batch_op.drop_column("paused_reason")
        batch_op.drop_column("paused_at")
