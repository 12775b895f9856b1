"""The metric chart's layers and notes, the completeness board and the approvals page in real headless Chromium
(set-up in staff_site.py: one server for the module on its own databases, as of 2017-07-10)."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from services.metrics.approvals.models import PeriodApproval
from services.metrics.definitions.models import TargetBase, ToleranceKind
from services.metrics.definitions.service import add_target
from tests.factories import DEFAULT_PASSWORD, make_department, make_metric, make_observation, make_target, make_user
from tests.frontend.staff_site import DUE, expect, sign_in_api

_codes = itertools.count(1)

# Before the break the metric counted something else (around 60); from January 2016 a steady process around 100
# (centre 100, mean moving range 46/11, so natural process limits of about 88.9 and 111.1) with one value far
# above the upper limit in April 2017 and no run long enough to be a signal.
BEFORE_BREAK = dict(zip([f"2015-{m:02d}" for m in range(7, 13)], [60, 62, 58, 61, 59, 63], strict=True))
AFTER_BREAK = dict(
    zip(
        [f"2016-{m:02d}" for m in range(1, 13)] + [f"2017-{m:02d}" for m in range(1, 7)],
        [101, 103, 98, 102, 97, 101, 99, 104, 96, 102, 98, 99, 101, 97, 103, 140, 99, 106],
        strict=True,
    )
)


def _utc(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 12, tzinfo=dt.UTC)


def _login(page, site, username: str) -> dict[str, str]:
    """Signs the page's context in; returns the CSRF header its writes need."""
    response = page.request.post(
        f"{site.base}/api/ingest/auth/login", data={"username": username, "password": DEFAULT_PASSWORD}
    )
    assert response.ok, response.text()
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _post(page, site, path: str, body: dict, csrf: dict[str, str], method: str = "POST") -> dict:
    response = page.request.fetch(site.base + path, method=method, data=body, headers=csrf)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def _x_of(box: dict, periods: list[str], period: str) -> float:
    # uPlot's time axis runs from the first value to the last, so a period's place is proportional.
    def t(p: str) -> float:
        y, m = map(int, p.split("-"))
        return dt.datetime(y, m, 1, tzinfo=dt.UTC).timestamp()

    first, last = t(periods[0]), t(periods[-1])
    return box["x"] + box["width"] * (t(period) - first) / (last - first)


