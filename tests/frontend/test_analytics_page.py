"""The operational analytics page in real headless Chromium against the whole application serving the demo city
(`live_server`, whose Public Works and Watershed service requests include streetlight outages): choose a category,
see the ranked table, and find in its top row and its sentence what the API ranks first."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright import sync_api

from services.common.db import Database
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.frontend.staff_site import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, Problems

expect = sync_api.expect

ANALYST = "analytics.analyst"
DWM_LIAISON = "analytics.dwm"
STREETLIGHTS = "Streetlight outage"


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def users(demo_database_set) -> None:
    # The demo city has no staff accounts: two are added to its ingest database, once for this module.
    db = Database(demo_database_set.urls["ingest"])
    try:
        make_user(db, ANALYST, "analyst")
        make_user(db, DWM_LIAISON, "liaison", "DWM")
    finally:
        db.dispose()


@pytest.fixture
def page(browser, live_server, users):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.problems = Problems(page)
    yield page
    context.close()


def _sign_in(page, base: str, username: str) -> None:
    response = page.request.post(
        f"{base}/api/ingest/auth/login", data={"username": username, "password": DEFAULT_PASSWORD}
    )
    assert response.ok, response.text()


def _api(page, base: str, **params) -> dict:
    response = page.request.get(f"{base}/api/metrics/datasets/service_requests/analytics", params=params)
    assert response.ok, response.text()
    return response.json()


def _ranked(page, caption: str):
    table = page.locator("#ranking")
    expect(table.locator("caption")).to_contain_text(caption)
    return table


def _first_row(table) -> dict:
    row = table.locator("tbody tr").first
    return {
        "rank": row.get_attribute("data-rank"),
        "area": row.get_attribute("data-area"),
        "hour": row.get_attribute("data-hour"),
        "weekday": row.get_attribute("data-weekday"),
        "requests": row.locator("td.requests .figure").inner_text(),
        "median": row.locator("td.median").inner_text(),
        "open": row.locator("td.open").inner_text(),
    }


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _shows_days(shown: str, value: float | None) -> bool:
    """A median cell shows the value to one decimal, or to two where one would read as the overall median."""
    number = shown.split()[0] if shown.strip() else ""
    return number == _days(value) or (value is not None and number == f"{value:.2f}")


def _figures_both_above_and_below(page) -> dict[str, set[str]]:
    """Median figures the table shows both with ▲ (above the overall median) and ▼ (below it): none should be."""
    arrows: dict[str, set[str]] = {}
    for cell in page.locator("#ranking tbody td.median").all_inner_texts():
        parts = cell.split()
        if len(parts) > 1:
            arrows.setdefault(parts[0], set()).add(parts[1])
    return {figure: seen for figure, seen in arrows.items() if len(seen) > 1}


def test_streetlight_outages_ranked_by_district_and_hour_top_row_as_the_api_ranks_it(page, live_server):
    _sign_in(page, live_server, ANALYST)
    page.goto(f"{live_server}/analytics.html")
    # The busiest category comes first; the analyst picks streetlight outages instead.
    expect(page.locator("#ranking caption")).to_be_visible()
    expect(page.locator("#ranking tbody td.median").first).to_be_visible()
    assert _figures_both_above_and_below(page) == {}
    expect(page.locator("#category option", has_text=STREETLIGHTS)).to_have_count(1)
    page.select_option("#category", STREETLIGHTS)
    page.select_option("#area", "district")
    page.select_option("#time", "hour")
    page.get_by_role("button", name="Rank", exact=True).click()
    table = _ranked(page, f"{STREETLIGHTS} by district and hour opened")

    query = parse_qs(urlparse(page.url).query)
    assert query["category"] == [STREETLIGHTS] and query["time"] == ["hour"] and query["area"] == ["district"]
    api = _api(page, live_server, category=STREETLIGHTS, area="district", time="hour", limit=500)
    top = api["items"][0]
    assert api["total"] > 24  # twelve districts, around the clock
    first = _first_row(table)
    assert first["rank"] == "1" and first["area"] == top["area"] and first["hour"] == str(top["hour"])
    assert first["requests"] == f"{top['requests']:,}"
    assert _shows_days(first["median"], top["median_days_to_close"]), first["median"]
    assert first["open"] == f"{top['open']:,}"
    expect(table.locator("tbody tr")).to_have_count(min(100, api["total"]))
    expect(page.locator("#shown")).to_have_text(f"Showing 100 of {api['total']} groups.")
    # The busiest row is marked, and the sentence says what the top row means.
    expect(table.locator("tbody tr").first.locator(".tag-busiest")).to_have_text("Most requests")
    hour = f"{top['hour']:02d}"
    expect(page.locator("#headline")).to_have_text(
        re.compile(
            rf"^Most streetlight outage requests: district {top['area']} at {hour}:00–{hour}:59, "
            rf"{top['requests']:,} of {api['requests']:,} \(.+%\), median {_days(top['median_days_to_close'])} days"
        )
    )
    slowest = api["slowest"]
    expect(page.locator("#extremes .extreme-slowest")).to_contain_text(f"district {slowest['area']}")
    # Table semantics: column headers, a header cell per row, the ranked column said to be sorted.
    requests_header = table.locator("thead th", has=page.locator('[data-sort="count"]'))
    expect(requests_header).to_have_attribute("aria-sort", "descending")
    expect(table.locator("tbody tr").first.locator('th[scope="row"]')).to_contain_text(f"District {top['area']}")

    # Ranked by median days to close instead: the slowest group on top, as the API ranks it.
    table.locator('.sort-button[data-sort="median_days"]').click()
    expect(page.locator("#ranking thead th", has=page.locator('[data-sort="median_days"]'))).to_have_attribute(
        "aria-sort", "descending"
    )
    by_median = _api(page, live_server, category=STREETLIGHTS, area="district", time="hour", sort="median_days")
    first = _first_row(_ranked(page, "ranked by median days to close, highest first"))
    assert first["area"] == by_median["items"][0]["area"] and first["hour"] == str(by_median["items"][0]["hour"])
    assert _shows_days(first["median"], by_median["items"][0]["median_days_to_close"]), first["median"]
    assert _figures_both_above_and_below(page) == {}
    expect(page.locator("#headline")).to_contain_text("Slowest to close: ")
    page.problems.assert_clean()


def test_grid_cells_by_weekday_for_some_months_and_more_rows_on_request(page, live_server):
    _sign_in(page, live_server, ANALYST)
    page.goto(f"{live_server}/analytics.html?category={STREETLIGHTS}&department=DPW")
    expect(page.locator("#ranking caption")).to_contain_text(f"{STREETLIGHTS} (DPW)")
    page.select_option("#area", "grid")
    expect(page.locator("#grid_size")).to_be_visible()
    page.select_option("#grid_size", "0.01")
    page.select_option("#time", "weekday")
    page.fill("#start", "2017-01")
    page.fill("#end", "2017-06")
    page.fill("#min_requests", "2")
    page.get_by_role("button", name="Rank", exact=True).click()
    table = _ranked(
        page,
        "by grid cell (0.01°) and day of the week opened, opened from January 2017 to June 2017, "
        "groups of at least 2 requests",
    )
    params = {"category": STREETLIGHTS, "department": "DPW", "area": "grid", "grid_size": "0.01", "time": "weekday",
              "start": "2017-01", "end": "2017-06", "min_requests": "2"}  # fmt: skip
    api = _api(page, live_server, **params, limit=500)
    top = api["items"][0]
    first = _first_row(table)
    assert first["area"] == top["area"]["cell"] and first["weekday"] == str(top["weekday"])
    assert first["requests"] == f"{top['requests']:,}"
    assert top["area"]["west"] < 0  # Atlanta: negative longitudes, floored westward
    assert api["left_out_groups"] > 0  # a cell on a weekday with a single request, somewhere in six months
    expect(page.locator("#left-out")).to_contain_text(f"{api['left_out_groups']:,} groups with fewer than 2 requests")
    expect(table.locator("tbody tr").first.locator("td.when")).to_have_text(top["weekday_name"])
    expect(page.locator("#headline")).to_contain_text(
        f"the cell at {top['area']['cell'].replace(',', ', ')} on {top['weekday_name']}s"
    )
    if api["total"] > 100:
        page.locator("#show-more").click()
        expect(table.locator("tbody tr")).to_have_count(min(200, api["total"]))
        last = table.locator("tbody tr").nth(min(200, api["total"]) - 1)
        expect(last).to_have_attribute("data-rank", str(min(200, api["total"])))
    page.problems.assert_clean()


def test_a_liaison_sees_only_their_departments_records_and_nobody_signed_out_sees_any(page, live_server):
    page.goto(f"{live_server}/analytics.html")
    expect(page).to_have_url(re.compile(r"/login\.html\?next="))

    _sign_in(page, live_server, DWM_LIAISON)
    page.goto(f"{live_server}/analytics.html")
    expect(page.locator("#ranking caption")).to_contain_text("(DWM)")
    expect(page.locator("#department option")).to_have_count(1)
    expect(page.locator("#category option", has_text=STREETLIGHTS)).to_have_count(0)
    # Asking for Public Works' records by address gets the server's refusal, shown on the page.
    page.goto(f"{live_server}/analytics.html?department=DPW&category={STREETLIGHTS}")
    expect(page.locator("#department")).to_have_value("DWM")
    refused = page.request.get(
        f"{live_server}/api/metrics/datasets/service_requests/analytics", params={"department": "DPW"}
    )
    assert refused.status == 403
    page.problems.assert_clean()
