import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app, health_router
from services.common.http import create_service_client
from services.common.settings import Settings
from services.reporting.briefings.jobs import Builds
from services.reporting.briefings.router import router as briefings_router
from services.reporting.clients.metrics import MetricsClient
from services.reporting.commitments.router import router as commitments_router
from services.reporting.home.router import router as home_router
from services.reporting.meetings.router import router as meetings_router
from services.reporting.opendata.ckan import router as ckan_router
from services.reporting.opendata.datapackage import router as datapackage_router
from services.reporting.opendata.dcat import router as dcat_router
from services.reporting.opendata.downloads import router as downloads_router
from services.reporting.opendata.soda import OpenDataPreflight
from services.reporting.opendata.soda import router as soda_router
from services.reporting.scorecards.router import router as scorecards_router
from services.reporting.search.router import router as search_router


def create_app(settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with create_service_client(settings, "metrics", transport) as http:
            app.state.metrics_http = http
            builds = Builds(app.state.db, settings, MetricsClient(http), app.state.session_codec)
            app.state.builds = builds
            builds.interrupted()
            scheduler = asyncio.create_task(builds.memo_loop()) if settings.report_poll_seconds > 0 else None
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await scheduler

    app = create_service_app(
        "reporting",
        "CityStat reporting",
        settings,
        [
            health_router("reporting"),
            scorecards_router,
            briefings_router,
            meetings_router,
            commitments_router,
            search_router,
            home_router,
            soda_router,
            ckan_router,
            downloads_router,
            datapackage_router,
            dcat_router,
        ],
        lifespan,
    )
    app.add_middleware(OpenDataPreflight)
    return app
