import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app, health_router
from services.common.http import create_service_client
from services.common.settings import Settings
from services.reporting.clients.metrics import MetricsClient
from services.reporting.scorecards.router import router as scorecards_router


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with create_service_client(settings, "metrics", transport) as http:
            app.state.metrics_client = MetricsClient(http)
            yield

    return create_service_app(
        "reporting", "CityStat reporting", settings, [health_router("reporting"), scorecards_router], lifespan
    )
