"""The reporting pages in real headless Chromium: an analyst builds a Cabinet briefing from the suggestions, reorders
it from the keyboard, explains it, publishes it, downloads its PDF and records the Mayor's direction; a number it
showed leads to the metric page, which says whether the value has changed since; a liaison reads the published
briefing without any of the builder's controls; the calendar of meetings and the commitments tracker.

This module's server has databases of its own holding the demo city (as of 2017-07-10), because these tests write:
briefings, meetings, commitments, the targets directions set, and a correction.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from services.common.db import Database
from tests.conftest import DatabaseSet, load_demo, serving
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.frontend.staff_site import Site, api_get, expect, sign_in_api

PERIOD = "2017-06"
BUILD_TIMEOUT_MS = 60_000
EXPLANATION = "Crews were moved to storm clean-up for two weeks in June."

# Every state the build progress takes on the briefing page, from the first page load on.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const start = () => new MutationObserver(() => {
    const bar = document.getElementById("build-progress");
    const label = document.getElementById("build-progress-label");
    if (!bar || !label) return;
    window.progressSeen.push([label.textContent, bar.hasAttribute("value") ? bar.value : null, bar.max]);
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    """This module's server (in place of staff_site's): the demo city on databases these tests may write."""
    dbs = DatabaseSet("briefpages", tmp_path_factory.mktemp("briefpages"))
    load_demo(dbs)
    metrics_db = Database(dbs.urls["metrics"])
    ingest_db = Database(dbs.urls["ingest"])
    try:
        with serving(dbs.settings(tmp_path_factory.mktemp("briefpages-data"))) as base:
            yield Site(base, metrics_db, ingest_db)
    finally:
        metrics_db.dispose()
        ingest_db.dispose()
        dbs.drop()


def new_user(site: Site, role: str, department: str | None = None) -> str:
    name = f"brief.{role}.{uuid.uuid4().hex[:8]}"
    make_user(site.ingest_db, name, role, department)
    return name


def csrf_of(page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "citystat_csrf")
    return {"X-CSRF-Token": token}


def api_send(page, site: Site, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    response = page.request.fetch(
        site.base + path, method=method, data=body, headers={**csrf_of(page), **(headers or {})}
    )
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else {}


def wait_built(page, site: Site, briefing_id: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        briefing = api_get(page, site, f"/api/reporting/briefings/{briefing_id}")
        if briefing["build"]["status"] in ("ready", "failed") or time.monotonic() > deadline:
            assert briefing["build"]["status"] == "ready", briefing["build"]
            return briefing
        time.sleep(0.2)


def briefing_id_of(page) -> int:
    expect(page).to_have_url(re.compile(r"briefing\.html\?id=\d+$"))
    return int(parse_qs(urlsplit(page.url).query)["id"][0])


def selection_keys(page) -> list[str]:
    return page.locator("#selection > li").evaluate_all("items => items.map((li) => li.dataset.metric)")


def wait_until_built_on_page(page) -> None:
    expect(page.locator("#briefing-frame")).to_be_visible(timeout=BUILD_TIMEOUT_MS)
    expect(page.locator("#build-progress")).to_have_count(0, timeout=BUILD_TIMEOUT_MS)


def test_an_analyst_builds_publishes_and_records_a_direction_in_a_cabinet_briefing(page, site):
    analyst = new_user(site, "analyst")
    sign_in_api(page, site, analyst)
    page.add_init_script(f"({WATCH_PROGRESS})()")
    page.goto(f"{site.base}/briefings.html")

    # A new Cabinet briefing for June 2017: the period input is a month picker for this kind.
    form = page.locator("#new-briefing")
    expect(form.get_by_label("Kind")).to_have_value("cabinet")
    expect(form.get_by_label("Period")).to_have_attribute("type", "month")
    form.get_by_label("Period").fill(PERIOD)
    form.get_by_role("button", name="Create draft").click()
    briefing_id = briefing_id_of(page)
    wait_until_built_on_page(page)

    # It starts with the suggested metrics, each with its reason; suggestions already in it say so.
    draft = api_get(page, site, f"/api/reporting/briefings/{briefing_id}")
    suggested = api_get(page, site, f"/api/reporting/briefings/suggestions?period={PERIOD}&limit=10")
    keys = selection_keys(page)
    assert keys == [row["metric"] for row in draft["selection"]]
    assert 3 <= len(keys) <= 6 and keys == [s["metric"] for s in suggested["items"][: len(keys)]]
    expect(page.locator("#selection-count")).to_contain_text(f"{len(keys)} metrics selected")
    first_suggestion = suggested["items"][0]
    row = page.locator(f'#suggestions li[data-metric="{first_suggestion["metric"]}"]')
    expect(row).to_contain_text(first_suggestion["sentence"])
    expect(row.get_by_role("button")).to_be_disabled()
    expect(row.get_by_role("button")).to_contain_text("Added")
    reason_words = {"off_target": "Off target", "mover": "Big change", "signal": "Statistical signal"}
    expect(row.locator(".tag")).to_have_text(reason_words[first_suggestion["reason"]])

    # Make room if it is full, from the keyboard: Remove on the last metric.
    if len(keys) == 6:
        page.locator("#selection > li").nth(5).get_by_role("button", name=re.compile(r"^Remove")).focus()
        page.keyboard.press("Enter")
        keys = keys[:5]
        assert selection_keys(page) == keys
    # Add another monthly metric from the list of all of them; it goes to the end.
    picker = page.get_by_label("Another metric", exact=True)
    added = picker.locator("option:not([value=''])").first.get_attribute("value")
    assert added not in keys
    picker.select_option(added)
    page.get_by_role("button", name="Add metric").click()
    assert selection_keys(page) == [*keys, added]

    # Move it up twice with the keyboard: Enter on "Move up", which keeps the focus, and each move is announced.
    page.locator(f'#selection > li[data-metric="{added}"]').get_by_role("button", name=re.compile(r"^Move up")).focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    order = [*keys[:-2], added, *keys[-2:]]
    assert selection_keys(page) == order
    assert page.evaluate("document.activeElement.closest('li').dataset.metric") == added
    expect(page.locator("#builder-announce")).to_contain_text(f"to position {len(order) - 2} of {len(order)}")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")

    # The department's explanation for the first metric, then save: a new order rebuilds the draft.
    page.locator("#selection > li").first.locator("textarea").fill(EXPLANATION)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#save-result")).to_have_text("Saved. The metrics changed, so the briefing is being rebuilt.")
    wait_until_built_on_page(page)
    saved = api_get(page, site, f"/api/reporting/briefings/{briefing_id}")
    assert [row["metric"] for row in saved["selection"]] == order
    assert saved["selection"][0]["explanation"] == EXPLANATION
    assert [p["metric"] for p in saved["snapshot"]["panels"]] == order
    # The rebuild's progress was shown while it ran, and never past its total.
    seen = page.evaluate("window.progressSeen")
    assert seen, "the build progress was never shown"
    assert all(label.startswith(("Waiting to build", "Building")) for label, _, _ in seen), seen
    assert all(value is None or 0 <= value <= high for _, value, high in seen), seen
    # The preview is the server's HTML in a sandboxed frame, with the explanation in it.
    expect(page.locator("#briefing-frame")).to_have_attribute("sandbox", re.compile(r"^(?!.*allow-scripts)"))
    expect(page.frame_locator("#briefing-frame").get_by_text(EXPLANATION)).to_be_visible()

    # Publish, after saying yes to freezing the numbers.
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("dialog", name="Publish this briefing?")
    expect(dialog).to_contain_text("freezes them")
    dialog.get_by_role("button", name="Publish").click()
    expect(page.locator("#published-message")).to_have_text(
        "Published. The numbers are frozen.", timeout=BUILD_TIMEOUT_MS
    )
    published = api_get(page, site, f"/api/reporting/briefings/{briefing_id}")
    assert published["state"] == "published" and re.fullmatch(r"[0-9a-f]{64}", published["html_sha256"])
    expect(page.locator("#html-sha256")).to_have_text(published["html_sha256"])
    expect(page.locator("#published-by")).to_contain_text("(you)")
    expect(page.locator("#period-line")).to_contain_text("Published")
    for control in ("#builder", "#publish", "#rebuild", "#delete-draft"):
        expect(page.locator(control)).to_have_count(0)

    # The PDF link downloads a real PDF.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # The Mayor's direction for the first metric: recorded in reporting, and the metric's target set in metrics.
    panel = published["snapshot"]["panels"][0]
    if panel["unit"] == "percent":
        typed, level = "95", 0.95
    else:
        level = round(panel["target"] if panel["target"] is not None else panel["figure"]["value"], 1)
        typed = f"{level:g}"
    direction = page.locator("#direction-form")
    direction.get_by_label("Metric").select_option(panel["metric"])
    direction.get_by_label("Level to reach").fill(typed)
    direction.get_by_label("Deadline").fill("2017-12-31")
    direction.get_by_label("The Mayor's direction").fill("Back on target by the end of the year.")
    direction.get_by_role("button", name="Record commitment").click()
    expect(page.locator("#commit-errors .success-box")).to_contain_text(f"Recorded the direction for {panel['name']}")
    recorded = page.locator(f'#briefing-commitments tr[data-metric="{panel["metric"]}"]')
    expect(recorded).to_contain_text("Back on target by the end of the year.")
    expect(recorded.locator(".badge")).to_have_text(re.compile(r"(Met|On track|At risk|Missed)$"))
    (commitment,) = api_get(page, site, f"/api/reporting/commitments?briefing_id={briefing_id}")["items"]
    assert commitment["kind"] == "direction" and commitment["level"] == pytest.approx(level)
    targets = api_get(page, site, f"/api/metrics/metrics/{panel['metric']}/targets")["items"]
    assert any(t["id"] == commitment["target_id"] and t["value"] == pytest.approx(level) for t in targets), targets
    page.problems.assert_clean()

    # Every number links to its metric, period and revision; the metric page says whether it changed since.
    traced = next(
        p
        for p in published["snapshot"]["panels"]
        if p["figure"]["revision"] is not None
        and p["figure"]["value"] is not None
        and not api_get(page, site, f"/api/metrics/metrics/{p['metric']}")["is_computed"]
    )
    figure = traced["figure"]
    page.get_by_text(re.compile(r"^Where each number comes from")).click()
    link = page.locator(
        f'#figure-table a[href="metric.html?key={figure["metric"]}&period={figure["period"]}'
        f'&revision={figure["revision"]}"]'
    )
    link.click()
    notice = page.locator("#revision-notice")
    expect(notice).to_contain_text(f"A briefing showed revision {figure['revision']} of this value")
    expect(page.locator("#cited-state")).to_have_text("It has not changed since.")

    # A correction after publication: the page now says so; the briefing keeps the value it showed.
    corrected = figure["value"] * 0.5 if figure["value"] else 1.0
    correction = {"metric": figure["metric"], "period": figure["period"]}
    api_send(
        page,
        site,
        "POST",
        f"/api/ingest/submissions?department={traced['department']}",
        {"observations": [{**correction, "value": corrected, "reason": "Recount after the briefing"}]},
        {"Idempotency-Key": uuid.uuid4().hex},
    )
    newest = api_get(page, site, f"/api/metrics/metrics/{figure['metric']}/observations/{figure['period']}/revisions")
    assert newest["items"][0]["id"] != figure["revision"]
    page.reload()
    expect(page.locator("#cited-state")).to_contain_text("It has changed since: now")
    expect(page.locator("#cited-state")).to_contain_text(f"(revision {newest['items'][0]['id']}")
    frozen = api_get(page, site, f"/api/reporting/briefings/{briefing_id}")
    assert frozen["snapshot"] == published["snapshot"]
    page.problems.assert_clean()


def publish_cabinet_briefing(browser, site: Site) -> int:
    """A published Cabinet briefing (the suggested metrics), made by an analyst in a context of their own."""
    context = browser.new_context()
    try:
        office = context.new_page()
        sign_in_api(office, site, new_user(site, "analyst"))
        created = api_send(office, site, "POST", "/api/reporting/briefings", {"kind": "cabinet", "period": PERIOD})
        wait_built(office, site, created["id"])
        api_send(office, site, "POST", f"/api/reporting/briefings/{created['id']}/publish")
        return created["id"]
    finally:
        context.close()


def test_a_liaison_reads_a_published_briefing_without_the_builder(browser, page, site):
    briefing_id = publish_cabinet_briefing(browser, site)
    liaison = new_user(site, "liaison", "DPW")
    sign_in_api(page, site, liaison)

    page.goto(f"{site.base}/briefings.html")
    expect(page.locator(f'#briefing-list tr[data-id="{briefing_id}"]')).to_be_visible()
    expect(page.locator("#new-briefing")).to_have_count(0)
    assert page.locator('#briefing-list tr[data-state="draft"]').count() == 0

    page.locator(f'#briefing-list tr[data-id="{briefing_id}"] a').click()
    assert briefing_id_of(page) == briefing_id
    expect(page.locator("#briefing-frame")).to_be_visible()
    expect(page.locator("#html-sha256")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    for control in ("#builder", "#publish", "#rebuild", "#delete-draft", "#direction-form", "#new-briefing"):
        expect(page.locator(control)).to_have_count(0)
    page.problems.assert_clean()


def test_the_calendar_shows_each_department_its_turn(browser, page, site):
    analyst = new_user(site, "analyst")
    sign_in_api(page, site, analyst)
    page.goto(f"{site.base}/meetings.html")
    panel = page.locator("#meeting-panel")
    panel.locator("summary").click()
    panel.get_by_label("Kind").select_option("roundtable")
    panel.get_by_label("Date").fill("2017-08-17")
    panel.get_by_label("Title").fill("Watershed roundtable, August")
    panel.get_by_label("Department of Watershed Management (DWM)").check()
    panel.get_by_label("Attendees (optional)").fill("Commissioner of Watershed Management\nChief Operating Officer")
    panel.get_by_role("button", name="Add meeting").click()
    expect(page.locator("#meeting-saved")).to_contain_text("Watershed roundtable, August")
    august = page.locator("section.month", has=page.get_by_role("heading", name="August 2017"))
    item = august.locator("li.meeting", has_text="Watershed roundtable, August")
    expect(item).to_contain_text("Department of Watershed Management")
    expect(item).to_contain_text("Roundtable")
    expect(item.locator("time")).to_have_text("August 17, 2017")
    feed = page.request.get(site.base + page.locator("#ics-link").get_attribute("href"))
    # iCalendar folds long lines (CRLF and a space) and escapes commas.
    assert feed.ok and "SUMMARY:Watershed roundtable\\, August" in feed.text().replace("\r\n ", ""), feed.text()
    page.problems.assert_clean()

    # A DWM liaison sees when their turn comes, with their department's feed, and no form to add meetings.
    page.context.clear_cookies()
    sign_in_api(page, site, new_user(site, "liaison", "DWM"))
    page.goto(f"{site.base}/meetings.html")
    expect(page.locator("#next-turn")).to_contain_text("Department of Watershed Management's next roundtable")
    expect(page.locator("#next-turn")).to_contain_text("August 17, 2017")
    expect(page.locator("#ics-link")).to_have_attribute("href", re.compile(r"meetings\.ics\?department=DWM$"))
    expect(page.locator("#meeting-panel")).to_have_count(0)
    expect(page.locator("li.meeting", has_text="Watershed roundtable, August").locator(".tag-own")).to_have_text(
        "Your department"
    )
    page.problems.assert_clean()


def test_the_tracker_lists_action_items_and_the_office_closes_them(page, site):
    analyst = new_user(site, "analyst")
    sign_in_api(page, site, analyst)
    meeting = api_send(
        page,
        site,
        "POST",
        "/api/reporting/meetings",
        {"kind": "roundtable", "held_on": "2017-07-13", "title": "Parks roundtable, July", "departments": ["DPR"]},
    )
    page.goto(f"{site.base}/commitments.html")
    panel = page.locator("#action-panel")
    panel.locator("summary").click()
    panel.get_by_label("Agreed at").select_option(str(meeting["id"]))
    expect(panel.get_by_label("Department", exact=True)).to_have_value("DPR")
    panel.get_by_label("What the department will do").fill("Publish the pool opening schedule.")
    panel.get_by_label("Deadline (optional)").fill("2017-08-01")
    panel.get_by_role("button", name="Add action item").click()
    row = page.locator("#commitment-table tr", has_text="Publish the pool opening schedule.")
    expect(row.locator(".badge")).to_have_text(re.compile(r"Open$"))
    expect(row).to_contain_text("Parks roundtable, July")

    row.get_by_role("button", name=re.compile(r"^Mark done")).click()
    dialog = page.get_by_role("dialog", name="Mark this action item done")
    dialog.get_by_label("What was done (optional)").fill("Posted on the website.")
    dialog.get_by_role("button", name="Mark done").click()
    expect(page.locator("#commitment-outcome")).to_contain_text("Marked done")
    row = page.locator("#commitment-table tr", has_text="Publish the pool opening schedule.")
    expect(row.locator(".badge")).to_have_text(re.compile(r"Done$"))
    expect(row).to_contain_text("Posted on the website.")

    # Filters are plain GET parameters.
    page.get_by_label("Status").select_option("done")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"status=done"))
    expect(page.locator("#commitment-table tbody tr[data-status]")).not_to_have_count(0)
    statuses = page.locator("#commitment-table tbody tr").evaluate_all("rows => rows.map((r) => r.dataset.status)")
    assert set(statuses) == {"done"}, statuses
    page.problems.assert_clean()

    # A DPR liaison sees the item, and no button to close it.
    page.context.clear_cookies()
    sign_in_api(page, site, new_user(site, "liaison", "DPR"), DEFAULT_PASSWORD)
    page.goto(f"{site.base}/commitments.html")
    row = page.locator("#commitment-table tr", has_text="Publish the pool opening schedule.")
    expect(row.locator(".badge")).to_have_text(re.compile(r"Done$"))
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.locator("#action-panel")).to_have_count(0)
    page.problems.assert_clean()
