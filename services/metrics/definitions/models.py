import datetime as dt
from enum import StrEnum

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


class Metric(MetricBase, table=True):
    __tablename__ = "metric"
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class TargetBase(MetricsTable):
    value: float
    tolerance: float = 0.0
    effective_from: dt.date
    set_by: str = Field(default="", max_length=200)
    reason: str = Field(default="", sa_type=sa.Text)


class Target(TargetBase, table=True):
    __tablename__ = "target"
    __table_args__ = (sa.UniqueConstraint("metric_id", "effective_from"),)
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
