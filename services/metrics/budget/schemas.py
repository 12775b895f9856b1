"""The budget API's shapes. Amounts are JSON numbers rounded to the cent; the sums behind them are exact."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import CODE_PATTERN, INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.budget.models import BudgetKind

FISCAL_YEAR_PATTERN = r"^FY[0-9]{4}$"
ColumnName = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL_PATTERN)]


class BudgetMapping(BaseModel):
    """Which header of the file holds what (matched without regard to case or surrounding spaces). The defaults are
    the City of Oakland's open-data budget export. A file with no year or no kind column names the one its rows
    share with `fiscal_year` or `kind`; an empty fund, fund name or category column means the file has none."""

    model_config = INPUT_CONFIG
    department_column: ColumnName = "department"
    fund_column: ColumnName = "fund_code"
    fund_name_column: ColumnName = ""
    category_column: ColumnName = "account_category"
    kind_column: ColumnName = "account_type"
    amount_column: ColumnName = "amount"
    year_column: ColumnName = "budget_year"
    fiscal_year: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=NO_NUL_PATTERN)] | None = Field(
        default=None, description="Every row's fiscal year (FY2022, FY21-22, 2021-22), read instead of a column"
    )
    kind: BudgetKind | None = Field(default=None, description="Every row's kind, read instead of a column")


class BudgetRejectionPublic(BaseModel):
    row: int = Field(description="As a spreadsheet numbers it: the header is row 1")
    field: str = Field(description="The column at fault, as the file names it, or 'row' for the row as a whole")
    reason: str


class BudgetReplacedPublic(BaseModel):
    fiscal_year: str
    source: str
    import_id: int = Field(description="The earlier import whose lines were replaced")
    lines: int


class BudgetTotalPublic(BaseModel):
    fiscal_year: str
    kind: BudgetKind
    lines: int
    amount: float


class BudgetImportPublic(BaseModel):
    """What one import did: every data row of the file is accepted as a budget line or rejected with a reason."""

    id: int
    source: str
    file_name: str
    columns: dict[str, str] = Field(description="Which header each field was read from, or the value every row shares")
    rows: int = Field(description="Data rows in the file, blank lines not counted")
    accepted: int
    rejected: list[BudgetRejectionPublic]
    fiscal_years: list[str] = Field(description="The fiscal years the accepted lines belong to")
    replaced: list[BudgetReplacedPublic] = Field(
        description="Lines of the same fiscal years from the same source that this import replaced"
    )
    totals: list[BudgetTotalPublic] = Field(description="The accepted lines' totals, by fiscal year and kind")
    actor: str
    at: dt.datetime


class BudgetLinePublic(BaseModel):
    id: int
    fiscal_year: str = Field(description="FY2022: named by the calendar year the fiscal year ends in")
    fiscal_year_label: str = Field(description="The fiscal year as the source wrote it, e.g. FY21-22")
    department: str = Field(description="The budget's own department name")
    department_code: str | None = Field(description="The CityStat department it is mapped to; null when unmapped")
    fund_code: str
    fund_name: str
    category: str
    kind: BudgetKind
    amount: float
    import_id: int
    source_row: int = Field(description="The row of the imported file, the header being row 1")


class BudgetYearPublic(BaseModel):
    fiscal_year: str
    labels: list[str] = Field(description="How the sources wrote this fiscal year")
    expense: float
    revenue: float
    lines: int
    departments: int
    sources: list[str]


class BudgetGroupBy(StrEnum):
    department = "department"
    fund = "fund"
    category = "category"


class BudgetSummaryItem(BaseModel):
    name: str = Field(description="The department name, fund code or category, as the budget writes it")
    department_code: str | None = Field(default=None, description="By department: the CityStat department, if mapped")
    fund_name: str | None = Field(default=None, description="By fund: the fund's name, when a source gave one")
    amount: float = Field(description="This fiscal year's total; 0 when the group had lines only the year before")
    lines: int
    prior_amount: float | None = Field(description="The year before's total; null when that year is not loaded")
    change: float | None = Field(description="amount - prior_amount")
    change_fraction: float | None = Field(
        description="change / |prior_amount| as a fraction (0.05 is 5% more); null when there is no prior amount or it "
        "was 0"
    )


class BudgetSummaryPublic(BaseModel):
    fiscal_year: str
    prior_year: str
    prior_loaded: bool = Field(description="Whether the year before has lines of this kind, so that changes are known")
    kind: BudgetKind
    by: BudgetGroupBy
    department: str | None
    fund: str | None
    category: str | None
    total: float
    prior_total: float | None
    change: float | None
    change_fraction: float | None
    items: list[BudgetSummaryItem] = Field(
        description="Every group of either year, largest first; groups add up to the total"
    )


class BudgetDepartmentYear(BaseModel):
    fiscal_year: str
    expense: float
    revenue: float
    lines: int


class BudgetDepartmentPublic(BaseModel):
    name: str = Field(description="The department as the budget names it")
    department_code: str | None = Field(description="The CityStat department it is mapped to; null when unmapped")
    department_name: str | None
    mapped_by: str | None
    mapped_at: dt.datetime | None
    years: list[BudgetDepartmentYear] = Field(description="Totals per fiscal year, newest first")


class BudgetDepartmentMap(BaseModel):
    """Map a budget department to a CityStat department, or unmap it with null."""

    model_config = INPUT_CONFIG
    department: Annotated[str, StringConstraints(pattern=CODE_PATTERN)] | None = Field(
        description="The CityStat department's code, e.g. DPW; null removes the mapping"
    )
