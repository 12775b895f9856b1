"""What every service app has in common: settings on state, errors, body limit, health."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import text

from services.common.auth import SessionCodec, session_key
from services.common.db import Database
from services.common.errors import (
    COMMON_PROBLEM_RESPONSES,
    PROBLEM_MEDIA_TYPE,
    install_error_handlers,
    problem_responses,
)
from services.common.limits import BodySizeLimitMiddleware
from services.common.openapi_links import add_resource_links
from services.common.params import refuse_repeated_query_parameters
from services.common.secret_checks import check_session_key, check_settings
from services.common.settings import Settings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


class Health(BaseModel):
    service: str
    status: str
    database: str
    details: dict[str, int | str] = {}


def _database_ok(db: Database) -> bool:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health reports any failure as "unavailable"
        return False


# A service's own checks beyond its database: details to show, and a reason it is degraded (or None).
HealthCheck = Callable[[FastAPI], Awaitable[tuple[dict[str, int | str], str | None]]]


def health_router(service: str, extra: HealthCheck | None = None) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/health",
        response_model=Health,
        responses={503: {"model": Health, "description": "The service's own database is unavailable"}},
    )
    async def health(request: Request, response: Response) -> Health:
        ok = await run_in_threadpool(_database_ok, request.app.state.db)
        if not ok:
            # Orchestrators (compose healthchecks, load balancers) read the status code.
            response.status_code = 503
            return Health(service=service, status="degraded", database="unavailable")
        details, degraded = await extra(request.app) if extra else ({}, None)
        if degraded:
            # Still answering and accepting (200), but a person should look: say why.
            details = {**details, "degraded_because": degraded}
        return Health(service=service, status="degraded" if degraded else "ok", database="ok", details=details)

    return router


def _settle_garbage_collector() -> None:
    """Everything built at start-up (modules, apps, table metadata) lives as long as the process: taking it out of
    the collector's reach keeps its full collections short. Without this, one request in a hundred that builds many
    objects (a dashboard's analysis) waited 5 times as long as the rest while the collector walked them."""
    gc.collect()
    gc.freeze()


def create_service_app(
    name: str,
    title: str,
    settings: Settings,
    routers: list[APIRouter],
    lifespan: Lifespan | None = None,
    route_limits: dict[str, int] | None = None,
    streamed_paths: tuple[str, ...] = (),
) -> FastAPI:
    """Build a service app whose lifespan opens its database; `lifespan` adds service-specific parts.

    `route_limits` give routes (by path ending) their own body limit; `streamed_paths` are routes that read their
    body as a stream, whose limit is counted as they read it instead of by buffering the body first.

    Raises InsecureSettings when a secret the service uses is a placeholder (services/common/secret_checks.py): the
    process stops before it serves anything."""
    check_settings(name, settings)

    @asynccontextmanager
    async def service_lifespan(app: FastAPI) -> AsyncIterator[None]:
        key = session_key(settings)
        # The key file is read here, not when the app is built: it may not exist until a service first starts.
        check_session_key(name, key, settings)
        db = Database(settings.database_url(name))
        app.state.db = db
        app.state.session_codec = SessionCodec(key)
        try:
            if lifespan is None:
                _settle_garbage_collector()
                yield
            else:
                async with lifespan(app):
                    _settle_garbage_collector()
                    yield
        finally:
            db.dispose()

    app = FastAPI(
        title=title,
        version="0.1.0",
        lifespan=service_lifespan,
        responses=COMMON_PROBLEM_RESPONSES,
        dependencies=[Depends(refuse_repeated_query_parameters)],
    )
    app.state.settings = settings
    app.state.service_name = name
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        route_limits=route_limits,
        streamed_paths=streamed_paths,
    )
    for router in routers:
        app.include_router(router)
    _declare_failure_limit(app)
    _errors_only_as_problems(app)
    return app


def _declare_failure_limit(app: FastAPI) -> None:
    """An operation that checks credentials (it declares 401) may also answer 429 to an address that has sent too
    many wrong ones lately (services/common/auth.py, refuse_while_failing)."""
    too_many = problem_responses(429)[429]

    def declare(routes: list) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                if 401 in route.responses and 429 not in route.responses:
                    route.responses[429] = too_many
            elif hasattr(route, "original_router"):  # FastAPI keeps included routers as they were, lazily
                declare(route.original_router.routes)

    declare(app.router.routes)


def _errors_only_as_problems(app: FastAPI) -> None:
    """FastAPI lists an error model under application/json too; errors are only ever problem+json."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            for operations in build()["paths"].values():
                for operation in operations.values():
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        if PROBLEM_MEDIA_TYPE in content:
                            content.pop("application/json", None)
            # Clients (and the stateful contract run) follow these from a created resource to its operations.
            add_resource_links(app.openapi_schema)
        return app.openapi_schema

    app.openapi = openapi
