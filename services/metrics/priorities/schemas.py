from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.definitions.schemas import MetricPublic

PRIORITY_CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


class PriorityCreate(BaseModel):
    model_config = INPUT_CONFIG
    code: Annotated[str, StringConstraints(pattern=PRIORITY_CODE_PATTERN)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
    description: Annotated[str, StringConstraints(max_length=5_000, pattern=NO_NUL_PATTERN)] = ""
    position: int = Field(default=0, ge=0, le=1000)


class PriorityUpdate(BaseModel):
    model_config = INPUT_CONFIG
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)] | None = None
    description: Annotated[str, StringConstraints(max_length=5_000, pattern=NO_NUL_PATTERN)] | None = None
    position: int | None = Field(default=None, ge=0, le=1000)


class PriorityPublic(BaseModel):
    code: str
    name: str
    description: str
    position: int
    metric_count: int
    key_metric_count: int


class Alignment(BaseModel):
    model_config = INPUT_CONFIG
    is_key: bool = Field(default=False, description="One of the few metrics that matter to this priority")


class OutcomeWithDrivers(BaseModel):
    outcome: MetricPublic
    # Outputs the departments control, chosen because they lead to this outcome.
    drivers: list[MetricPublic]


class PriorityDetail(PriorityPublic):
    outcomes: list[OutcomeWithDrivers]
    # Aligned outputs that drive none of this priority's outcomes.
    other_outputs: list[MetricPublic]
