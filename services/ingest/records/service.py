"""Bulk record uploads: who may send what, spooling an upload into a job, and reading jobs back."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from services.common.auth import Principal, PrincipalKind
from services.common.db import Database
from services.common.errors import CityStatError, Conflict, Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.ingest.audit.service import record
from services.ingest.clients.metrics import MetricsClient
from services.ingest.records import spool
from services.ingest.records.models import RecordUpload
from services.ingest.records.schemas import (
    JobProgress,
    RecordImportResult,
    RecordJobPublic,
    RecordsSummary,
    RejectionPage,
    UploadStatus,
)
from services.ingest.submissions.service import digest_of

# What the body of a bulk upload may be declared as, and the format it tells metrics (None: the mapping says).
MEDIA_TYPES: dict[str, str | None] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/gzip": None,
    "application/x-gzip": None,
    "application/octet-stream": None,
}
# Live progress is a nicety: a slow metrics must not hold up a read of the job.
LIVE_PROGRESS_TIMEOUT = 2.0


class UnsupportedMediaType(CityStatError):
    status_code = 415
    slug = "unsupported-media-type"


@dataclass(frozen=True)
class UploadOptions:
    dataset: str
    mapping: str
    department: str | None
    create_departments: bool
    media_type: str
    filename: str | None = None

    @property
    def file_format(self) -> str | None:
        return MEDIA_TYPES.get(self.media_type)


def upload_scope(principal: Principal, requested: str | None, create_departments: bool) -> str | None:
    """The department an upload's records must belong to: a token's or a liaison's own; for the performance office
    the one it names, or None for a whole city's feed."""
    if create_departments and not principal.is_performance_office:
        raise Forbidden("Only the performance office may create departments while loading records.")
    if principal.is_performance_office:
        return requested
    department = requested or principal.department
    if department is None or not principal.can_write(department):
        raise Forbidden(
            f"You may not load records for department {department}." if department else "You may not load records."
        )
    return department


def _request_hash(spooled: spool.SpooledFile, options: UploadOptions) -> str:
    return digest_of(
        "records",
        spooled.sha256,
        options.dataset,
        options.mapping,
        options.department or "",
        str(options.create_departments),
    )


def _find_by_key(db: Database, actor: str, key: str) -> RecordUpload | None:
    with db.session(write=False) as session:
        return session.exec(
            select(RecordUpload).where(RecordUpload.actor == actor, RecordUpload.idempotency_key == key)
        ).first()


def _insert(db: Database, principal: Principal, job: RecordUpload) -> bool:
    """Store the job; False when its Idempotency-Key was taken meanwhile (a concurrent twin)."""
    try:
        with db.session() as session:
            session.add(job)
            session.flush()
            record(
                session,
                principal,
                "records.uploaded",
                department=job.department_code,
                subject=job.id,
                detail={
                    "dataset": job.dataset,
                    "mapping": job.mapping,
                    "bytes": job.bytes_total,
                    "filename": job.filename,
                    "create_departments": job.create_departments,
                },
            )
    except IntegrityError:
        if job.idempotency_key is None:
            raise
        return False
    return True


def _replay(existing: RecordUpload, request_hash: str) -> RecordUpload:
    if existing.request_hash != request_hash:
        raise Unprocessable(
            "This Idempotency-Key was already used for a different upload; use a new key.",
            extra={"job": existing.id},
        )
    return existing


