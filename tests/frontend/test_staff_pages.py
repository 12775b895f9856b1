"""The staff pages of the ingest front door in real headless Chromium: signing in, the "due this period"
grid, corrections with a reason and CSV upload (set-up in staff_site.py)."""

import re

import pytest

from tests.factories import DEFAULT_PASSWORD, make_user
from tests.frontend.staff_site import DUE, api_get, expect, paste, row, sign_in_api, value_input


def test_liaison_fills_the_due_grid_and_sees_statuses_and_receipt(page, site, city):
    k = city.keys
    # Signing in from a staff page comes back to it.
    page.goto(f"{site.base}/due.html")
    expect(page).to_have_url(re.compile(r"/login\.html\?next="))
    page.get_by_label("Username").fill(city.liaison)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/due\.html$"))
    expect(page.locator("#account")).to_contain_text(city.liaison.replace(".", " ").title())
    expect(page.locator("#account").get_by_role("button", name="Sign out")).to_be_visible()

    # The grid: every hand-reported metric of the department (the unpublished one too), none computed.
    expect(page.locator("#period-line")).to_contain_text("June 2017")
    rows = page.locator("#entry-grid tbody tr")
    expect(rows).to_have_count(5)
    assert [rows.nth(i).get_attribute("data-key") for i in range(5)] == [
        k["on_time"],
        k["potholes"],
        k["days"],
        k["backlog"],
        k["graffiti"],
    ]
    expect(row(page, k["computed"])).to_have_count(0)
    for name in ("on_time", "potholes", "days", "backlog"):
        expect(row(page, k[name]).locator(".status-cell")).to_have_text(re.compile("Missing"))
    expect(row(page, k["graffiti"]).locator(".status-cell")).to_have_text(re.compile("On target"))
    expect(row(page, k["graffiti"]).locator(".stored-value")).to_have_text("215")
    expect(row(page, k["on_time"]).locator(".target-cell")).to_have_text("90%")
    expect(row(page, k["on_time"]).locator(".last-values li")).to_have_count(3)
    expect(row(page, k["on_time"]).locator(".last-values")).to_contain_text("May 2017")
    # Each box is labelled for screen readers with its metric and period.
    expect(page.get_by_label("Requests closed on time, value for June 2017")).to_be_visible()

    # Typing: a percentage as a percentage, Enter moves down to the next value.
    on_time = value_input(page, k["on_time"])
    on_time.click()
    page.keyboard.type("95")
    page.keyboard.press("Enter")
    expect(value_input(page, k["potholes"])).to_be_focused()
    # Pasting a column from a spreadsheet fills this box and the ones below it.
    paste(page, value_input(page, k["potholes"]), "950\n10\n")
    expect(value_input(page, k["potholes"])).to_have_value("950")
    expect(value_input(page, k["days"])).to_have_value("10")
    expect(page.locator("#paste-note")).to_have_text("Pasted 2 values.")
    page.keyboard.press("ArrowDown")
    expect(value_input(page, k["backlog"])).to_be_focused()
    page.keyboard.type("40")
    row(page, k["backlog"]).locator("input.comment-input").fill("Two crews back from leave")

    page.get_by_role("button", name="Save values").click()

    receipt = page.locator("#receipt")
    expect(receipt).to_be_focused()
    expect(receipt.get_by_role("heading")).to_have_text("Saved")
    expect(receipt.locator('[data-count="accepted"]')).to_have_text("4")
    expect(receipt.locator('[data-count="updated"]')).to_have_text("0")
    expect(receipt.locator('[data-count="unchanged"]')).to_have_text("0")
    expect(receipt.locator('[data-count="rejected"]')).to_have_text("0")
    # The statuses come back from the performance endpoint, no longer missing.
    expect(row(page, k["on_time"]).locator(".status-cell")).to_have_text(re.compile("On target"))
    expect(row(page, k["potholes"]).locator(".status-cell")).to_have_text(re.compile("Near target"))
    expect(row(page, k["days"]).locator(".status-cell")).to_have_text(re.compile("Off target"))
    expect(row(page, k["backlog"]).locator(".status-cell")).to_have_text(re.compile("On target"))
    expect(row(page, k["on_time"]).locator(".stored-value")).to_have_text("95%")
    expect(page.locator("#entry-grid input.value-input")).to_have_count(0)

    # Stored as the API says it should be: the percentage as a fraction, the comment kept.
    perf = {p["metric"]: p for p in api_get(page, site, f"/api/metrics/performance?department={city.code}")["items"]}
    assert perf[k["on_time"]]["value"] == pytest.approx(0.95)
    assert perf[k["on_time"]]["period"] == DUE
    assert perf[k["potholes"]]["value"] == 950
    assert perf[k["days"]]["value"] == 10
    backlog = api_get(page, site, f"/api/metrics/metrics/{k['backlog']}/observations?start={DUE}&end={DUE}")
    assert backlog["items"][0]["comment"] == "Two crews back from leave"
    page.problems.assert_clean()


