import datetime as dt

from pydantic import BaseModel, Field

from services.metrics.annotations.schemas import AnnotationPublic
from services.metrics.observations.models import RevisionKind


class ObservationPublic(BaseModel):
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    org_unit: str
    comment: str | None
    # False while the department has not approved the month the period ends in: the value is provisional.
    approved: bool
    revision: int | None = Field(
        default=None,
        description="The id of the newest change written to this value (see its revisions); null when none was kept",
    )


class RevisionPublic(BaseModel):
    """One change to a value, newest first in lists. `value`, `numerator`, `denominator` and `comment`
    are the observation as the change left it (all null after a deletion); `previous_value` is what it
    replaced."""

    id: int = Field(description="What a value's `revision` names, and a briefing's figures cite")
    period: str
    org_unit: str
    kind: RevisionKind
    value: float | None
    numerator: float | None
    denominator: float | None
    comment: str | None
    previous_value: float | None
    reason: str | None
    submission_id: str | None
    actor: str
    changed_at: dt.datetime


class SeriesPoint(ObservationPublic):
    """A value of the series with what the chart shows beside it."""

    # The first period measured the new way after a change of method, unit or population.
    series_break: bool = False
    annotations: list[AnnotationPublic] = Field(default_factory=list)


class RolledUpPublic(BaseModel):
    """A period's value combined from its parts (months of a quarter, org units of a department) by the metric's
    roll-up: sum, mean, ratio of sums (never the mean of ratios) or last."""

    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    parts: int = Field(description="Parts that had a value")
    expected: int | None = Field(description="Parts there should be")
    complete: bool
    reason: str | None = Field(description="Why the value is missing or partial")


class UnitValuePublic(BaseModel):
    org_unit: str
    name: str | None
    value: float | None
    numerator: float | None
    denominator: float | None


class UnitsRollupPublic(BaseModel):
    period: str
    rollup: str
    units: list[UnitValuePublic]
    department: RolledUpPublic
    # What the department reported itself for the period, if anything, beside the roll-up of its units.
    reported: float | None
