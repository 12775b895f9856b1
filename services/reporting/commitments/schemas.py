import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import INPUT_CONFIG, METRIC_KEY_PATTERN, NO_NUL_PATTERN, Code, FiniteFloat
from services.reporting.briefings.snapshot import CommitmentStatus, Figure
from services.reporting.commitments.models import CommitmentKind

Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000, pattern=NO_NUL_PATTERN)
]
Note = Annotated[str, StringConstraints(max_length=5_000, pattern=NO_NUL_PATTERN)]
MetricKey = Annotated[str, StringConstraints(pattern=METRIC_KEY_PATTERN)]
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class CommitmentCreate(BaseModel):
    """A direction: the Mayor's level for a metric of `department` by `deadline`, given in a Cabinet briefing
    (`briefing_id`); saving it sets the target in metrics. An action item: what `department` will do, agreed in a
    meeting (`meeting_id`), optionally by `deadline`."""

    model_config = INPUT_CONFIG
    kind: CommitmentKind
    department: Code
    metric: MetricKey | None = Field(default=None, description="Directions only: the metric directed")
    description: Description = Field(description="The Mayor's words, or the action agreed")
    level: FiniteFloat | None = Field(default=None, description="Directions only: the level to reach")
    tolerance: FiniteFloat | None = Field(
        default=None, ge=0, description="Directions only: the band around the level (in the metric's unit)"
    )
    deadline: dt.date | None = Field(default=None, description="The timeframe: required for a direction")
    briefing_id: RowId | None = Field(default=None, description="Directions: the Cabinet briefing")
    meeting_id: RowId | None = Field(default=None, description="Action items: the meeting")


class CommitmentUpdate(BaseModel):
    """An action item may be closed or reopened, reworded or given another deadline. A direction may only be
    reworded: its level, band and deadline are the target in metrics, and a new one is a new commitment."""

    model_config = INPUT_CONFIG
    description: Description | None = None
    deadline: dt.date | None = None
    done: bool | None = Field(default=None, description="Action items: true closes it, false reopens it")
    done_note: Note | None = Field(default=None, description="Action items: what was done")
    # Accepted only to be refused with the reason: see the class's docstring.
    level: FiniteFloat | None = None
    tolerance: FiniteFloat | None = None


class CommitmentPublic(BaseModel):
    """A commitment with its status as of today (the as_of setting), computed from metrics' values."""

    id: int
    kind: CommitmentKind
    department: str
    metric: str | None
    metric_name: str | None = Field(description="Null for an action item, or a metric the caller cannot read")
    unit: str | None = Field(description="The metric's unit: percent is a stored fraction (0.95 is 95%)")
    direction: str | None = Field(description="The metric's: higher_is_better, lower_is_better, closer_is_better")
    description: str
    level: float | None
    tolerance: float | None
    deadline: dt.date | None
    briefing_id: int | None
    meeting_id: int | None
    made_in: str | None = Field(description="The title of the briefing or meeting it was made in")
    made_on: dt.date | None = Field(description="The meeting's date, else the last day of the briefing's period")
    target_id: int | None = Field(description="The target it set in metrics")
    status: CommitmentStatus
    status_reason: str = Field(description="Why, in a sentence built from the data")
    latest: Figure | None = Field(description="The metric's latest value (directions)")
    projected: float | None = Field(description="The trend's value at the deadline, when one was drawn")
    done_at: dt.datetime | None
    done_note: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
