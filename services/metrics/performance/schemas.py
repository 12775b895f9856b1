from enum import StrEnum

from pydantic import BaseModel, Field

from services.common.periods import Frequency
from services.metrics.definitions.models import Direction, MetricKind


class Status(StrEnum):
    on_target = "on_target"
    near = "near"
    off_target = "off_target"
    no_target = "no_target"
    missing = "missing"


class ChangePublic(BaseModel):
    base_period: str | None
    base_value: float | None
    absolute: float | None
    # A fraction of the base: 0.25 is +25%.
    relative: float | None
    # Why a figure is missing: no value, a zero base, a series break between the two.
    reason: str | None = None


class TrendPublic(BaseModel):
    # improving | worsening | flat, with the metric's direction taken into account; null with a reason.
    direction: str | None
    slope: float | None = Field(description="Least-squares change per period, in the metric's unit")
    periods: list[str]
    reason: str | None = None


class SignalPublic(BaseModel):
    # beyond_limits (a point outside them) | run_one_side (8 in a row on one side) | run_trend (6 rising or falling)
    rule: str
    direction: str
    periods: list[str]


class LimitsPublic(BaseModel):
    """Process-behaviour (XmR) limits: values inside them are routine variation; signals are real change."""

    centre: float | None
    lower: float | None
    upper: float | None
    moving_range: float | None
    baseline_periods: list[str]
    signals: list[SignalPublic]
    reason: str | None = None


class StreakPublic(BaseModel):
    current: int = Field(description="Periods on target in a row, ending with this one")
    longest: int


class PerformancePublic(BaseModel):
    metric: str
    department: str
    name: str
    unit: str
    kind: MetricKind
    direction: Direction
    frequency: Frequency
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    tolerance: float | None
    status: Status
    previous_period: str
    previous_value: float | None
    change: float | None
    is_key: bool = False
    # False while the department has not approved the period: the value is provisional.
    approved: bool | None = None
    vs_previous: ChangePublic | None = None
    vs_year_ago: ChangePublic | None = None
    trend: TrendPublic | None = None
    limits: LimitsPublic | None = None
    streak: StreakPublic | None = None
    series_breaks: list[str] = Field(default_factory=list)
    revision: int | None = Field(
        default=None, description="The id of the newest change written to the value; null when none was kept"
    )


class ImprovedPublic(BaseModel):
    rank: int
    metric: str
    department: str
    name: str
    improvement: float = Field(description="Gap to target closed since a year ago, as a share of the target")
    value: float
    value_year_ago: float
    target: float


class LeftOutPublic(BaseModel):
    metric: str
    reason: str


class MostImproved(BaseModel):
    period: str | None
    items: list[ImprovedPublic]
    total: int
    left_out: list[LeftOutPublic]
