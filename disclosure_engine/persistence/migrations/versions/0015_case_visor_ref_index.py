"""Cases are found by the offender's ViSOR reference (the Cases page and ``GET /cases?visor_ref=``).

- ``ix_case_record_visor_ref``: the exact-match search reads the index, not every case.

No row changes.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_record_visor_ref", "case_record", ["visor_ref"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_record_visor_ref", table_name="case_record")
