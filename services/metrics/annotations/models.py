import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class AnnotationKind(StrEnum):
    context = "context"
    data_quality = "data_quality"
    action = "action"
    question = "question"  # to the department, which answers in the thread


class Annotation(MetricsTable, table=True):
    """A note on a metric and period; replies point at the note they answer."""

    __tablename__ = "annotation"
    __table_args__ = (sa.Index("ix_annotation_series", "metric_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id")
    period: str = Field(max_length=8)
    kind: AnnotationKind = Field(sa_type=sa.String(16))
    body: str = Field(sa_type=sa.Text)
    parent_id: int | None = Field(default=None, foreign_key="annotation.id", index=True)
    # A question is open until the department answers it.
    answered_at: dt.datetime | None = None
    actor: str = Field(max_length=200)
    actor_name: str = Field(default="", max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)
