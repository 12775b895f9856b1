import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.ingest.base import IngestTable, utcnow


class RecordUpload(IngestTable, table=True):
    """A bulk file of raw records, spooled to disk before it is answered. Jobs still "spooled" are the hand-off
    queue: a background worker streams each file to metrics, which loads it."""

    __tablename__ = "record_upload"
    # A key belongs to whoever sent it: a department's two systems may happen to pick the same one.
    __table_args__ = (sa.UniqueConstraint("actor", "idempotency_key"),)

    id: str = Field(primary_key=True, max_length=32)
    # The one department the records may belong to; None when the performance office loads a whole city's feed.
    department_code: str | None = Field(default=None, max_length=16, index=True)
    dataset: str = Field(max_length=64)
    mapping: str = Field(max_length=64)
    create_departments: bool = False
    filename: str | None = Field(default=None, max_length=255)
    media_type: str = Field(max_length=100)
    bytes_total: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    # spooled (waiting for metrics) -> loading -> done | failed; back to spooled while metrics is unreachable.
    status: str = Field(default="spooled", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    # Which hand-off holds a loading job: a job taken back after a stalled heartbeat cannot be finished by both.
    claim: str | None = Field(default=None, max_length=32)
    # Metrics' answer once it has loaded the file: the import summary.
    summary: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    error: str | None = Field(default=None, sa_type=sa.Text)
    actor: str = Field(max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=200)
    # The digest of the file and the options it came with: the same key with another digest is refused.
    request_hash: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    # Also the heartbeat of a loading job.
    updated_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
