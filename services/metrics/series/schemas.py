import datetime as dt

from pydantic import BaseModel, Field

from services.common.periods import Frequency
from services.metrics.definitions.models import Direction, MetricKind
from services.metrics.performance.schemas import Status


class SeriesMetric(BaseModel):
    key: str
    name: str
    department: str = Field(description="Department code, e.g. DPW")
    unit: str
    kind: MetricKind
    direction: Direction
    frequency: Frequency
    methodology: str | None = Field(description="How the metric is measured; null when no one wrote it down")
    is_key: bool


class SeriesRow(BaseModel):
    period: str = Field(examples=["2017-06"])
    period_start: dt.date
    period_end: dt.date
    value: float | None = Field(description="The department's value; null for a missing period")
    numerator: float | None
    denominator: float | None
    target: float | None = Field(description="The target in force on the period's last day")
    tolerance: float | None = Field(description="That target's tolerance, in the metric's unit")
    status: Status
    provisional: bool | None = Field(
        description="True until the department approves the month the period ends in; null with no value"
    )
    revision: int | None = Field(description="The newest revision behind the value (see .../revisions)")


class SeriesDownload(BaseModel):
    metric: SeriesMetric
    items: list[SeriesRow]
    total: int


# The CSV's columns, in the order the JSON items list them.
CSV_FIELDS = tuple(SeriesRow.model_fields)
