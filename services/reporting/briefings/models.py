import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.reporting.base import ReportingTable, utcnow


class BriefingState(StrEnum):
    draft = "draft"
    published = "published"


class BuildStatus(StrEnum):
    queued = "queued"
    building = "building"
    ready = "ready"
    failed = "failed"


class Briefing(ReportingTable, table=True):
    """A roundtable pack, Cabinet briefing, memo, annual report or front-line scorecard.

    `snapshot` holds what it shows (see snapshot.py). A draft's is rebuilt from metrics when asked; publishing
    rebuilds it a last time and freezes it, with the sha256 of its HTML, so it renders the same ever after."""

    __tablename__ = "briefing"
    __table_args__ = (sa.Index("ix_briefing_kind_period", "kind", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    title: str = Field(max_length=200)
    period: str = Field(max_length=8)
    departments: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    state: BriefingState = Field(default=BriefingState.draft, sa_type=sa.String(16))
    # The analyst's choice for a Cabinet briefing, in order: [{"metric", "explanation", "reason"}].
    selection: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    snapshot: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    build_status: BuildStatus = Field(default=BuildStatus.queued, sa_type=sa.String(16))
    build_done: int = 0
    build_total: int = 0
    build_error: str | None = Field(default=None, sa_type=sa.Text)
    # Whether the scheduler made it (the monthly memo) rather than a person.
    automatic: bool = False
    # A published briefing's HTML as it was published, and its PDF once someone has downloaded it.
    html: str | None = Field(default=None, sa_type=sa.Text)
    html_sha256: str | None = Field(default=None, max_length=64)
    pdf: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    published_at: dt.datetime | None = None
    published_by: str | None = Field(default=None, max_length=200)
