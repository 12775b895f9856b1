import datetime as dt

from pydantic import BaseModel

from services.common.periods import Frequency
from services.metrics.definitions.models import Direction, MetricKind


class TargetPublic(BaseModel):
    value: float
    tolerance: float
    effective_from: dt.date
    set_by: str
    reason: str


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
