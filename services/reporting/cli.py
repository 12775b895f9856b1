"""`citystat report KIND --period P`: build a briefing on demand, as the local operator, with a progress bar."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from services.common.auth import OPERATOR
from services.common.settings import Settings
from services.reporting.briefings.snapshot import BriefingKind

err = Console(stderr=True, soft_wrap=True)


async def _report(
    settings: Settings,
    kind: BriefingKind,
    period: str,
    departments: list[str],
    metrics_chosen: list[str],
    title: str | None,
    publish: bool,
    bar: Progress,
) -> tuple[int, str, str, bytes | None, str]:
    from services.reporting.briefings import service
    from services.reporting.briefings.models import Briefing, BuildStatus
    from services.reporting.briefings.schemas import BriefingCreate, SelectionIn
    from services.reporting.clients.metrics import MetricsClient, reporting_session
    from services.runner import create_root_app

    root = create_root_app(settings)
    reporting = root.state.services["reporting"]
    async with root.router.lifespan_context(root):
        db = reporting.state.db
        builds = reporting.state.builds
        metrics = MetricsClient(reporting.state.metrics_http, reporting_session(reporting.state.session_codec))
        body = BriefingCreate(
            kind=kind,
            period=period,
            departments=departments,
            title=title,
            selection=[SelectionIn(metric=key, reason="chosen") for key in metrics_chosen] or None,
        )
        with db.session() as session:
            briefing_id = (await service.create_briefing(session, metrics, OPERATOR, body)).id
        task = bar.add_task(f"building {kind.value} {period}", total=None)

        async def follow() -> None:
            while True:
                with db.session(write=False) as session:
                    row = session.get(Briefing, briefing_id)
                    bar.update(task, completed=row.build_done, total=row.build_total or None)
                await asyncio.sleep(0.2)

        follower = asyncio.create_task(follow())
        try:
            await builds.run(briefing_id, metrics.acting)
        finally:
            follower.cancel()
        with db.session(write=False) as session:
            built = session.get(Briefing, briefing_id)
        if built.build_status != BuildStatus.ready:
            raise typer.BadParameter(built.build_error or "the build failed", param_hint="report")
        if publish:
            bar.update(task, description="publishing (numbers read again, HTML and PDF frozen)")
            with db.session() as session:
                built = await service.publish(session, metrics, OPERATOR, briefing_id, as_of=settings.as_of)
        html = service.html_of(built)
        pdf = built.pdf if built.pdf is not None else None
        return briefing_id, built.title, html, pdf, str(built.state)


def report(
    kind: Annotated[BriefingKind, typer.Argument(help="roundtable, cabinet, memo, annual or frontline")],
    period: Annotated[
        str, typer.Option(help="A month (2017-06); a year for annual (2016); an ISO week for frontline (2017-W23)")
    ],
    department: Annotated[
        list[str] | None, typer.Option(help="A department code; repeat for a roundtable of two or three")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="Cabinet briefing: a metric to review, in order (else the suggested)")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Instead of the usual title")] = None,
    publish: Annotated[bool, typer.Option(help="Publish it: the numbers are frozen as they are now")] = False,
    html: Annotated[Path | None, typer.Option(help="Also write the HTML here", dir_okay=False)] = None,
    pdf: Annotated[Path | None, typer.Option(help="Also write the PDF here", dir_okay=False)] = None,
) -> None:
    """Build a briefing (a draft, unless --publish) from the numbers metrics holds now."""
    from services.common.errors import CityStatError
    from services.reporting.render.pdf import render_pdf

    # This process builds what it is asked; the server's scheduler makes the monthly memos.
    settings = Settings().model_copy(update={"report_poll_seconds": 0})
    try:
        with Progress(console=err, transient=True) as bar:
            briefing_id, shown_title, page, frozen_pdf, state = asyncio.run(
                _report(settings, kind, period, department or [], metric or [], title, publish, bar)
            )
    except CityStatError as exc:
        reasons = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in exc.errors or [])
        err.print(f"[red]{escape(exc.detail)}{escape(' (' + reasons + ')') if reasons else ''}[/red]")
        raise typer.Exit(code=1) from None
    if html is not None:
        html.write_text(page, encoding="utf-8")
    if pdf is not None:
        pdf.write_bytes(frozen_pdf if frozen_pdf is not None else render_pdf(page))
    typer.echo(f"briefing {briefing_id} ({state}): {shown_title}")
    typer.echo(f"  /api/reporting/briefings/{briefing_id}/html")
