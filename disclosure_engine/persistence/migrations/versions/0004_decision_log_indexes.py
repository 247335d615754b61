"""Decision log indexes: newest-first pages without sorting every row.

The national log walks ``ix_decision_decided`` in order; an area's log walks
``ix_decision_log`` (area, decided_at, id). Measured with bench/inbox.py (docs/benchmarks.md).

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_log")
        batch_op.create_index("ix_decision_log", ["area_id", "decided_at", "id"], unique=False)
        batch_op.create_index("ix_decision_decided", ["decided_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_decided")
        batch_op.drop_index("ix_decision_log")
        batch_op.create_index("ix_decision_log", ["area_id", "decided_at"], unique=False)
