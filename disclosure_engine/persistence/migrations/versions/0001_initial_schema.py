"""Initial schema; seeds the 42 MAPPA areas and the audit chain head.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 18:38:44.868518
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import disclosure_engine.persistence.models.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy: a migration must not change when the domain module does.
AREAS_0001 = [('avon-and-somerset', 'Avon and Somerset'), ('bedfordshire', 'Bedfordshire'), ('cambridgeshire', 'Cambridgeshire'), ('cheshire', 'Cheshire'), ('cleveland', 'Cleveland'), ('cumbria', 'Cumbria'), ('derbyshire', 'Derbyshire'), ('devon-and-cornwall', 'Devon and Cornwall'), ('dorset', 'Dorset'), ('durham', 'Durham'), ('dyfed-powys', 'Dyfed-Powys'), ('essex', 'Essex'), ('gloucestershire', 'Gloucestershire'), ('greater-manchester', 'Greater Manchester'), ('gwent', 'Gwent'), ('hampshire', 'Hampshire'), ('hertfordshire', 'Hertfordshire'), ('humberside', 'Humberside'), ('kent', 'Kent'), ('lancashire', 'Lancashire'), ('leicestershire', 'Leicestershire'), ('lincolnshire', 'Lincolnshire'), ('london', 'London'), ('merseyside', 'Merseyside'), ('norfolk', 'Norfolk'), ('north-wales', 'North Wales'), ('north-yorkshire', 'North Yorkshire'), ('northamptonshire', 'Northamptonshire'), ('northumbria', 'Northumbria'), ('nottinghamshire', 'Nottinghamshire'), ('south-wales', 'South Wales'), ('south-yorkshire', 'South Yorkshire'), ('staffordshire', 'Staffordshire'), ('suffolk', 'Suffolk'), ('surrey', 'Surrey'), ('sussex', 'Sussex'), ('thames-valley', 'Thames Valley'), ('warwickshire', 'Warwickshire'), ('west-mercia', 'West Mercia'), ('west-midlands', 'West Midlands'), ('west-yorkshire', 'West Yorkshire'), ('wiltshire', 'Wiltshire')]


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('national', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('created_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area')),
    sa.UniqueConstraint('slug', name=op.f('uq_area_slug'))
    )
    op.create_table('audit_event',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('occurred_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=True),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('case_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.SmallInteger(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('lead_agency', sa.String(length=16), nullable=False),
    sa.Column('visor_ref', sa.String(length=40), nullable=True),
    sa.Column('pnc_ref', sa.String(length=40), nullable=True),
    sa.Column('ndelius_crn', sa.String(length=40), nullable=True),
    sa.Column('child_sex_offender', sa.Boolean(), nullable=False),
    sa.Column('schedule_34a_matches', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('schedule_34a_version', sa.String(length=32), nullable=False),
    sa.Column('created_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_case_record_area_id_area')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_case_record_created_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_record')),
    sa.UniqueConstraint('reference', name=op.f('uq_case_record_reference'))
    )
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_record_area_id'), ['area_id'], unique=False)

    op.create_table('process_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('primary_file', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('deployed_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deployed_by_id', sa.Integer(), nullable=True),
    sa.Column('deployed_by_name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['deployed_by_id'], ['app_user.id'], name=op.f('fk_process_definition_deployed_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_definition')),
    sa.UniqueConstraint('key', 'content_hash', name=op.f('uq_process_definition_key_content_hash')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_process_definition_key_version'))
    )
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_definition_key'), ['key'], unique=False)

    op.create_table('user_area',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_user_area_area_id_area')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_area_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'area_id', name=op.f('pk_user_area'))
    )
    op.create_table('user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_role_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_role'))
    )
    op.create_table('conviction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('statute', sa.String(length=200), nullable=False),
    sa.Column('section', sa.String(length=40), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('disposal', sa.String(length=16), nullable=False),
    sa.Column('victim_age', sa.SmallInteger(), nullable=True),
    sa.Column('jurisdiction', sa.String(length=64), nullable=False),
    sa.Column('inchoate', sa.String(length=16), nullable=True),
    sa.Column('equivalence_opinion', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_conviction_case_id_case_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conviction'))
    )
    with op.batch_alter_table('conviction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conviction_case_id'), ['case_id'], unique=False)

    op.create_table('definition_file',
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], name=op.f('fk_definition_file_definition_id_process_definition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('definition_id', 'name', name=op.f('pk_definition_file'))
    )
    op.create_table('process_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('next_timer_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('started_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_event', sa.String(length=128), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_process_instance_area_id_area')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_process_instance_case_id_case_record')),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], name=op.f('fk_process_instance_definition_id_process_definition')),
    sa.ForeignKeyConstraint(['started_by_id'], ['app_user.id'], name=op.f('fk_process_instance_started_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_instance'))
    )
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_instance_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instance_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instance_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instance_next_timer_at'), ['next_timer_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instance_status'), ['status'], unique=False)

    op.create_table('human_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('workflow_key', sa.String(length=128), nullable=False),
    sa.Column('spiff_task_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('form_name', sa.String(length=255), nullable=True),
    sa.Column('ui_form_name', sa.String(length=255), nullable=True),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('candidate_role', sa.String(length=32), nullable=False),
    sa.Column('records_decision', sa.Boolean(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('due_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminder_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalate_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalate_to_role', sa.String(length=32), nullable=True),
    sa.Column('escalation_level', sa.SmallInteger(), nullable=False),
    sa.Column('next_escalation_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('draft_data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_human_task_area_id_area')),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_human_task_assignee_id_app_user')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_human_task_case_id_case_record')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['app_user.id'], name=op.f('fk_human_task_completed_by_id_app_user')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_human_task_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_human_task')),
    sa.UniqueConstraint('instance_id', 'spiff_task_id', name=op.f('uq_human_task_instance_id_spiff_task_id'))
    )
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_assignee', ['assignee_id', 'status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_human_task_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_human_task_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_human_task_escalation', ['status', 'next_escalation_at'], unique=False)
        batch_op.create_index('ix_human_task_inbox', ['status', 'area_id', 'candidate_role', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_human_task_instance_id'), ['instance_id'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('workflow_key', sa.String(length=128), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('supersede_reason', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('presumption_applies', sa.Boolean(), nullable=True),
    sa.Column('legal_basis', sa.String(length=32), nullable=True),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('overdue_at_decision', sa.Boolean(), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=64), nullable=False),
    sa.Column('decided_at', disclosure_engine.persistence.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_decision_area_id_area')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_decision_case_id_case_record')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_decision_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['process_id'], ['process_instance.id'], name=op.f('fk_decision_process_id_process_instance')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['decision.id'], name=op.f('fk_decision_supersedes_id_decision')),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_decision_task_id_human_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision')),
    sa.UniqueConstraint('process_id', 'version', name=op.f('uq_decision_process_id_version'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index('ix_decision_log', ['area_id', 'decided_at'], unique=False)
        batch_op.create_index('ix_decision_outcome', ['outcome', 'decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_supersedes_id'), ['supersedes_id'], unique=False)

    # Reference data is part of the schema: areas are a closed, statutory list.
    area = sa.table("area", sa.column("id", sa.Integer), sa.column("slug", sa.String),
                    sa.column("name", sa.String))
    op.bulk_insert(area, [{"id": i, "slug": slug, "name": name}
                          for i, (slug, name) in enumerate(AREAS_0001, start=1)])
    head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("last_seq", sa.Integer),
                    sa.column("last_hash", sa.String))
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": "0" * 64}])


def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_supersedes_id'))
        batch_op.drop_index(batch_op.f('ix_decision_process_id'))
        batch_op.drop_index('ix_decision_outcome')
        batch_op.drop_index('ix_decision_log')
        batch_op.drop_index(batch_op.f('ix_decision_decided_by_id'))
        batch_op.drop_index(batch_op.f('ix_decision_case_id'))

    op.drop_table('decision')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_task_instance_id'))
        batch_op.drop_index('ix_human_task_inbox')
        batch_op.drop_index('ix_human_task_escalation')
        batch_op.drop_index('ix_human_task_due')
        batch_op.drop_index(batch_op.f('ix_human_task_case_id'))
        batch_op.drop_index('ix_human_task_assignee')

    op.drop_table('human_task')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instance_status'))
        batch_op.drop_index(batch_op.f('ix_process_instance_next_timer_at'))
        batch_op.drop_index(batch_op.f('ix_process_instance_definition_id'))
        batch_op.drop_index(batch_op.f('ix_process_instance_case_id'))
        batch_op.drop_index(batch_op.f('ix_process_instance_area_id'))

    op.drop_table('process_instance')
    op.drop_table('definition_file')
    with op.batch_alter_table('conviction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conviction_case_id'))

    op.drop_table('conviction')
    op.drop_table('user_role')
    op.drop_table('user_area')
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_definition_key'))

    op.drop_table('process_definition')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_record_area_id'))

    op.drop_table('case_record')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_subject')
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    op.drop_table('area')
    op.drop_table('app_user')
