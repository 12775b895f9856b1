import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN

# A month only: approving a month covers every period that ends in it (a week, a quarter, a year).
MONTH_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"


class ApprovalCreate(BaseModel):
    model_config = INPUT_CONFIG
    period: Annotated[str, StringConstraints(pattern=MONTH_PATTERN)] = Field(
        description="The month approved; every value of the department whose period ends in it is approved and locked",
        examples=["2017-05"],
    )
    note: Annotated[str, StringConstraints(max_length=2_000, pattern=NO_NUL_PATTERN)] = ""


class ApprovalPublic(BaseModel):
    department: str
    period: str
    note: str
    # An analyst (or administrator) approved for the department rather than its head.
    on_behalf: bool
    actor: str
    actor_name: str
    at: dt.datetime


class MetricLockPublic(BaseModel):
    """When one metric's value for the period was due, and whether it may still change without an analyst."""

    metric: str
    due: dt.date
    # The first day it is locked by itself (more than lock_after_days after it was due), approved or not.
    locks_on: dt.date
    locked: bool
    # Why it is locked: the approval, or the days gone by since it was due.
    reason: str | None


class PeriodLockPublic(BaseModel):
    department: str
    period: str
    # The month whose approval covers this period: the one it ends in.
    month: str
    approved: bool
    approval: ApprovalPublic | None
    # Every value of the period is locked: the month is approved, or each metric's lock date has passed.
    locked: bool
    # The department's metrics reported at this period's frequency.
    metrics: list[MetricLockPublic]
