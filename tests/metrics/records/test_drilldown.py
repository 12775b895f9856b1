"""From a computed value down to its records: the late requests of a month add up to the on-time rate's
denominator minus its numerator, open records to the backlog; raw records only for the department's staff. And a
computed metric made, fed and read through the API alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from services.metrics.observations.models import Observation
from services.metrics.records.compute import recompute
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_metric, make_user, sign_in
from tests.metrics.records.record_factory import computed_metric, local, make_record

M = "/api/metrics"


@pytest.fixture
def city(metrics_db, ingest_db, settings):
    """June 2017 for Public Works: 3 on time, 4 late, 2 closed without a due time, 2 still open; and a May
    request closed in June."""
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        dwm = make_department(s, "DWM", "Watershed Management")
        make_metric(s, dpw, key="dpw.submitted")
        opened = local("2017-06-05 09:00")
        due = opened + dt.timedelta(days=3)
        n = 0
        for hours, org_unit in [(5, "NORTH"), (30, "NORTH"), (70, "SOUTH")]:
            make_record(s, f"ok{n}", "DPW", opened, opened + dt.timedelta(hours=hours), due, org_unit=org_unit)
            n += 1
        for days in (4, 6, 9, 12):
            make_record(s, f"late{n}", "DPW", opened, opened + dt.timedelta(days=days), due, org_unit="NORTH")
            n += 1
        for days in (1, 2):
            make_record(s, f"nodue{n}", "DPW", opened, opened + dt.timedelta(days=days))
            n += 1
        make_record(s, "open1", "DPW", opened, None, due, district="3", latitude=33.75, longitude=-84.39)
        make_record(s, "open2", "DPW", local("2017-06-20 09:00"), None, due)
        make_record(s, "may", "DPW", local("2017-05-29 09:00"), local("2017-06-02 09:00"), local("2017-06-01 09:00"))
        make_record(s, "theirs", "DWM", opened, opened + dt.timedelta(days=9), due)
        for measure in ("on_time_rate", "backlog", "opened", "median_days_to_close"):
            metric = computed_metric(s, dpw, measure, by_org_unit=True)
            recompute(s, metric, None, settings=settings)
        computed_metric(s, dwm, "on_time_rate", frequency="week")
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    make_user(ingest_db, "dwmlia", "liaison", "DWM")
    make_user(ingest_db, "citywide", "viewer")
    return metrics_db


def _as(client, username):
    client.cookies.clear()
    return sign_in(client, username)


def _value(db, key: str, period: str, org_unit: str = "") -> Observation:
    from services.metrics.definitions.models import Metric

    with db.session(write=False) as s:
        metric = s.exec(select(Metric).where(Metric.key == key)).one()
        return s.exec(
            select(Observation).where(
                Observation.metric_id == metric.id, Observation.period == period, Observation.org_unit == org_unit
            )
        ).one()


def _records(client, key, **params):
    answer = client.get(f"{M}/metrics/{key}/records", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_late_requests_of_june_are_the_rest_of_the_on_time_rate(client, city):
    _as(client, "lia")
    key = "dpw.on_time_rate_month"
    june = _value(city, key, "2017-06")
    assert (june.numerator, june.denominator) == (3, 8)
    late = _records(client, key, period="2017-06", outcome="late")
    assert late["total"] == june.denominator - june.numerator == 5
    assert sorted(r["id"] for r in late["items"]) == ["late3", "late4", "late5", "late6", "may"]
    assert all(r["on_time"] is False and r["closed_at"] > r["due_at"] for r in late["items"])
    assert _records(client, key, period="2017-06", outcome="on_time")["total"] == june.numerator
    no_due = _records(client, key, period="2017-06", outcome="no_due")
    assert no_due["total"] == 2 and june.comment.startswith("2 of the 10 records closed in 2017-06")
    # By default a rate's records are those closed in the period, with or without a due time.
    everything = _records(client, key, period="2017-06")
    assert (everything["outcome"], everything["total"]) == ("closed", 10)
    north = _value(city, key, "2017-06", "NORTH")
    assert _records(client, key, period="2017-06", outcome="late", org_unit="NORTH")["total"] == (
        north.denominator - north.numerator
    )


def test_the_open_records_are_the_backlog_and_each_carries_what_a_reader_needs(client, city):
    _as(client, "lia")
    key = "dpw.backlog_month"
    backlog = _value(city, key, "2017-06")
    page = _records(client, key, period="2017-06")
    assert page["outcome"] == "open" and page["total"] == backlog.value == 2
    first = page["items"][0]
    assert first == {
        "id": "open1",
        "department": "DPW",
        "category": "Pothole",
        "status": None,
        "opened_at": "2017-06-05T13:00:00Z",
        "closed_at": None,
        "due_at": "2017-06-08T13:00:00Z",
        "due_source": "record",
        "days_to_close": None,
        "on_time": None,
        "org_unit": None,
        "district": "3",
        "latitude": 33.75,
        "longitude": -84.39,
    }
    # At the end of May the request opened on the 29th was still open.
    assert [r["id"] for r in _records(client, key, period="2017-05")["items"]] == ["may"]
    assert (
        _records(client, "dpw.opened_month", period="2017-06")["total"]
        == _value(city, "dpw.opened_month", "2017-06").value
    )


def test_the_drill_down_pages_and_clamps_like_every_list(client, city):
    _as(client, "ana")
    key = "dpw.opened_month"
    first = _records(client, key, period="2017-06", limit=4)
    second = _records(client, key, period="2017-06", limit=4, offset=4)
    assert first["total"] == second["total"] == 11
    assert len(first["items"]) == len(second["items"]) == 4
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}
    assert len(_records(client, key, period="2017-06", limit=10_000)["items"]) == 11


def test_raw_records_are_only_for_staff_of_the_department(client, city):
    key = "dpw.on_time_rate_month"
    client.cookies.clear()
    assert client.get(f"{M}/metrics/{key}/records", params={"period": "2017-06"}).status_code == 401
    _as(client, "dwmlia")
    # The metric is published, so DWM's liaison may see it, but not the requests behind it.
    assert client.get(f"{M}/metrics/{key}").status_code == 200
    assert client.get(f"{M}/metrics/{key}/records", params={"period": "2017-06"}).status_code == 403
    _as(client, "citywide")
    assert client.get(f"{M}/metrics/{key}/records", params={"period": "2017-06"}).status_code == 200


def test_the_drill_down_refuses_what_has_no_records_behind_it(client, city):
    _as(client, "ana")
    submitted = client.get(f"{M}/metrics/dpw.submitted/records", params={"period": "2017-06"})
    assert submitted.status_code == 422 and "not computed from raw records" in submitted.json()["detail"]
    week = client.get(f"{M}/metrics/dpw.on_time_rate_month/records", params={"period": "2017-W23"})
    assert week.status_code == 422 and week.json()["errors"][0]["field"] == "period"
    # Watershed's request was opened in ISO week 23 and closed, late, in week 24.
    assert _records(client, "dwm.on_time_rate_week", period="2017-W24", outcome="late")["total"] == 1
    assert _records(client, "dwm.on_time_rate_week", period="2017-W23", outcome="opened")["total"] == 1
    assert client.get(f"{M}/metrics/dpw.absent/records", params={"period": "2017-06"}).status_code == 404
    bad = client.get(f"{M}/metrics/dpw.opened_month/records", params={"period": "2017-06", "outcome": "lost"})
    assert bad.status_code == 422


def test_the_office_recomputes_a_metric_or_a_dataset_and_departments_cannot(client, city):
    csrf = _as(client, "lia")
    assert client.post(f"{M}/metrics/dpw.opened_month/recompute", headers=csrf).status_code == 403
    assert client.post(f"{M}/datasets/service_requests/recompute", headers=csrf).status_code == 403
    csrf = _as(client, "ana")
    with city.session() as s:
        make_record(s, "later", "DPW", local("2017-06-21 09:00"))
    one = client.post(f"{M}/metrics/dpw.opened_month/recompute", json={"periods": ["2017-06"]}, headers=csrf)
    assert one.status_code == 200, one.text
    assert one.json() == {
        "metric": "dpw.opened_month",
        "created": 0,
        "updated": 1,
        "deleted": 0,
        "unchanged": 2,  # its org units' values: the new request names none
        "locked_skipped": [],
    }
    everything = client.post(f"{M}/datasets/service_requests/recompute", headers=csrf)
    assert everything.status_code == 200
    results = {r["metric"]: r for r in everything.json()["metrics"]}
    assert set(results) == {
        "dpw.on_time_rate_month",
        "dpw.backlog_month",
        "dpw.opened_month",
        "dpw.median_days_to_close_month",
        "dwm.on_time_rate_week",
    }
    assert results["dpw.backlog_month"]["updated"] == 1
    assert client.post(f"{M}/metrics/dpw.submitted/recompute", headers=csrf).status_code == 422
    week = client.post(f"{M}/metrics/dpw.opened_month/recompute", json={"periods": ["2017-W23"]}, headers=csrf)
    assert week.status_code == 422 and week.json()["errors"][0]["field"] == "periods"
    assert client.post(f"{M}/datasets/no_such/recompute", headers=csrf).status_code == 404


# --- the whole path through the API -------------------------------------------------------------------------------

FEED = b"""ref,agency,type,opened,closed,due
1,DPW,Pothole,2017-06-01 08:00,2017-06-02 08:00,2017-06-03 08:00
2,DPW,Pothole,2017-06-01 09:00,2017-06-09 09:00,2017-06-03 09:00
3,DPW,Pothole,2017-06-02 10:00,2017-06-04 10:00,2017-06-05 10:00
4,DPW,Pothole,2017-06-03 11:00,,2017-06-06 11:00
5,DPW,Streetlight,2017-06-03 11:00,2017-06-20 11:00,2017-06-06 11:00
6,DPW,Pothole,2017-05-30 11:00,2017-06-01 11:00,
"""


def test_a_computed_metric_made_fed_and_read_through_the_api(client, metrics_db, ingest_db):
    with metrics_db.session() as s:
        make_department(s, "DPW", "Public Works")
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    csrf = _as(client, "ana")
    metric = {
        "key": "dpw.potholes_on_time",
        "department": "DPW",
        "name": "Potholes repaired on time",
        "unit": "percent",
        "kind": "outcome",
        "direction": "higher_is_better",
        "frequency": "month",
        "rule": {"measure": "on_time_rate", "filters": {"category": ["Pothole"]}},
    }
    assert client.post(f"{M}/metrics", json=metric, headers=csrf).status_code == 201
    profile = {
        "description": "A feed no built-in profile reads",
        "definition": {
            "time_zone": "America/New_York",
            "timestamp_formats": ["%Y-%m-%d %H:%M"],
            "fields": {
                "record_id": ["ref"],
                "agency": ["agency"],
                "category": ["type"],
                "opened_at": ["opened"],
                "closed_at": ["closed"],
                "due_at": ["due"],
            },
        },
    }
    assert client.put(f"{M}/mapping-profiles/test-feed", json=profile, headers=csrf).status_code in (200, 201)
    job = client.post(
        f"{M}/record-imports",
        params={"id": "api-1", "dataset": "service_requests", "mapping": "test-feed", "actor": "test"},
        content=FEED,
        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
    )
    assert job.status_code == 200, job.text
    assert (job.json()["status"], job.json()["accepted"]) == ("done", 6)
    assert job.json()["recomputed"]["dpw.potholes_on_time"]["created"] == 1
    values = client.get(f"{M}/metrics/dpw.potholes_on_time/observations").json()["items"]
    # Of the potholes closed in June with a due time, #1 and #3 on time, #2 late; #6 had no due time.
    assert [(v["period"], v["value"], v["numerator"], v["denominator"]) for v in values] == [
        ("2017-06", pytest.approx(2 / 3), 2, 3)
    ]
    assert "1 of the 4 records closed in 2017-06 had no due time" in values[0]["comment"]
    _as(client, "lia")
    late = _records(client, "dpw.potholes_on_time", period="2017-06", outcome="late")
    assert [r["id"] for r in late["items"]] == ["2"]
