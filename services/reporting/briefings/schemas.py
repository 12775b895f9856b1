import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from services.common.types import INPUT_CONFIG, METRIC_KEY_PATTERN, NO_NUL_PATTERN, Code
from services.reporting.briefings.models import BriefingState, BuildStatus
from services.reporting.briefings.snapshot import BriefingKind

MetricKey = Annotated[str, StringConstraints(pattern=METRIC_KEY_PATTERN)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
Explanation = Annotated[str, StringConstraints(max_length=5_000, pattern=NO_NUL_PATTERN)]
# A month, ISO week or year as metrics writes them; which one a kind takes is checked when it is built.
PeriodText = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-[0-9]{2}|-W[0-9]{2}|-Q[1-4])?$")]

# A Cabinet briefing reviews three to six metrics.
CABINET_MIN, CABINET_MAX = 3, 6


class SelectionIn(BaseModel):
    """A metric in a Cabinet briefing, in the order the list gives; `explanation` is the commissioner's account."""

    model_config = INPUT_CONFIG
    metric: MetricKey
    explanation: Explanation | None = None
    reason: Annotated[str, StringConstraints(pattern=r"^(off_target|mover|signal|chosen)$")] | None = None


class BriefingCreate(BaseModel):
    model_config = INPUT_CONFIG
    kind: BriefingKind
    period: PeriodText = Field(
        description="A month for Cabinet briefings, roundtables and memos (2017-06), a year for the annual report "
        "(2016), an ISO week for front-line scorecards (2017-W23)"
    )
    departments: list[Code] = Field(default_factory=list, max_length=20)
    meeting_id: int | None = Field(default=None, ge=1)
    title: Title | None = None
    selection: list[SelectionIn] | None = Field(
        default=None,
        max_length=CABINET_MAX,
        description="Cabinet briefings: the metrics in order. Left out, the suggested ones are taken.",
    )


class BriefingUpdate(BaseModel):
    """Changes to a draft. A new selection (other metrics, or another order) rebuilds it; new explanations alone
    do not."""

    model_config = INPUT_CONFIG
    title: Title | None = None
    meeting_id: int | None = Field(default=None, ge=1)
    selection: list[SelectionIn] | None = Field(default=None, max_length=CABINET_MAX)


class BuildProgress(BaseModel):
    status: BuildStatus
    done: int
    total: int
    error: str | None = None


class BriefingListed(BaseModel):
    id: int
    kind: BriefingKind
    title: str
    period: str
    departments: list[str]
    meeting_id: int | None
    state: BriefingState
    automatic: bool
    build: BuildProgress
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None
    published_by: str | None
    html_sha256: str | None = Field(description="sha256 of the published HTML; a re-render gives the same")


class BriefingPublic(BriefingListed):
    selection: list[dict[str, Any]]
    snapshot: dict[str, Any] | None = Field(description="What the briefing shows, as data (see its HTML)")


class SuggestionPublic(BaseModel):
    metric: str
    name: str
    department: str
    reason: str
    score: float
    sentence: str


class Suggestions(BaseModel):
    period: str
    items: list[SuggestionPublic]
    total: int
