"""budget: budget lines as imported (one per source row, exact amounts), each import's receipt, and the office's
mapping of budget department names to CityStat departments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 03:00:28.246802
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('budget_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.JSON(), nullable=False),
    sa.Column('fiscal_years', sa.JSON(), nullable=False),
    sa.Column('replaced', sa.JSON(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('budget_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_import_source'), ['source'], unique=False)

    op.create_table('budget_department',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('mapped_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('mapped_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('budget_department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_department_department_id'), ['department_id'], unique=False)

    op.create_table('budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('fiscal_year_label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('fund_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('fund_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['budget_import.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('import_id', 'source_row')
    )
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.create_index('ix_budget_line_year', ['fiscal_year', 'kind', 'department'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.drop_index('ix_budget_line_year')

    op.drop_table('budget_line')
    with op.batch_alter_table('budget_department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_department_department_id'))

    op.drop_table('budget_department')
    with op.batch_alter_table('budget_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_import_source'))

    op.drop_table('budget_import')
