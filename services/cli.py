"""`citystat`: the local operator's command line (no login: whoever runs it owns the machine)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from services.common.auth import OPERATOR
from services.common.db import Database
from services.common.http import create_service_client
from services.common.migrations import upgrade
from services.common.secret_checks import InsecureSettings, check_settings
from services.common.settings import SERVICES, Settings
from services.ingest.audit.service import record
from services.ingest.clients.metrics import MetricsClient
from services.ingest.tokens.service import create_token
from services.metrics.budget.cli import import_budget_command
from services.reporting.cli import report as report_command

if TYPE_CHECKING:
    from services.ingest.notifications.schemas import RoundResult
    from services.ingest.records.schemas import RecordJobPublic
    from services.ingest.records.service import UploadOptions

app = typer.Typer(help="CityStat: performance management for city governments.", no_args_is_help=True)
token_app = typer.Typer(help="Department API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
library_app = typer.Typer(help="The library of other jurisdictions' measures.", no_args_is_help=True)
app.add_typer(library_app, name="library")
import_app = typer.Typer(help="Bulk loads of department data.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.command("report")(report_command)
import_app.command("budget")(import_budget_command)
# Soft wrap: a message naming a long path stays one line, whole, for whoever greps it.
err = Console(stderr=True, soft_wrap=True)


def _check_service(name: str | None) -> None:
    if name is not None and name not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}", param_hint="--service")


@app.command()
def serve(
    service: Annotated[str | None, typer.Option(help="Serve one service alone: ingest, metrics or reporting")] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = True,
) -> None:
    """Serve everything in one process, or one service alone."""
    _check_service(service)
    settings = Settings()
    try:
        # Before the apps are even imported: a refusal should come at once. Each app checks again when it is built.
        for name in [service] if service else SERVICES:
            check_settings(name, settings)
        from services.runner import create_root_app, create_single_service_app

        asgi = create_root_app(settings) if service is None else create_single_service_app(service, settings)
    except InsecureSettings as refused:
        err.print(str(refused), markup=False, highlight=False)
        raise typer.Exit(2) from None
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
def demo(
    seed: int = 2017,
    records_multiplier: Annotated[
        int, typer.Option(min=1, max=50, help="Raw service requests per request of the demo series (8: about 1M)")
    ] = 8,
) -> None:
    """Load the demo city (Atlanta-like, 2013 to June 2017) into metrics, once: its catalogue and values, and the
    raw service requests its on-time metrics are computed from."""
    from services.metrics.demo.city import AS_OF as DEMO_AS_OF
    from services.metrics.demo.city import build_demo_city
    from services.metrics.demo.load import load_demo

    settings = Settings()
    db = Database(settings.metrics_database_url)
    try:
        with Progress(console=err, transient=True) as bar:
            tasks: dict[str, object] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(f"loading the demo city: {stage}", total=total)
                bar.update(tasks[stage], completed=done, total=total)

            result = load_demo(db, seed, settings=settings, multiplier=records_multiplier, progress=progress)
    finally:
        db.dispose()
    _demo_staff(settings, [d.code for d in build_demo_city(seed)])
    _demo_meetings(settings)
    if result.loaded:
        err.print(
            f"demo city loaded: {result.departments} departments, {result.metrics} metrics, "
            f"{result.observations} observations, {result.records} service requests (published as open data), "
            f"{result.budget_lines} budget lines (FY2013 to FY2017)"
        )
        if settings.as_of != DEMO_AS_OF:
            err.print(f"its data ends in June 2017: serve it with CITYSTAT_AS_OF={DEMO_AS_OF.isoformat()}")
    else:
        err.print("demo city already loaded; nothing changed")


def _demo_meetings(settings: Settings) -> None:
    from sqlalchemy.exc import DBAPIError

    from services.reporting.meetings.demo import load_demo_meetings

    db = Database(settings.reporting_database_url)
    try:
        with db.session() as session:
            added = load_demo_meetings(session)
    except DBAPIError:
        # Deployed as separate services, reporting may not have migrated yet: its calendar is the one thing missed.
        err.print("demo calendar skipped: reporting's database is not ready (`citystat migrate`, then `demo` again)")
        return
    finally:
        db.dispose()
    if added:
        err.print(f"demo calendar: {added} roundtables and Cabinet meetings from July 2017")


def _demo_staff(settings: Settings, department_codes: list[str]) -> None:
    from services.ingest.accounts.demo import DEMO_PASSWORD, ensure_demo_staff

    db = Database(settings.ingest_database_url)
    try:
        with db.session() as session:
            created = ensure_demo_staff(session, department_codes)
    finally:
        db.dispose()
    if created:
        err.print(f"demo staff accounts ({', '.join(created)}) share the password '{DEMO_PASSWORD}'")


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
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="Lifetime in days (default: a setting)")] = None,
) -> None:
    """Create a department API token and print it once, alone on the last line."""
    settings = Settings()
    if not asyncio.run(_department_exists(settings, department)):
        err.print(f"[red]No department has the code '{department}'.[/red]")
        raise typer.Exit(code=2)
    db = Database(settings.ingest_database_url)
    try:
        with db.session() as session:
            lifetime = dt.timedelta(days=days or settings.token_default_days)
            token, plaintext = create_token(session, department, name, lifetime=lifetime)
            record(
                session,
                OPERATOR,
                "token.created",
                department=department,
                subject=f"token:{token.id}",
                detail={"name": name, "expires_at": token.expires_at.isoformat()},
            )
    finally:
        db.dispose()
    err.print(f"token {token.id} for {department} ({name}); it is shown only this once:")
    typer.echo(plaintext)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id, as printed when it was made")]) -> None:
    """Revoke a department API token at once."""
    from services.common.errors import NotFound
    from services.ingest.tokens.service import revoke_token

    db = Database(Settings().ingest_database_url)
    try:
        with db.session() as session:
            token = revoke_token(session, token_id)
            record(session, OPERATOR, "token.revoked", department=token.department_code, subject=f"token:{token.id}")
    except NotFound as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(code=2) from None
    finally:
        db.dispose()
    err.print(f"token {token_id} revoked")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="Sign-in name: lower case letters, digits, '.', '_' or '-'")],
    name: Annotated[str, typer.Option(help="Display name")],
    role: Annotated[str, typer.Option(help="admin, analyst, head, liaison or viewer")],
    department: Annotated[str | None, typer.Option(help="A liaison's or head's department; a viewer's scope")] = None,
    email: Annotated[str | None, typer.Option(help="Where reminders and digests are e-mailed")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Create a staff account (the first administrator starts here)."""
    from pydantic import ValidationError

    from services.common.errors import CityStatError
    from services.ingest.accounts.schemas import UserCreate
    from services.ingest.accounts.service import create_user

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        body = UserCreate(
            username=username, display_name=name, password=password, role=role, department=department, email=email
        )
    except ValidationError as exc:
        for error in exc.errors():
            err.print(f"[red]{'.'.join(map(str, error['loc'])) or 'user'}: {error['msg']}[/red]")
        raise typer.Exit(code=2) from None
    settings = Settings()
    if body.department and not asyncio.run(_department_exists(settings, body.department)):
        err.print(f"[red]No department has the code '{body.department}'.[/red]")
        raise typer.Exit(code=2)
    db = Database(settings.ingest_database_url)
    try:
        with db.session() as session:
            user = create_user(session, body, OPERATOR.actor)
            record(
                session,
                OPERATOR,
                "user.created",
                department=user.department_code,
                subject=user.username,
                detail={"role": user.role},
            )
    except CityStatError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(code=2) from None
    finally:
        db.dispose()
    err.print(f"user {user.username} ({user.role}) created")


