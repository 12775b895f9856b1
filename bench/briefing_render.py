"""P5 of the reporting issue: how long a Cabinet briefing of the demo city takes to render, as HTML and as PDF.

Loads the demo city into fresh SQLite databases (with --engine postgresql, a throwaway PostgreSQL's), builds and
publishes a Cabinet briefing for June 2017 (the six suggested metrics, with the commissioners' explanations) in one
process, then times, each as the median of
several runs:
- the HTML rendered from the frozen snapshot (goal: under 300 ms) and the PDF rendered from that HTML (goal: under
  3 s), the two P5 figures;
- reading the numbers from metrics into a snapshot (the build), and GET .../html and .../pdf of the published
  briefing through the ASGI app (stored copies);
- next to GET /api/reporting/health through the same app, as the baseline of the same run.

Prints figures only (see bench/README.md). Usage: .venv/bin/python bench/briefing_render.py [--runs N] [--engine ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import ENGINES, record, sqlite_urls, throwaway_postgres  # noqa: E402

from services.common.auth import OPERATOR, SESSION_COOKIE  # noqa: E402
from services.common.db import Database  # noqa: E402
from services.common.migrations import upgrade  # noqa: E402
from services.common.settings import SERVICES, Settings  # noqa: E402
from services.metrics.demo.load import load_demo  # noqa: E402
from services.reporting.briefings import service  # noqa: E402
from services.reporting.briefings.models import Briefing  # noqa: E402
from services.reporting.briefings.schemas import BriefingCreate, BriefingUpdate, SelectionIn  # noqa: E402
from services.reporting.briefings.snapshot import BriefingKind, Snapshot  # noqa: E402
from services.reporting.clients.metrics import MetricsClient, reporting_session  # noqa: E402
from services.reporting.render import render_html, render_pdf  # noqa: E402
from services.runner import create_root_app  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(runs: int, work) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - started)
    return samples


async def measure(urls: dict[str, str], tmp: Path, runs: int) -> dict:
    """The demo city in fresh databases `urls`, a published Cabinet briefing, and the timings `report` prints."""
    settings = Settings(
        data_dir=tmp,
        as_of=dt.date(2017, 7, 10),
        report_poll_seconds=0,
        **{f"{s}_database_url": urls[s] for s in SERVICES},
    )
    for name in SERVICES:
        upgrade(name, settings.database_url(name))
    started = time.perf_counter()
    metrics_db = Database(settings.metrics_database_url)
    load_demo(metrics_db, settings=settings, multiplier=1)
    metrics_db.dispose()
    print(f"demo city loaded in {time.perf_counter() - started:.1f} s")

    root = create_root_app(settings)
    reporting = root.state.services["reporting"]
    async with root.router.lifespan_context(root):
        db: Database = reporting.state.db
        acting = reporting_session(reporting.state.session_codec)
        metrics = MetricsClient(reporting.state.metrics_http, acting)
        with db.session() as session:
            created = await service.create_briefing(
                session, metrics, OPERATOR, BriefingCreate(kind=BriefingKind.cabinet, period="2017-06")
            )
            briefing_id = created.id
        await reporting.state.builds.run(briefing_id, acting)
        with db.session(write=False) as session:
            draft = session.get(Briefing, briefing_id)
        explained = [
            SelectionIn(metric=row["metric"], reason=row.get("reason"), explanation="The commissioner explains. " * 12)
            for row in draft.selection
        ]
        with db.session() as session:
            service.update_briefing(session, OPERATOR, briefing_id, BriefingUpdate(selection=explained))
        started = time.perf_counter()
        with db.session() as session:
            await service.publish(session, metrics, OPERATOR, briefing_id, as_of=settings.as_of)
        publish_seconds = time.perf_counter() - started
        with db.session(write=False) as session:
            published = session.get(Briefing, briefing_id)
        snapshot = Snapshot.model_validate(published.snapshot)

        async def html() -> None:
            render_html(
                snapshot,
                briefing_id=briefing_id,
                state="published",
                published_at=published.published_at,
                published_by=published.published_by,
            )

        async def pdf() -> None:
            render_pdf(published.html)

        async def build() -> None:
            with db.session(write=False) as session:
                await service.compute_snapshot(
                    session, metrics, published, as_of=settings.as_of, read_at=published.published_at
                )

        transport = httpx.ASGITransport(app=root)
        cookies = {SESSION_COOKIE: acting.session}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", cookies=cookies) as client:

            async def get(path: str):
                async def call() -> None:
                    answer = await client.get(path)
                    assert answer.status_code == 200, answer.text

                return call

            health = await timed(runs * 5, await get("/api/reporting/health"))
            served_html = await timed(runs * 5, await get(f"/api/reporting/briefings/{briefing_id}/html"))
            served_pdf = await timed(runs * 5, await get(f"/api/reporting/briefings/{briefing_id}/pdf"))
        html_samples = await timed(runs * 5, html)
        pdf_samples = await timed(runs, pdf)
        build_samples = await timed(runs, build)

    return {
        "briefing_id": briefing_id, "panels": len(snapshot.panels), "html_bytes": len(published.html),
        "pages": len(PdfReader(io.BytesIO(published.pdf)).pages), "publish_seconds": publish_seconds,
        "health": median_ms(health), "html": median_ms(html_samples), "pdf": median_ms(pdf_samples),
        "build": median_ms(build_samples), "served_html": median_ms(served_html), "served_pdf": median_ms(served_pdf),
    }  # fmt: skip


SNAPSHOT_ONLY = "rendering reads the frozen snapshot, not the database (the baseline's GET does read it)"


def figures(result: dict, engine: str) -> list[dict]:
    note = (f"{result['panels']} metrics; the render reads the frozen snapshot, not the database "
            f"(build from metrics {result['build']:.0f} ms)")
    return [
        record("P5 HTML", engine, result["html"], "ms", baseline=result["health"],
               what="Cabinet briefing HTML rendered from its snapshot", baseline_what="GET /api/reporting/health",
               goal={"max": 300.0, "unit": "ms"}, note=f"{result['html_bytes']:,} bytes; {note}",
               engine_note=SNAPSHOT_ONLY),
        record("P5 PDF", engine, result["pdf"], "ms", baseline=result["health"],
               what="Cabinet briefing PDF rendered from the HTML", baseline_what="GET /api/reporting/health",
               goal={"max": 3000.0, "unit": "ms"}, note=f"{result['pages']} pages; WeasyPrint",
               engine_note=SNAPSHOT_ONLY),
    ]  # fmt: skip


def report(result: dict) -> None:
    base = result["health"]
    print(f"Cabinet briefing {result['briefing_id']}: {result['panels']} metrics, HTML {result['html_bytes']:,} bytes")
    print(f"  baseline GET /api/reporting/health:   {base:8.1f} ms")
    for label, value, goal in (
        ("P5 HTML rendered from the snapshot", result["html"], 300.0),
        ("P5 PDF rendered from the HTML", result["pdf"], 3000.0),
    ):
        ratio = f"{value / goal:.3f} x goal ({goal:.0f} ms), {value / base:.0f} x baseline"
        print(f"  {label + ':':38} {value:8.1f} ms = {ratio}")
    for label, value in (
        ("snapshot read from metrics (build)", result["build"]),
        ("GET .../html (published, stored)", result["served_html"]),
        ("GET .../pdf (published, stored)", result["served_pdf"]),
    ):
        print(f"  {label + ':':38} {value:8.1f} ms = {value / base:.1f} x baseline")
    print(f"  publish (read again, render, PDF):     {result['publish_seconds'] * 1000:8.1f} ms; "
          f"the PDF has {result['pages']} pages")  # fmt: skip


def main(runs: int, engine: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="citystat-briefing-bench-"))
    with contextlib.ExitStack() as stack:
        if engine == "sqlite":
            urls = sqlite_urls(tmp)
        else:
            urls = stack.enter_context(throwaway_postgres()).databases("bench")
        result = asyncio.run(measure(urls, tmp, runs))
    report(result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=ENGINES, default="sqlite")
    arguments = parser.parse_args()
    main(arguments.runs, arguments.engine)
