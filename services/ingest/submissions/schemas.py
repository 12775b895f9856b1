import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from services.common.contracts import ImportSummary, ObservationRow
from services.common.types import INPUT_CONFIG, AwareDatetime


class SubmissionCreate(BaseModel):
    model_config = INPUT_CONFIG

    observations: list[ObservationRow] = Field(
        max_length=100_000, description="Rows for the token's department; the row limit is a setting."
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