async def _notify(settings: Settings) -> RoundResult:
    from services.ingest.notifications.rounds import run_round
    from services.runner import create_root_app

    # Metrics answers in this process; ingest's own loop stays off, this command is the round.
    root = create_root_app(settings.model_copy(update={"notify_poll_seconds": 0}))
    ingest = root.state.services["ingest"]
    async with root.router.lifespan_context(root):
        return await run_round(ingest.state.db, ingest.state.metrics_client, ingest.state.session_codec, settings)


@app.command()
def notify() -> None:
    """Make the reminders, overdue notices and weekly digests due as of today (CITYSTAT_AS_OF) and send the e-mail
    waiting in the outbox. Safe to repeat: nothing is made or sent twice."""
    settings = Settings()
    result = asyncio.run(_notify(settings))
    if not result.metrics_answered:
        err.print("[yellow]metrics did not answer: nothing new was made[/yellow]")
    for code in result.departments_unread:
        err.print(f"[yellow]{code}: its schedule or performance could not be read[/yellow]")
    typer.echo(
        f"as of {result.as_of}: {result.reminders} reminders, {result.overdue} overdue notices, "
        f"{result.digests} digests made"
    )
    mail = "no mail server set (CITYSTAT_SMTP_HOST)" if not settings.smtp_host else "e-mail"
    typer.echo(f"{mail}: {result.emails_sent} sent, {result.emails_failed} refused, {result.emails_pending} waiting")


