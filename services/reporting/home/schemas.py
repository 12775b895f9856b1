"""The staff home page's one answer: the signed-in person's board, by role.

Every section is a short list with the count of everything it stands for (`total`), so the page can say "and 12
more" and link to the full page; a section the role does not get is null."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from services.reporting.briefings.snapshot import CommitmentStatus
from services.reporting.clients.metrics import Department, Status
from services.reporting.scorecards.schemas import StatusSummary

T = TypeVar("T")


class Board(StrEnum):
    department = "department"  # a liaison's, a head's or a department viewer's: their own department
    citywide = "citywide"  # the performance office's (and a citywide viewer's, read-only)


class Section(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many there are in all; items holds the first few")


class DueValue(BaseModel):
    """A value the department owes for a period that has ended, not yet arrived."""

    metric: str
    name: str
    period: str
    due_date: dt.date
    days_late: int = Field(description="0 while not yet due; else how many days past the due date")


class Movement(BaseModel):
    """A metric's latest value against the period before."""

    metric: str
    name: str
    unit: str
    period: str
    value: float
    previous_period: str
    previous_value: float | None
    change: float | None
    relative: float | None = Field(description="The change as a fraction of the previous value")
    judgement: str | None = Field(description="improving | worsening | flat, by the metric's direction")
    status: Status
    arrived_on: dt.date | None = Field(description="The day the value arrived, when the completeness window has it")


class OpenQuestion(BaseModel):
    """An analyst's question on a department's data, awaiting the department's answer."""

    id: int
    metric: str
    metric_name: str | None = Field(description="Null for a metric no longer active")
    department: str
    period: str
    body: str
    asked_by: str
    asked_at: dt.datetime
    url: str = Field(description="The metric's page, where the question is answered")


class ScorecardLine(BaseModel):
    metric: str
    name: str
    unit: str
    period: str
    value: float | None
    target: float | None
    status: Status
    is_key: bool


class DepartmentScorecard(BaseModel):
    period: str | None
    summary: StatusSummary
    items: list[ScorecardLine]
    total: int


class OpenCommitment(BaseModel):
    id: int
    kind: str
    metric: str | None
    metric_name: str | None
    description: str
    level: float | None
    deadline: dt.date | None
    status: CommitmentStatus


class OffTarget(BaseModel):
    metric: str
    department: str
    name: str
    unit: str
    period: str
    value: float | None
    target: float | None
    is_key: bool


class SignalLine(BaseModel):
    """A statistical signal (process-behaviour limits) the metric's latest period takes part in."""

    metric: str
    department: str
    name: str
    period: str
    rule: str
    direction: str
    periods: list[str]
    text: str
    new: bool = Field(description="First seen in this period: a value newly beyond the limits, a run just long enough")


class MissingData(BaseModel):
    department: str
    name: str
    expected: int
    missing: int
    late: int


class MissingSection(Section[MissingData]):
    start: str
    end: str


class UpcomingMeeting(BaseModel):
    id: int
    kind: str
    held_on: dt.date
    title: str
    departments: list[str]


class BriefingLine(BaseModel):
    id: int
    kind: str
    title: str
    period: str
    state: str
    build_status: str
    meeting_id: int | None
    meeting_on: dt.date | None = Field(description="When the upcoming meeting it is for is held")


class Home(BaseModel):
    role: str
    board: Board
    department: Department | None = Field(description="The department of a department board")
    as_of: dt.date
    period: str = Field(description="The last complete month: the one whose values are now due")
    # A department board's
    due: Section[DueValue] | None = None
    late: Section[DueValue] | None = None
    changed: Section[Movement] | None = None
    questions: Section[OpenQuestion] | None = None
    # A head's, besides
    scorecard: DepartmentScorecard | None = None
    commitments: Section[OpenCommitment] | None = None
    # The citywide board's
    off_target: Section[OffTarget] | None = None
    signals: Section[SignalLine] | None = None
    missing: MissingSection | None = None
    briefings: Section[BriefingLine] | None = None
    # Both: the meetings coming up (a department's own and the whole Cabinet's on its board)
    meetings: Section[UpcomingMeeting] | None = None
