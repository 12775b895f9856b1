import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.common.app import create_service_app, health_router
from services.common.settings import Settings
from services.metrics.annotations.router import router as annotations_router
from services.metrics.approvals.router import router as approvals_router
from services.metrics.audit.router import router as audit_router
from services.metrics.budget.links_router import router as budget_links_router
from services.metrics.budget.router import IMPORTS_PATH as BUDGET_IMPORTS_PATH
from services.metrics.budget.router import router as budget_router
from services.metrics.definitions.router import router as definitions_router
from services.metrics.departments.router import router as departments_router
from services.metrics.library.router import IMPORTS_PATH
from services.metrics.library.router import router as library_router
from services.metrics.observations.router import router as observations_router
from services.metrics.opendata.router import router as opendata_router
from services.metrics.orgunits.router import router as orgunits_router
from services.metrics.performance.router import router as performance_router
from services.metrics.priorities.router import router as priorities_router
from services.metrics.records.analytics_router import router as analytics_router
from services.metrics.records.pull import Puller
from services.metrics.records.pull_router import router as pulls_router
from services.metrics.records.router import IMPORTS_PATH as RECORD_IMPORTS_PATH
from services.metrics.records.router import router as records_router
from services.metrics.records.rules_router import router as computed_router
from services.metrics.schedules.router import router as schedules_router
from services.metrics.search.router import router as search_router
from services.metrics.series.router import router as series_router
from services.metrics.targets.router import router as targets_router

# Ingest's deliveries: a whole submission as JSON, larger than the file a department sent.
INTERNAL_WRITE_PATHS = ("/observations/batch", "/observations/batches")


def create_app(settings: Settings | None = None, *, transport: object = None) -> FastAPI:
    # Metrics calls no other service; `transport` keeps the three factories interchangeable.
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Pull connectors: the outbound client, and the scheduler that pulls each profile's source when it is due.
        async with Puller.running(app.state.db, settings) as puller:
            app.state.puller = puller
            yield

    return create_service_app(
        "metrics",
        "CityStat metrics",
        settings,
        [
            health_router("metrics"),
            departments_router,
            orgunits_router,
            definitions_router,
            targets_router,
            priorities_router,
            observations_router,
            performance_router,
            library_router,
            annotations_router,
            approvals_router,
            schedules_router,
            audit_router,
            records_router,
            computed_router,
            analytics_router,
            pulls_router,
            opendata_router,
            budget_router,
            budget_links_router,
            series_router,
            search_router,
        ],
        lifespan,
        route_limits={
            **{path: settings.max_internal_body_bytes for path in INTERNAL_WRITE_PATHS},
            # A jurisdiction's measures file (San Francisco's is 1.1 MB).
            IMPORTS_PATH: settings.max_upload_bytes,
            # A city's budget file (Oakland's FY21-22 is 1.5 MB).
            BUDGET_IMPORTS_PATH: settings.max_upload_bytes,
            # Spooled raw-record files stream through; the route counts them against their own, far larger limit.
            RECORD_IMPORTS_PATH: settings.max_bulk_upload_bytes,
        },
        streamed_paths=(RECORD_IMPORTS_PATH,),
    )