def test_metric_chart_draws_band_limits_signal_break_notes_and_provisional_values(page, site):
    code = f"PF{next(_codes):02d}"
    with site.metrics_db.session() as session:
        dept = make_department(session, code, f"Permits Office {code}")
        metric = make_metric(
            session, dept, key=f"{code.lower()}.permits", name="Permits issued", unit="count", max_value=None
        )
        make_target(session, metric, 100, 10)
        # From 2017 the target is 110 within 5% (5.5 permits): the band steps up and narrows.
        add_target(
            session,
            metric,
            TargetBase(
                value=110,
                tolerance=5,
                tolerance_kind=ToleranceKind.percent,
                effective_from=dt.date(2017, 1, 1),
                set_by="test",
                reason="raised",
            ),
        )
        for period, value in {**BEFORE_BREAK, **AFTER_BREAK}.items():
            make_observation(session, metric, period, value)
        # Every month up to May is approved; June's value stays provisional.
        for period in [*BEFORE_BREAK, *AFTER_BREAK][:-1]:
            session.add(PeriodApproval(department_id=dept.id, period=period, actor="test", actor_name="Test Head"))
        key = metric.key
    make_user(site.ingest_db, f"{code.lower()}.analyst", "analyst")
    liaison = f"{code.lower()}.liaison"
    make_user(site.ingest_db, liaison, "liaison", code)

    # The analyst marks the change of method as a series break and leaves a note with a reply.
    csrf = _login(page, site, f"{code.lower()}.analyst")
    _post(
        page,
        site,
        f"/api/metrics/metrics/{key}",
        {
            "methodology": "Counts permits of every kind.",
            "reason": "Now counts trade permits too",
            "series_break": True,
            "break_period": "2016-01",
        },
        csrf,
        "PATCH",
    )
    note = _post(
        page,
        site,
        f"/api/metrics/metrics/{key}/annotations",
        {"period": "2017-04", "kind": "data_quality", "body": "A one-off backlog clearance."},
        csrf,
    )
    _post(
        page,
        site,
        f"/api/metrics/metrics/{key}/annotations/{note['id']}/replies",
        {"body": "Confirmed with the permits desk."},
        csrf,
    )
    perf = page.request.get(f"{site.base}/api/metrics/metrics/{key}/performance").json()
    assert [(s["rule"], s["periods"]) for s in perf["limits"]["signals"]] == [("beyond_limits", ["2017-04"])]

    sign_in_api(page, site, liaison)
    page.goto(f"{site.base}/metric.html?key={key}")
    expect(page.locator("#chart canvas").first).to_be_visible()
    legend = page.locator("#chart-legend li")
    expect(legend).to_have_count(9)
    assert [legend.nth(i).get_attribute("data-layer") for i in range(9)] == [
        "value",
        "provisional",
        "target",
        "band",
        "centre",
        "limits",
        "signal",
        "break",
        "note",
    ]
    expect(page.locator('#chart-legend [data-layer="provisional"]')).to_have_text(
        "Provisional value (not yet approved)"
    )

    # The signal: in the list under the chart, in the summary, and named when the point is hovered.
    expect(page.locator("#signal-list li")).to_have_count(1)
    expect(page.locator("#signal-list li")).to_have_text("Beyond the process limits (above): Apr 2017")
    summary = page.locator("#chart-summary")
    expect(summary).to_contain_text("June 2017: 106, near target against a target of 110.")
    expect(summary).to_contain_text("Signals: 1 value above the upper limit (latest April 2017).")
    expect(summary).to_contain_text("The series breaks at January 2016")
    expect(summary).to_contain_text("This value is provisional")
    expect(page.locator("#limits-line")).to_contain_text(
        "baseline Jan 2016 to Dec 2016: centre 100, lower limit 88.9, upper limit 111.1"
    )
    periods = [*BEFORE_BREAK, *AFTER_BREAK]
    box = page.locator("#chart .u-over").bounding_box()
    page.mouse.move(_x_of(box, periods, "2017-04"), box["y"] + box["height"] / 2)
    expect(page.locator("#chart-readout")).to_have_text(
        "April 2017: 140 · target 110 (104.5 to 115.5) · signal: Beyond the process limits (above)"
    )
    page.mouse.move(_x_of(box, periods, "2016-06"), box["y"] + box["height"] / 2)
    expect(page.locator("#chart-readout")).to_have_text("June 2016: 101 · target 100 (90 to 110)")

    # The break: a labelled line on its period, and its reason listed.
    marker = page.locator('#chart .break-marker[data-period="2016-01"]')
    expect(marker).to_be_visible()
    expect(marker).to_have_text("Break · Jan 2016")
    expect(page.locator("#break-list")).to_have_text("January 2016: Now counts trade permits too")

    # Provisional: June says so in the status panel and the table; May was approved.
    expect(page.locator("#value-state")).to_have_text("Provisional: not yet approved")
    page.get_by_text(re.compile(r"Show all \d+ values as a table")).click()
    rows = page.locator(".data-details tbody tr")
    expect(rows.nth(0)).to_contain_text("Jun 2017")
    expect(rows.nth(0)).to_contain_text("Provisional")
    expect(rows.nth(1)).to_contain_text("Approved")

    # The note's marker opens its thread.
    note_marker = page.locator('#chart .note-marker[data-period="2017-04"]')
    expect(note_marker).to_have_attribute("aria-label", "Note on April 2017")
    note_marker.click()
    thread = page.locator("#note-thread")
    expect(thread).to_be_focused()
    expect(thread.get_by_role("heading", name="Notes on April 2017")).to_be_visible()
    expect(thread.locator(f"#note-{note['id']}")).to_contain_text("Data-quality issue")
    expect(thread.locator(f"#note-{note['id']} .note-body").first).to_have_text("A one-off backlog clearance.")
    expect(thread.locator(".reply")).to_have_text(re.compile("Confirmed with the permits desk."))
    expect(note_marker).to_have_attribute("aria-expanded", "true")

    # The department's liaison adds a note (questions are the performance office's to ask).
    expect(page.locator("#note-kind option")).to_have_text(["Context", "Data-quality issue", "Action taken"])
    expect(page.locator("#note-period")).to_have_value("2017-06")
    page.get_by_label("Kind").select_option("action")
    page.get_by_label("Note", exact=True).fill("Hired a second permits clerk.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#note-flash")).to_have_text("Note added for June 2017.")
    expect(page.locator("#note-thread")).to_contain_text("Hired a second permits clerk.")
    expect(page.locator('#chart .note-marker[data-period="2017-06"]')).to_be_visible()
    stored = page.request.get(f"{site.base}/api/metrics/metrics/{key}/annotations?start=2017-06").json()["items"]
    assert [(n["kind"], n["body"]) for n in stored] == [("action", "Hired a second permits clerk.")]
    page.problems.assert_clean()


