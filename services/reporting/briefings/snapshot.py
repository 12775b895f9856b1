"""What a briefing shows, as data: built from metrics' answers, frozen when the briefing is published, and the only
input of rendering. A published briefing renders from its stored snapshot alone, so a later correction in metrics
cannot change a figure it showed, and a re-render is byte-identical.

Every figure carries where it came from: the metric, the period and the observation revision (the id of the newest
observation_revision row behind the value when it was read; null for a value rolled up from several, or when metrics
kept no revision for it).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class BriefingKind(StrEnum):
    roundtable = "roundtable"  # 1-3 departments: all their metrics
    cabinet = "cabinet"  # 3-6 metrics, with the commissioners' explanations and the Mayor's commitments
    memo = "memo"  # citywide monthly performance memo to the Mayor
    annual = "annual"  # annual performance report by citywide priority
    frontline = "frontline"  # weekly front-line scorecard: one page per org unit


class Status(StrEnum):
    on_target = "on_target"
    near = "near"
    off_target = "off_target"
    no_target = "no_target"
    missing = "missing"


class Frozen(BaseModel):
    # Snapshots are stored as JSON and read back; unknown keys would mean a snapshot from a newer version.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(Frozen):
    """One number as the briefing shows it, and where it came from."""

    metric: str
    period: str
    value: float | None
    org_unit: str = ""
    revision: int | None = None
    # The metric's unit, where the figure stands apart from a panel that says it (memo sentences).
    unit: str | None = None


class ChartPoint(Frozen):
    period: str
    value: float | None
    target: float | None = None
    revision: int | None = None


class Change(Frozen):
    base_period: str | None
    base_value: float | None
    absolute: float | None
    relative: float | None = Field(description="A fraction of the base: 0.25 is +25%")
    # improving | worsening | flat, with the metric's direction taken into account; null when there is no change.
    judgement: str | None = None


class MetricPanel(Frozen):
    """A metric as a briefing presents it: its value for the period against target, what changed, a chart of its
    recent series, signals, and (Cabinet briefings) the commissioner's explanation."""

    metric: str
    name: str
    department: str
    unit: str  # percent (stored as a fraction), count, days, dollars, ...
    direction: str  # higher_is_better | lower_is_better | closer_is_better
    frequency: str
    is_key: bool = False
    period: str
    figure: Figure
    target: float | None
    tolerance: float | None
    status: Status
    vs_previous: Change | None = None
    vs_year_ago: Change | None = None
    trend: str | None = None  # improving | worsening | flat
    streak: int | None = None  # periods on target in a row, ending with this one
    # Plain-language sentences, e.g. "June 2017 is above the upper process limit (0.93)".
    signals: list[str] = Field(default_factory=list)
    series: list[ChartPoint] = Field(default_factory=list, description="Oldest first, the period shown last")
    explanation: str | None = None
    # Why it is in a Cabinet briefing: off_target | mover | signal | chosen (added by the analyst).
    reason: str | None = None


class CommitmentStatus(StrEnum):
    met = "met"
    on_track = "on_track"
    at_risk = "at_risk"
    missed = "missed"
    open = "open"  # an action item not yet done
    done = "done"  # an action item closed by the analyst


class CommitmentLine(Frozen):
    """A commitment (the Mayor's direction for a metric) or a roundtable action item, as of the briefing."""

    id: int
    kind: str  # direction | action
    department: str
    metric: str | None = None
    metric_name: str | None = None
    unit: str | None = None
    description: str
    level: float | None = None  # the target level directed
    deadline: dt.date | None = None
    made_in: str | None = Field(default=None, description="The briefing or meeting it was made in, by title")
    made_on: dt.date | None = None
    status: CommitmentStatus
    latest: Figure | None = None


class AnnotationLine(Frozen):
    metric: str
    period: str
    kind: str
    text: str
    author: str
    created_at: dt.datetime


class CompletenessLine(Frozen):
    department: str
    expected: int
    received: int
    on_time: int
    late: int
    missing: list[str] = Field(default_factory=list, description="'metric period' for each value not yet in")


class MemoSection(StrEnum):
    improvement = "improvement"
    decline = "decline"
    newly_off_target = "newly_off_target"
    signal = "signal"
    missing_data = "missing_data"
    most_improved = "most_improved"
    streak = "streak"


class MemoItem(Frozen):
    section: MemoSection
    sentence: str = Field(description="Plain language, built from the data, with its figures")
    figures: list[Figure] = Field(default_factory=list)


class AnnualLine(Frozen):
    metric: str
    name: str
    department: str
    unit: str
    direction: str
    year: Figure
    year_before: Figure | None
    change: Change | None
    target: float | None
    status: Status


class AnnualPriority(Frozen):
    code: str
    name: str
    lines: list[AnnualLine]


class FrontlineLine(Frozen):
    metric: str
    name: str
    unit: str
    direction: str
    figure: Figure
    target: float | None
    status: Status
    series: list[ChartPoint] = Field(default_factory=list)


class FrontlineUnit(Frozen):
    department: str
    org_unit: str
    org_unit_name: str
    lines: list[FrontlineLine]


class MeetingInfo(Frozen):
    id: int
    kind: str
    held_on: dt.date
    title: str
    departments: list[str]
    attendees: list[str]


class Snapshot(Frozen):
    """Everything a briefing renders. Only the sections its kind uses are filled."""

    kind: BriefingKind
    title: str
    period: str
    departments: list[str] = Field(default_factory=list, description="Codes; empty means citywide")
    department_names: dict[str, str] = Field(default_factory=dict)
    as_of: dt.date
    # When the numbers were read from metrics (the publication time for a published briefing).
    read_at: dt.datetime
    meeting: MeetingInfo | None = None
    panels: list[MetricPanel] = Field(default_factory=list)
    commitments: list[CommitmentLine] = Field(default_factory=list)
    annotations: list[AnnotationLine] = Field(default_factory=list)
    completeness: list[CompletenessLine] = Field(default_factory=list)
    memo: list[MemoItem] = Field(default_factory=list)
    annual: list[AnnualPriority] = Field(default_factory=list)
    frontline: list[FrontlineUnit] = Field(default_factory=list)
