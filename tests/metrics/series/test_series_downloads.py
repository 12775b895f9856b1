"""GET /api/metrics/metrics/{key}/series.json and .csv: each period's value, the target in force with its tolerance,
the status against it (worked out by hand here), whether it is provisional, as JSON and as the same rows in CSV;
visible exactly as the metric is, cacheable and open to any site only when published and asked anonymously."""

import csv
import datetime as dt
import io
import json

import pytest

from services.common.auth import OPERATOR
from services.common.contracts import ObservationBatch, ObservationRow
from services.common.limits import RateLimiter
from services.metrics.approvals.schemas import ApprovalCreate
from services.metrics.approvals.service import approve
from services.metrics.definitions.models import Direction, MetricState, TargetBase, ToleranceKind
from services.metrics.definitions.service import add_target
from services.metrics.observations.service import apply_batch
from services.metrics.priorities.models import MetricPriority, Priority
from services.metrics.series.schemas import CSV_FIELDS
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN
from tests.factories import make_department, make_metric, make_observation, make_target, make_token, make_user, sign_in

BASE = "/api/metrics/metrics"
PROBLEM = "application/problem+json"


@pytest.fixture
def city(metrics_db):
    """DPW's on-time rate (higher is better): target 0.80 from 2013, then 0.90 ± 0.05 from March 2017; no value for
    2017-04. DPW's days to fill a pothole (lower is better): target 12.3 days ± 3%. DWM for another department."""
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        make_department(s, "DWM", "Watershed")
        rate = make_metric(s, dpw, key="dpw.on_time", name="On time", frequency="month")
        make_target(s, rate, 0.80, 0.0, effective_from=dt.date(2013, 1, 1))
        make_target(s, rate, 0.90, 0.05, effective_from=dt.date(2017, 3, 1))
        for period, value in [
            ("2016-12", 0.79), ("2017-01", 0.80), ("2017-02", 0.85), ("2017-03", 0.95), ("2017-05", 0.85),
            ("2017-06", 0.80),
        ]:  # fmt: skip
            make_observation(s, rate, period, value, numerator=value * 100, denominator=100.0)
        # An org unit's value is not the department's: the download never shows it.
        make_observation(s, rate, "2017-04", 0.99, org_unit="NORTH")
        days = make_metric(
            s, dpw, key="dpw.days", unit="days", direction=Direction.lower_is_better, min_value=None, max_value=None
        )
        three_percent = {"tolerance": 3, "tolerance_kind": ToleranceKind.percent}
        add_target(s, days, TargetBase(value=12.3, effective_from=dt.date(2017, 1, 1), **three_percent))
        for period, value in [("2016-12", 30.0), ("2017-01", 12.0), ("2017-02", 12.3), ("2017-03", 12.6),
                              ("2017-04", 12.66), ("2017-05", 12.7)]:  # fmt: skip
            make_observation(s, days, period, value)
        priority = Priority(code="infrastructure", name="Infrastructure")
        s.add(priority)
        s.flush()
        s.add(MetricPriority(metric_id=days.id, priority_id=priority.id, is_key=True))
        make_metric(s, dpw, key="dpw.draft", state=MetricState.draft, is_published=False)
        make_metric(s, dpw, key="dpw.unpublished", is_published=False)
        make_target(s, make_metric(s, dpw, key="dpw.empty"), 0.5)


def _by_period(response):
    assert response.status_code == 200, response.text
    return {item["period"]: item for item in response.json()["items"]}


def _signed_in(client, ingest_db, username, role, department=None):
    make_user(ingest_db, username, role, department)
    client.cookies.clear()
    sign_in(client, username)


def test_higher_is_better_statuses_follow_the_target_in_force_and_a_gap_is_missing(client, city):
    response = client.get(f"{BASE}/dpw.on_time/series.json")
    body = response.json()
    assert body["metric"] == {
        "key": "dpw.on_time",
        "name": "On time",
        "department": "DPW",
        "unit": "percent",
        "kind": "output",
        "direction": "higher_is_better",
        "frequency": "month",
        "methodology": "Counted by the test.",
        "is_key": False,
    }
    rows = _by_period(response)
    # From the first value to the last: 2016-12 .. 2017-06, the month without a department value included.
    assert list(rows) == ["2016-12", "2017-01", "2017-02", "2017-03", "2017-04", "2017-05", "2017-06"]
    assert body["total"] == 7
    status = {p: (r["target"], r["tolerance"], r["status"]) for p, r in rows.items()}
    assert status == {
        "2016-12": (0.8, 0.0, "off_target"),  # 0.79 < 0.80 with no tolerance
        "2017-01": (0.8, 0.0, "on_target"),  # equal to the target
        "2017-02": (0.8, 0.0, "on_target"),  # 0.85 >= 0.80: the old target is still in force
        "2017-03": (0.9, 0.05, "on_target"),  # the new target from March 1st: 0.95 >= 0.90
        "2017-04": (0.9, 0.05, "missing"),
        "2017-05": (0.9, 0.05, "near"),  # 0.90 - 0.05 <= 0.85 < 0.90, on the edge of the band
        "2017-06": (0.9, 0.05, "off_target"),  # 0.80 < 0.85
    }
    assert rows["2017-04"] == {
        "period": "2017-04",
        "period_start": "2017-04-01",
        "period_end": "2017-04-30",
        "value": None,
        "numerator": None,
        "denominator": None,
        "target": 0.9,
        "tolerance": 0.05,
        "status": "missing",
        "provisional": None,
        "revision": None,
    }
    assert rows["2017-05"]["value"] == 0.85 and rows["2017-05"]["numerator"] == 85.0
    assert rows["2017-05"]["period_end"] == "2017-05-31"


