import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.app import create_service_app, health_router
from services.common.errors import problem_response
from services.common.http import create_service_client
from services.common.limits import RateLimiter
from services.common.settings import Settings
from services.ingest.accounts.router import auth_router, users_router
from services.ingest.audit.router import router as audit_router
from services.ingest.clients.metrics import MetricsClient
from services.ingest.notifications.rounds import run_round
from services.ingest.notifications.router import router as notifications_router
from services.ingest.records import service as records
from services.ingest.records.handoff import RecordHandoff
from services.ingest.records.router import router as records_router
from services.ingest.submissions import service as submissions
from services.ingest.submissions.pipeline import SubmissionPipeline
from services.ingest.submissions.router import router as submissions_router
from services.ingest.tokens.router import router as tokens_router
from services.ingest.tokens.service import TokenCache

log = logging.getLogger("citystat.ingest")

# Files (CSV, DHIS2) may be larger than a JSON request; the upload limit is its own setting.
UPLOAD_PATHS = ("/submissions/csv", "/dataValueSets")
# Bulk raw-record files go to disk as they arrive, never into memory: their limit is far larger and is counted as
# the route reads the body.
BULK_PATHS = ("/records",)
# Sign-in attempts per username: enough for typos, too few for guessing.
LOGIN_ATTEMPTS_PER_MINUTE = 10


class _JsonSubmissionsOnly:
    """POST /submissions reads JSON only. FastAPI would read another body as a schema mismatch (a misleading
    422); a declared non-JSON type is refused as what it is (415), as the CSV and DHIS2 routes refuse theirs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/submissions"):
            declared = dict(scope["headers"]).get(b"content-type", b"application/json")
            media = declared.split(b";")[0].strip().lower()
            if media != b"application/json" and not media.endswith(b"+json"):
                detail = "Send the submission as Content-Type: application/json (a CSV file goes to /submissions/csv)."
                await problem_response(415, "unsupported-media-type", detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _drain_forever(app: FastAPI, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await submissions.drain_outbox(app.state.db, app.state.metrics_client)
        except Exception:  # noqa: BLE001 - the loop must outlive any one bad round
            log.exception("outbox round failed")


async def _notify_forever(app: FastAPI, every: float) -> None:
    # Waits first: a short-lived process (a command-line import) should not send anyone anything.
    while True:
        await asyncio.sleep(every)
        try:
            async with app.state.notify_lock:
                await run_round(app.state.db, app.state.metrics_client, app.state.session_codec, app.state.settings)
        except Exception:  # noqa: BLE001 - the loop must outlive any one bad round (metrics or SMTP away)
            log.exception("notifications round failed")


async def _ingest_health(app: FastAPI) -> tuple[dict[str, int | str], str | None]:
    pending = await run_in_threadpool(submissions.pending_count, app.state.db)
    spooled = await run_in_threadpool(records.spooled_count, app.state.db)
    metrics_ok = await app.state.metrics_client.is_healthy(timeout=2.0)
    details: dict[str, int | str] = {
        "outbox_pending": pending,
        "records_spooled": spooled,
        "metrics": "ok" if metrics_ok else "unreachable",
    }
    # Submissions per transaction (or per call to metrics) and time per group: how group commit is doing.
    details.update({f"group commit, {name}": figures for name, figures in app.state.pipeline.stats().items()})
    # Submissions and record uploads are still accepted and kept while metrics is away.
    return details, None if metrics_ok else (
        "the metrics service is unreachable; submissions wait in the outbox, record uploads in the spool"
    )


def create_app(settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        app.state.login_limiter = RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE, LOGIN_ATTEMPTS_PER_MINUTE)
        app.state.token_cache = TokenCache(settings.token_cache_seconds)
        # One round at a time in this process: the loop's and one asked for through the API.
        app.state.notify_lock = asyncio.Lock()
        async with (
            create_service_client(settings, "metrics", transport) as http,
            SubmissionPipeline(
                app.state.db, MetricsClient(http), settings.group_commit_max, settings.max_rows_per_submission
            ).running() as pipeline,
        ):
            app.state.metrics_client = pipeline.metrics
            app.state.pipeline = pipeline
            # The command line sets record_handoff_only before start-up, to hand off its own upload and no other.
            handoff = RecordHandoff(
                app.state.db,
                pipeline.metrics,
                settings.spool_dir,
                getattr(app.state, "record_handoff_only", None),
                lease=dt.timedelta(seconds=settings.record_handoff_lease_seconds),
            )
            app.state.record_handoff = handoff
            drainer = asyncio.create_task(_drain_forever(app, settings.outbox_poll_seconds))
            notifier = (
                asyncio.create_task(_notify_forever(app, settings.notify_poll_seconds))
                if settings.notify_poll_seconds > 0
                else None
            )
            try:
                async with handoff.running():
                    yield
            finally:
                for task in (drainer, notifier):
                    if task is None:
                        continue
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = create_service_app(
        "ingest",
        "CityStat ingest",
        settings,
        [
            health_router("ingest", _ingest_health),
            auth_router,
            users_router,
            tokens_router,
            submissions_router,
            records_router,
            audit_router,
            notifications_router,
        ],
        lifespan,
        route_limits={
            **{path: settings.max_upload_bytes for path in UPLOAD_PATHS},
            **{path: settings.max_bulk_upload_bytes for path in BULK_PATHS},
        },
        streamed_paths=BULK_PATHS,
    )
    app.add_middleware(_JsonSubmissionsOnly)
    return app
