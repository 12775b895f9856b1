"""Wire shapes shared between services: an observation row and the import summary (ingest and metrics), and a
search answer (metrics answers it, reporting answers the same shape with briefings added)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN, AwareDatetime, Code, FiniteFloat


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
    reason: str | None = Field(
        default=None,
        max_length=2000,
        pattern=NO_NUL_PATTERN,
        description="Why a value is corrected; kept in its revision",
    )


class ImportStrategy(StrEnum):
    """DHIS2's import strategies, which every submission format accepts."""

    create_and_update = "create_and_update"
    create = "create"  # new values only; values already stored are left as they are (ignored)
    update = "update"  # changes to stored values only; new values are ignored
    delete = "delete"  # the named values are removed (each removal kept as a revision)


class RejectedRow(BaseModel):
    row: int
    field: str
    reason: str


class ImportSummary(BaseModel):
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows skipped because the import strategy says so (create on a stored value, update on a new one).
    ignored: int = 0
    deleted: int = 0
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
    # With atomic, one rejected row means nothing is written (the caller answers 422).
    atomic: bool = False
    strategy: ImportStrategy = ImportStrategy.create_and_update
    # Who acted, as ingest saw it ("user:alice", "token:12", "operator"); kept on each revision.
    actor: str = Field(default="service", max_length=200, pattern=NO_NUL_PATTERN)
    # When ingest received the submission. A value sent earlier never replaces one sent later, whatever
    # order the deliveries arrive in (an outbox retry may come after a newer correction).
    sent_at: AwareDatetime | None = None
    # Set by ingest when the sender is the performance office (an analyst or administrator): only they may change
    # a locked period's values (approved, or long past due), and each such row must give its `reason`.
    may_correct_locked: bool = False
    rows: list[ObservationRow] = Field(max_length=100_000)


class BatchResult(BaseModel):
    summary: ImportSummary
    # False when nothing was written: a dry run, or an atomic batch with a rejected row.
    applied: bool = True
    forbidden: list[ForbiddenRow] = Field(default_factory=list)


class ObservationBatchGroup(BaseModel):
    """Several submissions delivered in one call, applied in order (later ones win on the same value)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    batches: list[ObservationBatch] = Field(min_length=1, max_length=1000)


class BatchResultGroup(BaseModel):
    results: list[BatchResult]


SearchKind = Literal["metric", "department", "dataset", "briefing"]


class SearchResult(BaseModel):
    kind: SearchKind
    title: str
    subtitle: str
    key: str
    # The staff page that shows it, relative to the staff site's root (e.g. "metric.html?key=dpw.potholes").
    url: str


class SearchResults(BaseModel):
    items: list[SearchResult]
    total: int
