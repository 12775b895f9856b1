"""The public site (/public/) in real headless Chromium at a phone's width, against the demo city.

`live_server` (tests/conftest.py) serves the demo city over HTTP; `browser` is the module's Chromium from
tests/frontend/staff_site.py (via tests/frontend/conftest.py) and `Watch` the console, script, request and HTTP
error checks of test_pages.py. Expected figures are read from the API, so these tests check that the pages show
what the API says. Every page is walked at 375 px wide: nothing may scroll sideways.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright import sync_api

from tests.frontend.staff_site import TIMEOUT_MS, api_get, sign_in_api
from tests.frontend.test_pages import Watch

expect = sync_api.expect

PHONE = {"width": 375, "height": 812}
STATUS_LABELS = {
    "on_target": "On target",
    "near": "Near target",
    "off_target": "Off target",
    "no_target": "No target",
    "missing": "Missing",
}
# The smallest text a page may use, in CSS pixels (chart axis ticks inside a canvas are not text nodes).
MIN_FONT_PX = 12


@pytest.fixture
def phone(browser) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.watch = Watch(page)
    yield page
    context.close()


def api(base: str, path: str, **params) -> dict:
    response = httpx.get(base + path, params=params, timeout=30)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response.json()


def settled(page) -> None:
    """Waits until the page has drawn everything it loads, so leaving it aborts no request."""
    expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("[aria-busy='true']")).to_have_count(0)
    expect(page.locator("main .loading")).to_have_count(0)


def fits_a_phone(page) -> None:
    """No sideways scrolling at 375 px, and no text smaller than MIN_FONT_PX."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at a {PHONE['width']}px viewport"
    smallest = page.evaluate(
        """() => {
          let min = Infinity, where = "";
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const el = walker.currentNode.parentElement;
            if (!walker.currentNode.textContent.trim() || !el || !el.getClientRects().length) continue;
            const size = parseFloat(getComputedStyle(el).fontSize);
            if (size < min) {
              min = size;
              where = el.tagName + ": " + walker.currentNode.textContent.trim().slice(0, 40);
            }
          }
          return [min, where];
        }"""
    )
    assert smallest[0] >= MIN_FONT_PX, f"{page.url}: {smallest[0]}px text ({smallest[1]})"


def download_problems(base: str, hrefs: dict[str, str]) -> list[str]:
    """Each link fetched as a client would, a few at a time (status and content type; the body is not read to its
    end, so a whole dataset's download costs only its first page)."""

    def problem(item: tuple[str, str]) -> str | None:
        href, media = item
        with httpx.stream("GET", base + href, timeout=60) as response:
            got = response.headers.get("content-type", "")
            if response.status_code != 200 or not got.startswith(media):
                return f"{href}: {response.status_code} {got}"
        return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        return [p for p in pool.map(problem, hrefs.items()) if p]


def media_of(href: str) -> str:
    path = href.split("?")[0]
    return "text/csv" if path.endswith(".csv") else "application/json"


