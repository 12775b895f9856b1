"""`citystat`: the local operator's command line (no login: whoever runs it owns the machine)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from services.common.db import Database
from services.common.http import create_service_client
from services.common.migrations import upgrade
from services.common.settings import SERVICES, Settings
from services.ingest.clients.metrics import MetricsClient
from services.ingest.tokens.service import create_token

app = typer.Typer(help="CityStat: performance management for city governments.", no_args_is_help=True)
token_app = typer.Typer(help="Department API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
err = Console(stderr=True)


def _check_service(name: str | None) -> None:
    if name is not None and name not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}", param_hint="--service")


@app.command()
def serve(
    service: Annotated[
        str | None, typer.Option(help="Serve one service alone: ingest, metrics or reporting")
    ] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = True,
) -> None:
    """Serve everything in one process, or one service alone."""
    from services.runner import create_root_app, create_single_service_app

    _check_service(service)
    settings = Settings()
    asgi = create_root_app(settings) if service is None else create_single_service_app(service, settings)
    uvicorn.run(asgi, host=host, port=port, log_level="info", access_log=access_log, proxy_headers=True)


@app.command()
def migrate(service: Annotated[str | None, typer.Option(help="Only this service")] = None) -> None:
    """Bring each service's database to the latest schema."""
    _check_service(service)
    settings = Settings()
    for name in [service] if service else SERVICES:
        upgrade(name, settings.database_url(name))
        err.print(f"migrated {name}")


@app.command()
def demo(seed: int = 2017) -> None:
    """Load the demo city (Atlanta-like, 2013 to June 2017) into metrics, once."""
    from services.metrics.demo.city import AS_OF as DEMO_AS_OF
    from services.metrics.demo.load import load_demo_city

    settings = Settings()
    db = Database(settings.metrics_database_url)
    try:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("loading the demo city", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            with db.session() as session:
                result = load_demo_city(session, seed, progress)
    finally:
        db.dispose()
    if result.loaded:
        err.print(
            f"demo city loaded: {result.departments} departments, {result.metrics} metrics, "
            f"{result.observations} observations"
        )
        if settings.as_of != DEMO_AS_OF:
            err.print(f"its data ends in June 2017: serve it with CITYSTAT_AS_OF={DEMO_AS_OF.isoformat()}")
    else:
        err.print("demo city already loaded; nothing changed")


async def _department_exists(settings: Settings, code: str) -> bool:
    # Departments belong to metrics: ask it through its API, run in this process.
    from services.runner import create_single_service_app

    metrics_app = create_single_service_app("metrics", settings)
    async with metrics_app.router.lifespan_context(metrics_app):
        transport = httpx.ASGITransport(app=metrics_app)
        async with create_service_client(settings, "metrics", transport) as http:
            return await MetricsClient(http).department_exists(code)


@token_app.command("create")
def token_create(
    department: Annotated[str, typer.Option(help="Department code, e.g. DPW")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'DPW work-order system'")],
) -> None:
    """Create a department API token and print it once, alone on the last line."""
    settings = Settings()
    if not asyncio.run(_department_exists(settings, department)):
        err.print(f"[red]No department has the code '{department}'.[/red]")
        raise typer.Exit(code=2)
    db = Database(settings.ingest_database_url)
    try:
        with db.session() as session:
            token, plaintext = create_token(session, department, name)
    finally:
        db.dispose()
    err.print(f"token {token.id} for {department} ({name}); it is shown only this once:")
    typer.echo(plaintext)


if __name__ == "__main__":
    app()
