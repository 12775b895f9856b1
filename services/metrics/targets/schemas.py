import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN, FiniteFloat
from services.metrics.definitions.models import ToleranceKind

Reason = Annotated[str, StringConstraints(min_length=1, max_length=2_000, pattern=NO_NUL_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class TargetCreate(BaseModel):
    """A new target from a date. Earlier targets stay as they were: the history is the list of targets."""

    model_config = INPUT_CONFIG
    value: FiniteFloat
    tolerance: FiniteFloat = Field(default=0.0, ge=0)
    tolerance_kind: ToleranceKind = ToleranceKind.absolute
    effective_from: dt.date
    effective_to: dt.date | None = None
    deadline: dt.date | None = Field(default=None, description="By when the target should be reached")
    set_by: Name = Field(description="Who set it, e.g. 'Mayor (Cabinet briefing, June 2016)'")
    reason: Reason

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class TargetCorrection(BaseModel):
    """Fix a target that was entered wrongly; the old and new values are kept in the audit trail."""

    model_config = INPUT_CONFIG
    value: FiniteFloat | None = None
    tolerance: FiniteFloat | None = Field(default=None, ge=0)
    tolerance_kind: ToleranceKind | None = None
    effective_to: dt.date | None = None
    deadline: dt.date | None = None
    set_by: Name | None = None
    reason: Reason = Field(description="Why the target is corrected")


class TargetChange(BaseModel):
    at: dt.datetime
    actor: str
    actor_name: str
    action: str
    detail: dict | None
