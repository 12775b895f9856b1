from enum import StrEnum

from pydantic import BaseModel

from services.common.periods import Frequency
from services.metrics.definitions.models import Direction, MetricKind


class Status(StrEnum):
    on_target = "on_target"
    near = "near"
    off_target = "off_target"
    no_target = "no_target"
    missing = "missing"


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
