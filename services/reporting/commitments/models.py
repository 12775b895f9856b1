import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from services.reporting.base import ReportingTable, utcnow


class CommitmentKind(StrEnum):
    direction = "direction"  # the Mayor's direction for a metric: a level to reach by a date
    action = "action"  # a roundtable action item: something a department will do


class Commitment(ReportingTable, table=True):
    """A direction given in a briefing, or an action item from a roundtable, tracked until met or missed.

    A direction's status is not stored: it follows from the metric's values against `level` and `deadline`. An
    action item is closed by hand (`done_at`)."""

    __tablename__ = "commitment"

    id: int | None = Field(default=None, primary_key=True)
    kind: CommitmentKind = Field(sa_type=sa.String(16))
    department: str = Field(max_length=16, index=True)
    metric: str | None = Field(default=None, max_length=80, index=True)
    description: str = Field(sa_type=sa.Text)
    level: float | None = None
    tolerance: float | None = None
    deadline: dt.date | None = None
    briefing_id: int | None = Field(default=None, foreign_key="briefing.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    # The target created in metrics for a direction: its id there.
    target_id: int | None = None
    done_at: dt.datetime | None = None
    done_note: str | None = Field(default=None, sa_type=sa.Text)
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
