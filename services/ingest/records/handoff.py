"""The hand-off worker: spooled uploads go to metrics one at a time, oldest first, and survive its outages."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlmodel import col, func, select

from services.common.db import Database
from services.common.errors import CityStatError
from services.ingest.audit.service import record
from services.ingest.base import utcnow
from services.ingest.clients.metrics import MetricsClient, MetricsRefusal
from services.ingest.records import spool
from services.ingest.records.models import RecordUpload
from services.ingest.records.schemas import RecordImportResult, UploadStatus
from services.ingest.records.service import MEDIA_TYPES, actor_principal

log = logging.getLogger("citystat.ingest.records")

MAX_BACKOFF_SECONDS = 300
# A loading job's holder says it is alive this often; a job silent for LEASE is taken back (its process died).
HEARTBEAT_SECONDS = 5.0
LEASE = dt.timedelta(seconds=30)
# Longest the worker sleeps with nothing to do; an upload wakes it at once anyway.
IDLE_SECONDS = 60.0


def _claim_next(db: Database, claim: str, only: set[str] | None) -> RecordUpload | None:
    now = utcnow()
    with db.session() as session:
        query = (
            select(RecordUpload.id)
            .where(RecordUpload.status == UploadStatus.spooled, RecordUpload.next_attempt_at <= now)
            .order_by(RecordUpload.created_at, RecordUpload.id)
            .limit(1)
        )
        if only is not None:
            query = query.where(col(RecordUpload.id).in_(sorted(only)))
        job_id = session.exec(query).first()
        if job_id is None:
            return None
        # Conditional, so that of two workers reaching for one job only one gets it.
        taken = session.exec(
            update(RecordUpload)
            .where(RecordUpload.id == job_id, RecordUpload.status == UploadStatus.spooled)
            .values(
                status=UploadStatus.loading.value,
                claim=claim,
                attempts=RecordUpload.attempts + 1,
                updated_at=now,
            )
        )
        if taken.rowcount != 1:
            return None
        return session.get(RecordUpload, job_id, populate_existing=True)


def _requeue_stalled(db: Database, lease: dt.timedelta = LEASE) -> int:
    """Loading jobs whose worker stopped beating (the process was killed) wait for metrics again. Loading a file
    a second time doubles nothing: metrics upserts records on their id."""
    with db.session() as session:
        result = session.exec(
            update(RecordUpload)
            .where(RecordUpload.status == UploadStatus.loading, RecordUpload.updated_at < utcnow() - lease)
            .values(status=UploadStatus.spooled.value, claim=None, next_attempt_at=utcnow())
        )
        return result.rowcount


def _beat(db: Database, job_id: str, claim: str) -> None:
    with db.session() as session:
        session.exec(
            update(RecordUpload)
            .where(RecordUpload.id == job_id, RecordUpload.claim == claim)
            .values(updated_at=utcnow())
        )


def _held(session, job_id: str, claim: str) -> RecordUpload | None:  # noqa: ANN001 - a Session
    job = session.get(RecordUpload, job_id)
    return job if job is not None and job.claim == claim and job.status == UploadStatus.loading else None


def _retry_later(db: Database, job_id: str, claim: str, error: str) -> float | None:
    """Back to the queue with a longer wait each time; the seconds until the next try (None: no longer ours)."""
    with db.session() as session:
        job = _held(session, job_id, claim)
        if job is None:
            return None
        backoff = min(2**job.attempts, MAX_BACKOFF_SECONDS)
        job.status = UploadStatus.spooled
        job.claim = None
        job.error = error
        job.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff)
        job.updated_at = utcnow()
        session.add(job)
        return float(backoff)


def _release(db: Database, job_id: str, claim: str) -> None:
    """Shutting down mid-load: the job waits for the next start, without a penalty."""
    with db.session() as session:
        job = _held(session, job_id, claim)
        if job is not None:
            job.status = UploadStatus.spooled
            job.claim = None
            job.attempts = max(0, job.attempts - 1)
            job.next_attempt_at = job.updated_at = utcnow()
            session.add(job)


def _finish(
    db: Database, job_id: str, claim: str, status: UploadStatus, result: RecordImportResult | None, error: str | None
) -> bool:
    with db.session() as session:
        job = _held(session, job_id, claim)
        if job is None:
            return False
        job.status = status
        job.claim = None
        job.error = error
        if result is not None:
            job.summary = result.model_dump(mode="json")
        job.finished_at = job.updated_at = utcnow()
        session.add(job)
        detail: dict = {"dataset": job.dataset, "mapping": job.mapping}
        if result is not None:
            detail.update(accepted=result.accepted, updated=result.updated, rejected=result.rejected)
        if error is not None:
            detail["error"] = error[:1000]
        record(
            session,
            actor_principal(job.actor),
            f"records.{status}",
            department=job.department_code,
            subject=job.id,
            outcome="ok" if status is UploadStatus.done else "refused",
            detail=detail,
        )
        return True


def _waiting(db: Database, only: set[str] | None) -> list[str]:
    with db.session(write=False) as session:
        waiting = [UploadStatus.spooled.value, UploadStatus.loading.value]
        query = select(RecordUpload.id).where(col(RecordUpload.status).in_(waiting))
        if only is not None:
            query = query.where(col(RecordUpload.id).in_(sorted(only)))
        return list(session.exec(query))


def _seconds_until_due(db: Database, only: set[str] | None, lease: dt.timedelta = LEASE) -> float:
    """Until the next spooled job may be tried, or a loading job's lease runs out, whichever is first."""
    with db.session(write=False) as session:
        spooled = select(func.min(RecordUpload.next_attempt_at)).where(RecordUpload.status == UploadStatus.spooled)
        if only is not None:
            spooled = spooled.where(col(RecordUpload.id).in_(sorted(only)))
        due = session.exec(spooled).one()
        beat = session.exec(
            select(func.min(RecordUpload.updated_at)).where(RecordUpload.status == UploadStatus.loading)
        ).one()
    moments = [m for m in (due, beat + lease if beat is not None else None) if m is not None]
    if not moments:
        return IDLE_SECONDS
    soonest = min(_aware(m) for m in moments)
    return min(IDLE_SECONDS, max(0.0, (soonest - utcnow()).total_seconds()))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _open_spooled(path: Path, size: int) -> BinaryIO | str:
    """The spooled file opened for reading, or why it cannot be loaded."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return "The spooled file is gone; send the file again."
    found = path.stat().st_size
    if found != size:
        handle.close()
        return f"The spooled file has {found} bytes instead of the {size} received; send the file again."
    return handle


class RecordHandoff:
    """Streams spooled uploads to metrics. `only`, when given, limits it to those job ids (the command line loads
    its own file and leaves the rest to the server)."""

    def __init__(
        self,
        db: Database,
        metrics: MetricsClient,
        spool_dir: Path,
        only: set[str] | None = None,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.directory = spool.spool_directory(spool_dir)
        self.only = only
        self.lease = lease
        # Several beats per lease: one missed beat (a busy database) does not hand the job to another process.
        self.heartbeat_seconds = min(HEARTBEAT_SECONDS, lease.total_seconds() / 6)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RecordHandoff]:
        task = asyncio.create_task(self._run_forever())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _start(self) -> None:
        requeued = await run_in_threadpool(_requeue_stalled, self.db, self.lease)
        if requeued:
            log.warning("%d upload(s) left loading by a stopped process wait for metrics again", requeued)
        if self.only is None:
            keep = await run_in_threadpool(_waiting, self.db, None)
            for path in await run_in_threadpool(spool.sweep, self.directory, keep):
                log.warning("removed %s: no upload job refers to it", path.name)

    async def _run_forever(self) -> None:
        try:
            await self._start()
        except Exception:  # noqa: BLE001 - the worker must start even if tidying up failed
            log.exception("tidying the upload spool failed")
        while True:
            self._wake.clear()
            try:
                delay = await self.run_once()
            except Exception:  # noqa: BLE001 - the loop must outlive any one bad round
                log.exception("upload hand-off round failed")
                delay = self.heartbeat_seconds
            if delay is None:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def run_once(self) -> float | None:
        """Hand off the next due job. None when there may be more to do at once, else the seconds to wait."""
        await run_in_threadpool(_requeue_stalled, self.db, self.lease)
        claim = uuid.uuid4().hex
        job = await run_in_threadpool(_claim_next, self.db, claim, self.only)
        if job is None:
            return await run_in_threadpool(_seconds_until_due, self.db, self.only, self.lease)
        return await self._hand_off(job, claim)

    async def _heartbeat(self, job_id: str, claim: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await run_in_threadpool(_beat, self.db, job_id, claim)
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease allows several
                log.exception("heartbeat of upload %s failed", job_id)

    async def _hand_off(self, job: RecordUpload, claim: str) -> float | None:
        path = spool.spooled_path(self.directory, job.id)
        opened = await run_in_threadpool(_open_spooled, path, job.bytes_total)
        if isinstance(opened, str):
            await run_in_threadpool(_finish, self.db, job.id, claim, UploadStatus.failed, None, opened)
            return None
        heartbeat = asyncio.create_task(self._heartbeat(job.id, claim))
        try:
            result = await self.metrics.load_records(
                job.id,
                spool.file_chunks(opened),
                bytes_total=job.bytes_total,
                dataset=job.dataset,
                mapping=job.mapping,
                department=job.department_code,
                create_departments=job.create_departments,
                actor=job.actor,
                file_format=MEDIA_TYPES.get(job.media_type),
            )
        except asyncio.CancelledError:
            # Shutting down: a blocking write, as the task may not await any more.
            _release(self.db, job.id, claim)
            raise
        except MetricsRefusal as exc:
            return await self._end(job, claim, UploadStatus.failed, None, _refusal_text(exc))
        except CityStatError as exc:
            log.warning("upload %s waits: %s", job.id, exc.detail)
            return await run_in_threadpool(_retry_later, self.db, job.id, claim, exc.detail)
        except Exception as exc:  # noqa: BLE001 - never lose the file: keep it and try again later
            log.exception("handing upload %s to metrics failed", job.id)
            return await run_in_threadpool(_retry_later, self.db, job.id, claim, f"Hand-off failed: {exc!r}")
        finally:
            heartbeat.cancel()
            opened.close()
        if result.status == "done":
            return await self._end(job, claim, UploadStatus.done, result, None)
        if result.status == "failed":
            return await self._end(job, claim, UploadStatus.failed, result, result.error or "The load failed.")
        # Metrics has the job running from an earlier hand-off: ask again later.
        return await run_in_threadpool(
            _retry_later, self.db, job.id, claim, f"Metrics is still loading this file ({result.status})."
        )

    async def _end(
        self,
        job: RecordUpload,
        claim: str,
        status: UploadStatus,
        result: RecordImportResult | None,
        error: str | None,
    ) -> None:
        if await run_in_threadpool(_finish, self.db, job.id, claim, status, result, error):
            # Loaded or refused for good: the file has nothing more to give.
            await run_in_threadpool(spool.remove, spool.spooled_path(self.directory, job.id))
        return None


def _refusal_text(exc: MetricsRefusal) -> str:
    reasons = [
        f"{item.get('field')}: {item.get('reason')}" if item.get("field") else str(item.get("reason"))
        for item in exc.errors or []
        if isinstance(item, dict) and item.get("reason")
    ]
    return exc.detail + (" (" + "; ".join(reasons[:10]) + ")" if reasons else "")
