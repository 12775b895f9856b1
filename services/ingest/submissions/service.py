"""Receive a submission: store it, hand it to metrics, answer; the outbox retries what metrics missed."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, func, select

from services.common.auth import Principal, PrincipalKind
from services.common.contracts import BatchResult, ImportStrategy, ImportSummary, ObservationBatch, RejectedRow
from services.common.db import Database
from services.common.errors import CityStatError, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from services.common.pagination import PageParams
from services.ingest.audit.service import record_apart
from services.ingest.base import utcnow
from services.ingest.clients.metrics import MetricsClient
from services.ingest.submissions.models import Submission
from services.ingest.submissions.pipeline import Delivered, SubmissionPipeline, audit_outcome, mark_delivered
from services.ingest.submissions.schemas import (
    DeliveryStatus,
    ReceiptStatus,
    SubmissionPublic,
    SubmissionReceipt,
)

log = logging.getLogger("citystat.ingest")

MAX_BACKOFF_SECONDS = 300
# The outbox retries a little within one round before it backs off for longer.
OUTBOX_ATTEMPTS_PER_ROUND = 3


@dataclass(frozen=True)
class Submitter:
    principal: Principal
    department: str

    @property
    def token_id(self) -> int | None:
        return int(self.principal.id) if self.principal.kind is PrincipalKind.token else None


@dataclass
class Incoming:
    """A submission read from any format, before it is stored."""

    format: str
    rows: list[dict]
    # The digest of what was sent (body and options): the same key with another digest is a 422.
    digest: str
    source_rows: list[int] | None = None
    parse_rejected: list[RejectedRow] = field(default_factory=list)
    generated_at: dt.datetime | None = None
    strategy: ImportStrategy = ImportStrategy.create_and_update
    atomic: bool = False


@dataclass(frozen=True)
class Answer:
    status_code: int
    receipt: SubmissionReceipt


def digest_of(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def resolve_department(principal: Principal, requested: str | None) -> str:
    """Which department a submission is for: a token's own, or the one a staff member names."""
    if principal.kind is PrincipalKind.token or (principal.kind is PrincipalKind.user and requested is None):
        if principal.department is None:
            raise Unprocessable("Say which department this is for: ?department=CODE.")
        department = requested or principal.department
    else:
        department = requested
        if department is None:
            raise Unprocessable("Say which department this is for: ?department=CODE.")
    if not principal.can_write(department):
        raise Forbidden(f"You may not submit data for department {department}.")
    return department


def remap(
    summary: ImportSummary, incoming_source: list[int] | None, parse_rejected: list[dict] | None
) -> ImportSummary:
    """Number rejections as the sender numbers its rows, and add those refused while reading the file."""
    rejected = [
        r.model_copy(update={"row": incoming_source[r.row]}) if incoming_source is not None else r
        for r in summary.rejected
    ]
    rejected += [RejectedRow.model_validate(r) for r in parse_rejected or []]
    rejected.sort(key=lambda r: r.row)
    return summary.model_copy(update={"rejected": rejected})


def _replay(existing: Submission, digest: str) -> Answer:
    if existing.request_hash != digest:
        raise Unprocessable(
            "This Idempotency-Key was already used for a different request; use a new key.",
            extra={"submission": existing.id},
        )
    return Answer(existing.http_status, SubmissionReceipt.model_validate(existing.receipt))


def _forbidden(result: BatchResult, source_rows: list[int] | None) -> Forbidden:
    return Forbidden(
        "Some rows name metrics of another department; nothing was stored.",
        errors=[
            {
                "row": source_rows[f.row] if source_rows is not None else f.row,
                "field": "metric",
                "reason": f"'{f.metric}' belongs to department {f.department}",
            }
            for f in result.forbidden
        ],
        slug="other-department",
    )


def _atomic_refusal(summary: ImportSummary) -> Unprocessable:
    return Unprocessable(
        f"{len(summary.rejected)} row(s) are unusable and atomic=true was asked: nothing was stored.",
        errors=[r.model_dump() for r in summary.rejected],
        slug="rows-rejected",
    )


