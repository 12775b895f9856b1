"""catalogue: metric lifecycle and definition revisions, priorities and key metrics, org units, outputs
linked to outcomes, targets with tolerance kinds and deadlines, the library of other jurisdictions'
measures, annotations, period approvals and the metrics audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 20:28:03.127526
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_department_code'), ['department_code'], unique=False)

    op.create_table('library_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.JSON(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('priority',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('priority', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priority_code'), ['code'], unique=True)

    op.create_table('library_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=False),
    sa.Column('jurisdiction', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('department_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('program', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('methodology', sa.Text(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('unit_text', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''),
    sa.Column('actuals', sa.JSON(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['library_import.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_code')
    )
    with op.batch_alter_table('library_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_measure_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_measure_jurisdiction'), ['jurisdiction'], unique=False)

    op.create_table('org_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('department_id', 'code')
    )
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_unit_department_id'), ['department_id'], unique=False)

    op.create_table('period_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('department_id', 'period')
    )
    with op.batch_alter_table('period_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_period_approval_department_id'), ['department_id'], unique=False)

    op.create_table('annotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['annotation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotation_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_annotation_series', ['metric_id', 'period'], unique=False)

    op.create_table('metric_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('metric_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_comment_metric_id'), ['metric_id'], unique=False)

    op.create_table('metric_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('output_metric_id', sa.Integer(), nullable=False),
    sa.Column('outcome_metric_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outcome_metric_id'], ['metric.id'], ),
    sa.ForeignKeyConstraint(['output_metric_id'], ['metric.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('output_metric_id', 'outcome_metric_id')
    )
    with op.batch_alter_table('metric_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_link_outcome_metric_id'), ['outcome_metric_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_metric_link_output_metric_id'), ['output_metric_id'], unique=False)

    op.create_table('metric_priority',
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('priority_id', sa.Integer(), nullable=False),
    sa.Column('is_key', sa.Boolean(), nullable=False),
    sa.Column('marked_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('marked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ),
    sa.ForeignKeyConstraint(['priority_id'], ['priority.id'], ),
    sa.PrimaryKeyConstraint('metric_id', 'priority_id')
    )
    with op.batch_alter_table('metric_priority', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_priority_priority_id'), ['priority_id'], unique=False)

    op.create_table('metric_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('series_break', sa.Boolean(), nullable=False),
    sa.Column('break_period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('metric_id', 'version')
    )
    with op.batch_alter_table('metric_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_revision_metric_id'), ['metric_id'], unique=False)

    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollup', sa.String(length=16), nullable=False, server_default='sum'))
        batch_op.add_column(sa.Column('data_source', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('due_days', sa.Integer(), nullable=False, server_default='10'))
        batch_op.add_column(sa.Column('first_period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='active'))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('signed_off_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('signed_off_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('signed_off_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('signed_off_on_behalf', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('library_measure_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('provenance', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default='operator'))
        batch_op.create_index(batch_op.f('ix_metric_state'), ['state'], unique=False)
        batch_op.create_foreign_key('fk_metric_library_measure_id', 'library_measure', ['library_measure_id'], ['id'])

    # Metrics that existed before the lifecycle were live: they become active, with a roll-up their unit implies.
    op.execute("UPDATE metric SET rollup = 'ratio' WHERE unit = 'percent'")
    op.execute("UPDATE metric SET rollup = 'mean' WHERE unit IN ('days', 'hours', 'minutes')")

    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tolerance_kind', sa.String(length=16), nullable=False, server_default='absolute'))
        batch_op.add_column(sa.Column('effective_to', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default='operator'))



def downgrade() -> None:
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_column('created_by')
        batch_op.drop_column('deadline')
        batch_op.drop_column('effective_to')
        batch_op.drop_column('tolerance_kind')

    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.drop_constraint('fk_metric_library_measure_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_metric_state'))
        batch_op.drop_column('created_by')
        batch_op.drop_column('provenance')
        batch_op.drop_column('library_measure_id')
        batch_op.drop_column('signed_off_on_behalf')
        batch_op.drop_column('signed_off_at')
        batch_op.drop_column('signed_off_name')
        batch_op.drop_column('signed_off_by')
        batch_op.drop_column('version')
        batch_op.drop_column('state')
        batch_op.drop_column('first_period')
        batch_op.drop_column('due_days')
        batch_op.drop_column('owner')
        batch_op.drop_column('data_source')
        batch_op.drop_column('rollup')

    with op.batch_alter_table('metric_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_revision_metric_id'))

    op.drop_table('metric_revision')
    with op.batch_alter_table('metric_priority', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_priority_priority_id'))

    op.drop_table('metric_priority')
    with op.batch_alter_table('metric_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_link_output_metric_id'))
        batch_op.drop_index(batch_op.f('ix_metric_link_outcome_metric_id'))

    op.drop_table('metric_link')
    with op.batch_alter_table('metric_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_comment_metric_id'))

    op.drop_table('metric_comment')
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.drop_index('ix_annotation_series')
        batch_op.drop_index(batch_op.f('ix_annotation_parent_id'))

    op.drop_table('annotation')
    with op.batch_alter_table('period_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_period_approval_department_id'))

    op.drop_table('period_approval')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_unit_department_id'))

    op.drop_table('org_unit')
    with op.batch_alter_table('library_measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_measure_jurisdiction'))
        batch_op.drop_index(batch_op.f('ix_library_measure_department_code'))

    op.drop_table('library_measure')
    with op.batch_alter_table('priority', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priority_code'))

    op.drop_table('priority')
    op.drop_table('library_import')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_department_code'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor'))

    op.drop_table('audit_event')