# ---- signing in and out -----------------------------------------------------------------------


def test_wrong_password_shows_the_servers_reason(page, site, city):
    page.goto(f"{site.base}/login.html")
    page.get_by_label("Username").fill(city.liaison)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#login-error")
    expect(alert).to_contain_text("The username or password is wrong")
    expect(page).to_have_url(re.compile(r"/login\.html$"))
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()
    assert not any(c["name"] == "citystat_session" for c in page.context.cookies())

    # The right password then works, and signing out returns to the signed-out header.
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Without a page to return to, a liaison starts on their home page, which leads with what is due.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#home-due")).to_be_visible()  # loaded, so leaving aborts no request
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\.html\?signed_out=1$"))
    expect(page.locator("#notice")).to_contain_text("You have signed out.")
    assert not any(c["name"] == "citystat_session" for c in page.context.cookies())
    page.problems.assert_clean(r"^401 .*/api/ingest/auth/login$")


def test_csv_upload_reports_the_bad_rows_number_and_reason(page, site, city):
    k = city.keys
    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/upload.html")
    expect(page.locator("#department-fixed")).to_contain_text(city.name)
    csv = (
        f"metric,period,value,comment\n{k['potholes']},{DUE},1010,\n"
        f"{k['days']},{DUE},six,typed in words\n{k['backlog']},{DUE},44,\n"
    ).encode()
    page.get_by_label("CSV file").set_input_files(files=[{"name": "june.csv", "mimeType": "text/csv", "buffer": csv}])
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    page.get_by_role("button", name="Check the file").click()

    receipt = page.locator("#upload-receipt")
    expect(receipt).to_contain_text("Checked june.csv: 2 rows usable, 1 refused")
    expect(receipt.locator('[data-count="accepted"]')).to_have_text("2")
    bad = page.locator("#rejected-rows tbody tr")
    expect(bad).to_have_count(1)
    expect(bad.locator("th")).to_have_text("3")  # the header is row 1
    expect(bad).to_contain_text("value")
    expect(bad).to_contain_text("value must be a finite number, not 'six'")
    # A check stores nothing.
    perf = {p["metric"]: p for p in api_get(page, site, f"/api/metrics/performance?department={city.code}")["items"]}
    assert perf[k["potholes"]]["status"] == "missing"

    page.get_by_role("button", name="Submit").click()
    expect(receipt).to_contain_text("Submitted june.csv: 2 values stored")
    expect(receipt.locator('[data-count="accepted"]')).to_have_text("2")
    expect(page.locator("#rejected-rows tbody tr th")).to_have_text("3")
    perf = {p["metric"]: p for p in api_get(page, site, f"/api/metrics/performance?department={city.code}")["items"]}
    assert perf[k["potholes"]]["value"] == 1010
    assert perf[k["days"]]["status"] == "missing"

    # A larger file on a slow line shows its progress while it goes up, and the bar goes once answered.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 300, "downloadThroughput": -1, "uploadThroughput": 60_000},
    )
    note = "x" * 1900
    big = "metric,period,value,comment\n" + "".join(f"{k['backlog']},{DUE},44,{note}\n" for _ in range(40))
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": big.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#progress-box")).to_be_visible()
    expect(page.locator("#progress-text")).to_contain_text(re.compile(r"Uploading… \d+%|checking the rows"))
    expect(page.locator("#upload-form")).to_have_attribute("aria-busy", "true")
    expect(receipt).to_contain_text("Checked big.csv: 40 rows usable, 0 refused")
    expect(page.locator("#progress-box")).to_be_hidden()
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # A file that is not CSV at all is refused as a whole, with the server's reason.
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "notes.csv", "mimeType": "text/csv", "buffer": b"when,what\n2017-06,lunch\n"}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#upload-error")).to_contain_text("The file cannot be read")
    expect(page.locator("#upload-error")).to_contain_text("unknown column 'when'")
    page.problems.assert_clean(r"^400 .*/api/ingest/submissions/csv\?")


# ---- corrections and warnings -----------------------------------------------------------------


