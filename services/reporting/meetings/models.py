import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from services.reporting.base import ReportingTable, utcnow


class MeetingKind(StrEnum):
    roundtable = "roundtable"
    cabinet = "cabinet"


class Meeting(ReportingTable, table=True):
    """A roundtable or Cabinet meeting: when, with whom, and what was said. Its briefings and action items point
    to it."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    kind: MeetingKind = Field(sa_type=sa.String(16))
    held_on: dt.date = Field(index=True)
    title: str = Field(max_length=200)
    # Department codes; a Cabinet meeting may name none (the whole Cabinet).
    departments: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    attendees: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    notes: str = Field(default="", sa_type=sa.Text)
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
