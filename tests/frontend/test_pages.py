"""The staff frontend in real headless Chromium against the whole application.

`live_server` (from tests/conftest.py) is the base URL of the app serving the demo city
with as_of 2017-07-10: real services, real database. Expected figures that depend on the
data (department count, Public Works' share) are read from the API itself, so these tests
check that the pages show what the API says, not a copy of the demo data.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright import sync_api

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


@pytest.fixture(scope="module")
def browser():
    # A missing browser fails the test: `make test` installs Debian's chromium.
    assert os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watch:
    """Everything that went wrong in the page: console errors, exceptions, failed requests."""

    def __init__(self, page):
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.bad_responses: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed_requests.append(f"{r.method} {r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.bad_responses.append(f"{r.status} {r.url}"))

    def assert_clean(self):
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert self.failed_requests == [], self.failed_requests
        assert self.bad_responses == [], self.bad_responses


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def watch(page) -> Watch:
    return Watch(page)


def api_json(page, base, path):
    response = page.request.get(base + path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def test_department_list_to_metric_chart(page, watch, live_server):
    scorecards = api_json(page, live_server, "/api/reporting/scorecards")
    dpw = next(i for i in scorecards["items"] if i["department"]["code"] == "DPW")
    assert 15 <= scorecards["total"] <= 30, "the demo city has about 20 departments"
    dpw_name = dpw["department"]["name"]
    assert "Public Works" in dpw_name
    dpw_metrics = api_json(page, live_server, "/api/reporting/departments/DPW/scorecard")["metrics"]

    # 1. Department list: every department, the period, and Public Works' share on target.
    page.goto(live_server + "/departments.html")
    rows = page.locator("#departments > li")
    expect(rows).to_have_count(scorecards["total"])
    expect(page.locator("#period-line")).to_contain_text("June 2017")
    expect(page.locator("#period-line")).to_contain_text("July 10, 2017")
    dpw_row = rows.filter(has=page.get_by_role("link", name=dpw_name, exact=True))
    share = f"{dpw['summary']['on_target']} of {dpw['summary']['total']} on target"
    expect(dpw_row).to_contain_text(share)
    expect(dpw_row.get_by_role("img")).to_be_visible()  # the status bar, labelled in words

    # 2. Department page: the on-time card shows 95% and a text status label.
    dpw_row.get_by_role("link", name=dpw_name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/department\.html\?code=DPW"))
    expect(page.get_by_role("heading", level=1)).to_have_text(dpw_name)
    card = page.locator("article.metric-card").filter(
        has=page.get_by_role("heading", name="Service requests completed on time")
    )
    expect(card).to_have_count(1)
    expect(card.locator(".metric-value")).to_contain_text("95%")
    expect(card.locator(".badge")).to_have_text(re.compile("On target"))
    expect(page.locator("article.metric-card")).to_have_count(len(dpw_metrics))
    # Every trend has loaded (so leaving the page aborts no request) and this one is drawn.
    expect(page.locator(".spark-slot[aria-busy]")).to_have_count(0)
    expect(page.locator(".spark-error")).to_have_count(0)
    expect(card.locator("svg.sparkline polyline").first).to_be_visible()

    # 3. Metric page: chart drawn, target named, status shown, methodology present.
    card.get_by_role("link", name="Service requests completed on time").click()
    expect(page).to_have_url(re.compile(r"/metric\.html\?key=dpw\.service_requests_on_time"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Service requests completed on time")
    expect(page.locator("#chart canvas").first).to_be_visible()
    expect(page.locator("#current-target")).to_have_text("90%")
    expect(page.locator("#current-value")).to_have_text("95%")
    expect(page.locator(".status-panel .badge")).to_have_text(re.compile("On target"))
    expect(page.get_by_role("heading", name="Methodology")).to_be_visible()
    # The accessible alternative to the chart lists every value.
    page.get_by_text(re.compile(r"Show all \d+ values as a table")).click()
    expect(page.locator(".data-details tbody tr").first).to_contain_text("Jun 2017")

    watch.assert_clean()


def test_unknown_department_shows_not_found(page, watch, live_server):
    problem = page.request.get(live_server + "/api/reporting/departments/NOPE/scorecard")
    assert problem.status == 404
    assert problem.headers["content-type"].startswith("application/problem+json")
    detail = problem.json()["detail"]

    page.goto(live_server + "/department.html?code=NOPE")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Department not found")
    expect(alert).to_contain_text(detail)
    expect(alert.get_by_role("link", name="Back to all departments")).to_be_visible()
    # The 404 itself is expected (Chromium logs it as a console error); nothing else may fail.
    assert watch.page_errors == []
    assert watch.failed_requests == []
    assert all("404" in m for m in watch.console_errors), watch.console_errors


def test_unknown_metric_shows_not_found(page, watch, live_server):
    page.goto(live_server + "/metric.html?key=no.such_metric")
    expect(page.get_by_role("alert")).to_contain_text("Metric not found")
    assert watch.page_errors == []


def test_server_error_shows_problem_detail(page, watch, live_server):
    # A failing reporting service must show its explanation, not a blank page or a spinner.
    page.route(
        "**/api/reporting/scorecards*",
        lambda route: route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"type":"urn:citystat:problem:unavailable","title":"Service unavailable",'
            '"status":503,"detail":"Reporting is restarting; try again in a minute."}',
        ),
    )
    page.goto(live_server + "/departments.html")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Reporting is restarting; try again in a minute.")
    expect(page.locator("#content")).not_to_have_attribute("aria-busy", "true")
    assert watch.page_errors == []