def test_completeness_board_shows_late_missing_and_stale_values(page, site):
    code = f"PF{next(_codes):02d}"
    with site.metrics_db.session() as session:
        dept = make_department(session, code, f"Records Office {code}")
        steady = make_metric(
            session,
            dept,
            key=f"{code.lower()}.a_requests",
            name="Records requests closed",
            unit="count",
            max_value=None,
        )
        # Due ten days after each month: March's value came on April 25 (15 days late), April's never came.
        arrivals = {
            "2017-01": _utc(2017, 2, 5),
            "2017-02": _utc(2017, 3, 10),
            "2017-03": _utc(2017, 4, 25),
            "2017-05": _utc(2017, 6, 9),
        }
        for period, created_at in arrivals.items():
            make_observation(session, steady, period, 40, created_at=created_at)
        quiet = make_metric(
            session, dept, key=f"{code.lower()}.b_scans", name="Pages scanned", unit="count", max_value=None
        )
        for period, created_at in {
            "2017-01": _utc(2017, 2, 1),
            "2017-02": _utc(2017, 3, 1),
            "2017-03": _utc(2017, 4, 1),
        }.items():
            make_observation(session, quiet, period, 900, created_at=created_at)

    page.goto(f"{site.base}/completeness.html?start=2017-01&end=2017-06")
    expect(page.locator("#start")).to_have_value("2017-01")
    expect(page.locator("#end")).to_have_value("2017-06")
    row = page.locator(f'#board tbody tr[data-department="{code}"]')
    cell = lambda month: row.locator(f'td[data-month="{month}"] .cell')  # noqa: E731
    expect(cell("2017-01")).to_have_attribute("data-status", "on_time")
    expect(cell("2017-01")).to_contain_text("On time")
    expect(cell("2017-03")).to_have_attribute("data-status", "late")
    expect(cell("2017-03")).to_contain_text("Late")
    expect(cell("2017-03")).to_contain_text("1 of 2 late")
    expect(cell("2017-04")).to_have_attribute("data-status", "missing")
    expect(cell("2017-04")).to_contain_text("Missing")
    expect(cell("2017-04")).to_contain_text("2 of 2 missing")
    expect(cell("2017-06")).to_contain_text("Due")
    expect(row.locator("td.total")).to_have_text("6 of 12")

    # A department's metrics, month by month, with the day each value came and how late.
    row.get_by_role("button", name=f"Records Office {code}").click()
    expect(page).to_have_url(re.compile(rf"department={code}"))
    detail = page.locator("#detail")
    expect(detail).to_be_focused()
    steady_row = detail.locator(f'tbody tr[data-metric="{code.lower()}.a_requests"]')
    expect(steady_row.locator('td[data-month="2017-03"]')).to_have_text(
        re.compile(r"Late.*arrived Apr 25, 2017.*15 days late")
    )
    expect(steady_row.locator('td[data-month="2017-04"]')).to_have_text(
        re.compile(r"Missing.*not arrived.*61 days overdue")
    )
    expect(steady_row.locator('td[data-month="2017-05"]')).to_have_text(re.compile(r"On time.*arrived Jun 9, 2017"))

    # The metric that stopped reporting after March is stale: April and May missing.
    stale = page.locator(f'#stale-list tr[data-metric="{code.lower()}.b_scans"]')
    expect(stale).to_contain_text("Pages scanned")
    expect(stale.locator("td").nth(1)).to_have_text("2")
    expect(stale.locator("td").nth(2)).to_have_text("April 2017")
    expect(page.locator(f'#stale-list tr[data-metric="{code.lower()}.a_requests"]')).to_have_count(0)

    # The range controls: a shorter window.
    page.locator("#start").fill("2017-04")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"start=2017-04"))
    expect(page.locator("#board thead th")).to_have_text(["Department", "Apr 2017", "May 2017", "Jun 2017", "On time"])
    # The chosen department came along and is shown again.
    expect(detail.locator(f'tbody tr[data-metric="{code.lower()}.a_requests"] td')).to_have_count(3)
    page.problems.assert_clean()