def test_correction_needs_a_reason_and_joins_the_revision_history(page, site, city):
    key = city.keys["graffiti"]
    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/metric.html?key={key}")
    expect(page.locator("#current-value")).to_have_text("215")
    page.locator(".status-panel").get_by_role("button", name="Correct this value… (June 2017)").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", level=2)).to_have_text("Correct Graffiti sites cleaned, June 2017")
    expect(dialog.locator(".revision-history")).to_contain_text("No changes have been recorded")
    dialog.get_by_label("Corrected value").fill("225")
    dialog.get_by_role("button", name="Save correction").click()
    expect(dialog.locator(".form-errors")).to_contain_text("Give the reason for the correction")
    expect(dialog.get_by_label("Reason for the correction (required)")).to_be_focused()
    dialog.get_by_label("Reason for the correction (required)").fill("Ten sites were missing from the crew sheet")
    dialog.get_by_role("button", name="Save correction").click()

    expect(dialog.locator(".form-outcome")).to_contain_text("Corrected: 215 → 225.")
    history = dialog.locator(".revisions tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Corrected")
    expect(history).to_contain_text("225")
    expect(history).to_contain_text("215")
    expect(history).to_contain_text("Ten sites were missing from the crew sheet")
    # The page behind the dialog shows the corrected figure once it closes.
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#current-value")).to_have_text("225")

    revisions = api_get(page, site, f"/api/metrics/metrics/{key}/observations/{DUE}/revisions")["items"]
    assert [(r["value"], r["previous_value"], r["reason"]) for r in revisions] == [
        (225, 215, "Ten sites were missing from the crew sheet")
    ]

    # The due grid offers the same correction, and shows the corrected value.
    page.goto(f"{site.base}/due.html")
    expect(row(page, key).locator(".stored-value")).to_have_text("225")
    row(page, key).get_by_role("button", name="Correct… Graffiti sites cleaned").click()
    expect(page.get_by_role("dialog").locator(".revisions")).to_contain_text("Ten sites were missing")
    page.problems.assert_clean()


def test_absurd_value_is_flagged_before_saving(page, site, city):
    k = city.keys
    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/due.html")
    value_input(page, k["potholes"]).fill("95000")
    value_input(page, k["on_time"]).fill("950")  # a percentage typed ten times too big: 950%
    page.get_by_role("button", name="Save values").click()

    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("2 values look unusual")
    expect(dialog).to_contain_text("950% is above the highest allowed value, 100%")
    expect(dialog).to_contain_text("95,000 is far outside this metric's last 23 values")
    expect(row(page, k["potholes"]).locator(".row-msg")).to_contain_text("Please check")
    dialog.get_by_role("button", name="Review the values").click()
    expect(dialog).to_have_count(0)
    expect(value_input(page, k["on_time"])).to_be_focused()
    perf = {p["metric"]: p for p in api_get(page, site, f"/api/metrics/performance?department={city.code}")["items"]}
    assert perf[k["potholes"]]["status"] == "missing", "nothing may be saved before the user confirms"

    # Confirming sends them; the server refuses the out-of-range one, and says so next to its row.
    page.get_by_role("button", name="Save values").click()
    page.get_by_role("dialog").get_by_role("button", name="Save anyway").click()
    receipt = page.locator("#receipt")
    expect(receipt.locator('[data-count="accepted"]')).to_have_text("1")
    expect(receipt.locator('[data-count="rejected"]')).to_have_text("1")
    expect(receipt.locator(".rejected-list")).to_contain_text("Requests closed on time")
    on_time = row(page, k["on_time"])
    expect(on_time.locator(".row-msg")).to_contain_text("outside the allowed range")
    expect(on_time.locator("input.value-input")).to_have_value("950")
    expect(on_time.locator("input.value-input")).to_have_attribute("aria-invalid", "true")
    expect(on_time.locator(".status-cell")).to_have_text(re.compile("Missing"))
    expect(row(page, k["potholes"]).locator(".status-cell")).to_have_text(re.compile("On target"))
    page.problems.assert_clean()


def test_public_pages_link_the_staff_pages_and_offer_sign_in(page, site, city):
    page.goto(f"{site.base}/department.html?code={city.code}")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Due this period")).to_have_attribute("href", "due.html")
    expect(nav.get_by_role("link", name="Upload")).to_have_attribute("href", "upload.html")
    expect(nav.get_by_role("link", name="Admin")).to_be_hidden()
    sign_in = page.locator("#account").get_by_role("link", name="Sign in")
    expect(sign_in).to_have_attribute("href", re.compile(r"^login\.html\?next=%2Fdepartment\.html"))
    expect(page.locator("article.metric-card").first).to_be_visible()
    expect(page.locator(".spark-slot[aria-busy]")).to_have_count(0)  # loaded, so leaving aborts no request
    sign_in.click()
    page.get_by_label("Username").fill(city.liaison)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(rf"/department\.html\?code={city.code}$"))
    expect(page.locator("#account")).to_contain_text("Department liaison")
    expect(page.locator("article.metric-card").first).to_be_visible()
    expect(page.locator(".spark-slot[aria-busy]")).to_have_count(0)
    # An address elsewhere is not followed after signing in.
    page.goto(f"{site.base}/login.html?next=https%3A%2F%2Fexample.org%2F")
    page.get_by_label("Username").fill(city.liaison)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(site.base)}/$"))
    expect(page.locator("#home-due")).to_be_visible()
    # No request for who is signed in was made before signing in (a 401 there would be noise).
    page.problems.assert_clean()


