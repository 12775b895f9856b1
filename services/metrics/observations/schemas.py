import datetime as dt

from pydantic import BaseModel

from services.metrics.observations.models import RevisionKind


class ObservationPublic(BaseModel):
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    org_unit: str
    comment: str | None


class RevisionPublic(BaseModel):
    """One change to a value, newest first in lists. `value`, `numerator`, `denominator` and `comment`
    are the observation as the change left it (all null after a deletion); `previous_value` is what it
    replaced."""

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
