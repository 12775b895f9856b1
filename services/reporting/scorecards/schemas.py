import datetime as dt

from pydantic import BaseModel

from services.reporting.clients.metrics import Department, Performance


class StatusSummary(BaseModel):
    total: int = 0
    on_target: int = 0
    near: int = 0
    off_target: int = 0
    no_target: int = 0
    missing: int = 0
    share_on_target: float | None = None


class Scorecard(BaseModel):
    department: Department
    period: str | None
    as_of: dt.date
    summary: StatusSummary
    metrics: list[Performance]


class DepartmentSummary(BaseModel):
    department: Department
    summary: StatusSummary


class ScorecardList(BaseModel):
    period: str | None
    as_of: dt.date
    items: list[DepartmentSummary]
    total: int
