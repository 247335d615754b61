"""Policy authoring: workflow drafts and the instance migration log.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import disclosure_engine.persistence.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = disclosure_engine.persistence.models.base.UTCDateTime(timezone=True)
JSONB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "workflow_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("files", JSONB, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_by_name", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_draft")),
    )
    op.create_index(op.f("ix_workflow_draft_key"), "workflow_draft", ["key"], unique=False)
    op.create_table(
        "process_migration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("from_definition_id", sa.Integer(), nullable=False),
        sa.Column("to_definition_id", sa.Integer(), nullable=False),
        sa.Column("from_hash", sa.String(length=64), nullable=False),
        sa.Column("to_hash", sa.String(length=64), nullable=False),
        sa.Column("state_before", sa.JSON(), nullable=False),
        sa.Column("lock_version_after", sa.Integer(), nullable=False),
        sa.Column("reverts_id", sa.Integer(), nullable=True),
        sa.Column("migrated_by_name", sa.String(length=64), nullable=False),
        sa.Column("migrated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["from_definition_id"], ["process_definition.id"],
                                name=op.f("fk_process_migration_from_definition_id_process_definition")),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name=op.f("fk_process_migration_instance_id_process_instance")),
        sa.ForeignKeyConstraint(["reverts_id"], ["process_migration.id"],
                                name=op.f("fk_process_migration_reverts_id_process_migration")),
        sa.ForeignKeyConstraint(["to_definition_id"], ["process_definition.id"],
                                name=op.f("fk_process_migration_to_definition_id_process_definition")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_migration")),
    )
    op.create_index(op.f("ix_process_migration_instance_id"), "process_migration", ["instance_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_process_migration_instance_id"), table_name="process_migration")
    op.drop_table("process_migration")
    op.drop_index(op.f("ix_workflow_draft_key"), table_name="workflow_draft")
    op.drop_table("workflow_draft")