async def submit(
    pipeline: SubmissionPipeline,
    submitter: Submitter,
    incoming: Incoming,
    idempotency_key: str,
    *,
    dry_run: bool,
    max_rows: int,
    first_retry_after: dt.timedelta,
) -> Answer:
    try:
        return await _submit(
            pipeline,
            submitter,
            incoming,
            idempotency_key,
            dry_run=dry_run,
            max_rows=max_rows,
            first_retry_after=first_retry_after,
        )
    except CityStatError as exc:
        if not dry_run and exc.status_code in (400, 403, 413, 422):
            await run_in_threadpool(
                record_apart,
                pipeline.db,
                submitter.principal,
                "submission.rejected",
                department=submitter.department,
                subject=idempotency_key[:200],
                outcome="rejected",
                detail={"status": exc.status_code, "reason": exc.detail, "format": incoming.format},
            )
        raise


async def _submit(
    pipeline: SubmissionPipeline,
    submitter: Submitter,
    incoming: Incoming,
    idempotency_key: str,
    *,
    dry_run: bool,
    max_rows: int,
    first_retry_after: dt.timedelta,
    replaying: bool = False,
) -> Answer:
    sent = len(incoming.rows) + len(incoming.parse_rejected)
    if sent > max_rows:
        raise PayloadTooLarge(f"A submission may carry at most {max_rows} rows; this one has {sent}.")
    parse_rejected = [r.model_dump() for r in incoming.parse_rejected]
    received_at = utcnow()
    options = {"atomic": incoming.atomic, "strategy": incoming.strategy, "actor": submitter.principal.actor}
    if dry_run:
        # Metrics owns the definitions, so it judges every row; a dry run stores nothing here either.
        check = await pipeline.metrics.apply_batch(
            ObservationBatch(
                department=submitter.department,
                rows=incoming.rows,
                dry_run=True,
                may_correct_locked=submitter.principal.is_performance_office,
                **options,
            )
        )
        if check.forbidden:
            raise _forbidden(check, incoming.source_rows)
        summary = remap(check.summary, incoming.source_rows, parse_rejected)
        return Answer(200, _receipt(None, ReceiptStatus.validated, submitter.department, received_at, summary))
    if incoming.atomic and parse_rejected:
        raise _atomic_refusal(remap(ImportSummary(), None, parse_rejected))

    submission_id = uuid.uuid4().hex
    queued = _receipt(submission_id, ReceiptStatus.queued, submitter.department, received_at, None)
    submission = Submission(
        id=submission_id,
        department_code=submitter.department,
        token_id=submitter.token_id,
        actor=submitter.principal.actor,
        format=incoming.format,
        strategy=str(incoming.strategy),
        atomic=incoming.atomic,
        idempotency_key=idempotency_key,
        request_hash=incoming.digest,
        received_at=received_at,
        generated_at=incoming.generated_at,
        row_count=sent,
        rows=incoming.rows,
        source_rows=incoming.source_rows,
        parse_rejected=parse_rejected or None,
        http_status=202,
        receipt=queued.model_dump(mode="json"),
        # Leave the outbox loop alone until this request has had its own try.
        next_attempt_at=received_at + first_retry_after,
    )
    # Stored before anything else happens; the unique key makes a replay (or a concurrent twin) find it.
    stored = await pipeline.store(submission, submitter.principal)
    if stored is not submission:
        if stored.request_hash == incoming.digest:
            settled = await _settled(pipeline.db, stored, first_retry_after.total_seconds())
            if settled is None and not replaying:
                # The first request was refused and its submission dropped: judge this one afresh.
                return await _submit(
                    pipeline,
                    submitter,
                    incoming,
                    idempotency_key,
                    dry_run=False,
                    max_rows=max_rows,
                    first_retry_after=first_retry_after,
                    replaying=True,
                )
            stored = settled or stored
        return _replay(stored, incoming.digest)

    db = pipeline.db
    try:
        result = await pipeline.deliver(
            _delivery(submission, may_correct_locked=submitter.principal.is_performance_office)
        )
    except CityStatError as exc:
        log.warning("submission %s queued: %s", submission_id, exc.detail)
        await run_in_threadpool(_record_failure, db, submission_id, exc.detail)
        return Answer(202, queued)
    if result.forbidden:
        # Metrics wrote nothing; neither do we keep the submission, so a corrected retry may reuse the key.
        await run_in_threadpool(_discard, db, submission_id)
        raise _forbidden(result, incoming.source_rows)
    summary = remap(result.summary, incoming.source_rows, parse_rejected)
    if incoming.atomic and summary.rejected:
        await run_in_threadpool(_discard, db, submission_id)
        raise _atomic_refusal(summary)
    delivered = queued.model_copy(update={"status": ReceiptStatus.delivered, "summary": summary})
    await pipeline.record_delivery(Delivered(submission_id, result, delivered))
    return Answer(201, delivered)


