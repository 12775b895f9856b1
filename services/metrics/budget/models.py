"""The city's budget as its finance office publishes it: one row per line of the source file, exact amounts,
and the office's mapping of the budget's department names to CityStat departments."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class BudgetKind(StrEnum):
    expense = "expense"
    revenue = "revenue"


class BudgetImport(MetricsTable, table=True):
    """One budget file loaded, with its receipt kept: what was read, rejected and replaced."""

    __tablename__ = "budget_import"
    id: int | None = Field(default=None, primary_key=True)
    # Re-importing a fiscal year from the same source replaces that year's lines from that source.
    source: str = Field(max_length=200, index=True)
    file_name: str = Field(default="", max_length=300)
    # {"department": "department", "amount": "amount", ...}: which header held what, for the record.
    columns: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    rows: int
    accepted: int
    # [{"row": 22237, "field": "amount", "reason": "blank amount: not guessed"}]
    rejected: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    fiscal_years: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # [{"fiscal_year": "FY2022", "source": ..., "import_id": 1, "lines": 22235}]
    replaced: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    # [{"fiscal_year": "FY2022", "kind": "expense", "lines": n, "amount": "123.45"}]: amounts as exact text.
    totals: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    actor: str = Field(max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)


class BudgetLine(MetricsTable, table=True):
    """One row of a budget file, kept as it was (not summed to a grain), so that an import loses nothing and
    every total can be traced to the rows behind it."""

    __tablename__ = "budget_line"
    __table_args__ = (
        sa.Index("ix_budget_line_year", "fiscal_year", "kind", "department"),
        sa.UniqueConstraint("import_id", "source_row"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # "FY2022": named by the calendar year the fiscal year ends in, as periods are.
    fiscal_year: str = Field(max_length=8)
    # "FY21-22": as the file wrote it.
    fiscal_year_label: str = Field(max_length=32)
    department: str = Field(max_length=200)
    fund_code: str = Field(max_length=32)
    fund_name: str = Field(default="", max_length=200)
    category: str = Field(max_length=200)
    kind: BudgetKind = Field(sa_type=sa.String(8))
    # Exact to the cent, never a float; negative amounts (reversals, transfers out) are real.
    amount: Decimal = Field(sa_type=sa.Numeric(18, 2))
    # The unique (import_id, source_row) index serves lookups by import.
    import_id: int = Field(foreign_key="budget_import.id")
    # As a spreadsheet numbers it: the header is row 1.
    source_row: int


class BudgetDepartment(MetricsTable, table=True):
    """The performance office's mapping of a budget department name to a CityStat department. A name without a row
    here is unmapped; its lines are still kept and shown."""

    __tablename__ = "budget_department"
    name: str = Field(primary_key=True, max_length=200)
    department_id: int = Field(foreign_key="department.id", index=True)
    mapped_by: str = Field(max_length=200)
    mapped_at: dt.datetime = Field(default_factory=utcnow)


class MetricBudgetLink(MetricsTable, table=True):
    """The performance office's statement that this spending produces this metric's output: the expense lines of a
    budget department, optionally narrowed to one fund and/or one category, whose sum is the cost of the output."""

    __tablename__ = "metric_budget_link"
    # NULL fund_code / category mean "every"; both databases treat NULLs as distinct here, so the service, which
    # replaces a metric's whole set at once, is what keeps such links unique.
    __table_args__ = (sa.UniqueConstraint("metric_id", "department", "fund_code", "category"),)
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    # A budget department name exactly as in budget_line.department (not a CityStat department).
    department: str = Field(max_length=200)
    # None: every fund.
    fund_code: str | None = Field(default=None, max_length=32)
    # None: every category.
    category: str | None = Field(default=None, max_length=200)
    # Why this spending produces this output.
    note: str = Field(default="", sa_type=sa.Text)
    linked_by: str = Field(max_length=200)
    linked_at: dt.datetime = Field(default_factory=utcnow)
