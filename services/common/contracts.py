"""Wire shapes shared by ingest and metrics: an observation row and the import summary."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN, Code, FiniteFloat


class ObservationRow(BaseModel):
    """One value a department reports. Keys and periods are checked row by row, so that one bad
    row is listed in the receipt instead of refusing the whole delivery."""

    model_config = INPUT_CONFIG

    metric: str = Field(min_length=1, max_length=80, pattern=NO_NUL_PATTERN)
    period: str = Field(min_length=1, max_length=16, pattern=NO_NUL_PATTERN, examples=["2017-06"])
    value: FiniteFloat | None = None
    numerator: FiniteFloat | None = None
    denominator: FiniteFloat | None = None
    org_unit: str | None = Field(default=None, max_length=64, pattern=NO_NUL_PATTERN)
    comment: str | None = Field(default=None, max_length=2000, pattern=NO_NUL_PATTERN)


class RejectedRow(BaseModel):
    row: int
    field: str
    reason: str


class ImportSummary(BaseModel):
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = Field(default_factory=list)


class ForbiddenRow(BaseModel):
    row: int
    metric: str
    department: str


class ObservationBatch(BaseModel):
    """What ingest hands to metrics for one submission."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    department: Code
    delivery_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    dry_run: bool = False
    rows: list[ObservationRow] = Field(max_length=100_000)


class BatchResult(BaseModel):
    summary: ImportSummary
    forbidden: list[ForbiddenRow] = Field(default_factory=list)