def test_lower_is_better_statuses_against_a_percent_tolerance(client, city):
    response = client.get(f"{BASE}/dpw.days/series.json")
    assert response.json()["metric"]["is_key"] is True
    rows = _by_period(response)
    # 3% of 12.3 days is 0.369 days (0.36900000000000005 as a product of doubles): near up to 12.669.
    assert {p: (r["value"], r["target"], r["tolerance"], r["status"]) for p, r in rows.items()} == {
        "2016-12": (30.0, None, None, "no_target"),  # before the first target
        "2017-01": (12.0, 12.3, 0.369, "on_target"),
        "2017-02": (12.3, 12.3, 0.369, "on_target"),
        "2017-03": (12.6, 12.3, 0.369, "near"),
        "2017-04": (12.66, 12.3, 0.369, "near"),
        "2017-05": (12.7, 12.3, 0.369, "off_target"),
    }


def test_the_window_is_a_slice_of_the_whole_series_and_an_empty_series_has_no_rows(client, city):
    whole = client.get(f"{BASE}/dpw.on_time/series.json").json()["items"]
    window = client.get(f"{BASE}/dpw.on_time/series.json", params={"start": "2017-02", "end": "2017-04"}).json()
    assert [i["period"] for i in window["items"]] == ["2017-02", "2017-03", "2017-04"]
    assert window["items"] == whole[2:5] and window["total"] == 3
    # Nothing is invented before the first value, whatever the window asks for.
    early = client.get(f"{BASE}/dpw.on_time/series.json", params={"start": "2015", "end": "2016-12"}).json()
    assert [i["period"] for i in early["items"]] == ["2016-12"]
    assert client.get(f"{BASE}/dpw.empty/series.json").json()["items"] == []
    assert client.get(f"{BASE}/dpw.on_time/series.json", params={"start": "June"}).status_code == 422


def test_provisional_until_the_department_approves_the_month_and_revisions_are_cited(client, city, metrics_db):
    with metrics_db.session() as s:
        rows = [ObservationRow(metric="dpw.on_time", period="2017-06", value=0.92)]
        apply_batch(s, ObservationBatch(department="DPW", rows=rows), DEMO_AS_OF, lock_after_days=30)
        approve(s, "DPW", ApprovalCreate(period="2017-05"), OPERATOR, DEMO_AS_OF)
    rows = _by_period(client.get(f"{BASE}/dpw.on_time/series.json"))
    assert rows["2017-05"]["provisional"] is False
    assert rows["2017-06"]["provisional"] is True and rows["2017-03"]["provisional"] is True
    assert rows["2017-06"]["value"] == 0.92 and rows["2017-06"]["status"] == "on_target"
    revisions = client.get(f"{BASE}/dpw.on_time/observations/2017-06/revisions").json()["items"]
    assert rows["2017-06"]["revision"] == revisions[0]["id"]
    # Observations say the same: one rule for approval.
    observed = {o["period"]: o["approved"] for o in client.get(f"{BASE}/dpw.on_time/observations").json()["items"]}
    assert {p: not r["provisional"] for p, r in rows.items() if r["value"] is not None} == observed


