"""Failed sign-ins per source, so one address guessing passwords (or bearer tokens) is slowed.

``sign_in_failure``: one row per failed sign-in (source, kind, time), counted over a sliding
window by the sign-in throttle and pruned as failures are recorded. Two indexes: the count's
(source, kind, attempted_at) and the prune's (attempted_at). The table starts empty: failures
before the upgrade are not counted (the audit log keeps them).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

from disclosure_engine.persistence.models.base import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("attempted_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index("ix_sign_in_failure_source_kind_attempted_at", "sign_in_failure",
                    ["source", "kind", "attempted_at"])
    op.create_index("ix_sign_in_failure_attempted_at", "sign_in_failure", ["attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_attempted_at", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_source_kind_attempted_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