async def _settled(db: Database, stored: Submission, wait_seconds: float) -> Submission | None:
    """A twin of a request still in flight waits for its answer, so that both hear the same one."""
    deadline = time.monotonic() + wait_seconds
    current: Submission | None = stored
    while current is not None and current.attempts == 0 and current.delivery_status == DeliveryStatus.pending:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
        current = await run_in_threadpool(_read, db, stored.id)
    return current


def _read(db: Database, submission_id: str) -> Submission | None:
    with db.session(write=False) as session:
        return session.get(Submission, submission_id)


def _delivery(submission: Submission, *, may_correct_locked: bool = False) -> ObservationBatch:
    return ObservationBatch(
        department=submission.department_code,
        delivery_id=submission.id,
        rows=submission.rows,
        atomic=submission.atomic,
        strategy=ImportStrategy(submission.strategy),
        actor=submission.actor,
        sent_at=submission.received_at,
        may_correct_locked=may_correct_locked,
    )


def _receipt(
    submission_id: str | None,
    status: ReceiptStatus,
    department: str,
    received_at: dt.datetime,
    summary: ImportSummary | None,
) -> SubmissionReceipt:
    return SubmissionReceipt(
        id=submission_id,
        status=status,
        dry_run=status is ReceiptStatus.validated,
        department=department,
        received_at=received_at,
        summary=summary,
    )


def _discard(db: Database, submission_id: str) -> None:
    with db.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is not None:
            session.delete(submission)


def _update(db: Database, submission_id: str, change: Callable[[Submission, Session], None]) -> None:
    with db.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is not None:
            change(submission, session)
            session.add(submission)


def _record_delivery(db: Database, submission_id: str, result: BatchResult, receipt: SubmissionReceipt | None) -> None:
    with db.session() as session:
        mark_delivered(session, Delivered(submission_id, result, receipt))


def _answer_never_recorded(submission: Submission, result: BatchResult) -> SubmissionReceipt | None:
    """The delivered receipt, when the request that stored this submission recorded no outcome at all.

    Its process stopped after storing and before answering, so the client heard nothing: the delivered
    receipt is the first answer a replay of the key should get."""
    if submission.attempts != 0 or submission.http_status != 202:
        return None
    queued = SubmissionReceipt.model_validate(submission.receipt)
    summary = remap(result.summary, submission.source_rows, submission.parse_rejected)
    return queued.model_copy(update={"status": ReceiptStatus.delivered, "summary": summary})


def _record_failure(db: Database, submission_id: str, error: str) -> None:
    def failed(submission: Submission, _session: Session) -> None:
        submission.attempts += 1
        submission.last_error = error
        backoff = min(2**submission.attempts, MAX_BACKOFF_SECONDS)
        submission.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff)

    _update(db, submission_id, failed)


def _record_refusal(db: Database, submission_id: str, status: DeliveryStatus, reason: str, result: BatchResult) -> None:
    def refused(submission: Submission, session: Session) -> None:
        submission.delivery_status = status
        submission.attempts += 1
        submission.last_error = reason
        submission.delivery_result = result.model_dump(mode="json")
        audit_outcome(session, submission, f"submission.{status}", "refused", {"reason": reason})

    _update(db, submission_id, refused)


