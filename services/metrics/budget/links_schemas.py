"""Shapes of the budget tied to performance: a metric's links to the spending behind it, its cost per output by fiscal
year, and a department's budget-hearing view. Amounts are JSON numbers rounded to the cent, as in the budget API;
the sums behind them are exact."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.performance.schemas import Status, TrendPublic

_NAME = r"^[^\x00]*[^\x00\s][^\x00]*$"


class BudgetLinkIn(BaseModel):
    """Spending that produces the metric's output: a budget department's expense lines, optionally only one fund's
    and/or one category's."""

    model_config = INPUT_CONFIG
    department: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NAME)] = Field(
        description="A budget department, exactly as the budget names it (see GET /budget/departments)"
    )
    fund_code: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=_NAME)] | None = Field(
        default=None, description="Only this fund's lines; null: every fund"
    )
    category: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NAME)] | None = Field(
        default=None, description="Only this account category's lines; null: every category"
    )
    note: Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL_PATTERN)] = Field(
        default="", description="Why this spending produces this output"
    )


class BudgetLinksPut(BaseModel):
    """The metric's whole set of links; links left out are removed, and an empty list removes them all."""

    model_config = INPUT_CONFIG
    links: list[BudgetLinkIn] = Field(max_length=200)


class BudgetLinkPublic(BaseModel):
    department: str = Field(description="The budget department, as the budget names it")
    department_code: str | None = Field(description="The CityStat department it is mapped to; null when unmapped")
    fund_code: str | None = Field(description="null: every fund")
    category: str | None = Field(description="null: every category")
    note: str
    linked_by: str
    linked_at: dt.datetime


class CostPerOutputItem(BaseModel):
    fiscal_year: str = Field(description="FY2022: named by the calendar year the fiscal year ends in")
    spending: float = Field(description="The linked expense lines of the fiscal year, summed exactly, to the cent")
    output: float = Field(description="The metric's output in the fiscal year (see output_basis)")
    cost_per_output: float = Field(description="spending / output, rounded to the cent")
    periods: int = Field(description="The metric's periods in the fiscal year that had a value counted in output")
    expected_periods: int = Field(description="The metric's periods in a whole fiscal year: 12 for a monthly metric")
    provisional: bool = Field(description="Whether any value counted is not yet approved by the department")


class CostPerOutputPublic(BaseModel):
    metric: str
    name: str
    unit: str
    output_basis: str | None = Field(
        description="'sum of values' (a metric that rolls up by sum: a count, tons, dollars), 'sum of numerators' "
        "(a rate: what it counted), or null when the metric has no output to cost (an average or a stock)"
    )
    output_unit: str | None = Field(description="What one output is: the metric's unit, or 'count' for a rate")
    reason: str | None = Field(default=None, description="Why there are no items, when the cause is the metric")
    items: list[CostPerOutputItem] = Field(
        description="One per fiscal year with both linked spending and output above zero, oldest first"
    )


class HearingDepartment(BaseModel):
    code: str
    name: str


class HearingYear(BaseModel):
    fiscal_year: str
    expense: float
    revenue: float


class HearingPoint(BaseModel):
    period: str
    value: float


class HearingMetric(BaseModel):
    metric: str
    name: str
    unit: str
    is_key: bool
    status: Status
    value: float | None
    target: float | None
    period: str = Field(description="The period the status is for: the metric's last complete period")
    trend: TrendPublic | None = Field(description="As the performance dashboard computes it")
    series: list[HearingPoint] = Field(description="The department's values, up to the last 24, oldest first")
    cost_per_output: CostPerOutputItem | None = Field(description="The newest fiscal year's, when there is one")


class HearingPublic(BaseModel):
    department: HearingDepartment
    budget_departments: list[str] = Field(description="The budget's department names mapped to this department")
    years: list[HearingYear] = Field(description="The mapped budget departments' totals per fiscal year, oldest first")
    metrics: list[HearingMetric] = Field(description="The department's active metrics, key metrics first")
