"""Schedules, completeness per department and month, and stale metrics, on hand-made arrivals.

The test settings pin as_of to 2017-07-10, so June's monthly values (due 10 days after June 30) are due today."""

import datetime as dt

import pytest

from services.common.periods import Period
from services.metrics.definitions.models import MetricState
from services.metrics.schedules.schemas import Timeliness
from services.metrics.schedules.service import judge
from tests.conftest import DEMO_AS_OF
from tests.factories import make_department, make_metric, make_observation, make_user, sign_in

PROBLEM = "application/problem+json"


def at(day: str) -> dt.datetime:
    # Midday UTC, so that no database's time zone moves it to another day.
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def arrive(session, metric, period: str, day: str, **extra):
    return make_observation(session, metric, period, 0.9, created_at=at(day), **extra)


def _seed_timeliness(metrics_db):
    """DPW: every kind of arrival; DWM: all on time but June, still due."""
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        monthly = make_metric(s, dpw, key="dpw.monthly", first_period="2017-01", due_days=10)
        arrive(s, monthly, "2017-01", "2017-02-10")  # exactly on its due date
        arrive(s, monthly, "2017-02", "2017-03-11")  # a day after 2017-03-10
        # 2017-03: never arrived
        arrive(s, monthly, "2017-04", "2017-05-01")
        arrive(s, monthly, "2017-05", "2017-06-09")
        # A division's value is no department value: March stays missing.
        arrive(s, monthly, "2017-03", "2017-04-01", org_unit="north-yard")
        quarterly = make_metric(s, dpw, key="dpw.quarterly", frequency="quarter", first_period="2017-Q1", due_days=20)
        arrive(s, quarterly, "2017-Q1", "2017-04-25")  # due 2017-04-20
        # Due 2017-07-09, the day before as_of: missing since yesterday.
        make_metric(s, dpw, key="dpw.short_due", first_period="2017-06", due_days=9)
        make_metric(s, dpw, key="dpw.draft", first_period="2017-01", state=MetricState.draft)
        make_metric(s, dpw, key="dpw.retired", first_period="2017-01", state=MetricState.retired)
        hidden = make_metric(s, dpw, key="dpw.hidden", first_period="2017-06", due_days=5, is_published=False)
        assert hidden.state == MetricState.active
        dwm = make_department(s, "DWM", "Watershed")
        steady = make_metric(s, dwm, key="dwm.steady", first_period="2017-01")
        for month in range(1, 6):
            arrive(s, steady, f"2017-{month:02d}", f"2017-{month + 1:02d}-05")


def _cells(body, department):
    (row,) = [r for r in body["departments"] if r["department"] == department]
    return {c["month"]: c for c in row["cells"]}, row["totals"]


# --------------------------------------------------------------------------------------------------------------
# One expected value
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrived_on", "as_of", "status", "days_late"),
    [
        (dt.date(2017, 7, 10), dt.date(2017, 7, 20), Timeliness.on_time, 0),  # on the due date
        (dt.date(2017, 7, 1), dt.date(2017, 7, 20), Timeliness.on_time, 0),
        (dt.date(2017, 7, 11), dt.date(2017, 7, 20), Timeliness.late, 1),
        (dt.date(2017, 9, 8), dt.date(2017, 9, 8), Timeliness.late, 60),
        (None, dt.date(2017, 7, 10), Timeliness.due, 0),  # today is the due date: it may still come on time
        (None, dt.date(2017, 7, 11), Timeliness.missing, 1),
        (None, dt.date(2017, 7, 1), Timeliness.due, 0),
    ],
)
def test_a_value_is_on_time_up_to_and_including_its_due_date(arrived_on, as_of, status, days_late):
    entry = judge(Period.parse("2017-06"), 10, arrived_on, as_of)
    assert entry.due_date == dt.date(2017, 7, 10)
    assert (entry.status, entry.days_late) == (status, days_late)
    assert entry.month == "2017-06"


def test_a_value_sits_in_the_month_its_period_ends():
    assert judge(Period.parse("2017-Q2"), 20, None, DEMO_AS_OF).month == "2017-06"
    assert judge(Period.parse("2016"), 30, None, DEMO_AS_OF).month == "2016-12"
    # 2017-W26 runs from Monday 26 June to Sunday 2 July.
    week = judge(Period.parse("2017-W26"), 3, None, DEMO_AS_OF)
    assert (week.month, week.due_date, week.status, week.days_late) == (
        "2017-07",
        dt.date(2017, 7, 5),
        Timeliness.missing,
        5,
    )


