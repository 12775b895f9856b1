"""What the staff-page browser tests share: a server on its own databases, a department per test built
with factories, Chromium, and helpers.

The staff pages of the ingest front door in real headless Chromium: signing in, the "due this period"
grid, corrections with a reason, CSV upload and administration.

One server for the module, on its own databases (the demo city's are shared read-only with other
tests); each test builds its own department with factories, so tests neither see nor disturb each
other's values. As of 2017-07-10 the due period of a monthly metric is 2017-06, and every metric
here has values up to 2017-05 only, so the month starts out missing.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright import sync_api

from services.common.db import Database
from services.metrics.definitions.models import Direction
from tests.conftest import DatabaseSet, serving
from tests.factories import DEFAULT_PASSWORD, make_department, make_metric, make_observation, make_target, make_user

expect = sync_api.expect

CHROMIUM = os.environ.get("CITYSTAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
DUE = "2017-06"
HISTORY = [f"{2015 + i // 12}-{i % 12 + 1:02d}" for i in range(6, 29)]  # 2015-07 .. 2017-05

_codes = itertools.count(1)


@dataclass
class Site:
    base: str
    metrics_db: Database
    ingest_db: Database


@dataclass
class City:
    """One department of the test city, with a liaison; `keys` maps a short name to a metric key."""

    code: str
    name: str
    liaison: str
    keys: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    dbs = DatabaseSet("staff", tmp_path_factory.mktemp("staff"))
    metrics_db = Database(dbs.urls["metrics"])
    ingest_db = Database(dbs.urls["ingest"])
    try:
        with serving(dbs.settings(tmp_path_factory.mktemp("staff-data"))) as base:
            yield Site(base, metrics_db, ingest_db)
    finally:
        metrics_db.dispose()
        ingest_db.dispose()
        dbs.drop()


def _history(session, metric, level: float, wobble: float) -> None:
    # A steady series with a little deterministic noise: mean `level`, standard deviation about wobble/√2.
    for i, period in enumerate(HISTORY):
        make_observation(session, metric, period, round(level + wobble * math.sin(i * 1.7), 4))


@pytest.fixture
def city(site) -> City:
    """A department with four monthly metrics due in June 2017 (one unpublished), one already reported,
    and one computed metric that nobody types in."""
    n = next(_codes)
    code = f"FE{n:02d}"
    with site.metrics_db.session() as session:
        dept = make_department(session, code, f"Frontend Test Department {n}")
        k = code.lower()
        on_time = make_metric(session, dept, key=f"{k}.a_on_time", name="Requests closed on time")
        make_target(session, on_time, 0.9, 0.05)
        _history(session, on_time, 0.9, 0.02)
        potholes = make_metric(
            session, dept, key=f"{k}.b_potholes", name="Potholes filled", unit="count", max_value=None
        )
        make_target(session, potholes, 1000, 100)
        _history(session, potholes, 1000, 40)
        days = make_metric(
            session,
            dept,
            key=f"{k}.c_streetlight_days",
            name="Days to fix a streetlight",
            unit="days",
            direction=Direction.lower_is_better,
            max_value=None,
        )
        make_target(session, days, 7, 2)
        _history(session, days, 7, 2)
        backlog = make_metric(
            session,
            dept,
            key=f"{k}.d_backlog",
            name="Internal backlog",
            unit="count",
            direction=Direction.lower_is_better,
            max_value=None,
            is_published=False,
        )
        make_target(session, backlog, 50, 10)
        _history(session, backlog, 45, 5)
        graffiti = make_metric(
            session, dept, key=f"{k}.e_graffiti", name="Graffiti sites cleaned", unit="count", max_value=None
        )
        make_target(session, graffiti, 200, 20)
        _history(session, graffiti, 210, 10)
        make_observation(session, graffiti, DUE, 215)
        make_metric(session, dept, key=f"{k}.z_computed", name="Computed from records", is_computed=True)
        name = dept.name
    liaison = f"{k}.liaison"
    make_user(site.ingest_db, liaison, "liaison", code)
    keys = {
        "on_time": f"{k}.a_on_time",
        "potholes": f"{k}.b_potholes",
        "days": f"{k}.c_streetlight_days",
        "backlog": f"{k}.d_backlog",
        "graffiti": f"{k}.e_graffiti",
        "computed": f"{k}.z_computed",
    }
    return City(code=code, name=name, liaison=liaison, keys=keys)


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Problems:
    """Script errors and failed requests in the page; HTTP errors are kept to be checked by each test."""

    def __init__(self, page) -> None:
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.bad_responses: list[str] = []
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        # A request the browser cancels because the page it belongs to is being left (a reload, a link followed)
        # fails with net::ERR_ABORTED: that is navigation, not a request the server failed.
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.bad_responses.append(f"{r.status} {r.url}"))

    def _failed(self, request) -> None:
        if request.failure != "net::ERR_ABORTED":
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def assert_clean(self, *expected: str) -> None:
        """No script error, no failed request, and no HTTP error except those matching `expected` patterns."""
        assert self.page_errors == [], self.page_errors
        assert self.failed_requests == [], self.failed_requests
        unexpected = [r for r in self.bad_responses if not any(re.search(p, r) for p in expected)]
        assert unexpected == [], unexpected


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    page = context.new_page()
    page.problems = Problems(page)
    yield page
    context.close()


def sign_in_api(page, site: Site, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Signs the page's browser context in without the form (the cookie jar is shared)."""
    response = page.request.post(
        f"{site.base}/api/ingest/auth/login", data={"username": username, "password": password}
    )
    assert response.ok, response.text()


def api_get(page, site: Site, path: str) -> dict:
    response = page.request.get(site.base + path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def row(page, key: str):
    return page.locator(f'#entry-grid tbody tr[data-key="{key}"]')


def value_input(page, key: str):
    return row(page, key).locator("input.value-input")


def paste(page, target, text: str) -> None:
    """Pastes as a person does: the text on the clipboard, then Ctrl+V in the box."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    target.focus()
    page.keyboard.press("ControlOrMeta+V")


# ---- the required journey ---------------------------------------------------------------------
