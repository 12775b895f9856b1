import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from services.common.periods import Frequency, PeriodText
from services.common.types import CODE_PATTERN, INPUT_CONFIG, METRIC_KEY_PATTERN, NO_NUL_PATTERN, FiniteFloat
from services.metrics.definitions.models import Direction, MetricKind, MetricState, RollupMethod, ToleranceKind
from services.metrics.records.rules import MetricRule


def text(max_length: int, min_length: int = 0):
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL_PATTERN)]


class TargetPublic(BaseModel):
    id: int | None = None
    value: float
    tolerance: float
    tolerance_kind: ToleranceKind = ToleranceKind.absolute
    effective_from: dt.date
    effective_to: dt.date | None = None
    deadline: dt.date | None = None
    set_by: str
    reason: str


class PriorityLink(BaseModel):
    code: str
    name: str
    is_key: bool


class MetricPublic(BaseModel):
    key: str
    department: str
    name: str
    unit: str
    kind: MetricKind
    direction: Direction
    frequency: Frequency
    methodology: str
    is_published: bool
    is_computed: bool
    min_value: float | None
    max_value: float | None
    target: TargetPublic | None = None
    state: MetricState = MetricState.active
    rollup: RollupMethod = RollupMethod.sum
    data_source: str = ""
    owner: str = ""
    due_days: int = 10
    first_period: str | None = None
    version: int = 1
    priorities: list[PriorityLink] = Field(default_factory=list)
    is_key: bool = False
    # Outputs this outcome is driven by, and outcomes this output drives (metric keys).
    drives: list[str] = Field(default_factory=list)
    driven_by: list[str] = Field(default_factory=list)
    signed_off_by: str | None = None
    signed_off_at: dt.datetime | None = None
    signed_off_on_behalf: bool = False
    provenance: dict[str, Any] | None = None
    # A computed metric's rule over raw records; None for a metric its department submits.
    rule: MetricRule | None = None


class MetricCreate(BaseModel):
    """A new metric starts as a draft of the performance office."""

    model_config = INPUT_CONFIG
    key: Annotated[str, StringConstraints(pattern=METRIC_KEY_PATTERN)]
    department: Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
    name: text(200, 1)
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")] = Field(
        description="percent (stored as a fraction), count, dollars, days, hours, minutes, tons, ..."
    )
    kind: MetricKind
    direction: Direction
    frequency: Frequency
    rollup: RollupMethod | None = Field(default=None, description="Default: ratio for percent, mean for durations")
    methodology: text(20_000) = ""
    data_source: text(2_000) = ""
    owner: text(200) = ""
    due_days: int = Field(default=10, ge=0, le=366)
    first_period: PeriodText | None = None
    min_value: FiniteFloat | None = None
    max_value: FiniteFloat | None = None
    rule: MetricRule | None = Field(
        default=None, description="Compute the values from raw records by this rule; the department submits none"
    )


class MetricUpdate(BaseModel):
    """A definition change: kept as a new version with who, when, why and what changed."""

    model_config = INPUT_CONFIG
    name: text(200, 1) | None = None
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")] | None = None
    kind: MetricKind | None = None
    direction: Direction | None = None
    frequency: Frequency | None = None
    rollup: RollupMethod | None = None
    methodology: text(20_000) | None = None
    data_source: text(2_000) | None = None
    owner: text(200) | None = None
    due_days: int | None = Field(default=None, ge=0, le=366)
    first_period: PeriodText | None = None
    min_value: FiniteFloat | None = None
    max_value: FiniteFloat | None = None
    is_published: bool | None = None
    rule: MetricRule | None = Field(default=None, description="null: the department submits the values again")
    reason: text(2_000) = Field(default="", description="Why; required once the metric is active")
    series_break: bool | None = Field(
        default=None,
        description="The change alters what is measured (method, unit, population). Default: true if the unit changes",
    )
    break_period: PeriodText | None = Field(
        default=None, description="The first period measured the new way (default: the current period)"
    )


class TransitionRequest(BaseModel):
    model_config = INPUT_CONFIG
    to: MetricState
    reason: text(2_000) = ""


class CommentCreate(BaseModel):
    model_config = INPUT_CONFIG
    body: text(10_000, 1)


class CommentPublic(BaseModel):
    id: int
    body: str
    actor: str
    actor_name: str
    at: dt.datetime


class MetricVersionPublic(BaseModel):
    version: int
    action: str
    changes: dict[str, Any]
    reason: str
    series_break: bool
    break_period: str | None
    actor: str
    actor_name: str
    at: dt.datetime


class SeriesBreak(BaseModel):
    period: str
    version: int
    reason: str


class PriorityAlignment(BaseModel):
    model_config = INPUT_CONFIG
    is_key: bool = False

