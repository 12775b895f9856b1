import datetime as dt

from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class Priority(MetricsTable, table=True):
    """A citywide goal: public safety, infrastructure, economic performance..."""

    __tablename__ = "priority"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="")
    position: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)


class MetricPriority(MetricsTable, table=True):
    """A metric aligned to a priority; a key metric is one of the few that matter to it."""

    __tablename__ = "metric_priority"
    metric_id: int = Field(foreign_key="metric.id", primary_key=True)
    priority_id: int = Field(foreign_key="priority.id", primary_key=True, index=True)
    is_key: bool = False
    marked_by: str = Field(default="operator", max_length=200)
    marked_at: dt.datetime = Field(default_factory=utcnow)