@library_app.command("import")
def library_import(
    path: Annotated[
        Path | None, typer.Argument(help="The measures CSV (default: San Francisco's, in the shared data)")
    ] = None,
) -> None:
    """Import San Francisco's citywide performance measures; a measure already imported is updated."""
    from rich.markup import escape

    from services.common.errors import CityStatError
    from services.metrics.library.service import import_library
    from services.metrics.library.source import SF_MEASURES_PATH

    path = path or SF_MEASURES_PATH
    try:
        data = path.read_bytes()
    except OSError as exc:
        err.print(f"[red]{escape(str(path))}: {escape(exc.strerror or str(exc))}[/red]")
        raise typer.Exit(code=1) from None
    db = Database(Settings().metrics_database_url)
    try:
        with Progress(console=err, transient=True) as bar, db.session() as session:
            task = bar.add_task(f"importing {escape(path.name)}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = import_library(session, data, OPERATOR, path.name, progress=progress)
    except CityStatError as exc:
        err.print(f"[red]{escape(str(path))}: {escape(exc.detail)}[/red]")
        for item in exc.errors or []:
            err.print(f"[red]  {escape(str(item.get('field')))}: {escape(str(item.get('reason')))}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    typer.echo(
        f"imported {summary.imported}, updated {summary.updated}, rejected {len(summary.rejected)} "
        f"of {summary.rows} rows"
    )
    for rejection in summary.rejected:
        typer.echo(f"row {rejection.row}, {rejection.field}: {rejection.reason}")


# Hand-offs the command line tries (over about 15 s of back-off) before it leaves the job spooled and stops.
IMPORT_HAND_OFFS = 4


def _records_media_type(path: Path) -> str:
    with path.open("rb") as handle:
        if handle.read(2) == b"\x1f\x8b":
            return "application/gzip"
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "text/csv"
    if suffix in (".ndjson", ".jsonl", ".json"):
        return "application/x-ndjson"
    # The mapping profile says what the file holds.
    return "application/octet-stream"


async def _import_records(
    settings: Settings, path: Path, options: UploadOptions, bar: Progress, job_ids: list[str]
) -> RecordJobPublic:
    """Upload and hand off in this process, as the operator: ingest spools the file, its worker streams it to
    metrics, and the job is followed until it ends. Returns the job as GET /jobs/{id} shows it."""
    from services.ingest.records import service as records
    from services.ingest.records.schemas import UploadStatus
    from services.ingest.records.spool import read_chunks
    from services.runner import create_root_app

    root = create_root_app(settings)
    ingest = root.state.services["ingest"]
    # This process hands off its own upload only; anything else waiting is the server's to load.
    only: set[str] = set()
    ingest.state.record_handoff_only = only
    async with root.router.lifespan_context(root):
        task = bar.add_task(f"reading {path.name}", total=path.stat().st_size)

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in read_chunks(path):
                bar.advance(task, len(chunk))
                yield chunk

        job, _ = await records.receive_upload(
            ingest.state.db,
            settings.spool_dir,
            OPERATOR,
            chunks(),
            options,
            idempotency_key=None,
            max_bytes=settings.max_bulk_upload_bytes,
        )
        job_ids.append(job.id)
        only.add(job.id)
        ingest.state.record_handoff.wake()
        bar.update(task, description=f"loading {path.name}", completed=0, total=job.bytes_total)
        while True:
            view = await records.job_view(ingest.state.db, ingest.state.metrics_client, OPERATOR, job.id)
            if view.status in (UploadStatus.done, UploadStatus.failed):
                bar.update(task, completed=view.progress.done)
                return view
            waiting = view.status is UploadStatus.spooled and view.attempts > 0
            if waiting and view.attempts >= IMPORT_HAND_OFFS:
                # Metrics runs in this very process: waiting longer rarely helps. The job stays spooled for a server.
                return view
            description = f"waiting for metrics ({view.error})" if waiting else f"loading {path.name}"
            bar.update(task, description=description, completed=view.progress.done)
            await asyncio.sleep(0.2)


@import_app.command("records")
def import_records(
    path: Annotated[
        Path, typer.Argument(help="CSV or NDJSON, optionally gzipped", exists=True, dir_okay=False, readable=True)
    ],
    mapping: Annotated[str, typer.Option(help="The feed's mapping profile: open311, nyc311, boston311, la311...")],
    dataset: Annotated[str, typer.Option(help="The kind of record")] = "service_requests",
    create_departments: Annotated[
        bool, typer.Option("--create-departments", help="Create a department for each agency none maps")
    ] = False,
    department: Annotated[str | None, typer.Option(help="Only this department's records (others are rejected)")] = None,
) -> None:
    """Load a file of raw records (e.g. a city's 311 requests) as the operator, with a progress bar."""
    from rich.markup import escape

    from services.common.errors import CityStatError
    from services.ingest.records.service import UploadOptions

    settings = Settings()
    options = UploadOptions(
        dataset=dataset,
        mapping=mapping,
        department=department,
        create_departments=create_departments,
        media_type=_records_media_type(path),
        filename=path.name,
    )
    job_ids: list[str] = []
    try:
        with Progress(console=err, transient=True) as bar:
            job = asyncio.run(_import_records(settings, path, options, bar, job_ids))
    except CityStatError as exc:
        err.print(f"[red]{escape(str(path))}: {escape(exc.detail)}[/red]")
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        if job_ids:
            err.print(f"interrupted: upload {job_ids[0]} stays spooled; `citystat serve` loads it")
        raise typer.Exit(code=130) from None
    name = escape(path.name)
    if job.status == "spooled":
        err.print(
            f"[red]{name}: metrics could not load it ({escape(job.error or 'no reason given')}); it stays spooled as "
            f"upload {job.id}, which `citystat serve` loads[/red]"
        )
        raise typer.Exit(code=1)
    if job.status == "failed":
        err.print(f"[red]{name}: the load failed: {escape(job.error or 'no reason given')}[/red]")
    summary = job.summary
    if summary is not None:
        typer.echo(
            f"{path.name}: {summary.rows_read} rows read; accepted {summary.accepted}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, rejected {summary.rejected}"
        )
        if summary.departments_created:
            typer.echo(f"departments created: {', '.join(summary.departments_created)}")
        for rejection in summary.first_rejections:
            typer.echo(f"row {rejection.row}, {rejection.field}: {rejection.reason}")
        if summary.rejected > len(summary.first_rejections):
            typer.echo(f"... every rejected row: GET /api/ingest/jobs/{job.id}/rejections")
    if job.status == "failed":
        raise typer.Exit(code=1)


@app.command()
def recompute(
    dataset: Annotated[str, typer.Option(help="The dataset whose computed metrics to recompute")] = "service_requests",
    metric: Annotated[str | None, typer.Option(help="Only this computed metric (its key)")] = None,
    force: Annotated[bool, typer.Option(help="Also change values of locked (approved) periods")] = False,
) -> None:
    """Recompute computed metrics from their raw records, every period, with a progress bar."""
    from rich.markup import escape
    from sqlmodel import select

    from services.metrics.definitions.models import Metric
    from services.metrics.records.compute import recompute as recompute_metric
    from services.metrics.records.compute import recompute_dataset

    settings = Settings()
    db = Database(settings.metrics_database_url)
    reason = "recomputed from the command line"
    try:
        with Progress(console=err, transient=True) as bar, db.session() as session:
            task = bar.add_task("recomputing", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if metric is None:
                results = recompute_dataset(
                    session, dataset, force=force, settings=settings, progress=progress, reason=reason
                )
            else:
                found = session.exec(select(Metric).where(Metric.key == metric)).first()
                if found is None or not found.is_computed:
                    err.print(f"[red]{escape(metric)} is not a computed metric[/red]")
                    raise typer.Exit(code=1)
                results = [recompute_metric(session, found, None, force=force, settings=settings, reason=reason)]
    finally:
        db.dispose()
    for result in results:
        locked = f", {len(result.locked_skipped)} locked periods left as they were" if result.locked_skipped else ""
        typer.echo(
            f"{result.metric}: {result.created} created, {result.updated} updated, {result.deleted} deleted, "
            f"{result.unchanged} unchanged{locked}"
        )


if __name__ == "__main__":
    app()
