import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.periods import PeriodText
from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.annotations.models import AnnotationKind

Body = Annotated[str, StringConstraints(min_length=1, max_length=10_000, pattern=NO_NUL_PATTERN)]


class AnnotationCreate(BaseModel):
    model_config = INPUT_CONFIG
    period: PeriodText = Field(description="A period of the metric's frequency, e.g. 2017-06")
    kind: AnnotationKind
    body: Body


class ReplyCreate(BaseModel):
    model_config = INPUT_CONFIG
    body: Body


class ReplyPublic(BaseModel):
    id: int
    body: str
    actor: str
    actor_name: str
    at: dt.datetime


class AnnotationPublic(BaseModel):
    """A note and its thread, replies oldest first. `answered_at` is set on a question once its department
    has replied; it stays null on other kinds."""

    id: int
    period: str
    kind: AnnotationKind
    body: str
    actor: str
    actor_name: str
    at: dt.datetime
    answered_at: dt.datetime | None
    replies: list[ReplyPublic] = Field(default_factory=list)


class AnnotationListed(AnnotationPublic):
    """A note in a list across metrics, with the metric it is on."""

    metric: str
    department: str
