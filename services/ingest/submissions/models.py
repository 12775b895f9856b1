import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.ingest.base import IngestTable, utcnow


class Submission(IngestTable, table=True):
    """One delivery of data, stored before it is answered. Rows not yet handed to metrics
    (delivery_status "pending") are the outbox: a background loop retries them."""

    __tablename__ = "submission"
    __table_args__ = (sa.UniqueConstraint("department_code", "idempotency_key"),)

    id: str = Field(primary_key=True, max_length=32)
    department_code: str = Field(max_length=16, index=True)
    token_id: int | None = Field(default=None, foreign_key="api_token.id")
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    received_at: dt.datetime = Field(default_factory=utcnow)
    generated_at: dt.datetime | None = None
    row_count: int
    rows: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    # The first answer, replayed verbatim for the same Idempotency-Key.
    http_status: int
    receipt: dict[str, Any] = Field(sa_type=sa.JSON)
    delivery_status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    delivered_at: dt.datetime | None = None
    delivery_result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
