import datetime as dt
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
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ObservationDelivery(MetricsTable, table=True):
    """The answer given to a delivery, so a retried delivery gets it again and changes nothing."""

    __tablename__ = "observation_delivery"
    delivery_id: str = Field(primary_key=True, max_length=64)
    department_code: str = Field(max_length=16)
    result: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: dt.datetime = Field(default_factory=utcnow)
