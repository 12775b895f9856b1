"""The ASGI apps that `citystat serve` runs: everything in one process, or one service alone."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from services.common.errors import handle_http_exception
from services.common.frontend_headers import FrontendHeaders
from services.common.settings import SERVICES, Settings, mount_path
from services.ingest.app import create_app as create_ingest_app
from services.metrics.app import create_app as create_metrics_app
from services.reporting.app import create_app as create_reporting_app

FACTORIES = {"ingest": create_ingest_app, "metrics": create_metrics_app, "reporting": create_reporting_app}

# Open-data paths that Socrata, CKAN, DCAT and Frictionless clients expect at the site root (DESIGN.md, fixed
# interfaces): reporting serves them, besides everything it serves under /api/reporting.
OPEN_DATA_PREFIXES = ("/resource", "/api/views", "/api/catalog", "/api/3/action", "/api/action")
OPEN_DATA_FILES = ("/data.json", "/datapackage.json")


class _AtRoot:
    """Hands a request to a mounted service app with its path as the client sent it: the app has routes for
    these root paths, so the mount's prefix must not be taken off."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, "root_path": scope.get("app_root_path", "")}, receive, send)


def _open_data_routes(reporting: FastAPI) -> list[BaseRoute]:
    at_root = _AtRoot(reporting)
    prefixes: list[BaseRoute] = [Mount(prefix, app=at_root) for prefix in OPEN_DATA_PREFIXES]
    return prefixes + [Route(path, endpoint=at_root) for path in OPEN_DATA_FILES]


def _root_with(apps: dict[str, FastAPI], extra_routes: list[BaseRoute]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_root: Starlette) -> AsyncIterator[None]:
        # Starlette does not run the lifespans of mounted apps; run each one here.
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    routes: list[BaseRoute] = [Mount(mount_path(name), app=app, name=name) for name, app in apps.items()]
    if "reporting" in apps:
        routes += _open_data_routes(apps["reporting"])
    # Paths no mount takes (a newline in a path defeats Starlette's route patterns) still get problem+json.
    root = Starlette(
        routes=routes + extra_routes,
        lifespan=lifespan,
        exception_handlers={StarletteHTTPException: handle_http_exception},
    )
    root.state.services = apps
    return root


IN_PROCESS_CLIENT = ("in-process", 0)


def create_root_app(settings: Settings | None = None) -> Starlette:
    """All three services and the frontend in one ASGI app. The services reach each other through
    httpx's ASGI transport into this same app, with the same clients as over the network."""
    settings = settings or Settings()
    holder: dict[str, Starlette] = {}

    async def in_process(scope: Scope, receive: Receive, send: Send) -> None:
        await holder["root"](scope, receive, send)

    # Calls between the services carry their own client address, so that limits kept per address (failed
    # authentication, the open-data routes) never count a local browser's requests and the services' together.
    transport = httpx.ASGITransport(app=in_process, client=IN_PROCESS_CLIENT)
    apps = {name: FACTORIES[name](settings, transport=transport) for name in SERVICES}
    static = StaticFiles(directory=settings.frontend_dir, html=True, check_dir=False)
    frontend = Mount("/", app=FrontendHeaders(static, tls=settings.secure_cookies), name="frontend")
    holder["root"] = _root_with(apps, [frontend])
    return holder["root"]


def create_single_service_app(name: str, settings: Settings | None = None) -> Starlette:
    """One service under its usual path; the others are reached over HTTP at their configured URLs."""
    settings = settings or Settings()
    return _root_with({name: FACTORIES[name](settings)}, [])