def test_viewer_reads_the_grid_but_cannot_enter_values(page, site, city):
    viewer = f"viewer.{city.code.lower()}"
    make_user(site.ingest_db, viewer, "viewer", city.code)
    sign_in_api(page, site, viewer)
    page.goto(f"{site.base}/due.html")
    expect(page.locator("#content")).to_contain_text("can read this department's figures but not submit them")
    expect(page.locator("#entry-grid tbody tr")).to_have_count(5)
    expect(page.locator("#entry-grid input")).to_have_count(0)
    expect(page.get_by_role("button", name="Save values")).to_have_count(0)
    page.goto(f"{site.base}/upload.html")
    expect(page.locator("#content")).to_contain_text("can read figures but not submit them")
    expect(page.locator("#upload-form")).to_be_hidden()
    page.problems.assert_clean()


def test_entry_rules_for_typed_and_pasted_numbers(page, site):
    # The rules the grid and the correction dialog share, run in the browser as the pages run them.
    page.goto(f"{site.base}/login.html")
    results = page.evaluate(
        """async () => {
        const e = await import("./js/entry.js");
        const history = Array.from({ length: 24 }, (_, i) => ({ value: 100 + (i % 2 ? 5 : -5) }));
        const metric = { unit: "count", min_value: 0, max_value: null };
        return {
          plain: e.parseEntry(" 1,234.5 ", "count"),
          dollars: e.parseEntry("$1,200", "dollars"),
          percent: e.parseEntry("95%", "percent"),
          small: e.parseEntry("7", "percent"),
          blank: e.parseEntry("   ", "percent"),
          words: e.parseEntry("twelve", "count"),
          twoDots: e.parseEntry("1.2.3", "count"),
          shown: [e.toInput(0.07, "percent"), e.toInput(0.955, "percent"), e.toInput(1234.5, "count")],
          column: e.pastedRows("95\\r\\n96\\r\\n\\r\\n"),
          rows: e.pastedRows("95\\tfine\\n96\\t"),
          across: e.pastedRows("95\\t96\\t97"),
          single: e.pastedRows("95\\n"),
          usual: e.outlierReason(metric, history, 112),
          far: e.outlierReason(metric, history, 160),
          negative: e.outlierReason(metric, history, -1),
          short: e.outlierReason(metric, history.slice(0, 5), 1e6),
        };
    }"""
    )
    assert results["plain"] == {"value": 1234.5}
    assert results["dollars"] == {"value": 1200}
    assert results["percent"] == {"value": 0.95}
    assert results["small"] == {"value": 0.07}
    assert results["blank"] == {"value": None}
    assert "not a number" in results["words"]["error"]
    assert "not a number" in results["twoDots"]["error"]
    assert results["shown"] == ["7", "95.5", "1234.5"]
    assert results["column"] == [{"value": "95", "comment": None}, {"value": "96", "comment": None}]
    assert results["rows"] == [{"value": "95", "comment": "fine"}, {"value": "96", "comment": ""}]
    assert [r["value"] for r in results["across"]] == ["95", "96", "97"]
    assert results["single"] is None
    assert results["usual"] is None
    assert "far outside this metric's last 24 values (95 to 105)" in results["far"]
    assert results["negative"] == "-1 is below the lowest allowed value, 0"
    assert results["short"] is None, "five values are too few to call anything unusual"
    page.problems.assert_clean()


def test_analyst_chooses_the_department_to_enter(page, site, city):
    analyst = f"analyst.{city.code.lower()}"
    make_user(site.ingest_db, analyst, "analyst")
    sign_in_api(page, site, analyst)
    page.goto(f"{site.base}/due.html")
    expect(page.locator("#content")).to_contain_text("Choose a department")
    picker = page.locator("#department-form")
    picker.get_by_label("Department").select_option(city.code)
    picker.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/due\.html\?department={city.code}$"))
    expect(page.locator("#period-line")).to_contain_text(city.name)
    expect(page.locator("#entry-grid input.value-input")).to_have_count(4)
    expect(picker.get_by_label("Department")).to_have_value(city.code)
    page.problems.assert_clean()
