"""Long work of the reporting service: building a briefing (with its progress on the briefing) and the monthly memo
that makes itself once a month's data is due.

Database work here runs in worker threads: on SQLite a writer takes a process-wide lock, and the event loop must
never wait on it while a request that holds it waits on the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from services.common.auth import SessionCodec
from services.common.db import Database
from services.common.errors import CityStatError
from services.common.periods import Frequency, Period
from services.common.settings import Settings
from services.reporting.briefings import service
from services.reporting.briefings.models import Briefing, BriefingState, BuildStatus
from services.reporting.briefings.schemas import BriefingCreate
from services.reporting.briefings.snapshot import BriefingKind
from services.reporting.clients.metrics import Acting, MetricsClient, reporting_session

log = logging.getLogger("citystat.reporting.builds")

# Progress is written at most this often: a build reads dozens of answers a second.
PROGRESS_EVERY_SECONDS = 0.5


class Builds:
    """Runs briefing builds for one reporting app, in the background of the request that asked for them."""

    def __init__(self, db: Database, settings: Settings, metrics: MetricsClient, codec: SessionCodec) -> None:
        self.db = db
        self.settings = settings
        self.metrics = metrics
        self.codec = codec

    def _set(self, briefing_id: int, **fields) -> None:
        with self.db.session() as session:
            briefing = session.get(Briefing, briefing_id)
            if briefing is None:
                return
            for name, value in fields.items():
                setattr(briefing, name, value)
            session.add(briefing)

    def _load(self, briefing_id: int) -> Briefing | None:
        with self.db.session(write=False) as session:
            return session.get(Briefing, briefing_id)

    async def run(self, briefing_id: int, acting: Acting | None = None) -> None:
        """Build a draft: queued -> building (done/total as it goes) -> ready, or failed with the reason."""
        briefing = await run_in_threadpool(self._load, briefing_id)
        if briefing is None or briefing.state == BriefingState.published:
            return
        metrics = self.metrics.acting_as(acting or reporting_session(self.codec))
        await run_in_threadpool(self._set, briefing_id, build_status=BuildStatus.building, build_error=None)
        last = 0.0
        pending: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            # Called from the build, on the event loop: remembered here, written from a thread below.
            pending.append((done, total))

        async def flush_progress(force: bool = False) -> None:
            nonlocal last
            if pending and (force or time.monotonic() - last >= PROGRESS_EVERY_SECONDS):
                done, total = pending[-1]
                pending.clear()
                last = time.monotonic()
                await run_in_threadpool(self._set, briefing_id, build_done=done, build_total=total)

        async def report_progress() -> None:
            while True:
                await asyncio.sleep(PROGRESS_EVERY_SECONDS)
                await flush_progress()

        reporter = asyncio.create_task(report_progress())
        try:
            read_at = service.utcnow()
            with self.db.session(write=False) as read:
                snapshot = await service.compute_snapshot(
                    read, metrics, briefing, as_of=self.settings.as_of, read_at=read_at, progress=progress
                )
        except CityStatError as exc:
            await run_in_threadpool(self._set, briefing_id, build_status=BuildStatus.failed, build_error=exc.detail)
            return
        except Exception:  # noqa: BLE001 - the briefing says it failed; the log has the trace
            log.exception("building briefing %s failed", briefing_id)
            await run_in_threadpool(
                self._set,
                briefing_id,
                build_status=BuildStatus.failed,
                build_error="The build failed on an internal error; the service log has the details.",
            )
            return
        finally:
            reporter.cancel()
        total = max([t for _, t in pending] or [briefing.build_total or 1])
        await run_in_threadpool(self._finish, briefing_id, snapshot.model_dump(mode="json"), total, briefing.selection)

    def _finish(self, briefing_id: int, snapshot: dict, total: int, built_selection: list[dict]) -> None:
        with self.db.session() as session:
            briefing = session.get(Briefing, briefing_id)
            if briefing is None or briefing.state == BriefingState.published:
                return
            if [r["metric"] for r in briefing.selection] != [r["metric"] for r in built_selection]:
                # The selection changed while this build ran; the build queued by that change will store its own.
                return
            # Explanations typed while it built are kept.
            briefing.snapshot = (
                service.with_explanations(snapshot, briefing.selection) if briefing.selection else snapshot
            )
            briefing.build_status = BuildStatus.ready
            briefing.build_done = briefing.build_total = total
            briefing.build_error = None
            session.add(briefing)

    def interrupted(self) -> int:
        """At start-up: builds a stopped process left unfinished are marked failed, so nobody waits on them. A
        database that cannot be reached yet does not stop the service from starting (its health says 503)."""
        try:
            with self.db.session() as session:
                left = service.unfinished_builds(session)
                for briefing in left:
                    briefing.build_status = BuildStatus.failed
                    briefing.build_error = "The build was interrupted when the service stopped; rebuild it."
                    session.add(briefing)
        except SQLAlchemyError:
            log.warning("could not check for interrupted briefing builds: the database is unreachable", exc_info=True)
            return 0
        return len(left)

    # --- the monthly memo --------------------------------------------------------------------------------------

    def due_memo_period(self) -> str:
        """The newest month whose data is due by as_of (due `memo_due_days` after the month ends)."""
        as_of = self.settings.as_of
        month = Period.containing(as_of, Frequency.month).previous()
        while as_of < month.end + dt.timedelta(days=self.settings.memo_due_days):
            month = month.previous()
        return str(month)

    def _memo_exists(self, period: str) -> bool:
        from sqlmodel import select

        with self.db.session(write=False) as session:
            found = session.exec(
                select(Briefing.id).where(Briefing.kind == BriefingKind.memo.value, Briefing.period == period)
            ).first()
        return found is not None

    def _create_memo(self, period: str, title: str) -> int | None:
        from sqlmodel import select

        with self.db.session() as session:
            made = session.exec(
                select(Briefing.id).where(Briefing.kind == BriefingKind.memo.value, Briefing.period == period)
            ).first()
            if made is not None:  # made meanwhile by a person or another worker
                return None
            briefing = Briefing(
                kind=BriefingKind.memo.value, title=title, period=period, automatic=True, created_by="scheduler"
            )
            session.add(briefing)
            session.flush()
            return briefing.id

    async def ensure_memo(self) -> int | None:
        """Make and build the memo of the newest due month if there is none yet; its id, or None."""
        period = self.due_memo_period()
        if await run_in_threadpool(self._memo_exists, period):
            return None
        body = BriefingCreate(kind=BriefingKind.memo, period=period)
        service._check_period(body.kind, body.period)
        title = service.default_title(body.kind, body.period, {})
        briefing_id = await run_in_threadpool(self._create_memo, period, title)
        if briefing_id is not None:
            log.info("memo %s for %s made by the scheduler", briefing_id, period)
            await self.run(briefing_id)
        return briefing_id

    async def memo_loop(self) -> None:
        while True:
            try:
                await self.ensure_memo()
            except Exception:  # noqa: BLE001 - a bad round must not stop the schedule; it is logged
                log.exception("the memo scheduler's round failed")
            await asyncio.sleep(self.settings.report_poll_seconds)