def _due(db: Database, limit: int) -> list[Submission]:
    with db.session(write=False) as session:
        return list(
            session.exec(
                select(Submission)
                .where(Submission.delivery_status == DeliveryStatus.pending, Submission.next_attempt_at <= utcnow())
                .order_by(Submission.received_at)
                .limit(limit)
            )
        )


def pending_count(db: Database) -> int:
    with db.session(write=False) as session:
        return session.exec(
            select(func.count()).select_from(Submission).where(Submission.delivery_status == DeliveryStatus.pending)
        ).one()


async def drain_outbox(db: Database, metrics: MetricsClient, limit: int = 50) -> int:
    """Deliver what is due; metrics remembers each delivery id, so a repeat never doubles a value."""
    delivered = 0
    for submission in await run_in_threadpool(_due, db, limit):
        try:
            # The submission does not keep its sender's role ("user:7" does not say analyst), so a redelivered
            # correction of a locked period is judged as a department's: its locked rows come back rejected,
            # and the analyst sends them again.
            result = await metrics.apply_batch(_delivery(submission), attempts=OUTBOX_ATTEMPTS_PER_ROUND)
        except CityStatError as exc:
            await run_in_threadpool(_record_failure, db, submission.id, exc.detail)
            # Metrics is down or refusing: the rest of the round would fail the same way.
            break
        if result.forbidden:
            # A metric changed department while the submission waited: keep it, refused, for a person to see.
            reason = _forbidden(result, submission.source_rows).detail
            await run_in_threadpool(_record_refusal, db, submission.id, DeliveryStatus.refused, reason, result)
            continue
        if submission.atomic and (result.summary.rejected or submission.parse_rejected):
            reason = f"{len(result.summary.rejected)} row(s) unusable under atomic=true: nothing was applied"
            await run_in_threadpool(_record_refusal, db, submission.id, DeliveryStatus.rejected, reason, result)
            continue
        # The first answer stays what the client was told; the outcome is kept beside it.
        receipt = _answer_never_recorded(submission, result)
        await run_in_threadpool(_record_delivery, db, submission.id, result, receipt)
        delivered += 1
    return delivered


def to_public(submission: Submission) -> SubmissionPublic:
    summary = None
    if submission.delivery_result is not None:
        summary = remap(
            BatchResult.model_validate(submission.delivery_result).summary,
            submission.source_rows,
            submission.parse_rejected,
        )
    return SubmissionPublic(
        id=submission.id,
        department=submission.department_code,
        actor=submission.actor,
        format=submission.format,
        strategy=submission.strategy,
        atomic=submission.atomic,
        idempotency_key=submission.idempotency_key,
        received_at=submission.received_at,
        generated_at=submission.generated_at,
        row_count=submission.row_count,
        delivery_status=DeliveryStatus(submission.delivery_status),
        attempts=submission.attempts,
        last_error=submission.last_error,
        delivered_at=submission.delivered_at,
        receipt=SubmissionReceipt.model_validate(submission.receipt),
        summary=summary,
    )


def get_submission(session: Session, principal: Principal, submission_id: str) -> SubmissionPublic:
    submission = session.get(Submission, submission_id)
    # Another department's submission does not exist as far as this caller can tell.
    if submission is None or not principal.can_read(submission.department_code):
        raise NotFound(f"No submission has the id '{submission_id}'.")
    return to_public(submission)


def list_submissions(
    session: Session, principal: Principal, department: str | None, page: PageParams
) -> tuple[list[SubmissionPublic], int]:
    query = select(Submission)
    readable = principal.readable_departments()
    if department is not None:
        if readable is not None and department not in readable:
            return [], 0
        query = query.where(Submission.department_code == department)
    elif readable is not None:
        query = query.where(Submission.department_code.in_(sorted(readable)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(Submission.received_at.desc(), Submission.id).offset(page.offset).limit(page.limit)
    )
    return [to_public(s) for s in rows], total
