"""metric budget links: which budget spending (a budget department, optionally one fund and/or category) produces a
metric's output, for cost per output

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 05:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('metric_budget_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('fund_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('linked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('metric_id', 'department', 'fund_code', 'category')
    )
    with op.batch_alter_table('metric_budget_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_budget_link_metric_id'), ['metric_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('metric_budget_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_budget_link_metric_id'))

    op.drop_table('metric_budget_link')
