"""The budget as a public open dataset: every imported line, exact to the cent, with the CityStat department its
budget department maps to. Budgets are public documents, so the dataset is public as soon as one line exists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.metrics.budget.models import BudgetDepartment, BudgetImport, BudgetLine
from services.metrics.departments.models import Department
from services.metrics.opendata.registry import OpenColumn, OpenDataset, SourceContext

BUDGET_COLUMNS = (
    OpenColumn("fiscal_year", "Fiscal year", "text", "The fiscal year, named by the year it ends in: FY2022."),
    OpenColumn("fiscal_year_label", "Fiscal year label", "text", "The fiscal year as the budget file wrote it."),
    OpenColumn("department", "Department", "text", "The department as the budget names it."),
    OpenColumn(
        "citystat_department",
        "CityStat department",
        "text",
        "The code of the CityStat department the budget department maps to; empty when it is not mapped.",
    ),
    OpenColumn("fund_code", "Fund code", "text", "The fund the money comes from or goes to."),
    OpenColumn("fund_name", "Fund name", "text", "The fund's name, when the budget file gave one."),
    OpenColumn("category", "Category", "text", "The account category (e.g. Personnel, Contract Services)."),
    OpenColumn("kind", "Kind", "text", "expense or revenue."),
    OpenColumn("amount", "Amount", "number", "The amount in dollars, exact to the cent; negative for reversals."),
    OpenColumn(
        "line",
        "Line",
        "number",
        "The line's number in CityStat: budget files repeat the same department, fund and category on several "
        "lines, so this is what tells them apart. A year imported again gets new numbers.",
    ),
)


def _rows(_session: Session, _ctx: SourceContext) -> sa.Select:
    # Amounts stay Numeric: exact on PostgreSQL, and on SQLite (which keeps them as doubles) the executor's sum and
    # avg add the decimals the doubles stand for, so that totals come out to the cent on both.
    return (
        sa.select(
            col(BudgetLine.fiscal_year).label("fiscal_year"),
            col(BudgetLine.fiscal_year_label).label("fiscal_year_label"),
            col(BudgetLine.department).label("department"),
            col(Department.code).label("citystat_department"),
            col(BudgetLine.fund_code).label("fund_code"),
            sa.func.nullif(col(BudgetLine.fund_name), "").label("fund_name"),
            col(BudgetLine.category).label("category"),
            col(BudgetLine.kind).label("kind"),
            col(BudgetLine.amount).label("amount"),
            col(BudgetLine.id).label("line"),
        )
        .select_from(BudgetLine)
        .outerjoin(BudgetDepartment, col(BudgetDepartment.name) == col(BudgetLine.department))
        .outerjoin(Department, col(Department.id) == col(BudgetDepartment.department_id))
    )


def _updated(session: Session) -> dt.datetime | None:
    return session.exec(
        select(sa.func.max(col(BudgetImport.at))).where(
            col(BudgetImport.id).in_(select(BudgetLine.import_id).distinct())
        )
    ).one()


BUDGET = OpenDataset(
    key="budget",
    name="City budget",
    description=(
        "The city's budget, line by line as the finance office published it: expenses and revenues by fiscal year, "
        "department, fund and account category, with the CityStat department each budget department belongs to."
    ),
    category="Budget",
    columns=BUDGET_COLUMNS,
    rows=_rows,
    key_fields=("fiscal_year", "department", "fund_code", "category", "kind", "line"),
    updated_at=_updated,
)


def budget_datasets(session: Session) -> Iterable[OpenDataset]:
    if session.exec(select(BudgetLine.id).limit(1)).first() is not None:
        yield BUDGET