# --------------------------------------------------------------------------------------------------------------
# A metric's schedule
# --------------------------------------------------------------------------------------------------------------


def test_schedule_lists_expected_periods_newest_first(client, metrics_db):
    _seed_timeliness(metrics_db)
    body = client.get("/api/metrics/metrics/dpw.monthly/schedule").json()
    assert (body["expected"], body["first_period"], body["total"]) == (True, "2017-01", 6)
    rows = [(i["period"], i["status"], i["arrived_on"], i["days_late"]) for i in body["items"]]
    assert rows == [
        ("2017-06", "due", None, 0),
        ("2017-05", "on_time", "2017-06-09", 0),
        ("2017-04", "on_time", "2017-05-01", 0),
        ("2017-03", "missing", None, (DEMO_AS_OF - dt.date(2017, 4, 10)).days),
        ("2017-02", "late", "2017-03-11", 1),
        ("2017-01", "on_time", "2017-02-10", 0),
    ]
    assert body["items"][0]["due_date"] == "2017-07-10"


def test_schedule_filters_by_window_and_pages(client, metrics_db):
    _seed_timeliness(metrics_db)
    window = client.get("/api/metrics/metrics/dpw.monthly/schedule", params={"start": "2017-02", "end": "2017-04"})
    assert [i["period"] for i in window.json()["items"]] == ["2017-04", "2017-03", "2017-02"]
    assert window.json()["total"] == 3
    page = client.get("/api/metrics/metrics/dpw.monthly/schedule", params={"limit": 2, "offset": 1}).json()
    assert [i["period"] for i in page["items"]] == ["2017-05", "2017-04"]
    assert page["total"] == 6
    # A quarter is kept when it ends in the window, whatever frequency the window is written in.
    quarter = client.get(
        "/api/metrics/metrics/dpw.quarterly/schedule", params={"start": "2017-06", "end": "2017-06"}
    ).json()
    assert [(i["period"], i["status"], i["due_date"]) for i in quarter["items"]] == [("2017-Q2", "due", "2017-07-20")]


def test_draft_and_retired_metrics_expect_nothing(client, metrics_db):
    _seed_timeliness(metrics_db)
    for key, state in (("dpw.draft", "draft"), ("dpw.retired", "retired")):
        body = client.get(f"/api/metrics/metrics/{key}/schedule").json()
        assert (body["state"], body["expected"], body["items"], body["total"]) == (state, False, [], 0)


