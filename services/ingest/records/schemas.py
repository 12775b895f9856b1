"""Bulk record uploads as the API shows them, and metrics' account of an import as ingest reads it."""

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class UploadStatus(StrEnum):
    spooled = "spooled"  # on disk here, waiting for metrics (also while metrics is unreachable)
    loading = "loading"  # being streamed to metrics, which loads it
    done = "done"
    failed = "failed"  # metrics refused the file or the job (unknown mapping, unusable header...)


class RejectionPublic(BaseModel):
    row: int = Field(description="Spreadsheet row (the header is row 1) or NDJSON line")
    field: str
    reason: str
    record_id: str | None = None


class RecordImportResult(BaseModel):
    """Metrics' answer for an import job (its RecordImportPublic). Fields ingest does not use are ignored, so
    metrics may add some without breaking the hand-off."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: str
    done: int = 0
    total: int | None = None
    rows_read: int = 0
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections_sample: list[RejectionPublic] = []
    departments_created: list[str] = []
    recomputed: dict[str, Any] = {}
    error: str | None = None


class RejectionPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[RejectionPublic]
    total: int


class JobProgress(BaseModel):
    done: int = Field(description="Bytes of the uploaded file metrics has read")
    total: int = Field(description="The uploaded file's size in bytes")


class RecordsSummary(BaseModel):
    rows_read: int
    accepted: int
    updated: int
    unchanged: int
    rejected: int
    departments_created: list[str]
    recomputed: dict[str, Any] = Field(description="Computed metrics recomputed after the load, and their periods")
    first_rejections: list[RejectionPublic] = Field(
        description="The first rejected rows; every one is at /jobs/{id}/rejections"
    )


class RecordJobPublic(BaseModel):
    """A bulk upload as it stands: where it is (status, progress done/total) and, once loading, what it did."""

    id: str
    status: UploadStatus
    department: str | None = Field(description="The department its records must belong to; null for any")
    dataset: str
    mapping: str
    create_departments: bool
    filename: str | None
    media_type: str
    bytes_total: int
    sha256: str
    actor: str
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    attempts: int = Field(description="Hand-offs to metrics tried so far")
    next_attempt_at: dt.datetime | None = Field(description="While spooled after a failed hand-off: the next try")
    error: str | None
    progress: JobProgress
    # Null until metrics has started on the file; live counts while it loads.
    summary: RecordsSummary | None
