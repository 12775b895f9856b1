"""What ingest reads from metrics for reminders and digests: only the fields it uses (metrics may add others)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DepartmentRef(_Read):
    code: str
    name: str


class ExpectedValue(_Read):
    """One period a metric expects, as metrics' completeness report judges it on its as_of."""

    period: str
    due_date: dt.date
    arrived_on: dt.date | None
    status: str  # on_time | late | missing | due
    days_late: int


class MetricExpectations(_Read):
    metric: str
    name: str
    frequency: str
    due_days: int
    values: list[ExpectedValue]


class DepartmentSchedule(_Read):
    as_of: dt.date
    metrics: list[MetricExpectations]


class MetricStanding(_Read):
    """A metric's performance for its last complete period: value, status against target and change."""

    metric: str
    name: str
    unit: str
    period: str
    value: float | None
    target: float | None
    status: str  # on_target | near | off_target | no_target | missing
    previous_period: str
    previous_value: float | None
    change: float | None
