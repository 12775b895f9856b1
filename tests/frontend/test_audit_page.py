"""The audit log page in real headless Chromium (set-up in staff_site.py): an administrator reads ingest's and
metrics' trails as one list, filters it by service, who, action, department and day, and pages through it; anyone
else is refused without the page asking for the data."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from services.common.auth import OPERATOR
from services.ingest.audit.service import record as record_ingest
from services.metrics.audit.service import record as record_metrics
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.frontend.staff_site import expect, sign_in_api

ROWS = "#audit-table tbody tr"


def _liaison_writes_a_note(site, city) -> None:
    """The liaison signs in (ingest: auth.login) and annotates a metric (metrics: annotation.created); someone
    else fails to sign in as them (ingest: auth.login, rejected)."""
    with httpx.Client(base_url=site.base, timeout=15) as client:
        signed = client.post("/api/ingest/auth/login", json={"username": city.liaison, "password": DEFAULT_PASSWORD})
        assert signed.status_code == 200, signed.text
        note = client.post(
            f"/api/metrics/metrics/{city.keys['on_time']}/annotations",
            json={"period": "2017-05", "kind": "context", "body": "A crew was out sick all month."},
            headers={"X-CSRF-Token": signed.json()["csrf_token"]},
        )
        assert note.status_code == 201, note.text
    refused = httpx.post(
        f"{site.base}/api/ingest/auth/login", json={"username": city.liaison, "password": "not the password"}
    )
    assert refused.status_code == 401


def _apply(page, **choices) -> None:
    form = page.locator("#audit-filters")
    for label, value in choices.items():
        control = form.get_by_label(label, exact=True)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.get_by_role("button", name="Show").click()


def test_admin_reads_both_trails_and_filters_them(page, site, city):
    _liaison_writes_a_note(site, city)
    admin = f"auditor.{city.code.lower()}"
    make_user(site.ingest_db, admin, "admin")
    sign_in_api(page, site, admin)
    page.goto(f"{site.base}/admin.html")
    page.get_by_role("link", name="The full audit log").click()
    expect(page).to_have_url(re.compile(r"/audit\.html$"))

    rows = page.locator(ROWS)
    expect(rows.filter(has_text="annotation.created").first).to_contain_text("Metrics")
    liaison_name = city.liaison.replace(".", " ").title()
    sign_ins = rows.filter(has_text="auth.login").filter(has_text=city.liaison)
    expect(sign_ins.filter(has_text="rejected")).to_have_count(1)
    expect(sign_ins.filter(has_text=liaison_name)).to_have_count(1)
    expect(page.locator("#result-count")).to_contain_text("newest first")

    # One service.
    _apply(page, Service="metrics")
    expect(page).to_have_url(re.compile(r"service=metrics"))
    expect(rows.filter(has_text="annotation.created")).to_have_count(1)
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.service)")) == {"metrics"}

    # One person, in both services: their sign-in and their note, not the failed attempt made in their name.
    page.goto(f"{site.base}/audit.html")
    _apply(page, Who=f"{liaison_name} ({city.liaison})")
    expect(rows).to_have_count(2)
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.action)")) == ["annotation.created", "auth.login"]
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.service)")) == ["ingest", "metrics"]

    # An action prefix and a department, combined with the person.
    _apply(page, Action="auth.", Department=city.code)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("auth.login")
    expect(rows.first).to_contain_text("ok")

    # A day: tomorrow (UTC) holds nothing yet, today holds what was just done.
    today = dt.datetime.now(dt.UTC).date()
    page.goto(f"{site.base}/audit.html")
    _apply(page, **{"From (UTC)": (today + dt.timedelta(days=1)).isoformat()})
    expect(page.locator("#audit-empty")).to_contain_text("No event matches these filters.")
    _apply(page, **{"From (UTC)": today.isoformat(), "To (UTC)": today.isoformat(), "Action": "annotation.created"})
    expect(rows).to_have_count(1)
    page.problems.assert_clean()


def test_the_two_trails_page_as_one_list(page, site, city):
    # 35 events in each service, alternating, so that every page mixes the two.
    for i in range(35):
        with site.ingest_db.session() as session:
            record_ingest(session, OPERATOR, "test.paging", subject=f"{city.code}-ingest-{i:02d}")
        with site.metrics_db.session() as session:
            record_metrics(session, OPERATOR, "test.paging", subject=f"{city.code}-metrics-{i:02d}")
    admin = f"pager.{city.code.lower()}"
    make_user(site.ingest_db, admin, "admin")
    sign_in_api(page, site, admin)
    page.goto(f"{site.base}/audit.html?action=test.paging")
    rows = page.locator(ROWS)
    subjects = rows.locator("td.description")
    expect(rows).to_have_count(50)
    expect(page.locator("#result-count")).to_contain_text("Events 1–50 of 70 matching")
    first_page = subjects.all_inner_texts()
    assert first_page[:2] == [f"{city.code}-metrics-34", f"{city.code}-ingest-34"]
    expect(page.locator("#newer")).to_have_count(0)

    page.locator("#older").click()
    expect(page.locator("#result-count")).to_contain_text("Events 51–70 of 70 matching")
    expect(rows).to_have_count(20)
    second_page = subjects.all_inner_texts()
    assert second_page[-2:] == [f"{city.code}-metrics-00", f"{city.code}-ingest-00"]
    expect(page.locator("#older")).to_have_count(0)
    # Every event once, newest first, the services interleaved.
    expected = [f"{city.code}-{service}-{i:02d}" for i in reversed(range(35)) for service in ("metrics", "ingest")]
    assert first_page + second_page == expected

    page.locator("#newer").click()
    expect(page.locator("#result-count")).to_contain_text("Events 1–50 of 70 matching")
    assert subjects.all_inner_texts() == first_page
    page.problems.assert_clean()


def test_anyone_but_an_admin_is_refused(page, site, city):
    sign_in_api(page, site, city.liaison)
    requested: list[str] = []
    page.on("request", lambda r: "/audit" in r.url and "/api/" in r.url and requested.append(r.url))
    page.goto(f"{site.base}/audit.html")
    expect(page.locator("#admins-only")).to_contain_text("Only administrators can open this page")
    expect(page.locator("#audit-table")).to_have_count(0)
    expect(page.locator("#audit-filters")).to_be_hidden()
    assert requested == []
    assert page.request.get(f"{site.base}/api/ingest/audit").status == 403
    page.problems.assert_clean()
