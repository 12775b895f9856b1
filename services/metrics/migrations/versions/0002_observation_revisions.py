"""observation revisions: every change written to an observation, kept by metric, period and org unit;
when each value was sent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:16:14.735227
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # When the value's submission reached ingest, so a late delivery of an older one does not win.
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    op.create_table('observation_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('org_unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('numerator', sa.Float(), nullable=True),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('previous_value', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('submission_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observation_revision', schema=None) as batch_op:
        batch_op.create_index(
            'ix_observation_revision_series', ['metric_id', 'period', 'org_unit'], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_column('sent_at')

    with op.batch_alter_table('observation_revision', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_revision_series')

    op.drop_table('observation_revision')