def test_the_csv_holds_the_json_items(client, city, metrics_db):
    with metrics_db.session() as s:
        # 0.1 + 0.2 as stored: the CSV writes the double as JSON does, no more and no less.
        rows = [ObservationRow(metric="dpw.on_time", period="2017-07", value=0.1 + 0.2)]
        apply_batch(s, ObservationBatch(department="DPW", rows=rows), dt.date(2017, 8, 10), lock_after_days=30)
    items = client.get(f"{BASE}/dpw.on_time/series.json").json()["items"]
    response = client.get(f"{BASE}/dpw.on_time/series.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="dpw.on_time-series.csv"'
    assert response.text.count("0.30000000000000004") == 1
    parsed = list(csv.reader(io.StringIO(response.text)))
    assert tuple(parsed[0]) == CSV_FIELDS == tuple(items[0])

    def cell(value):
        return "" if value is None else value if isinstance(value, str) else json.dumps(value)

    assert parsed[1:] == [[cell(item[name]) for name in CSV_FIELDS] for item in items]
    # And read back as values, the rows are the items.
    read = [
        {name: (json.loads(text) if text and name not in ("period", "period_start", "period_end", "status") else text
                or None) for name, text in row.items()}
        for row in csv.DictReader(io.StringIO(response.text))
    ]  # fmt: skip
    assert read == items


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_published_metric_answers_anyone_cacheably_with_etag_and_cors(client, city, metrics_db, form):
    url = f"{BASE}/dpw.on_time/series.{form}"
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in first.headers
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    internal = client.get(url, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert internal.status_code == 200 and internal.headers["etag"] == etag
    with metrics_db.session() as s:
        # April is long past due and locked by now; a late value is still a change of the download.
        rows = [ObservationRow(metric="dpw.on_time", period="2017-04", value=0.91)]
        result = apply_batch(s, ObservationBatch(department="DPW", rows=rows), DEMO_AS_OF, lock_after_days=3650)
        assert result.summary.accepted == 1
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


@pytest.mark.parametrize("key", ["dpw.draft", "dpw.unpublished"])
def test_an_unpublished_metric_is_its_departments_alone(client, city, ingest_db, key):
    unknown = client.get(f"{BASE}/dpw.nothing/series.json")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    for form in ("json", "csv"):
        hidden = client.get(f"{BASE}/{key}/series.{form}")
        assert hidden.status_code == 404 and hidden.headers["content-type"] == PROBLEM
        assert hidden.json()["type"] == unknown.json()["type"]
        assert "access-control-allow-origin" not in hidden.headers
    # Metrics reads no bearer token on its reads: the department's system and CityStat's services ask as anyone does.
    for token in (make_token(ingest_db, "DPW"), INTERNAL_TOKEN):
        assert client.get(f"{BASE}/{key}/series.json", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    _signed_in(client, ingest_db, "other", "liaison", "DWM")
    assert client.get(f"{BASE}/{key}/series.json").status_code == 404
    for username, role, department in [("liz", "liaison", "DPW"), ("ana", "analyst", None)]:
        _signed_in(client, ingest_db, username, role, department)
        for form in ("json", "csv"):
            seen = client.get(f"{BASE}/{key}/series.{form}")
            assert seen.status_code == 200, (username, form)
            assert seen.headers["cache-control"] == "private, no-store"
            assert "etag" not in seen.headers and "access-control-allow-origin" not in seen.headers
        assert client.get(f"{BASE}/{key}").status_code == 200
        # Signed in, even a published metric's answer stays out of shared caches (it depends on who asks).
        assert client.get(f"{BASE}/dpw.on_time/series.csv").headers["cache-control"] == "private, no-store"


def test_the_series_routes_answer_beside_the_metrics_other_routes(client, city, metrics_db):
    with metrics_db.session() as s:
        # A key may itself end in .json: /metrics/series.json is that metric, its download one level down.
        odd = make_metric(s, make_department(s, "DOT", "Transportation"), key="series.json")
        make_observation(s, odd, "2017-05", 0.5)
    assert client.get(f"{BASE}/series.json").json()["key"] == "series.json"
    assert client.get(f"{BASE}/series.json/series.json").json()["metric"]["key"] == "series.json"
    assert client.get(f"{BASE}/series.json/series.csv").text.startswith("period,period_start,")
    assert client.get(f"{BASE}/dpw.on_time").json()["key"] == "dpw.on_time"
    observations = client.get(f"{BASE}/dpw.on_time/observations").json()
    assert observations["total"] == 6 and "approved" in observations["items"][0]
    assert client.get(f"{BASE}/dpw.on_time/performance").json()["metric"] == "dpw.on_time"
    assert client.get(f"{BASE}/dpw.on_time/series.xml").status_code == 404
    paths = client.get("/api/metrics/openapi.json").json()["paths"]
    assert "/metrics/{key}/series.json" in paths and "/metrics/{key}/series.csv" in paths


def test_the_publics_downloads_are_rate_limited_per_address_and_staff_are_not(client, city, ingest_db):
    metrics = client.app.state.services["metrics"]
    metrics.state.public_limiter = RateLimiter(per_minute=1, burst=2)
    client.cookies.clear()
    answers = [client.get(f"{BASE}/dpw.on_time/series.{form}") for form in ("json", "csv", "json")]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["content-type"].startswith(PROBLEM)
    assert int(answers[2].headers["retry-after"]) >= 1
    _signed_in(client, ingest_db, "liaison", "liaison", "DPW")
    assert client.get(f"{BASE}/dpw.on_time/series.csv").status_code == 200