def test_without_first_period_the_schedule_starts_at_the_first_value(client, metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        metric = make_metric(s, dpw, key="dpw.no_start")
        arrive(s, metric, "2017-04", "2017-05-02")
        never = make_metric(s, dpw, key="dpw.never")
    body = client.get("/api/metrics/metrics/dpw.no_start/schedule").json()
    assert body["first_period"] == "2017-04"
    assert [i["period"] for i in body["items"]] == ["2017-06", "2017-05", "2017-04"]
    assert client.get(f"/api/metrics/metrics/{never.key}/schedule").json()["expected"] is False


def test_a_value_stamped_after_as_of_arrived_today(client, metrics_db):
    # The demo city lives on 2017-07-10 while the real clock stamps values years later.
    with metrics_db.session() as s:
        metric = make_metric(s, make_department(s, "DPW", "Public Works"), key="dpw.live", first_period="2017-05")
        make_observation(s, metric, "2017-06", 0.9)
        make_observation(s, metric, "2017-05", 0.9)
    items = client.get("/api/metrics/metrics/dpw.live/schedule").json()["items"]
    assert [(i["period"], i["arrived_on"], i["status"]) for i in items] == [
        ("2017-06", "2017-07-10", "on_time"),
        ("2017-05", "2017-07-10", "late"),
    ]


def test_schedule_refuses_a_window_that_ends_before_it_starts(client, metrics_db):
    _seed_timeliness(metrics_db)
    response = client.get("/api/metrics/metrics/dpw.monthly/schedule", params={"start": "2017-05", "end": "2017-Q1"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert client.get("/api/metrics/metrics/nope/schedule").status_code == 404


# --------------------------------------------------------------------------------------------------------------
# Completeness
# --------------------------------------------------------------------------------------------------------------


def test_completeness_counts_each_department_and_month(client, metrics_db):
    _seed_timeliness(metrics_db)
    body = client.get("/api/metrics/completeness", params={"start": "2017-01", "end": "2017-06"}).json()
    assert body["months"] == ["2017-01", "2017-02", "2017-03", "2017-04", "2017-05", "2017-06"]
    assert [d["department"] for d in body["departments"]] == ["DPW", "DWM"]
    assert body["metrics"] is None
    dpw, totals = _cells(body, "DPW")
    assert {m: c["status"] for m, c in dpw.items()} == {
        "2017-01": "on_time",
        "2017-02": "late",
        "2017-03": "missing",
        "2017-04": "on_time",
        "2017-05": "on_time",
        "2017-06": "missing",
    }
    # March: the monthly value missing and the first quarter's value, late, in the quarter's last month.
    march = dpw["2017-03"]
    assert (march["expected"], march["on_time"], march["late"], march["missing"], march["due"]) == (2, 0, 1, 1, 0)
    # June: monthly and quarterly still due, the 9-day metric missing; drafts, retired and unpublished not counted.
    june = dpw["2017-06"]
    assert (june["expected"], june["on_time"], june["late"], june["missing"], june["due"]) == (3, 0, 0, 1, 2)
    assert totals == {"expected": 9, "on_time": 3, "late": 2, "missing": 2, "due": 2}
    dwm, _ = _cells(body, "DWM")
    assert [c["status"] for c in dwm.values()] == ["on_time"] * 5 + ["due"]


def test_completeness_defaults_to_the_last_six_complete_months(client, metrics_db):
    _seed_timeliness(metrics_db)
    body = client.get("/api/metrics/completeness").json()
    assert (body["start"], body["end"], body["as_of"]) == ("2017-01", "2017-06", "2017-07-10")
    future = client.get("/api/metrics/completeness", params={"start": "2017-06", "end": "2017-08"}).json()
    dpw, _ = _cells(future, "DPW")
    # July's periods have not ended: nothing is expected yet.
    assert (dpw["2017-07"]["status"], dpw["2017-07"]["expected"]) == ("none", 0)
    assert dpw["2017-06"]["expected"] == 3


def test_a_long_window_keeps_its_latest_months(client, metrics_db):
    _seed_timeliness(metrics_db)
    body = client.get("/api/metrics/completeness", params={"start": "2010-01", "end": "2017-06"}).json()
    assert (body["start"], body["end"], len(body["months"])) == ("2014-07", "2017-06", 36)


@pytest.mark.parametrize(
    ("params", "window"),
    [
        ({"start": "2017-03"}, ("2017-03", "2017-06")),  # up to the last complete month
        ({"start": "2018-02"}, ("2018-02", "2018-07")),  # a later start: its six months
        ({"end": "2016-02"}, ("2015-09", "2016-02")),
        ({"end": "1900-02"}, ("1900-01", "1900-02")),  # no further back than a request may name
        ({"start": "2199-10"}, ("2199-10", "2199-12")),
    ],
)
def test_a_window_given_by_one_end(client, metrics_db, params, window):
    _seed_timeliness(metrics_db)
    body = client.get("/api/metrics/completeness", params=params).json()
    assert (body["start"], body["end"]) == window


def test_completeness_for_one_department_lists_each_metric(client, metrics_db):
    _seed_timeliness(metrics_db)
    body = client.get("/api/metrics/completeness", params={"department": "DPW"}).json()
    assert [d["department"] for d in body["departments"]] == ["DPW"]
    details = {m["metric"]: m for m in body["metrics"]}
    # Only active, published metrics for an anonymous caller.
    assert sorted(details) == ["dpw.monthly", "dpw.quarterly", "dpw.short_due"]
    assert [(v["period"], v["month"], v["status"], v["days_late"]) for v in details["dpw.quarterly"]["values"]] == [
        ("2017-Q1", "2017-03", "late", 5),
        ("2017-Q2", "2017-06", "due", 0),
    ]
    assert [v["status"] for v in details["dpw.short_due"]["values"]] == ["missing"]


def test_unpublished_metrics_count_only_for_staff_who_read_their_department(client, metrics_db, ingest_db):
    _seed_timeliness(metrics_db)
    assert client.get("/api/metrics/metrics/dpw.hidden/schedule").status_code == 404
    make_user(ingest_db, "dwm.liaison", "liaison", "DWM")
    make_user(ingest_db, "dpw.liaison", "liaison", "DPW")
    sign_in(client, "dwm.liaison")
    other = client.get("/api/metrics/completeness", params={"department": "DPW"}).json()
    assert "dpw.hidden" not in {m["metric"] for m in other["metrics"]}
    client.cookies.clear()
    sign_in(client, "dpw.liaison")
    own = client.get("/api/metrics/completeness", params={"department": "DPW"}).json()
    assert "dpw.hidden" in {m["metric"] for m in own["metrics"]}
    june = _cells(own, "DPW")[0]["2017-06"]
    assert (june["expected"], june["missing"]) == (4, 2)
    schedule = client.get("/api/metrics/metrics/dpw.hidden/schedule").json()
    assert [(i["period"], i["status"]) for i in schedule["items"]] == [("2017-06", "missing")]


def test_completeness_refuses_bad_windows_and_unknown_departments(client, metrics_db):
    _seed_timeliness(metrics_db)
    backwards = client.get("/api/metrics/completeness", params={"start": "2017-06", "end": "2017-01"})
    assert backwards.status_code == 422
    assert backwards.headers["content-type"] == PROBLEM
    assert client.get("/api/metrics/completeness", params={"start": "2017-Q1"}).status_code == 422
    unknown = client.get("/api/metrics/completeness", params={"department": "NOPE"})
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "urn:citystat:problem:not-found"


# --------------------------------------------------------------------------------------------------------------
# Stale metrics
# --------------------------------------------------------------------------------------------------------------


def _seed_stale(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        stale = make_metric(s, dpw, key="dpw.stale", first_period="2017-01")
        for month in ("01", "02", "03"):
            arrive(s, stale, f"2017-{month}", f"2017-{month}-28")
        # A gap earlier on, then values again: not stale.
        gap = make_metric(s, dpw, key="dpw.gap", first_period="2017-01")
        for month in ("01", "04", "05"):
            arrive(s, gap, f"2017-{month}", "2017-06-01")
        # Only June, due today, has not come: not stale.
        make_metric(s, dpw, key="dpw.current", first_period="2017-06")
        # Late values still end the run: May arrived after its due date.
        late = make_metric(s, dpw, key="dpw.late", first_period="2017-03")
        arrive(s, late, "2017-05", "2017-07-01")
        # No first_period: expected from its first value, 2016-11.
        old = make_metric(s, dpw, key="dpw.old")
        arrive(s, old, "2016-11", "2016-12-05")
        arrive(s, old, "2016-12", "2017-01-05")
        quarterly = make_metric(s, dpw, key="dpw.quarterly", frequency="quarter", first_period="2016-Q3")
        arrive(s, quarterly, "2016-Q3", "2016-10-05")
        make_metric(s, dpw, key="dpw.hidden", first_period="2017-01", is_published=False)
        make_metric(s, dpw, key="dpw.draft", first_period="2017-01", state=MetricState.draft)
        make_metric(s, dpw, key="dpw.nothing")  # neither a first period nor a value: nothing expected
        dwm = make_department(s, "DWM", "Watershed")
        make_metric(s, dwm, key="dwm.missing_one", first_period="2017-05")


def test_stale_metrics_are_those_missing_several_periods_in_a_row(client, metrics_db):
    _seed_stale(metrics_db)
    body = client.get("/api/metrics/stale-metrics").json()
    rows = [
        (i["metric"], i["last_received"], i["missing_periods"], i["missing_since"], i["overdue_since"])
        for i in body["items"]
    ]
    assert rows == [
        ("dpw.old", "2016-12", 5, "2017-01", "2017-02-10"),
        ("dpw.quarterly", "2016-Q3", 2, "2016-Q4", "2017-01-10"),
        ("dpw.stale", "2017-03", 2, "2017-04", "2017-05-10"),
    ]
    assert body["total"] == 3


def test_stale_threshold_department_filter_and_visibility(client, metrics_db, ingest_db):
    _seed_stale(metrics_db)
    one = client.get("/api/metrics/stale-metrics", params={"min_missing": 1}).json()
    assert {i["metric"] for i in one["items"]} == {"dpw.old", "dpw.stale", "dpw.quarterly", "dwm.missing_one"}
    five = client.get("/api/metrics/stale-metrics", params={"min_missing": 5}).json()
    assert [i["metric"] for i in five["items"]] == ["dpw.old"]
    dwm = client.get("/api/metrics/stale-metrics", params={"department": "DWM", "min_missing": 1}).json()
    assert [(i["metric"], i["last_received"], i["missing_periods"]) for i in dwm["items"]] == [
        ("dwm.missing_one", None, 1)
    ]
    assert client.get("/api/metrics/stale-metrics", params={"department": "NOPE"}).status_code == 404
    make_user(ingest_db, "ana.lyst", "analyst")
    sign_in(client, "ana.lyst")
    staff = client.get("/api/metrics/stale-metrics").json()
    hidden = [i for i in staff["items"] if i["metric"] == "dpw.hidden"]
    assert [(i["missing_periods"], i["last_received"]) for i in hidden] == [(5, None)]
