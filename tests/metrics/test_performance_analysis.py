"""Performance over a series: change against the period before and a year ago, trend, XmR limits and signals
(checked against figures computed here by hand), streaks on target, series breaks, and the most improved."""

import datetime as dt

import pytest

from services.common.periods import Period
from services.metrics.definitions.models import MetricRevision
from tests.factories import make_department, make_metric, make_observation, make_target

API = "/api/metrics"
# 36 months to June 2017: a steady process around 100 for two years, then a shift up for the last 12 months.
STEADY = [100, 104, 97, 101, 99, 103, 98, 102, 100, 96, 104, 99, 101, 98, 102, 100, 97, 103, 99, 101, 100, 98, 102, 100]
SHIFTED = [112, 115, 111, 114, 113, 116, 112, 115, 114, 113, 116, 118]
MONTHS = [str(Period.parse("2014-07").shift(i)) for i in range(36)]


@pytest.fixture
def city(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        potholes = make_metric(s, dpw, key="dpw.potholes", unit="count", max_value=None)
        make_target(s, potholes, 110, 5, dt.date(2013, 1, 1))
        for period, value in zip(MONTHS, STEADY + SHIFTED, strict=True):
            make_observation(s, potholes, period, value)
        days = make_metric(s, dpw, key="dpw.repair_days", unit="days", direction="lower_is_better", max_value=None)
        make_target(s, days, 3.0, 0.5, dt.date(2013, 1, 1))
        for period, value in [("2016-06", 6.0), ("2017-06", 3.5)]:
            make_observation(s, days, period, value)
        lights = make_metric(s, dpw, key="dpw.lights_days", unit="days", direction="lower_is_better", max_value=None)
        make_target(s, lights, 7.0, 1.0, dt.date(2013, 1, 1))
        for period, value in [("2016-06", 10.0), ("2017-06", 9.5)]:
            make_observation(s, lights, period, value)
        make_metric(s, dpw, key="dpw.no_target", unit="count", max_value=None)
    return metrics_db


def _performance(client, key="dpw.potholes", period="2017-06"):
    response = client.get(f"{API}/metrics/{key}/performance", params={"period": period})
    assert response.status_code == 200, response.text
    return response.json()


def test_changes_against_the_period_before_and_a_year_ago(client, city):
    p = _performance(client)
    assert p["value"] == 118
    assert p["vs_previous"] == {
        "base_period": "2017-05",
        "base_value": 116,
        "absolute": 2,
        "relative": 2 / 116,
        "reason": None,
    }
    assert p["vs_year_ago"]["base_period"] == "2016-06"
    assert p["vs_year_ago"]["absolute"] == 118 - 100
    assert p["vs_year_ago"]["relative"] == pytest.approx(0.18)


def test_limits_come_from_the_baseline_and_the_shift_is_a_signal(client, city):
    limits = _performance(client)["limits"]
    baseline = STEADY[:12]
    centre = sum(baseline) / 12
    moving_range = sum(abs(b - a) for a, b in zip(baseline, baseline[1:], strict=False)) / 11
    assert limits["baseline_periods"] == MONTHS[:12]
    assert limits["centre"] == pytest.approx(centre)
    assert limits["moving_range"] == pytest.approx(moving_range)
    assert limits["upper"] == pytest.approx(centre + 2.66 * moving_range)
    assert limits["lower"] == pytest.approx(centre - 2.66 * moving_range)
    rules = {s["rule"] for s in limits["signals"]}
    # Every shifted month sits above the centre: a run of 12 on one side.
    run = next(s for s in limits["signals"] if s["rule"] == "run_one_side")
    assert run["direction"] == "above"
    assert run["periods"][-12:] == MONTHS[-12:]
    assert "beyond_limits" in rules
    beyond = [p for s in limits["signals"] if s["rule"] == "beyond_limits" for p in s["periods"]]
    assert all(STEADY_OR_SHIFTED[p] > limits["upper"] for p in beyond)


STEADY_OR_SHIFTED = dict(zip(MONTHS, STEADY + SHIFTED, strict=True))


def test_trend_and_streak_follow_the_direction(client, city):
    p = _performance(client)
    assert p["trend"]["direction"] == "improving"
    assert p["trend"]["periods"] == MONTHS[-6:]
    # On target (>= 110) for the 12 shifted months, never before.
    assert p["streak"] == {"current": 12, "longest": 12}
    assert p["status"] == "on_target"
    earlier = _performance(client, period="2016-06")
    assert earlier["streak"]["current"] == 0
    assert earlier["status"] == "off_target"


def test_a_series_break_stops_comparisons_across_it(client, city):
    with city.session() as s:
        from sqlmodel import select

        from services.metrics.definitions.models import Metric

        metric = s.exec(select(Metric).where(Metric.key == "dpw.potholes")).one()
        metric.version += 1
        s.add(metric)
        s.add(
            MetricRevision(
                metric_id=metric.id,
                version=metric.version,
                action="edited",
                series_break=True,
                break_period="2017-01",
                reason="Counts crews' repairs only",
                actor="user:1",
            )
        )
    p = _performance(client)
    assert p["series_breaks"] == ["2017-01"]
    assert p["vs_year_ago"]["absolute"] is None
    assert "series break" in p["vs_year_ago"]["reason"]
    assert p["vs_previous"]["absolute"] == 2
    # Limits now come from the series since the break only: 6 values, the fewest it takes.
    assert p["limits"]["baseline_periods"] == MONTHS[-6:]


def test_the_most_improved_closed_most_of_their_gap(client, city):
    ranking = client.get(f"{API}/performance/most-improved", params={"period": "2017-06"}).json()
    ranked = [(i["metric"], i["rank"]) for i in ranking["items"]]
    # Repair days closed (6 - 3.5) / 3 of the target; potholes (118 - 100) / 110; lights (10 - 9.5) / 7.
    assert ranked == [("dpw.repair_days", 1), ("dpw.potholes", 2), ("dpw.lights_days", 3)]
    assert ranking["items"][0]["improvement"] == pytest.approx((6 - 3.5) / 3)
    left_out = {i["metric"]: i["reason"] for i in ranking["left_out"]}
    assert set(left_out) == {"dpw.no_target"}


def test_a_department_dashboard_lists_every_agreed_metric_with_its_analysis(client, city):
    page = client.get(f"{API}/performance", params={"department": "DPW", "period": "2017-06"}).json()
    assert page["total"] == 4
    by_key = {i["metric"]: i for i in page["items"]}
    assert by_key["dpw.potholes"]["limits"]["centre"] == pytest.approx(sum(STEADY[:12]) / 12)
    assert by_key["dpw.no_target"]["status"] == "missing"
    assert by_key["dpw.repair_days"]["status"] == "near"


@pytest.mark.parametrize("period", ["1900", "1900-01", "1900-Q1", "1900-W01", "FY1900", "2199-12"])
def test_the_first_and_last_periods_that_can_be_written_are_judged_without_error(client, city, period):
    page = client.get(f"{API}/performance", params={"department": "DPW", "period": period})
    assert page.status_code == 200, page.text
    assert {i["status"] for i in page.json()["items"]} == {"missing"}
    assert client.get(f"{API}/performance/most-improved", params={"period": period}).status_code == 200


def test_a_value_is_provisional_until_its_month_is_approved_and_retired_metrics_leave_the_dashboard(client, city):
    from sqlmodel import select

    from services.metrics.approvals.models import PeriodApproval
    from services.metrics.definitions.models import Metric
    from services.metrics.departments.models import Department

    assert _performance(client)["approved"] is False
    with city.session() as s:
        dpw = s.exec(select(Department).where(Department.code == "DPW")).one()
        s.add(PeriodApproval(department_id=dpw.id, period="2017-06", actor="user:1", actor_name="Head"))
        lights = s.exec(select(Metric).where(Metric.key == "dpw.lights_days")).one()
        lights.state = "retired"
        s.add(lights)
    assert _performance(client)["approved"] is True
    assert _performance(client, key="dpw.no_target")["approved"] is None
    page = client.get(f"{API}/performance", params={"department": "DPW", "period": "2017-06"}).json()
    assert "dpw.lights_days" not in {i["metric"] for i in page["items"]}
    assert page["total"] == 3