def test_results_by_priority_and_a_metric_page(phone, live_server):
    page = phone
    priorities = sorted(api(live_server, "/api/metrics/priorities")["items"], key=lambda p: (p["position"], p["name"]))
    assert priorities, "the demo city has citywide priorities"
    key_items = {
        p["code"]: api(live_server, "/api/metrics/performance", key="true", priority=p["code"])["items"]
        for p in priorities
    }

    # The front page: every priority with its key metrics, each with its value, target, status in words and trend.
    page.goto(live_server + "/public/")
    settled(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("How the city is doing")
    expect(page.get_by_role("navigation", name="Public site").get_by_role("link")).to_have_text(
        ["Results", "Budget", "Data"]
    )
    for priority in priorities:
        section = page.locator(f'section[data-priority="{priority["code"]}"]')
        expect(section.get_by_role("heading", level=2)).to_have_text(priority["name"])
        items = key_items[priority["code"]]
        assert items, f"{priority['code']} has key metrics in the demo"
        cards = section.locator("article.metric-card")
        expect(cards).to_have_count(len(items))
        for item in items:
            card = section.locator(f'article[data-key="{item["metric"]}"]')
            expect(card.get_by_role("link", name=item["name"], exact=True)).to_have_attribute(
                "href", f"metric.html?key={item['metric']}"
            )
            expect(card.locator(".badge")).to_have_text(re.compile(STATUS_LABELS[item["status"]]))
            expect(card.locator(".metric-trend")).not_to_be_empty()
            expect(card.locator("svg.sparkline")).to_have_attribute("aria-label", re.compile(r"\S"))
            if item["unit"] == "percent" and item["value"] is not None:
                expect(card.locator(".metric-value")).to_have_text(re.compile(r"%$"))
    every = [i for items in key_items.values() for i in items]
    on_target = sum(i["status"] == "on_target" for i in every)
    expect(page.locator("#overview-line")).to_contain_text(f"{on_target} of {len(every)} key results on target")
    fits_a_phone(page)
    page.watch.assert_clean()

    # A metric's page, reached by its link: chart drawn, status, methodology, provisional values, downloads.
    chosen = next((i for i in every if i["metric"] == "dpw.service_requests_on_time"), every[0])
    key = chosen["metric"]
    page.locator(f'article[data-key="{key}"]').get_by_role("link", name=chosen["name"], exact=True).click()
    expect(page).to_have_url(re.compile(rf"/public/metric\.html\?key={re.escape(key)}$"))
    settled(page)
    metric = api(live_server, f"/api/metrics/metrics/{key}")
    perf = api(live_server, f"/api/metrics/metrics/{key}/performance")
    expect(page.get_by_role("heading", level=1)).to_have_text(metric["name"])
    expect(page.locator("#chart canvas").first).to_be_visible()
    expect(page.locator("#chart")).to_have_attribute("role", "img")
    expect(page.locator("#chart")).to_have_attribute("aria-label", re.compile(metric["name"]))
    expect(page.locator("#current-status .badge")).to_have_text(re.compile(STATUS_LABELS[perf["status"]]))
    expect(page.locator("#methodology")).to_contain_text(metric["methodology"][:40])
    observations = api(live_server, f"/api/metrics/metrics/{key}/observations", limit=500)["items"]
    provisional = [o for o in observations if not o["org_unit"] and o["approved"] is False]
    expect(page.locator("#chart-legend li[data-layer='provisional']")).to_have_count(1 if provisional else 0)
    page.get_by_text("Show the values as a table").click()
    expect(page.locator("#values-table tbody .provisional-tag")).to_have_count(len(provisional))
    if perf["approved"] is False:
        expect(page.locator("#provisional-note")).to_be_visible()

    cost = httpx.get(f"{live_server}/api/metrics/metrics/{key}/cost-per-output", timeout=30)
    shows_cost = cost.status_code == 200 and bool(cost.json()["items"])
    expect(page.locator("#cost-section")).to_have_count(1 if shows_cost else 0)

    dataset = next(d for d in api(live_server, "/api/metrics/open-datasets")["items"] if d["key"] == "observations")
    links = page.locator("#downloads a")
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == [
        f"/api/metrics/metrics/{key}/series.csv",
        f"/api/metrics/metrics/{key}/series.json",
        f"/resource/{dataset['id']}.json?metric={key}",
        f"/resource/{dataset['id']}.csv?metric={key}",
    ]
    fits_a_phone(page)
    page.watch.assert_clean()
    assert download_problems(live_server, {href: media_of(href) for href in hrefs}) == []
    rows = api(live_server, f"/resource/{dataset['id']}.json", metric=key)
    assert rows and {r["metric"] for r in rows} == {key}


def assert_round_gridlines(labels: list[str]) -> None:
    """The axis reads $0 and then evenly spaced round amounts ($500M, $1.0B, $1.5B...), not $908M."""
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9}
    amounts = []
    for label in labels:
        match = re.fullmatch(r"\$([\d.]+)([KMB]?)", label.strip())
        assert match, f"axis label {label!r}"
        amounts.append(float(match.group(1)) * scale[match.group(2)])
    assert len(amounts) >= 3 and amounts[0] == 0, labels
    step = amounts[1]
    assert all(b - a == pytest.approx(step) for a, b in zip(amounts, amounts[1:], strict=False)), labels
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(mantissa == pytest.approx(m) for m in (1, 2, 2.5, 5)), labels