def test_head_approves_a_month_and_its_values_stop_being_provisional(page, site, city):
    head = f"{city.code.lower()}.head"
    make_user(site.ingest_db, head, "head", city.code)
    graffiti = city.keys["graffiti"]  # the only metric with a June value
    csrf = _login(page, site, head)

    page.goto(f"{site.base}/metric.html?key={graffiti}")
    expect(page.locator("#value-state")).to_have_text("Provisional: not yet approved")
    expect(page.locator("#crumb-dept-item")).to_be_visible()  # its last request is done: leaving aborts nothing

    page.goto(f"{site.base}/approvals.html")
    june = page.locator('#months tbody tr[data-month="2017-06"]')
    expect(june).to_have_attribute("data-state", "provisional")
    expect(june).to_contain_text("1 of 5 in (4 not yet due)")
    expect(page.locator("#months tbody tr")).to_have_count(12)
    page.get_by_label("Note (optional)").fill("Checked with the crews")
    page.get_by_role("button", name="Approve June 2017").click()
    dialog = page.get_by_role("dialog", name="Approve June 2017?")
    expect(dialog).to_contain_text(f"Every value of {city.name} whose period ends in June 2017")
    dialog.get_by_role("button", name="Approve June 2017").click()

    result = page.locator("#approve-result")
    expect(result).to_be_focused()
    expect(result).to_contain_text("June 2017 approved by")
    expect(june).to_have_attribute("data-state", "approved")
    expect(june).to_contain_text("Approved by")
    expect(june).to_contain_text("Checked with the crews")
    # The next month to approve is May.
    expect(page.get_by_role("button", name="Approve May 2017")).to_be_visible()

    # Someone approves May in another tab: this page's attempt shows the server's reason and the new state.
    _post(page, site, f"/api/metrics/departments/{city.code}/approvals", {"period": "2017-05"}, csrf)
    page.get_by_role("button", name="Approve May 2017").click()
    page.get_by_role("dialog").get_by_role("button", name="Approve May 2017").click()
    error = page.locator("#approve-error")
    expect(error).to_contain_text("May 2017 is already approved")
    expect(error).to_contain_text(f"{city.code}'s values for 2017-05 were already approved by")
    expect(page.locator('#months tbody tr[data-month="2017-05"]')).to_have_attribute("data-state", "approved")

    page.goto(f"{site.base}/metric.html?key={graffiti}")
    expect(page.locator("#value-state")).to_have_text("Approved by the department")
    expect(page.locator("#chart-summary")).not_to_contain_text("provisional")
    page.get_by_text(re.compile(r"Show all \d+ values as a table")).click()
    expect(page.locator(".data-details tbody tr").nth(0)).to_contain_text("Jun 2017")
    expect(page.locator(".data-details tbody tr").nth(0)).to_contain_text("Approved")
    observations = page.request.get(f"{site.base}/api/metrics/metrics/{graffiti}/observations?start={DUE}").json()
    assert [o["approved"] for o in observations["items"]] == [True]
    page.problems.assert_clean(r"409 .*/approvals$")


def test_liaison_sees_the_state_but_no_approve_button_and_an_analyst_chooses(page, site, city):
    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/approvals.html")
    expect(page.locator('#months tbody tr[data-month="2017-06"]')).to_have_attribute("data-state", "provisional")
    expect(page.locator("#read-only")).to_contain_text("Your account can see their state but not approve them.")
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    expect(page.locator("#department-form")).to_be_hidden()

    analyst = f"{city.code.lower()}.analyst"
    make_user(site.ingest_db, analyst, "analyst")
    sign_in_api(page, site, analyst)
    page.goto(f"{site.base}/approvals.html")
    page.get_by_label("Department").select_option(city.code)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"department={city.code}"))
    expect(page.locator(".approve-panel")).to_contain_text("You approve on the department's behalf")
    expect(page.get_by_role("button", name="Approve June 2017")).to_be_visible()
    page.problems.assert_clean()
