"""The series as read: values with their approval, breaks and notes; roll-ups over time and across org units by
the metric's rule, checked against numbers worked out by hand."""

import pytest

from services.common.periods import Period
from services.metrics.annotations.models import Annotation
from services.metrics.approvals.models import PeriodApproval
from services.metrics.definitions.models import MetricRevision
from services.metrics.orgunits.models import OrgUnit
from tests.factories import make_department, make_metric, make_observation

API = "/api/metrics/metrics"


@pytest.fixture
def city(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        on_time = make_metric(s, dpw, key="dpw.on_time", rollup="ratio")
        # Q2 2017: 120/150, 45/90, 300/400 -> 465/640 = 0.7265625 (the mean of the ratios would be 0.6916...).
        for period, num, den in [("2017-04", 120, 150), ("2017-05", 45, 90), ("2017-06", 300, 400)]:
            make_observation(s, on_time, period, num / den, numerator=num, denominator=den)
        potholes = make_metric(s, dpw, key="dpw.potholes", unit="count", rollup="sum", max_value=None)
        # Atlanta's fiscal year 2017: July 2016 to June 2017, 100 a month plus the month's number.
        for i in range(12):
            period = Period.parse("2016-07").shift(i)
            make_observation(s, potholes, str(period), 100 + i)
        days = make_metric(s, dpw, key="dpw.days", unit="days", rollup="mean", frequency="quarter", max_value=None)
        for period, value in [("2016-Q1", 4.0), ("2016-Q2", 6.0), ("2016-Q3", 5.0), ("2016-Q4", 9.0)]:
            make_observation(s, days, period, value)
        weekly = make_metric(s, dpw, key="dpw.weekly", unit="count", rollup="sum", frequency="week", max_value=None)
        make_observation(s, weekly, "2017-W22", 10)
        s.add_all(
            [
                OrgUnit(department_id=dpw.id, code="NORTH", name="North yard", kind="yard"),
                OrgUnit(department_id=dpw.id, code="SOUTH", name="South yard", kind="yard"),
            ]
        )
        make_observation(s, on_time, "2017-03", 0.7, numerator=70, denominator=100)
        make_observation(s, on_time, "2017-03", 0.8, numerator=120, denominator=150, org_unit="NORTH")
        make_observation(s, on_time, "2017-03", 0.5, numerator=45, denominator=90, org_unit="SOUTH")
        s.add(PeriodApproval(department_id=dpw.id, period="2017-04", actor="user:1", actor_name="DPW Head"))
        s.add(
            MetricRevision(
                metric_id=on_time.id,
                version=2,
                action="edited",
                series_break=True,
                break_period="2017-05",
                reason="Counts only closed requests",
                actor="user:1",
            )
        )
        s.add(
            Annotation(
                metric_id=on_time.id,
                period="2017-05",
                kind="context",
                body="Storm week",
                actor="user:1",
                actor_name="Analyst",
            )
        )
    return metrics_db


def _get(client, url, **params):
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_quarter_is_the_ratio_of_its_months_sums_never_the_mean_of_their_ratios(client, city):
    q2 = _get(client, f"{API}/dpw.on_time/rollups", to="quarter", start="2017-04", end="2017-06")["items"]
    assert [q["period"] for q in q2] == ["2017-Q2"]
    assert q2[0]["value"] == pytest.approx(465 / 640)
    assert q2[0]["value"] != pytest.approx((0.8 + 0.5 + 0.75) / 3)
    assert (q2[0]["numerator"], q2[0]["denominator"], q2[0]["complete"]) == (465, 640, True)


def test_a_period_missing_some_of_its_parts_is_left_empty_unless_partial_is_asked(client, city):
    whole = _get(client, f"{API}/dpw.on_time/rollups", to="quarter", start="2017-03", end="2017-06")["items"]
    q1 = next(q for q in whole if q["period"] == "2017-Q1")
    assert q1["value"] is None
    assert "2017-01" in q1["reason"]
    partial = _get(client, f"{API}/dpw.on_time/rollups", to="quarter", start="2017-03", end="2017-06", partial="true")
    q1 = next(q for q in partial["items"] if q["period"] == "2017-Q1")
    assert (q1["value"], q1["complete"], q1["parts"], q1["expected"]) == (0.7, False, 1, 3)


def test_a_fiscal_year_sums_july_to_june(client, city):
    fiscal = _get(client, f"{API}/dpw.potholes/rollups", to="fiscal_year")["items"]
    assert [(f["period"], f["value"]) for f in fiscal] == [("FY2017", sum(100 + i for i in range(12)))]
    calendar = _get(client, f"{API}/dpw.potholes/rollups", to="year", partial="true")["items"]
    # July to December 2016, then January to June 2017.
    assert [(c["period"], c["value"]) for c in calendar] == [("2016", 100 * 6 + 15), ("2017", 100 * 6 + 51)]


def test_quarters_average_into_a_year_and_weeks_do_not_roll_into_months(client, city):
    year = _get(client, f"{API}/dpw.days/rollups", to="year")["items"]
    assert [(y["period"], y["value"]) for y in year] == [("2016", (4 + 6 + 5 + 9) / 4)]
    refused = client.get(f"{API}/dpw.weekly/rollups", params={"to": "month"})
    assert refused.status_code == 422
    assert client.get(f"{API}/dpw.potholes/rollups", params={"to": "month"}).status_code == 422


def test_org_units_roll_up_to_the_department_by_ratio_of_sums(client, city):
    march = _get(client, f"{API}/dpw.on_time/observations/2017-03/org-units")
    assert [(u["org_unit"], u["name"]) for u in march["units"]] == [("NORTH", "North yard"), ("SOUTH", "South yard")]
    # (120 + 45) / (150 + 90) = 0.6875, not (0.8 + 0.5) / 2 = 0.65.
    assert march["department"]["value"] == pytest.approx(0.6875)
    assert march["department"]["value"] != pytest.approx(0.65)
    assert march["reported"] == 0.7
    assert client.get(f"{API}/dpw.on_time/observations/2017-Q1/org-units").status_code == 422


def test_the_series_carries_approval_breaks_and_notes(client, city):
    items = _get(client, f"{API}/dpw.on_time/observations", start="2017-04")["items"]
    by_period = {i["period"]: i for i in items}
    assert by_period["2017-04"]["approved"] is True
    assert by_period["2017-05"]["approved"] is False
    assert [p for p, i in by_period.items() if i["series_break"]] == ["2017-05"]
    assert [a["body"] for a in by_period["2017-05"]["annotations"]] == ["Storm week"]
    assert by_period["2017-06"]["annotations"] == []
    units = _get(client, f"{API}/dpw.on_time/observations", org_unit="NORTH")["items"]
    assert [(u["period"], u["value"]) for u in units] == [("2017-03", 0.8)]


def test_fiscal_years_follow_the_configured_start_month(city):
    from services.common.periods import Frequency
    from services.metrics.observations.series import rolled_up_series

    with city.session() as s:
        federal = rolled_up_series(s, "dpw.potholes", Frequency.fiscal_year, None, None, True, None, fiscal_start=10)
    # A fiscal year from October: FY2016 ends with July-September 2016, FY2017 holds October 2016 to June 2017.
    assert [(f.period, f.value, f.parts, f.expected) for f in federal] == [
        ("FY2016", 100 + 101 + 102, 3, 12),
        ("FY2017", sum(100 + i for i in range(3, 12)), 9, 12),
    ]
