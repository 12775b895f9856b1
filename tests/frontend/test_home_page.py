"""The staff home page (index.html) in real headless Chromium: each role's board with its sections and links that
lead to the pages behind them, the departments list now at departments.html, the nav every staff page shares, and
the P7 figures (first contentful paint and bytes transferred on a cold cache, printed; only the bytes asserted:
speed is the benchmark's to judge, bench/frontend_home.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlmodel import select

from bench.frontend_home import MEASURE  # what the page measured itself: paint, board, bytes
from services.metrics.annotations.models import Annotation
from services.metrics.definitions.models import Metric
from tests.factories import make_user
from tests.frontend.staff_site import api_get, expect, sign_in_api

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
P7_MAX_BYTES = 200 * 1024


def _section(page, title: str):
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(title)} \(\d+\)$"))


@pytest.fixture
def people(site, city) -> dict[str, str]:
    """An analyst and the department's head beside the city's liaison, and an analyst's open question."""
    code = city.code.lower()
    users = {"liaison": city.liaison, "head": f"{code}.head", "analyst": f"{code}.analyst"}
    make_user(site.ingest_db, users["head"], "head", city.code)
    make_user(site.ingest_db, users["analyst"], "analyst")
    with site.metrics_db.session() as s:
        metric_id = s.exec(select(Metric.id).where(Metric.key == city.keys["on_time"])).one()
        s.add(
            Annotation(
                metric_id=metric_id, period="2017-05", kind="question", body="Is May's rate final?",
                actor="user:1", actor_name="Office Analyst", at=dt.datetime(2017, 7, 3, tzinfo=dt.UTC),
            )
        )  # fmt: skip
    return users


def test_every_staff_page_starts_its_nav_with_home_then_departments():
    for html in sorted(FRONTEND.glob("*.html")):
        nav = html.read_text().split('aria-label="Main"')[1]
        links = re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', nav)
        assert links[:2] == [("./", "Home"), ("departments.html", "Departments")], html.name


def test_a_liaison_sees_due_late_changed_and_questions(page, site, city, people):
    sign_in_api(page, site, people["liaison"])
    board = api_get(page, site, "/api/reporting/home")
    page.goto(f"{site.base}/")
    expect(page).to_have_title("Home — CityStat")
    expect(page.get_by_role("link", name="Home", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator(".home-role")).to_contain_text(city.name)
    due = _section(page, "Due")
    expect(due.get_by_role("heading")).to_have_text(f"Due ({board['due']['total']})")
    expect(due.get_by_role("link", name="Potholes filled")).to_have_attribute(
        "href", f"metric.html?key={city.keys['potholes']}"
    )
    for title in ("Late", "What changed", "Open questions", "Upcoming meetings"):
        expect(_section(page, title)).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("^Scorecard"))).to_have_count(0)
    questions = _section(page, "Open questions")
    expect(questions).to_contain_text("Is May's rate final?")
    expect(questions).to_contain_text("asked by Office Analyst")
    expect(questions.get_by_role("link", name="Requests closed on time")).to_have_attribute(
        "href", f"metric.html?key={city.keys['on_time']}"
    )

    due.get_by_role("link", name=re.compile("^Enter this period's values")).click()
    expect(page).to_have_url(f"{site.base}/due.html?department={city.code}")
    expect(page.locator("#entry-grid")).to_be_visible()
    page.problems.assert_clean()


def test_a_head_also_sees_the_scorecard(page, site, city, people):
    sign_in_api(page, site, people["head"])
    page.goto(f"{site.base}/")
    card = _section(page, "Scorecard")
    graffiti = card.get_by_role("row").filter(has=page.get_by_role("link", name="Graffiti sites cleaned"))
    expect(graffiti).to_contain_text("On target")
    expect(card.get_by_role("row").filter(has=page.get_by_role("link", name="Potholes filled"))).to_contain_text(
        "Missing"
    )
    expect(_section(page, "Open commitments")).to_contain_text("No open commitments.")
    expect(_section(page, "Due")).to_be_visible()
    card.get_by_role("link", name="Department page").click()
    expect(page).to_have_url(f"{site.base}/department.html?code={city.code}")
    expect(page.get_by_role("heading", level=1)).to_have_text(city.name)
    page.problems.assert_clean()


def test_the_analysts_board_and_the_p7_figures(page, site, city, people):
    # A fresh browser context per test: nothing cached, as on a first visit.
    sign_in_api(page, site, people["analyst"])
    page.goto(f"{site.base}/")
    expect(page.locator(".home-role")).to_contain_text("Citywide")
    for title in ("Off target", "Statistical signals", "Upcoming meetings", "Briefings in preparation"):
        expect(_section(page, title)).to_be_visible()
    expect(page.get_by_role("region", name=re.compile(r"^Missing data, "))).to_be_visible()
    page.wait_for_load_state("networkidle")
    figures = page.evaluate(MEASURE)
    print(
        f"\nP7 staff home: first paint {figures['fcp']:.0f} ms, {figures['bytes'] / 1024:.1f} KB transferred "
        f"({figures['requests']} requests; board on screen at {figures['board']:.0f} ms)"
    )
    assert figures["bytes"] < P7_MAX_BYTES, figures

    # The departments list moved from the home page to its own.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Departments").click()
    expect(page).to_have_url(f"{site.base}/departments.html")
    expect(page).to_have_title("Departments — CityStat")
    expect(page.locator("#departments").get_by_role("link", name=city.name, exact=True)).to_be_visible()
    page.problems.assert_clean()


def test_signed_out_the_home_page_asks_for_a_sign_in(page, site):
    page.goto(f"{site.base}/")
    expect(page).to_have_url(re.compile(r"/login\.html\?next=%2F$"))
