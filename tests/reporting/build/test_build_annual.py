"""The annual report on the demo city: key metrics grouped by citywide priority, each year's value as metrics rolls
its months up, the change on the year before, and the year's target and status."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import Unprocessable
from services.common.periods import Frequency, Period
from services.reporting.briefings.build import BuildRequest
from services.reporting.briefings.build.common import status_of
from tests.reporting.build.build_city import demo_city


@pytest.fixture(scope="module")
def demo(demo_database_set, tmp_path_factory):
    with demo_city(demo_database_set, tmp_path_factory.mktemp("annual")) as city:
        yield city


@pytest.fixture(scope="module")
def report(demo):
    return demo.build(BuildRequest(kind="annual", period="2016"))


def test_key_metrics_are_grouped_by_priority_in_the_citys_order(report, demo):
    assert report.title == "Annual performance report, 2016" and report.period == "2016"
    priorities = demo.get("/priorities")["items"]
    assert [p.code for p in report.annual] == [p["code"] for p in sorted(priorities, key=lambda p: p["position"])]
    for priority in report.annual:
        keyed = demo.get("/metrics", priority=priority.code, state="active", limit=500)["items"]
        expected = [
            m["key"] for m in keyed if any(link["code"] == priority.code and link["is_key"] for link in m["priorities"])
        ]
        assert [line.metric for line in priority.lines] == expected, priority.code
        assert priority.lines, priority.code
    assert set(report.department_names) == {line.department for p in report.annual for line in p.lines}


def test_each_year_is_the_roll_up_of_its_months_with_its_change(report, demo):
    for line in (line for p in report.annual for line in p.lines):
        rolled = {r["period"]: r["value"] for r in demo.get(f"/metrics/{line.metric}/rollups", to="year")["items"]}
        assert (line.year.period, line.year.value) == ("2016", rolled["2016"]), line.metric
        assert (line.year_before.period, line.year_before.value) == ("2015", rolled["2015"]), line.metric
        assert line.year.revision is None  # combined from twelve values, no one revision is behind it
        assert line.change.absolute == pytest.approx(rolled["2016"] - rolled["2015"])
        assert line.change.relative == pytest.approx((rolled["2016"] - rolled["2015"]) / abs(rolled["2015"]))


def _in_force(targets: list[dict], day: dt.date) -> dict | None:
    started = [t for t in targets if dt.date.fromisoformat(t["effective_from"]) <= day]
    return started[-1] if started else None


def test_targets_follow_the_roll_up_and_status_follows_the_target(report, demo):
    lines = {line.metric: line for p in report.annual for line in p.lines}
    # A rate is held to the target in force when the year closed...
    dpw = lines["dpw.service_requests_on_time"]
    assert dpw.target == 0.9 and dpw.year.value == pytest.approx(0.85, abs=0.01) and dpw.status == "near"
    assert dpw.change.judgement == "improving"
    # ...a total to the sum of its months' targets: twelve months of at most 2,200 crimes.
    assert lines["apd.part1_crimes"].target == 12 * 2200
    for line in lines.values():
        metric = demo.get(f"/metrics/{line.metric}")
        if metric["rollup"] == "sum":
            targets = demo.get(f"/metrics/{line.metric}/targets")["items"]
            monthly = [_in_force(targets, Period(Frequency.month, 2016, m).end) for m in range(1, 13)]
            target = sum(t["value"] for t in monthly)
            tolerance = sum(t["tolerance"] for t in monthly)
        else:
            december = demo.get(f"/metrics/{line.metric}/performance", period="2016-12")
            target, tolerance = december["target"], december["tolerance"]
        assert line.target == pytest.approx(target), line.metric
        assert line.status == status_of(line.year.value, target, tolerance, line.direction), line.metric
    assert {line.status for line in lines.values()} >= {"on_target", "near", "off_target"}


def test_an_annual_report_is_for_a_year(demo):
    with pytest.raises(Unprocessable) as refused:
        demo.build(BuildRequest(kind="annual", period="2016-12"))
    assert refused.value.errors[0]["field"] == "period"


def test_a_report_for_some_departments_keeps_their_key_metrics(demo):
    report = demo.build(BuildRequest(kind="annual", period="2016", departments=["DPW", "DWM"]))
    metrics = {line.metric for p in report.annual for line in p.lines}
    assert metrics == {"dpw.service_requests_on_time", "dwm.service_requests_on_time", "dwm.water_main_breaks"}
    assert report.title.startswith("Department of Public Works and Department of Watershed Management: annual")
