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
    # Who sent it: "token:3", "user:7" or "operator", as on every audit event and revision.
    actor: str = Field(default="operator", max_length=200)
    format: str = Field(default="json", max_length=16)  # json | csv | dhis2-json | dhis2-csv
    strategy: str = Field(default="create_and_update", max_length=32)
    atomic: bool = False
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    received_at: dt.datetime = Field(default_factory=utcnow)
    generated_at: dt.datetime | None = None
    row_count: int
    rows: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    # Where each row came from in the sent file (a spreadsheet row, a dataValues index), for receipts.
    source_rows: list[int] | None = Field(default=None, sa_type=sa.JSON)
    # Rows already unusable when the file was read; metrics never sees them.
    parse_rejected: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    # The first answer, replayed verbatim for the same Idempotency-Key.
    http_status: int
    receipt: dict[str, Any] = Field(sa_type=sa.JSON)
    # pending (the outbox) -> delivered | refused (another department's metric) | rejected (atomic, bad rows)
    delivery_status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    delivered_at: dt.datetime | None = None
    delivery_result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
