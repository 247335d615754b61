"""Escalation steps (unique per task and level) and in-app notifications with e-mail state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 18:54:42.398872
"""
import sqlalchemy as sa
from alembic import op

import disclosure_engine.persistence.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('target_role', sa.String(length=32), nullable=True),
    sa.Column('target_user_id', sa.Integer(), nullable=True),
    sa.Column('scheduled_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('occurred_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_escalation_step_area_id_area')),
    sa.ForeignKeyConstraint(['target_user_id'], ['app_user.id'], name=op.f('fk_escalation_step_target_user_id_app_user')),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_escalation_step_task_id_human_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_step')),
    sa.UniqueConstraint('task_id', 'level', name=op.f('uq_escalation_step_task_id_level'))
    )
    op.create_index(op.f('ix_escalation_step_occurred_at'), 'escalation_step', ['occurred_at'], unique=False)
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('read_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_status', sa.String(length=16), nullable=True),
    sa.Column('email_attempts', sa.SmallInteger(), nullable=False),
    sa.Column('email_attempt_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_error', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['step_id'], ['escalation_step.id'], name=op.f('fk_notification_step_id_escalation_step'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_notification_task_id_human_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index('ix_notification_email', 'notification', ['email_status', 'created_at'], unique=False)
    op.create_index('ix_notification_inbox', 'notification', ['user_id', 'read_at', 'created_at'], unique=False)
    op.create_index(op.f('ix_notification_task_id'), 'notification', ['task_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_task_id'), table_name='notification')
    op.drop_index('ix_notification_inbox', table_name='notification')
    op.drop_index('ix_notification_email', table_name='notification')
    op.drop_table('notification')
    op.drop_index(op.f('ix_escalation_step_occurred_at'), table_name='escalation_step')
    op.drop_table('escalation_step')
