import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from services.common.periods import Frequency
from services.metrics.definitions.models import MetricState

# Completeness is counted by calendar month: the board's columns.
MONTH_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"


class Timeliness(StrEnum):
    on_time = "on_time"  # arrived on or before its due date
    late = "late"  # arrived after its due date
    missing = "missing"  # not arrived, and its due date has passed
    due = "due"  # not arrived, not yet due


class CellStatus(StrEnum):
    on_time = "on_time"
    late = "late"
    missing = "missing"
    due = "due"
    none = "none"  # nothing was expected in the month


class ScheduleEntry(BaseModel):
    period: str
    month: str = Field(description="The month the period ends in: where completeness counts the value")
    due_date: dt.date = Field(description="The period's last day plus the metric's due_days")
    arrived_on: dt.date | None = Field(description="The day the department's value first arrived (UTC)")
    status: Timeliness
    days_late: int = Field(
        description="Days past the due date: how late the value arrived, or how long it has been missing; "
        "0 when on time or not yet due"
    )


class MetricSchedule(BaseModel):
    metric: str
    department: str
    name: str
    frequency: Frequency
    due_days: int
    state: MetricState
    expected: bool = Field(description="Whether values are expected: only an active metric with a first period")
    first_period: str | None = Field(description="The first expected period")
    as_of: dt.date
    items: list[ScheduleEntry] = Field(description="Expected periods that have ended, newest first")
    total: int


class Counts(BaseModel):
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    due: int = 0


class CompletenessCell(Counts):
    month: str
    status: CellStatus


class DepartmentCompleteness(BaseModel):
    department: str
    name: str
    cells: list[CompletenessCell]
    totals: Counts


class MetricCompleteness(BaseModel):
    metric: str
    name: str
    frequency: Frequency
    due_days: int
    values: list[ScheduleEntry] = Field(description="The metric's values expected in the window, oldest first")


class CompletenessReport(BaseModel):
    start: str = Field(description="The first month of the window actually used")
    end: str = Field(description="The last month of the window actually used")
    as_of: dt.date
    months: list[str]
    departments: list[DepartmentCompleteness]
    metrics: list[MetricCompleteness] | None = Field(
        description="Each metric's values in the window, when one department was asked for"
    )


class StaleMetric(BaseModel):
    metric: str
    department: str
    name: str
    frequency: Frequency
    due_days: int
    last_received: str | None = Field(description="The latest period with a value, if any")
    missing_periods: int = Field(description="Consecutive periods past due without a value, up to today")
    missing_since: str = Field(description="The first of those periods")
    overdue_since: dt.date = Field(description="Its due date")
