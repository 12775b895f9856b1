"""Receive a submission: store it, hand it to metrics, answer; the outbox retries what metrics missed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from services.common.contracts import BatchResult, ImportSummary, ObservationBatch
from services.common.db import Database
from services.common.errors import CityStatError, Forbidden, PayloadTooLarge, Unprocessable
from services.ingest.base import utcnow
from services.ingest.clients.metrics import MetricsClient
from services.ingest.submissions.models import Submission
from services.ingest.submissions.schemas import ReceiptStatus, SubmissionCreate, SubmissionReceipt

log = logging.getLogger("citystat.ingest")

MAX_BACKOFF_SECONDS = 300


@dataclass(frozen=True)
class Submitter:
    department: str
    token_id: int | None


@dataclass(frozen=True)
class Answer:
    status_code: int
    receipt: SubmissionReceipt


def request_hash(body: SubmissionCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(existing: Submission, digest: str) -> Answer:
    if existing.request_hash != digest:
        raise Unprocessable(
            "This Idempotency-Key was already used for a different request body; use a new key.",
            extra={"submission": existing.id},
        )
    return Answer(existing.http_status, SubmissionReceipt.model_validate(existing.receipt))


def _forbidden(result: BatchResult) -> Forbidden:
    return Forbidden(
        "Some rows name metrics of another department; nothing was stored.",
        errors=[
            {"row": f.row, "field": "metric", "reason": f"'{f.metric}' belongs to department {f.department}"}
            for f in result.forbidden
        ],
    )


def _batch(department: str, rows: list[dict], *, dry_run: bool, delivery_id: str | None) -> ObservationBatch:
    return ObservationBatch(department=department, delivery_id=delivery_id, dry_run=dry_run, rows=rows)


async def submit(
    db: Database,
    metrics: MetricsClient,
    submitter: Submitter,
    body: SubmissionCreate,
    idempotency_key: str,
    *,
    dry_run: bool,
    max_rows: int,
    first_retry_after: dt.timedelta,
) -> Answer:
    if len(body.observations) > max_rows:
        raise PayloadTooLarge(
            f"A submission may carry at most {max_rows} rows; this one has {len(body.observations)}."
        )
    rows = [row.model_dump(mode="json") for row in body.observations]
    received_at = utcnow()
    if dry_run:
        # Metrics owns the definitions, so it judges every row; a dry run stores nothing here either.
        check = await metrics.apply_batch(_batch(submitter.department, rows, dry_run=True, delivery_id=None))
        if check.forbidden:
            raise _forbidden(check)
        return Answer(200, _receipt(None, ReceiptStatus.validated, submitter, received_at, check.summary))

    digest = request_hash(body)
    submission_id = uuid.uuid4().hex
    queued = _receipt(submission_id, ReceiptStatus.queued, submitter, received_at, None)
    submission = Submission(
        id=submission_id,
        department_code=submitter.department,
        token_id=submitter.token_id,
        idempotency_key=idempotency_key,
        request_hash=digest,
        received_at=received_at,
        generated_at=body.generated_at,
        row_count=len(rows),
        rows=rows,
        http_status=202,
        receipt=queued.model_dump(mode="json"),
        # Leave the outbox loop alone until this request has had its own try.
        next_attempt_at=received_at + first_retry_after,
    )
    # Stored before anything else happens; the unique key makes a replay (or a concurrent twin) find it.
    stored = await run_in_threadpool(_store, db, submission)
    if stored is not submission:
        return _replay(stored, digest)

    try:
        result = await metrics.apply_batch(_batch(submitter.department, rows, dry_run=False, delivery_id=submission_id))
    except CityStatError as exc:
        log.warning("submission %s queued: %s", submission_id, exc.detail)
        await run_in_threadpool(_record_failure, db, submission_id, exc.detail)
        return Answer(202, queued)
    if result.forbidden:
        # Metrics wrote nothing; neither do we keep the submission, so a corrected retry may reuse the key.
        await run_in_threadpool(_discard, db, submission_id)
        raise _forbidden(result)
    delivered = queued.model_copy(update={"status": ReceiptStatus.delivered, "summary": result.summary})
    await run_in_threadpool(_record_delivery, db, submission_id, result, delivered)
    return Answer(201, delivered)


def _receipt(
    submission_id: str | None,
    status: ReceiptStatus,
    submitter: Submitter,
    received_at: dt.datetime,
    summary: ImportSummary | None,
) -> SubmissionReceipt:
    return SubmissionReceipt(
        id=submission_id,
        status=status,
        dry_run=status is ReceiptStatus.validated,
        department=submitter.department,
        received_at=received_at,
        summary=summary,
    )


def _discard(db: Database, submission_id: str) -> None:
    with db.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is not None:
            session.delete(submission)


def _read(db: Database, department: str, key: str) -> Submission | None:
    with db.session(write=False) as session:
        return session.exec(
            select(Submission).where(Submission.department_code == department, Submission.idempotency_key == key)
        ).first()


def _store(db: Database, submission: Submission) -> Submission:
    try:
        with db.session() as session:
            session.add(submission)
        return submission
    except IntegrityError:
        existing = _read(db, submission.department_code, submission.idempotency_key)
        if existing is None:
            raise
        return existing


def _update(db: Database, submission_id: str, change: Callable[[Submission], None]) -> None:
    with db.session() as session:
        submission = session.get(Submission, submission_id)
        change(submission)
        session.add(submission)


def _record_delivery(
    db: Database, submission_id: str, result: BatchResult, receipt: SubmissionReceipt | None
) -> None:
    def delivered(submission: Submission) -> None:
        submission.delivery_status = "delivered"
        submission.delivered_at = utcnow()
        submission.attempts += 1
        submission.delivery_result = result.model_dump(mode="json")
        if receipt is not None:
            submission.http_status = 201
            submission.receipt = receipt.model_dump(mode="json")

    _update(db, submission_id, delivered)


def _record_failure(db: Database, submission_id: str, error: str) -> None:
    def failed(submission: Submission) -> None:
        submission.attempts += 1
        submission.last_error = error
        backoff = min(2**submission.attempts, MAX_BACKOFF_SECONDS)
        submission.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff)

    _update(db, submission_id, failed)


def _record_refusal(db: Database, submission_id: str, reason: str) -> None:
    def refused(submission: Submission) -> None:
        submission.delivery_status = "refused"
        submission.attempts += 1
        submission.last_error = reason

    _update(db, submission_id, refused)


def _due(db: Database, limit: int) -> list[Submission]:
    with db.session(write=False) as session:
        return list(
            session.exec(
                select(Submission)
                .where(Submission.delivery_status == "pending", Submission.next_attempt_at <= utcnow())
                .order_by(Submission.received_at)
                .limit(limit)
            )
        )


def pending_count(db: Database) -> int:
    with db.session(write=False) as session:
        return session.exec(
            select(func.count()).select_from(Submission).where(Submission.delivery_status == "pending")
        ).one()


async def drain_outbox(db: Database, metrics: MetricsClient, limit: int = 50) -> int:
    """Deliver what is due; metrics remembers each delivery id, so a repeat never doubles a value."""
    delivered = 0
    for submission in await run_in_threadpool(_due, db, limit):
        batch = _batch(submission.department_code, submission.rows, dry_run=False, delivery_id=submission.id)
        try:
            result = await metrics.apply_batch(batch)
        except CityStatError as exc:
            await run_in_threadpool(_record_failure, db, submission.id, exc.detail)
            continue
        if result.forbidden:
            # A metric changed department while the submission waited: keep it, refused, for a person to see.
            await run_in_threadpool(_record_refusal, db, submission.id, _forbidden(result).detail)
            continue
        # The first answer stays what the client was told; the outcome is kept beside it.
        await run_in_threadpool(_record_delivery, db, submission.id, result, None)
        delivered += 1
    return delivered
