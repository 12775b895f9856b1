"""raw records: datasets (service_requests built in), the records themselves, mapping profiles, bulk import
jobs and their rejected rows, SLA rules, the holiday calendar, and a computed metric's rule (the built-in
service_requests dataset lives in code, not in a row)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:25:49.779952
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dataset',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('is_builtin', sa.Boolean(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('holiday',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('mapping_profile',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_pulled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('pull_cursor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('raw_record',
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('org_unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('due_source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('opened_month', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('opened_week', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('opened_hour', sa.SmallInteger(), nullable=False),
    sa.Column('opened_weekday', sa.SmallInteger(), nullable=False),
    sa.Column('closed_month', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('closed_week', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('days_to_close', sa.Float(), nullable=True),
    sa.Column('on_time', sa.SmallInteger(), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=True),
    sa.Column('import_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('dataset', 'record_id')
    )
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.create_index('ix_raw_record_closed', ['dataset', 'closed_month', 'department'], unique=False)
        batch_op.create_index('ix_raw_record_opened', ['dataset', 'opened_month', 'department'], unique=False)

    op.create_table('record_import',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mapping', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('create_departments', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=True),
    sa.Column('bytes_done', sa.BigInteger(), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('departments_created', sa.JSON(), nullable=False),
    sa.Column('recomputed', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sla_rule',
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('day_kind', sa.String(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('dataset', 'department', 'category')
    )
    op.create_table('record_rejection',
    sa.Column('import_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['record_import.id'], ),
    sa.PrimaryKeyConstraint('import_id', 'row')
    )
    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.drop_column('rule')

    op.drop_table('record_rejection')
    op.drop_table('sla_rule')
    op.drop_table('record_import')
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.drop_index('ix_raw_record_opened')
        batch_op.drop_index('ix_raw_record_closed')

    op.drop_table('raw_record')
    op.drop_table('mapping_profile')
    op.drop_table('holiday')
    op.drop_table('dataset')
