"""``conviction.statute_confirmed``: a person confirmed a statute Schedule 34A does not list is
right as recorded (the answer to a ``check_statute`` question, ``domain.statute_check``).

Nullable, no default: existing convictions were never asked. Their cases' questions are left
as 0009 computed them (a case created before this release is not re-matched here).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conviction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statute_confirmed", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conviction", schema=None) as batch_op:
        batch_op.drop_column("statute_confirmed")
