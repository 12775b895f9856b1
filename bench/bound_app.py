"""The framework's own bound for a submission: the ingest route's shape doing no work.

It parses and validates the same JSON body (SubmissionCreate), reads the same headers (bearer token,
Idempotency-Key) and query options, and answers the same SubmissionReceipt with a summary, but stores
nothing, checks no token and calls nobody. No implementation of the real route on this stack can beat
it, so it says how much of the gap to the hello world is FastAPI's and how much is the durable work.
`python bench/bound_app.py PORT` serves it on POST /submit.
"""

import datetime as dt
import sys
import uuid
from pathlib import Path
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, Header, Query, Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.common.contracts import ImportSummary  # noqa: E402
from services.ingest.submissions.schemas import ReceiptStatus, SubmissionCreate, SubmissionReceipt  # noqa: E402

app = FastAPI()


async def bearer(request: Request) -> str | None:
    return request.headers.get("authorization")


@app.post("/submit", status_code=201, response_model=SubmissionReceipt)
async def submit(
    body: SubmissionCreate,
    token: Annotated[str | None, Depends(bearer)],
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, pattern=r"^[\x21-\x7e]+$")],
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
    atomic: bool = False,
) -> SubmissionReceipt:
    rows = [row.model_dump(mode="json") for row in body.observations]
    return SubmissionReceipt(
        id=uuid.uuid4().hex,
        status=ReceiptStatus.validated if dry_run else ReceiptStatus.delivered,
        dry_run=dry_run,
        department="DPW",
        received_at=dt.datetime.now(dt.UTC),
        summary=ImportSummary(updated=len(rows)),
    )


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), workers=1, log_level="warning", access_log=False)
