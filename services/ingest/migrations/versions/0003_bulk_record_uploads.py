"""bulk record uploads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:31:58.962090
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
    op.create_table('record_upload',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mapping', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('create_departments', sa.Boolean(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor', 'idempotency_key')
    )
    with op.batch_alter_table('record_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_upload_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_upload_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_upload_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_upload_status'))
        batch_op.drop_index(batch_op.f('ix_record_upload_department_code'))
        batch_op.drop_index(batch_op.f('ix_record_upload_created_at'))

    op.drop_table('record_upload')
