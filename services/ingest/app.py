import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app, health_router
from services.common.http import create_service_client
from services.common.settings import Settings
from services.ingest.clients.metrics import MetricsClient
from services.ingest.submissions import service as submissions
from services.ingest.submissions.router import router as submissions_router

log = logging.getLogger("citystat.ingest")


async def _drain_forever(app: FastAPI, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await submissions.drain_outbox(app.state.db, app.state.metrics_client)
        except Exception:  # noqa: BLE001 - the loop must outlive any one bad round
            log.exception("outbox round failed")


def _outbox_health(app: FastAPI) -> dict[str, int | str]:
    return {"outbox_pending": submissions.pending_count(app.state.db)}


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with create_service_client(settings, "metrics", transport) as http:
            app.state.metrics_client = MetricsClient(http)
            drainer = asyncio.create_task(_drain_forever(app, settings.outbox_poll_seconds))
            try:
                yield
            finally:
                drainer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drainer

    return create_service_app(
        "ingest",
        "CityStat ingest",
        settings,
        [health_router("ingest", _outbox_health), submissions_router],
        lifespan,
    )
