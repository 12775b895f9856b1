"""What the builder tests share: a metrics client into the whole app in process, acting as a citywide reader or a
signed-in analyst, and a small hand-made city whose values go in through metrics' API (so each has its revision).

The builders are async; each test runs them on its own event loop with asyncio.run, through httpx's ASGI
transport into the same app a TestClient serves (metrics' routes are plain functions run in its thread pool).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx
from fastapi.testclient import TestClient

from services.common.auth import SESSION_COOKIE, SessionCodec, session_key
from services.common.settings import Settings
from services.reporting.briefings.build import BuildRequest, build_snapshot
from services.reporting.briefings.snapshot import Snapshot
from services.reporting.clients.metrics import Acting, MetricsClient, reporting_session
from services.runner import create_root_app
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN
from tests.factories import make_department, make_metric, make_target, make_user, sign_in

T = TypeVar("T")

READ_AT = dt.datetime(2017, 7, 10, 9, 0, tzinfo=dt.UTC)
BATCH = "/api/metrics/observations/batch"
INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def reader_of(settings: Settings) -> Acting:
    """The citywide viewer session reporting signs for builds nobody waits on."""
    return reporting_session(SessionCodec(session_key(settings)))


def run(app, acting: Acting, use: Callable[[MetricsClient], Awaitable[T]]) -> T:
    async def main() -> T:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver/api/metrics") as http:
            return await use(MetricsClient(http, acting))

    return asyncio.run(main())


def build(app, acting: Acting, request: BuildRequest, progress=None, **extra) -> Snapshot:
    return run(
        app,
        acting,
        lambda metrics: build_snapshot(metrics, request, as_of=DEMO_AS_OF, read_at=READ_AT, progress=progress, **extra),
    )


def send(client, department: str, rows: list[dict], actor: str = "user:analyst") -> dict:
    """Values through metrics' delivery API, as ingest hands them over: each change gets its revision. Rows for
    periods already locked carry a reason, as an analyst's correction must."""
    rows = [{"reason": "Entered for the test", **row} for row in rows]
    body = {"department": department, "rows": rows, "actor": actor, "may_correct_locked": True}
    response = client.post(BATCH, json=body, headers=INTERNAL)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["applied"] and not result["summary"]["rejected"], result
    return result


def months(first: str, values: list[float | None]) -> list[tuple[str, float]]:
    """(period, value) for consecutive months from `first`; None leaves a month out."""
    year, month = int(first[:4]), int(first[5:])
    out = []
    for value in values:
        if value is not None:
            out.append((f"{year:04d}-{month:02d}", value))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def small_city(client, metrics_db) -> None:
    """Two departments whose June 2017 is known by heart:

    - pwt.on_time (percent, higher is better, target 90% +/- 5 points): 92% from January to May, 80% in June:
      newly off target.
    - pwt.pothole_days (days, lower is better, target 3 +/- 1): 5 days all along: off target in May already.
    - pwt.tons (count, lower is better, target 100 +/- 10): 105 in May (near), 120 in June: newly off target.
    - pwt.sparse (percent, target 90%): no value in May, 50% in June: off target, but nothing to say of May.
    - wst.breaks (count, lower is better, target 80 +/- 5): 70 every month: on target throughout.
    """
    with metrics_db.session() as s:
        pwt = make_department(s, "PWT", "Public Works Test")
        wst = make_department(s, "WST", "Watershed Test")
        on_time = make_metric(s, pwt, key="pwt.on_time", name="Requests closed on time")
        make_target(s, on_time, 0.9, 0.05)
        days = make_metric(
            s, pwt, key="pwt.pothole_days", name="Days to fill a pothole", unit="days",
            direction="lower_is_better", max_value=None,
        )  # fmt: skip
        make_target(s, days, 3.0, 1.0)
        tons = make_metric(
            s, pwt, key="pwt.tons", name="Tons landfilled", unit="count", direction="lower_is_better", max_value=None
        )
        make_target(s, tons, 100.0, 10.0)
        sparse = make_metric(s, pwt, key="pwt.sparse", name="Sparse rate")
        make_target(s, sparse, 0.9, 0.05)
        breaks = make_metric(
            s, wst, key="wst.breaks", name="Water main breaks", unit="count", direction="lower_is_better",
            max_value=None,
        )  # fmt: skip
        make_target(s, breaks, 80.0, 5.0)
    rows = [
        *({"metric": "pwt.on_time", "period": p, "value": v} for p, v in months("2017-01", [0.92] * 5 + [0.80])),
        *({"metric": "pwt.pothole_days", "period": p, "value": v} for p, v in months("2017-01", [5.0] * 6)),
        *({"metric": "pwt.tons", "period": p, "value": v} for p, v in months("2017-01", [95.0] * 4 + [105, 120])),
        *({"metric": "pwt.sparse", "period": p, "value": v} for p, v in months("2017-01", [0.9] * 4 + [None, 0.5])),
    ]
    send(client, "PWT", rows)
    send(client, "WST", [{"metric": "wst.breaks", "period": p, "value": v} for p, v in months("2017-01", [70.0] * 6)])


def analyst(client, ingest_db, username: str = "ana.lyst") -> tuple[Acting, dict[str, str]]:
    """A performance-office analyst signed in through ingest: their session for reporting, and the CSRF header
    their own writes through the test client need."""
    make_user(ingest_db, username, "analyst")
    csrf = sign_in(client, username)
    return Acting(session=client.cookies[SESSION_COOKIE], csrf=csrf["X-CSRF-Token"]), csrf


@dataclass
class Demo:
    """The whole app over the session's demo databases (read only), and a citywide reader's session."""

    client: TestClient
    acting: Acting

    @property
    def app(self):
        return self.client.app

    def get(self, path: str, **params) -> dict:
        response = self.client.get(f"/api/metrics{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def build(self, request: BuildRequest, **extra) -> Snapshot:
        return build(self.app, self.acting, request, **extra)


@contextmanager
def demo_city(demo_database_set, data_dir) -> Iterator[Demo]:
    settings = demo_database_set.settings(data_dir)
    with TestClient(create_root_app(settings)) as client:
        yield Demo(client, reader_of(settings))
