"""A computed metric's rule through the metrics API: stored with the definition and shown with it, refused when it
does not fit the metric, computed at once from the records already loaded, and kept in the version history."""

from __future__ import annotations

import pytest
from sqlmodel import select

from services.common.contracts import ObservationBatch, ObservationRow
from services.metrics.definitions.models import Metric
from services.metrics.observations.service import apply_batch
from tests.conftest import DEMO_AS_OF
from tests.factories import make_department, make_metric, make_user, sign_in
from tests.metrics.records.record_factory import local, make_record

METRICS = "/api/metrics/metrics"
ON_TIME = {
    "key": "dpw.requests_on_time",
    "department": "DPW",
    "name": "Service requests completed on time",
    "unit": "percent",
    "kind": "outcome",
    "direction": "higher_is_better",
    "frequency": "month",
    "rule": {"dataset": "service_requests", "measure": "on_time_rate", "filters": {"category": ["Pothole"]}},
}


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        make_department(s, "DWM", "Watershed Management")
        make_metric(s, dpw, key="dpw.potholes", unit="count", min_value=0, max_value=None)
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    return metrics_db


def _as(client, username):
    client.cookies.clear()
    return sign_in(client, username)


def test_a_metric_defined_with_a_rule_is_computed_and_shows_its_rule(client, city):
    with city.session() as s:
        opened = local("2017-05-02 09:00")
        make_record(s, "a", "DPW", opened, local("2017-05-03 09:00"), local("2017-05-04 09:00"))
        make_record(s, "b", "DPW", opened, local("2017-05-09 09:00"), local("2017-05-04 09:00"))
        make_record(s, "c", "DPW", opened, local("2017-05-03 09:00"), local("2017-05-04 09:00"), category="Graffiti")
    csrf = _as(client, "ana")
    created = client.post(METRICS, json=ON_TIME, headers=csrf)
    assert created.status_code == 201, created.text
    metric = created.json()
    assert (metric["is_computed"], metric["rollup"]) == (True, "ratio")
    assert metric["rule"] == {
        "dataset": "service_requests",
        "measure": "on_time_rate",
        "filters": {"department": [], "category": ["Pothole"], "org_unit": []},
        "by_org_unit": False,
    }
    assert client.get(f"{METRICS}/{ON_TIME['key']}").json()["rule"] == metric["rule"]
    # The records already loaded are counted at once.
    values = client.get(f"{METRICS}/{ON_TIME['key']}/observations").json()["items"]
    assert [(v["period"], v["value"], v["numerator"], v["denominator"]) for v in values] == [("2017-05", 0.5, 1, 2)]
    versions = client.get(f"{METRICS}/{ON_TIME['key']}/versions").json()["items"]
    assert versions[0]["changes"]["rule"]["to"]["measure"] == "on_time_rate"
    assert versions[0]["changes"]["is_computed"]["to"] is True


def test_a_computed_metric_refuses_submitted_values(client, city):
    csrf = _as(client, "ana")
    assert client.post(METRICS, json=ON_TIME, headers=csrf).status_code == 201
    with city.session() as s:
        batch = ObservationBatch(
            department="DPW", actor="token:1", rows=[ObservationRow(metric=ON_TIME["key"], period="2017-05", value=0.9)]
        )
        result = apply_batch(s, batch, DEMO_AS_OF, lock_after_days=30)
    assert result.summary.accepted == 0
    assert "computed from raw records" in result.summary.rejected[0].reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit": "count"}, "unit"),
        ({"frequency": "quarter"}, "frequency"),
        ({"rollup": "mean"}, "rollup"),
        ({"max_value": 100}, "max_value"),
        ({"rule": {"measure": "on_time_rate", "dataset": "work_orders"}}, "rule.dataset"),
        ({"rule": {"measure": "on_time_rate", "filters": {"department": ["NOPE"]}}}, "rule.filters.department"),
        ({"rule": {"measure": "median_days_to_close"}}, "unit"),
        ({"unit": "days", "rule": {"measure": "opened"}}, "unit"),
        ({"unit": "count", "rollup": "sum", "rule": {"measure": "backlog"}}, "rollup"),
    ],
)
def test_a_rule_that_does_not_fit_its_metric_is_refused_naming_the_field(client, city, change, field):
    csrf = _as(client, "ana")
    answer = client.post(METRICS, json={**ON_TIME, **change}, headers=csrf)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    with city.session(write=False) as s:
        assert s.exec(select(Metric).where(Metric.key == ON_TIME["key"])).first() is None


@pytest.mark.parametrize(
    "rule",
    [
        {"measure": "on_time_rate", "extra": 1},
        {"measure": "slowest"},
        {"measure": "on_time_rate", "filters": {"department": ["dpw"]}},
        {"measure": "on_time_rate", "by_org_unit": "yes"},
    ],
)
def test_a_malformed_rule_is_a_validation_error(client, city, rule):
    csrf = _as(client, "ana")
    assert client.post(METRICS, json={**ON_TIME, "rule": rule}, headers=csrf).status_code == 422


def test_a_backlog_takes_the_roll_up_of_a_stock(client, city):
    csrf = _as(client, "ana")
    body = {**ON_TIME, "key": "dpw.backlog", "unit": "count", "rule": {"measure": "backlog"}}
    answer = client.post(METRICS, json=body, headers=csrf)
    assert answer.status_code == 201, answer.text
    assert answer.json()["rollup"] == "last"


def test_a_submitted_metric_becomes_computed_and_back_through_an_edit(client, city):
    with city.session() as s:
        make_record(s, "a", "DPW", local("2017-05-02 09:00"))
        make_record(s, "b", "DPW", local("2017-06-02 09:00"))
    csrf = _as(client, "ana")
    edit = {"rule": {"measure": "opened"}, "reason": "Counted from the 311 system's records from now on."}
    answer = client.patch(f"{METRICS}/dpw.potholes", json=edit, headers=csrf)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["is_computed"], answer.json()["rule"]["measure"]) == (True, "opened")
    values = client.get(f"{METRICS}/dpw.potholes/observations").json()["items"]
    assert [(v["period"], v["value"]) for v in values] == [("2017-05", 1), ("2017-06", 1)]
    latest = client.get(f"{METRICS}/dpw.potholes/versions").json()["items"][-1]
    assert latest["series_break"] is True and set(latest["changes"]) == {"rule", "is_computed"}
    # The unit must keep fitting the rule.
    assert (
        client.patch(f"{METRICS}/dpw.potholes", json={"unit": "days", "reason": "x"}, headers=csrf).status_code == 422
    )
    back = client.patch(f"{METRICS}/dpw.potholes", json={"rule": None, "reason": "Submitted again."}, headers=csrf)
    assert (back.json()["is_computed"], back.json()["rule"]) == (False, None)


def test_a_department_cannot_define_a_computed_metric(client, city):
    csrf = _as(client, "lia")
    assert client.post(METRICS, json=ON_TIME, headers=csrf).status_code == 403
