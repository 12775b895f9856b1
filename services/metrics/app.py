from fastapi import FastAPI

from services.common.app import create_service_app, health_router
from services.common.settings import Settings
from services.metrics.definitions.router import router as definitions_router
from services.metrics.departments.router import router as departments_router
from services.metrics.observations.router import router as observations_router
from services.metrics.performance.router import router as performance_router

# Ingest's deliveries: a whole submission as JSON, larger than the file a department sent.
INTERNAL_WRITE_PATHS = ("/observations/batch", "/observations/batches")


def create_app(settings: Settings | None = None, *, transport: object = None) -> FastAPI:
    # Metrics calls no other service; `transport` keeps the three factories interchangeable.
    settings = settings or Settings()
    return create_service_app(
        "metrics",
        "CityStat metrics",
        settings,
        [health_router("metrics"), departments_router, definitions_router, observations_router, performance_router],
        route_limits={path: settings.max_internal_body_bytes for path in INTERNAL_WRITE_PATHS},
    )
