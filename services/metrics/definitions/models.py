import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.common.periods import Frequency
from services.metrics.base import MetricsTable, utcnow


class MetricKind(StrEnum):
    output = "output"
    outcome = "outcome"


class Direction(StrEnum):
    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"
    closer_is_better = "closer_is_better"


class MetricState(StrEnum):
    draft = "draft"  # the performance office is still shaping it
    proposed = "proposed"  # put to the department: discussed in its thread until signed off
    active = "active"  # agreed; values are expected on its schedule
    retired = "retired"  # kept with its history, no longer expected


class RollupMethod(StrEnum):
    sum = "sum"
    mean = "mean"
    ratio = "ratio"  # the ratio of summed numerators and denominators, never the mean of ratios
    last = "last"


class ToleranceKind(StrEnum):
    absolute = "absolute"  # in the metric's unit
    percent = "percent"  # of the target value


class MetricBase(MetricsTable):
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=32)
    kind: MetricKind = Field(sa_type=sa.String(16))
    direction: Direction = Field(sa_type=sa.String(24))
    frequency: Frequency = Field(sa_type=sa.String(16))
    methodology: str = Field(default="", sa_type=sa.Text)
    is_published: bool = False
    is_computed: bool = False
    # Values outside this range are rejected row by row at submission.
    min_value: float | None = None
    max_value: float | None = None
    rollup: RollupMethod = Field(default=RollupMethod.sum, sa_type=sa.String(16))
    data_source: str = Field(default="", sa_type=sa.Text)
    owner: str = Field(default="", max_length=200)
    # The schedule: values are due this many days after a period ends, from first_period on.
    due_days: int = 10
    first_period: str | None = Field(default=None, max_length=8)


class Metric(MetricBase, table=True):
    __tablename__ = "metric"
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    state: MetricState = Field(default=MetricState.draft, sa_type=sa.String(16), index=True)
    # Bumped by every definition change; each version is a row of metric_revision.
    version: int = 1
    # Agreement with the department: its head signs off, or an analyst on its behalf (recorded as such).
    signed_off_by: str | None = Field(default=None, max_length=200)
    signed_off_name: str | None = Field(default=None, max_length=200)
    signed_off_at: dt.datetime | None = None
    signed_off_on_behalf: bool = False
    # Where the definition came from when adopted from another jurisdiction's library.
    library_measure_id: int | None = Field(default=None, foreign_key="library_measure.id")
    provenance: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # A computed metric's declarative rule over raw records (records/rules.py); None for a submitted metric.
    rule: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_by: str = Field(default="operator", max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class MetricRevision(MetricsTable, table=True):
    """One version of a metric's definition: who changed what, when and why."""

    __tablename__ = "metric_revision"
    __table_args__ = (sa.UniqueConstraint("metric_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    version: int
    action: str = Field(max_length=32)  # created, edited, proposed, signed_off, activated, retired, published...
    # {"field": {"from": old, "to": new}}; empty for a pure state change.
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    reason: str = Field(default="", sa_type=sa.Text)
    # The change altered what the metric means (method, unit, population): values before and after
    # break_period do not form one series.
    series_break: bool = False
    break_period: str | None = Field(default=None, max_length=8)
    actor: str = Field(max_length=200)
    actor_name: str = Field(default="", max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)


class MetricComment(MetricsTable, table=True):
    """The discussion of a proposal with its department."""

    __tablename__ = "metric_comment"
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    body: str = Field(sa_type=sa.Text)
    actor: str = Field(max_length=200)
    actor_name: str = Field(default="", max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)


class MetricLink(MetricsTable, table=True):
    """An output the department controls, chosen because it drives an outcome."""

    __tablename__ = "metric_link"
    __table_args__ = (sa.UniqueConstraint("output_metric_id", "outcome_metric_id"),)
    id: int | None = Field(default=None, primary_key=True)
    output_metric_id: int = Field(foreign_key="metric.id", index=True)
    outcome_metric_id: int = Field(foreign_key="metric.id", index=True)
    created_by: str = Field(default="operator", max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)


class TargetBase(MetricsTable):
    value: float
    tolerance: float = 0.0
    tolerance_kind: ToleranceKind = Field(default=ToleranceKind.absolute, sa_type=sa.String(16))
    effective_from: dt.date
    # None: in force until a later target starts.
    effective_to: dt.date | None = None
    # By when the target should be reached (a Mayor's direction often says "by the end of the year").
    deadline: dt.date | None = None
    set_by: str = Field(default="", max_length=200)
    reason: str = Field(default="", sa_type=sa.Text)

    def tolerance_in_units(self) -> float:
        if self.tolerance_kind == ToleranceKind.percent:
            return abs(self.value) * self.tolerance / 100
        return self.tolerance


class Target(TargetBase, table=True):
    __tablename__ = "target"
    __table_args__ = (sa.UniqueConstraint("metric_id", "effective_from"),)
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    created_by: str = Field(default="operator", max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
