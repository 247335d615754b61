"""Browser sessions kept on the server, so that signing out ends a session for good.

The session cookie used to carry the user id alone, signed: a copy of it kept working after
sign-out for as long as it was used. Now the cookie carries a random token and this table (a
SHA-256 of it) says whether the session is still open.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from disclosure_engine.persistence.models.base import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", name="fk_web_session_user_id_app_user",
                                                         ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_session_token_hash"),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_session_user_id", table_name="web_session")
    op.drop_table("web_session")
