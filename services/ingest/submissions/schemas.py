import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from services.common.contracts import ImportSummary, ObservationRow
from services.common.types import INPUT_CONFIG, AwareDatetime


class SubmissionCreate(BaseModel):
    model_config = INPUT_CONFIG

    observations: list[ObservationRow] = Field(
        max_length=100_000, description="Rows for one department; the row limit is a setting."
    )
    generated_at: AwareDatetime | None = Field(
        default=None, description="When the sending system produced this batch (ISO 8601 with an offset)."
    )


class ReceiptStatus(StrEnum):
    delivered = "delivered"  # stored here and applied to metrics
    queued = "queued"  # stored here; metrics was unreachable, the outbox will deliver it
    validated = "validated"  # dry run: checked, nothing stored


class SubmissionReceipt(BaseModel):
    id: str | None
    status: ReceiptStatus
    dry_run: bool
    department: str
    received_at: dt.datetime
    # Null only while queued: the summary is known once metrics has applied the rows.
    summary: ImportSummary | None


class DeliveryStatus(StrEnum):
    pending = "pending"  # in the outbox
    delivered = "delivered"
    refused = "refused"  # names another department's metric (found only after queueing)
    rejected = "rejected"  # atomic, and a row was unusable: nothing was applied


class SubmissionPublic(BaseModel):
    """A submission as it stands now: its first answer, and what became of its delivery."""

    id: str
    department: str
    actor: str
    format: str
    strategy: str
    atomic: bool
    idempotency_key: str
    received_at: dt.datetime
    generated_at: dt.datetime | None
    row_count: int
    delivery_status: DeliveryStatus
    attempts: int
    last_error: str | None
    delivered_at: dt.datetime | None
    receipt: SubmissionReceipt
    # The applied outcome, numbered like the sent file; null until delivered.
    summary: ImportSummary | None


class Dhis2ImportResponse(BaseModel):
    """DHIS2's WebMessage around an ImportSummary, so DHIS2 tooling reads it, plus CityStat's receipt."""

    httpStatus: str
    httpStatusCode: int
    status: str
    message: str
    response: dict[str, Any]
    receipt: SubmissionReceipt
