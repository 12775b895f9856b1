import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class Observation(MetricsTable, table=True):
    __tablename__ = "observation"
    # Department-level values have org_unit "" rather than NULL so the key stays unique.
    __table_args__ = (sa.UniqueConstraint("metric_id", "period", "org_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    period: str = Field(max_length=8)
    period_start: dt.date = Field(index=True)
    org_unit: str = Field(default="", max_length=64)
    value: float
    numerator: float | None = None
    denominator: float | None = None
    comment: str | None = Field(default=None, sa_type=sa.Text)
    submission_id: str | None = Field(default=None, max_length=64)
    # When the submission that set this value reached ingest: an older one arriving late does not win.
    sent_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ObservationDelivery(MetricsTable, table=True):
    """The answer given to a delivery, so a retried delivery gets it again and changes nothing."""

    __tablename__ = "observation_delivery"
    delivery_id: str = Field(primary_key=True, max_length=64)
    department_code: str = Field(max_length=16)
    result: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: dt.datetime = Field(default_factory=utcnow)


class RevisionKind(StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class ObservationRevision(MetricsTable, table=True):
    """One change written to an observation. Keyed by metric, period and org unit rather than by the
    observation's id, so the history of a deleted value outlives it."""

    __tablename__ = "observation_revision"
    __table_args__ = (sa.Index("ix_observation_revision_series", "metric_id", "period", "org_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id")
    period: str = Field(max_length=8)
    org_unit: str = Field(default="", max_length=64)
    kind: RevisionKind = Field(sa_type=sa.String(16))
    # The observation as this change left it; all empty for a deletion.
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    comment: str | None = Field(default=None, sa_type=sa.Text)
    previous_value: float | None = None
    reason: str | None = Field(default=None, sa_type=sa.Text)
    submission_id: str | None = Field(default=None, max_length=64)
    actor: str = Field(max_length=200)
    changed_at: dt.datetime = Field(default_factory=utcnow)