async def receive_upload(
    db: Database,
    spool_dir: Path,
    principal: Principal,
    chunks: AsyncIterable[bytes],
    options: UploadOptions,
    *,
    idempotency_key: str | None,
    max_bytes: int,
) -> tuple[RecordUpload, bool]:
    """Spool an upload durably and record its job, or find the job a replay of its Idempotency-Key names.
    Returns the job and whether this call created it (the hand-off worker should be woken)."""
    if options.media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            "Send the file as text/csv, application/x-ndjson (or application/jsonl), "
            "or gzipped as application/gzip (or application/octet-stream)."
        )
    job_id = uuid.uuid4().hex
    directory = spool.spool_directory(spool_dir)
    spooled = await spool.spool(chunks, directory, job_id, max_bytes)
    request_hash = _request_hash(spooled, options)
    created = False
    try:
        if idempotency_key is not None:
            existing = await run_in_threadpool(_find_by_key, db, principal.actor, idempotency_key)
            if existing is not None:
                return _replay(existing, request_hash), False
        job = RecordUpload(
            id=job_id,
            department_code=options.department,
            dataset=options.dataset,
            mapping=options.mapping,
            create_departments=options.create_departments,
            filename=options.filename,
            media_type=options.media_type,
            bytes_total=spooled.bytes_total,
            sha256=spooled.sha256,
            actor=principal.actor,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
        created = await run_in_threadpool(_insert, db, principal, job)
        if created:
            return job, True
        existing = await run_in_threadpool(_find_by_key, db, principal.actor, idempotency_key)
        if existing is None:
            raise Conflict("Another upload with this Idempotency-Key was being recorded; send it again.")
        return _replay(existing, request_hash), False
    finally:
        if not created:
            # A replay (or a refusal) keeps nothing of this copy of the file. Not in a thread: this also runs when
            # the request is cancelled, when awaiting is no longer possible.
            spool.remove(spooled.path)


# --- reading jobs -------------------------------------------------------------------------------------------------


def _may_read(principal: Principal, job: RecordUpload) -> bool:
    if job.department_code is None:
        # A whole city's feed: only for those who see every department.
        return principal.is_citywide
    return principal.can_read(job.department_code)


def get_job(session: Session, principal: Principal, job_id: str) -> RecordUpload:
    job = session.get(RecordUpload, job_id)
    # Another department's upload does not exist as far as this caller can tell.
    if job is None or not _may_read(principal, job):
        raise NotFound(f"No upload job has the id '{job_id}'.")
    return job


def list_jobs(
    session: Session, principal: Principal, department: str | None, status: UploadStatus | None, page: PageParams
) -> tuple[list[RecordUpload], int]:
    query = select(RecordUpload)
    readable = principal.readable_departments()
    if department is not None:
        if readable is not None and department not in readable:
            return [], 0
        query = query.where(RecordUpload.department_code == department)
    elif readable is not None:
        query = query.where(RecordUpload.department_code.in_(sorted(readable)))
    if status is not None:
        query = query.where(RecordUpload.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(RecordUpload.created_at.desc(), RecordUpload.id).offset(page.offset).limit(page.limit)
    )
    return list(rows), total


def _read_job(db: Database, principal: Principal, job_id: str) -> RecordUpload:
    with db.session(write=False) as session:
        return get_job(session, principal, job_id)


def _read_jobs(
    db: Database, principal: Principal, department: str | None, status: UploadStatus | None, page: PageParams
) -> tuple[list[RecordUpload], int]:
    with db.session(write=False) as session:
        return list_jobs(session, principal, department, status, page)


async def _live(metrics: MetricsClient, job: RecordUpload) -> RecordImportResult | None:
    if job.status != UploadStatus.loading:
        return None
    with contextlib.suppress(CityStatError):
        return await metrics.record_import(job.id, timeout=LIVE_PROGRESS_TIMEOUT)
    return None


def to_public(job: RecordUpload, live: RecordImportResult | None = None) -> RecordJobPublic:
    status = UploadStatus(job.status)
    result = live
    if result is None and job.summary is not None:
        result = RecordImportResult.model_validate(job.summary)
    if status is UploadStatus.done:
        done = job.bytes_total
    else:
        done = min(result.done, job.bytes_total) if result is not None else 0
    summary = None
    if result is not None:
        summary = RecordsSummary(
            rows_read=result.rows_read,
            accepted=result.accepted,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            departments_created=result.departments_created,
            recomputed=result.recomputed,
            first_rejections=result.rejections_sample,
        )
    return RecordJobPublic(
        id=job.id,
        status=status,
        department=job.department_code,
        dataset=job.dataset,
        mapping=job.mapping,
        create_departments=job.create_departments,
        filename=job.filename,
        media_type=job.media_type,
        bytes_total=job.bytes_total,
        sha256=job.sha256,
        actor=job.actor,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
        attempts=job.attempts,
        next_attempt_at=job.next_attempt_at if status is UploadStatus.spooled and job.attempts else None,
        error=job.error,
        progress=JobProgress(done=done, total=job.bytes_total),
        summary=summary,
    )


async def job_view(db: Database, metrics: MetricsClient, principal: Principal, job_id: str) -> RecordJobPublic:
    """A job as it stands, with live counts from metrics while it loads."""
    job = await run_in_threadpool(_read_job, db, principal, job_id)
    return to_public(job, await _live(metrics, job))


async def jobs_view(
    db: Database,
    metrics: MetricsClient,
    principal: Principal,
    department: str | None,
    status: UploadStatus | None,
    page: PageParams,
) -> tuple[list[RecordJobPublic], int]:
    jobs, total = await run_in_threadpool(_read_jobs, db, principal, department, status, page)
    return [to_public(job, await _live(metrics, job)) for job in jobs], total


async def rejections_view(
    db: Database, metrics: MetricsClient, principal: Principal, job_id: str, page: PageParams
) -> RejectionPage:
    """Every rejected row of a job, as metrics keeps them; none before metrics has started on the file."""
    job = await run_in_threadpool(_read_job, db, principal, job_id)
    if job.status == UploadStatus.spooled and job.summary is None:
        return RejectionPage(items=[], total=0)
    found = await metrics.record_import_rejections(job.id, limit=page.limit, offset=page.offset)
    return found or RejectionPage(items=[], total=0)


def spooled_count(db: Database) -> int:
    """Uploads on disk not yet loaded: waiting for metrics, or being handed to it (a hand-off that fails puts its
    job back to waiting, so counting both keeps the figure steady while metrics is away)."""
    with db.session(write=False) as session:
        return session.exec(
            select(func.count())
            .select_from(RecordUpload)
            .where(RecordUpload.status.in_([UploadStatus.spooled, UploadStatus.loading]))
        ).one()


def actor_principal(actor: str) -> Principal:
    """The principal an audit event of a background step names: whoever sent the upload."""
    kind, _, ident = actor.partition(":")
    if kind in (PrincipalKind.user, PrincipalKind.token):
        return Principal(kind=PrincipalKind(kind), id=ident, name=actor)
    return Principal(kind=PrincipalKind.operator, id="local", name="local operator")
