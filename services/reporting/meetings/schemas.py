import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN, Code
from services.reporting.meetings.models import MeetingKind

ROUNDTABLE_MAX_DEPARTMENTS = 3

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
Notes = Annotated[str, StringConstraints(max_length=50_000, pattern=NO_NUL_PATTERN)]
Departments = Annotated[
    list[Code],
    Field(max_length=100, description="Department codes: a roundtable has 1-3, a Cabinet meeting any (none: all)"),
]
Attendees = Annotated[list[Name], Field(max_length=500, description="Who attended, by name")]


class MeetingCreate(BaseModel):
    model_config = INPUT_CONFIG
    kind: MeetingKind
    held_on: dt.date
    title: Title
    departments: Departments = Field(default_factory=list)
    attendees: Attendees = Field(default_factory=list)
    notes: Notes = ""


class MeetingUpdate(BaseModel):
    """Only what is sent changes. The kind of a meeting does not change: make another one."""

    model_config = INPUT_CONFIG
    held_on: dt.date | None = None
    title: Title | None = None
    departments: Departments | None = None
    attendees: Attendees | None = None
    notes: Notes | None = None


class MeetingBriefing(BaseModel):
    id: int
    kind: str
    title: str
    state: str


class MeetingPublic(BaseModel):
    """A calendar entry. `notes` is null for callers who may not read them: only the performance office and the
    staff of the meeting's departments may."""

    id: int
    kind: MeetingKind
    held_on: dt.date
    title: str
    departments: list[str]
    attendees: list[str]
    notes: str | None
    briefings: list[MeetingBriefing] = Field(default_factory=list, description="Packs prepared for it")
    commitments: int = Field(description="Commitments and action items made in it that the caller may see")
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
