from pydantic import BaseModel


class ObservationPublic(BaseModel):
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    org_unit: str
    comment: str | None
