"""The s.327A consideration again at every MAPPA review: review periods per area and level,
the case's next review, and the flag that asks the sweep to schedule it.

- ``area.review_period_level1..3``: ISO 8601 durations; level 2 every 16 weeks and level 3
  every 8 weeks by default (the common practice), level 1 none (agency-managed reviews).
- ``case_record.next_review_at``: when the next consideration starts by itself (partial index).
- ``process_instance.review_pending``: a completed consideration whose case's next review the
  sweep has not scheduled yet (partial index).

Existing data: the latest completed consideration of each case is marked, so the first sweep
after the upgrade schedules every case's next review from it.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from disclosure_engine.persistence.models.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_period_level1", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("review_period_level2", sa.String(16), nullable=True, server_default="P16W"))
        batch_op.add_column(sa.Column("review_period_level3", sa.String(16), nullable=True, server_default="P8W"))
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_review_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_case_record_next_review_at", "case_record", ["next_review_at"], unique=False,
                    postgresql_where=sa.text("next_review_at IS NOT NULL"),
                    sqlite_where=sa.text("next_review_at IS NOT NULL"))
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_process_instance_review_pending", "process_instance", ["id"], unique=False,
                    postgresql_where=sa.text("review_pending"), sqlite_where=sa.text("review_pending"))
    op.execute("""
        UPDATE process_instance SET review_pending = true
        WHERE id IN (
            SELECT max(pi.id) FROM process_instance pi
            JOIN process_definition d ON d.id = pi.definition_id
            WHERE d.key = 's327a_consideration' AND pi.status = 'completed'
            GROUP BY pi.case_id)
    """)


def downgrade() -> None:
    op.drop_index("ix_process_instance_review_pending", table_name="process_instance")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_column("review_pending")
    op.drop_index("ix_case_record_next_review_at", table_name="case_record")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_column("next_review_at")
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_column("review_period_level3")
        batch_op.drop_column("review_period_level2")
        batch_op.drop_column("review_period_level1")