def test_budget_explorer_and_a_hearing(phone, live_server):
    page = phone
    years = api(live_server, "/api/metrics/budget/years")["items"]
    assert years, "the demo city has no budget loaded (GET /api/metrics/budget/years is empty)"
    newest = years[0]["fiscal_year"]
    by_department = api(live_server, "/api/metrics/budget/summary", year=newest, by="department")

    page.goto(live_server + "/public/budget.html")
    settled(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget explorer")
    expect(page.get_by_label("Fiscal year", exact=True)).to_have_value(newest)
    expect(page.locator("#year option")).to_have_count(len(years))
    expect(page.locator("#years-chart svg[role='img'] rect")).to_have_count(2 * len(years))
    assert_round_gridlines(page.locator("#years-chart svg text[text-anchor='end']").all_text_contents())
    expect(page.locator("#by-department .bars > li")).to_have_count(len(by_department["items"]))
    for group in ("fund", "category"):
        summary = api(live_server, "/api/metrics/budget/summary", year=newest, by=group)
        expect(page.locator(f"#by-{group} .bars > li")).to_have_count(len(summary["items"]))
        expect(page.locator(f"#by-{group} .bar-fill").first).to_be_visible()
    top = by_department["items"][0]
    expect(page.locator("#by-department .bars > li").first).to_contain_text(top["name"])
    expect(page.locator("#by-department .bars > li").first.locator(".bar-amount")).to_have_text(
        re.compile(r"^-?\$[\d,]+(\.\d\d)?$")
    )
    fits_a_phone(page)

    if len(years) > 1:
        older = years[1]
        page.get_by_label("Fiscal year", exact=True).select_option(older["fiscal_year"])
        expect(page).to_have_url(re.compile(rf"year={older['fiscal_year']}"))
        expect(page.locator("#totals")).to_contain_text(f"Spending, {older['fiscal_year']}")
        settled(page)
    page.watch.assert_clean()

    mapped = next((i for i in by_department["items"] if i["department_code"]), None)
    assert mapped, "no budget department of the demo is mapped to a CityStat department"
    code = mapped["department_code"]
    hearing = api(live_server, f"/api/metrics/budget/hearings/{code}")
    page.goto(live_server + "/public/budget.html")
    settled(page)
    page.locator("#by-department").get_by_role("link", name=mapped["name"], exact=True).click()
    expect(page).to_have_url(re.compile(rf"/public/hearing\.html\?department={code}$"))
    settled(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{hearing['department']['name']}: budget hearing")
    expect(page.locator("#hearing-chart svg[role='img'] rect")).to_have_count(2 * len(hearing["years"]))
    expect(page.locator("#hearing-years tbody tr")).to_have_count(len(hearing["years"]))
    cards = page.locator("#hearing-metrics article.metric-card")
    expect(cards).to_have_count(len(hearing["metrics"]))
    for m in hearing["metrics"]:
        card = page.locator(f'#hearing-metrics article[data-key="{m["metric"]}"]')
        expect(card.locator(".badge")).to_have_text(re.compile(STATUS_LABELS[m["status"]]))
        expect(card.locator(".metric-cost")).to_have_count(1 if m["cost_per_output"] else 0)
    fits_a_phone(page)
    page.watch.assert_clean()


def test_data_catalogue_links(phone, live_server):
    page = phone
    datasets = api(live_server, "/api/metrics/open-datasets")["items"]
    assert {d["key"] for d in datasets} >= {"observations"}

    page.goto(live_server + "/public/catalogue.html")
    settled(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Open data catalogue")
    expect(page.locator("#datasets > li")).to_have_count(len(datasets))
    wanted: dict[str, str] = {}
    for d in datasets:
        card = page.locator(f'article.dataset[data-id="{d["id"]}"]')
        expect(card.get_by_role("heading", level=2)).to_have_text(d["name"])
        expect(card.locator(".row-count")).to_have_text(re.compile(rf"^{d['row_count']:,} rows?$"))
        expect(card.locator(".updated")).to_have_text(re.compile(r"^Updated [A-Z][a-z]+ \d{1,2}, \d{4}$"))
        hrefs = card.locator(".link-list a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs == [
            f"/resource/{d['id']}.json",
            f"/resource/{d['id']}.csv",
            f"/api/views/{d['id']}/rows.csv?accessType=DOWNLOAD",
            f"/api/views/{d['id']}.json",
            f"/api/views/{d['id']}/datapackage.json",
        ]
        wanted.update({href: media_of(href) for href in hrefs})
    site_wide = page.locator("#site-wide a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert site_wide == ["/data.json", "/datapackage.json", "/api/3/action/package_list", "/api/catalog/v1"]
    wanted.update({href: "application/json" for href in site_wide})
    fits_a_phone(page)
    page.watch.assert_clean()
    assert download_problems(live_server, wanted) == []


def test_signed_in_staff_see_on_the_public_site_only_what_the_public_sees(page, site, city):
    # A liaison reads their department's unpublished metric through the staff API with their session...
    sign_in_api(page, site, city.liaison)
    assert api_get(page, site, f"/api/metrics/metrics/{city.keys['backlog']}")["key"] == city.keys["backlog"]
    # ...but the public site asks without the session, so it is not there, as for anyone else.
    page.goto(f"{site.base}/public/metric.html?key={city.keys['backlog']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Metric not found")
    page.goto(f"{site.base}/public/metric.html?key={city.keys['potholes']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Potholes filled")
    page.problems.assert_clean(r"404 .*/api/metrics/metrics/" + re.escape(city.keys["backlog"]))
