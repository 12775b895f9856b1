"""The raw-records pages in real headless Chromium: a city's 311 file uploaded with a live progress bar and its
import summary, rejected rows with their reasons, what a liaison may send, and the drill-down from a computed value
to the records behind it.

Uploads go to this module's own server (databases of its own, loaded in chunks of 100 rows so that a file loads in
several steps); the drill-down reads the demo city (`live_server`), whose on-time metrics are computed from its
generated service requests."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from services.common.db import Database
from tests.conftest import DatabaseSet, serving
from tests.factories import DEFAULT_PASSWORD, make_department, make_user
from tests.frontend.staff_site import Site, api_get, expect, sign_in_api

SHARED_311 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "311"
BOSTON = SHARED_311 / "boston311_100_qsv_2022.csv"
NYC = SHARED_311 / "nyc311_sample_1000_2014-2019.csv"
LOAD_TIMEOUT_MS = 60_000
ON_TIME = "dpw.service_requests_on_time"

# Every value the progress bar takes, with the status beside it, from the moment the upload starts.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const panel = document.getElementById("job-panel");
  new MutationObserver(() => {
    const bar = document.getElementById("job-progress");
    const status = document.getElementById("job-status");
    if (!bar || !status) return;
    window.progressSeen.push([status.textContent, bar.hasAttribute("value") ? bar.value : null, bar.max]);
  }).observe(panel, { subtree: true, childList: true, attributes: true, characterData: true });
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    """This module's server (in place of staff_site's): small load chunks, so progress moves in steps."""
    dbs = DatabaseSet("records", tmp_path_factory.mktemp("records"))
    metrics_db = Database(dbs.urls["metrics"])
    ingest_db = Database(dbs.urls["ingest"])
    try:
        with serving(dbs.settings(tmp_path_factory.mktemp("records-data"), bulk_chunk_rows=100)) as base:
            yield Site(base, metrics_db, ingest_db)
    finally:
        metrics_db.dispose()
        ingest_db.dispose()
        dbs.drop()


def new_user(db: Database, role: str, department: str | None = None) -> str:
    name = f"rec.{role}.{uuid.uuid4().hex[:8]}"
    make_user(db, name, role, department)
    return name


def upload(page, file: Path | dict, mapping: str, *, create_departments: bool = False) -> None:
    page.get_by_label("Records file").set_input_files(file)
    expect(page.get_by_label("Dataset")).to_have_value("service_requests")
    page.get_by_label("Mapping profile").select_option(mapping)
    if create_departments:
        page.get_by_label("Create missing departments").check()
    page.evaluate(WATCH_PROGRESS)
    page.get_by_role("button", name="Upload and load").click()


def job_of(page) -> str:
    expect(page).to_have_url(re.compile(r"records\.html\?job=[0-9a-f]{32}$"))
    return parse_qs(urlsplit(page.url).query)["job"][0]


def assert_summary_is_the_jobs(page, job: dict) -> None:
    summary = job["summary"]
    table = page.locator("#import-summary")
    for name in ("rows_read", "accepted", "updated", "unchanged", "rejected"):
        expect(table.locator(f'[data-count="{name}"]')).to_have_text(f"{summary[name]:,}")
    expect(table.locator('[data-count="departments_created"]')).to_have_text(str(len(summary["departments_created"])))
    expect(table.locator('[data-count="recomputed"]')).to_have_text(str(len(summary["recomputed"])))


def assert_progress_went_to_the_end(page, job: dict) -> None:
    total = job["progress"]["total"]
    bar = page.locator("#job-progress")
    expect(bar).to_have_attribute("max", str(total))
    expect(bar).to_have_attribute("value", str(total))
    expect(page.locator("#progress-text")).to_have_text(re.compile(r"^Loaded: 100% of "))
    expect(page.locator("#rows-read")).to_have_text(f"· {job['summary']['rows_read']:,} rows read")
    # While loading, the bar only moved forward, and it counted bytes of this file.
    loading = [value for status, value, high in page.evaluate("window.progressSeen") if status == "Loading"]
    assert loading == sorted(loading) and all(0 <= v <= total for v in loading), loading


def test_an_analyst_loads_a_city_feed_and_watches_it_to_the_summary(page, site):
    analyst = new_user(site.ingest_db, "analyst")
    sign_in_api(page, site, analyst)
    page.goto(f"{site.base}/records.html")
    expect(page.get_by_label("Department", exact=True)).to_have_value("")  # a whole city's feed by default
    upload(page, BOSTON, "boston311", create_departments=True)

    job_id = job_of(page)  # bookmarkable while it loads
    expect(page.locator("#job-status")).to_have_text("Loaded", timeout=LOAD_TIMEOUT_MS)
    job = api_get(page, site, f"/api/ingest/jobs/{job_id}")
    assert job["status"] == "done" and job["create_departments"] and job["department"] is None
    assert job["mapping"] == "boston311" and job["filename"] == BOSTON.name and job["media_type"] == "text/csv"
    summary = job["summary"]
    assert summary["rows_read"] == 100 and summary["departments_created"], summary
    assert summary["accepted"] + summary["rejected"] == 100
    assert_progress_went_to_the_end(page, job)
    assert_summary_is_the_jobs(page, job)
    expect(page.locator("#job-title")).to_have_text(BOSTON.name)
    expect(page.locator("#result-title")).to_have_text(
        f"{summary['accepted']} records stored, {summary['rejected']} {'row' if summary['rejected'] == 1 else 'rows'}"
        " rejected"
    )
    created = page.locator("#import-summary tr", has=page.locator('[data-count="departments_created"]'))
    for code in summary["departments_created"]:
        expect(created).to_contain_text(code)
    # The results are announced, not just drawn.
    expect(page.locator("#job-result")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#job-announce")).to_have_text("Loaded")

    listed = page.locator(f'#jobs-table tbody tr[data-job="{job_id}"]')
    expect(listed).to_contain_text("Loaded")
    expect(listed).to_contain_text("boston311")
    expect(listed.locator("td").nth(4)).to_have_text("100")
    page.problems.assert_clean()


def test_rejected_rows_are_listed_with_their_reasons_and_the_job_reopens_by_its_address(page, site):
    analyst = new_user(site.ingest_db, "analyst")
    sign_in_api(page, site, analyst)
    page.goto(f"{site.base}/records.html")
    upload(page, NYC, "nyc311", create_departments=True)
    job_id = job_of(page)
    expect(page.locator("#job-status")).to_have_text("Loaded", timeout=LOAD_TIMEOUT_MS)
    job = api_get(page, site, f"/api/ingest/jobs/{job_id}")
    assert (job["summary"]["rows_read"], job["summary"]["rejected"]) == (1000, 10)
    assert_progress_went_to_the_end(page, job)
    assert_summary_is_the_jobs(page, job)

    # A fresh visit to the job's address (a bookmark, a reload) shows the same job and its rejected rows.
    page.goto(f"{site.base}/records.html?job={job_id}")
    expect(page.locator("#job-status")).to_have_text("Loaded")
    assert_summary_is_the_jobs(page, job)
    rejections = api_get(page, site, f"/api/ingest/jobs/{job_id}/rejections?limit=100")["items"]
    assert len(rejections) == 10 and {r["field"] for r in rejections} == {"closed_at"}
    expect(page.locator("#rejections-title")).to_have_text("Rejected rows (10)")
    rows = page.locator("#rejected-rows tbody tr")
    expect(rows).to_have_count(10)
    for i, rejection in enumerate(rejections):
        expect(rows.nth(i).locator("th")).to_have_text(f"{rejection['row']:,}")
        expect(rows.nth(i).locator("td")).to_have_text([rejection["record_id"], "closed_at", rejection["reason"]])
    assert "before" in rejections[0]["reason"]
    expect(page.locator("#rejections-position")).to_have_text("Rows 1–10 of 10 rejected")
    expect(page.locator("#rejections-next")).to_be_disabled()
    expect(page.locator(f'#jobs-table tbody tr[data-job="{job_id}"]')).to_have_attribute("aria-current", "true")

    # Another person's address for a job that is not there is said so.
    page.goto(f"{site.base}/records.html?job={'0' * 32}")
    expect(page.locator("#job-error")).to_contain_text("No upload job")
    page.problems.assert_clean(r"^404 .*/api/ingest/jobs/0{32}$")


def test_a_liaison_loads_only_their_own_departments_records_and_creates_no_departments(page, site):
    code, other = (f"R{side}{uuid.uuid4().hex[:4].upper()}" for side in "LO")
    with site.metrics_db.session() as session:
        make_department(session, code, f"Records Liaison Department {code}")
        make_department(session, other, f"Another Department {other}")
    liaison = new_user(site.ingest_db, "liaison", code)
    sign_in_api(page, site, liaison)
    page.goto(f"{site.base}/records.html")
    expect(page.locator("#department-fixed")).to_contain_text(code)
    # No department to choose and no box to tick: creating departments is the performance office's.
    expect(page.get_by_label("Create missing departments")).to_be_hidden()
    expect(page.get_by_label("Department", exact=True)).to_be_hidden()

    def request(n: int, agency: str) -> dict:
        return {
            "service_request_id": f"{code}-{n}",
            "requested_datetime": f"2017-06-0{n}T09:00:00-04:00",
            "agency_responsible": agency,
            "status": "open",
            "service_code": "pothole",
        }

    lines = [request(1, code), request(2, other)]
    body = gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())
    # Gzipped NDJSON: sent as application/gzip, read as NDJSON by its first bytes once unzipped.
    upload(page, {"name": "mine.ndjson.gz", "mimeType": "", "buffer": body}, "open311")
    job_id = job_of(page)
    expect(page.locator("#job-status")).to_have_text("Loaded", timeout=LOAD_TIMEOUT_MS)
    job = api_get(page, site, f"/api/ingest/jobs/{job_id}")
    assert (job["department"], job["create_departments"], job["media_type"]) == (code, False, "application/gzip")
    assert (job["summary"]["accepted"], job["summary"]["rejected"]) == (1, 1)
    assert_summary_is_the_jobs(page, job)
    # The other department's row is refused with the reason, on its NDJSON line.
    rejected = page.locator("#rejected-rows tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("th")).to_have_text("2")
    expect(rejected).to_contain_text(f"this upload may only load {code}'s")
    page.problems.assert_clean()


# ---- drill-down (the demo city) --------------------------------------------------------------------------------


@pytest.fixture
def demo_analyst(demo_database_set) -> str:
    db = Database(demo_database_set.urls["ingest"])
    try:
        return new_user(db, "analyst")
    finally:
        db.dispose()


def records_api(page, base: str, period: str, outcome: str, limit: int, offset: int = 0) -> dict:
    response = page.request.get(
        f"{base}/api/metrics/metrics/{ON_TIME}/records",
        params={"period": period, "outcome": outcome, "limit": limit, "offset": offset},
    )
    assert response.ok, response.text()
    return response.json()


def test_from_a_computed_value_down_to_its_late_requests_page_by_page(page, live_server, demo_analyst):
    response = page.request.post(
        f"{live_server}/api/ingest/auth/login", data={"username": demo_analyst, "password": DEFAULT_PASSWORD}
    )
    assert response.ok, response.text()
    value = page.request.get(f"{live_server}/api/metrics/metrics/{ON_TIME}/observations?start=2017-06&end=2017-06")
    june = value.json()["items"][0]
    late = round(june["denominator"] - june["numerator"])
    closed = records_api(page, live_server, "2017-06", "closed", 1)["total"]

    # The metric page links each period of a computed metric to its records.
    page.goto(f"{live_server}/metric.html?key={ON_TIME}")
    page.locator("details.data-details summary").click()
    link = page.get_by_role("link", name="Records behind June 2017")
    expect(link).to_have_attribute("href", f"drilldown.html?metric={ON_TIME}&period=2017-06")
    link.click()

    expect(page.locator("#title")).to_have_text(re.compile(r"^Records behind "))
    expect(page.locator("#drill-numerator")).to_have_text(f"{june['numerator']:,.0f}")
    expect(page.locator("#drill-denominator")).to_have_text(f"{june['denominator']:,.0f}")
    expect(page.locator("#drill-value")).to_have_text(f"{june['value'] * 100:.1f}".rstrip("0").rstrip(".") + "%")
    # The tabs' counts are the value's own: on time is the numerator, on time and late the denominator.
    expect(page.locator('[data-count="on_time"]')).to_have_text(f"{june['numerator']:,.0f}")
    expect(page.locator('[data-count="late"]')).to_have_text(f"{late:,.0f}")
    expect(page.locator('[data-count="closed"]')).to_have_text(f"{closed:,}")
    expect(page.locator("#value-stale")).to_have_count(0)
    # An on-time rate's records are, by default, those closed in the period.
    expect(page.get_by_role("tab", name=re.compile("^Closed")).first).to_have_attribute("aria-selected", "true")

    page.get_by_role("tab", name=re.compile("^Closed late")).click()
    expect(page).to_have_url(re.compile(r"[?&]outcome=late(&|$)"))
    position = page.locator("#records-position")
    shown = min(50, late)
    expect(position).to_have_text(f"Records 1–{shown} of {late:,}")
    rows = page.locator("#records-table tbody tr")
    expect(rows).to_have_count(shown)
    expect(rows.locator("td:nth-child(7)")).to_have_text(["Late"] * shown)
    first_page = records_api(page, live_server, "2017-06", "late", 50)
    expect(rows.locator("th")).to_have_text([r["id"] for r in first_page["items"]])

    assert late > 50, "the demo's late requests of June 2017 should fill more than one page"
    page.get_by_role("button", name="Next page").click()
    expect(position).to_have_text(f"Records 51–{min(100, late)} of {late:,}")
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    second_page = records_api(page, live_server, "2017-06", "late", 50, 50)
    expect(rows.locator("th")).to_have_text([r["id"] for r in second_page["items"]])
    if late <= 100:
        expect(page.get_by_role("button", name="Next page")).to_be_disabled()

    # The tabs work from the keyboard: an arrow moves to the next one and shows it.
    page.get_by_role("tab", name=re.compile("^Closed late")).focus()
    page.keyboard.press("ArrowRight")
    no_due = page.get_by_role("tab", name=re.compile("^Closed, no due time"))
    expect(no_due).to_be_focused()
    expect(no_due).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(r"[?&]outcome=no_due(&|$)"))
    page.problems.assert_clean()
