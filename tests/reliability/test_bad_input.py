"""A corpus of bad input for every submission format, each with the answer DESIGN.md promises: a request
malformed as a whole gets a 4xx problem+json and stores nothing; a well-formed one with unusable rows gets a
receipt naming each (row, field, reason) and stores the good rows. Never a 5xx, and nothing changes that the
answer does not account for."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from services.common.settings import Settings
from services.ingest.submissions.models import Submission
from services.metrics.definitions.models import Metric
from services.metrics.observations.models import Observation, ObservationDelivery, ObservationRevision
from tests.factories import make_department, make_metric, make_observation, make_token
from tests.reliability.bad_input_cases import CASES, DHIS2, PROBLEM, Case


@pytest.fixture
def city(metrics_db, ingest_db) -> dict[str, str]:
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        on_time = make_metric(s, dpw, key="dpw.on_time")
        make_metric(s, dpw, key="dpw.count", unit="count", min_value=0.0, max_value=None)
        make_metric(s, dpw, key="dpw.weekly", unit="count", frequency="week", min_value=0.0, max_value=None)
        make_metric(s, dpw, key="dpw.computed", is_computed=True)
        dwm = make_department(s, "DWM", "Watershed")
        make_metric(s, dwm, key="dwm.on_time")
        # A value already stored, so that a request that should change nothing has something to change.
        make_observation(s, on_time, "2017-05", 0.8, comment="as first reported")
    return {"DPW": make_token(ingest_db, "DPW"), "DWM": make_token(ingest_db, "DWM")}


def snapshot(metrics_db, ingest_db) -> dict[str, Any]:
    with metrics_db.session(write=False) as s:
        observations = {
            (key, period): (value, comment)
            for key, period, value, comment in s.exec(
                select(Metric.key, Observation.period, Observation.value, Observation.comment).join(
                    Metric, Metric.id == Observation.metric_id
                )
            )
        }
        revisions = s.exec(select(func.count()).select_from(ObservationRevision)).one()
        deliveries = s.exec(select(func.count()).select_from(ObservationDelivery)).one()
    with ingest_db.session(write=False) as s:
        submissions = {
            (row.idempotency_key, row.http_status, row.delivery_status) for row in s.exec(select(Submission))
        }
    return {"observations": observations, "revisions": revisions, "deliveries": deliveries, "submissions": submissions}


def _send(client, city: dict[str, str], case: Case, settings: Settings, body=None):
    headers = {}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    if case.token is not None:
        headers["Authorization"] = f"Bearer {city.get(case.token, 'cst_bogus-token')}"
    if case.key is not None:
        headers["Idempotency-Key"] = f"bad-input-{CASES.index(case)}" if case.key == "auto" else case.key
    if body is None:
        body = case.body(settings) if callable(case.body) else case.body
    return client.post(f"/api/ingest{case.path}", content=body, params=case.params, headers=headers)


def _receipt(body: dict[str, Any], case: Case) -> dict[str, Any]:
    return body["receipt"] if case.path == DHIS2 else body


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_promised_answer_and_changes_only_what_it_says(
    client, city, metrics_db, ingest_db, settings, case
):
    if case.first is not None:
        first = _send(client, city, case, settings, body=case.first)
        assert first.status_code == 201, first.text
    before = snapshot(metrics_db, ingest_db)
    response = _send(client, city, case, settings)
    after = snapshot(metrics_db, ingest_db)

    allowed = case.status if isinstance(case.status, tuple) else (case.status,)
    shown = f"{response.status_code} {response.headers.get('content-type')} {response.text[:800]}"
    assert response.status_code < 500, shown
    assert response.status_code in allowed, shown

    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM, shown
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["type"].startswith("urn:citystat:problem:") and problem["detail"], shown
        if case.problem is not None:
            assert problem["type"] == f"urn:citystat:problem:{case.problem}", shown
        # Metrics may remember the refused answer to a delivery id (deliveries); no value or submission changes.
        del before["deliveries"], after["deliveries"]
        assert after == before, "a refused request changed what is stored"
        return

    receipt = _receipt(response.json(), case)
    summary = receipt["summary"]
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == list(case.rejected), shown
    assert all(r["reason"] for r in summary["rejected"]), shown
    if response.status_code == 200:
        assert receipt["status"] == "validated" and receipt["dry_run"], shown
        assert after == before, "a dry run changed what is stored"
        return
    assert receipt["status"] == "delivered", shown
    values_after = {pair: value for pair, (value, _) in after["observations"].items()}
    values_expected = {pair: value for pair, (value, _) in before["observations"].items()} | case.stored
    assert values_after == values_expected, shown
    changed = {p for p in after["observations"] if after["observations"][p] != before["observations"].get(p)}
    assert changed == set(case.stored), shown
    assert after["revisions"] == before["revisions"] + len(case.stored)
    assert after["deliveries"] == before["deliveries"] + 1
    new = after["submissions"] - before["submissions"]
    assert len(new) == 1 and len(after["submissions"]) == len(before["submissions"]) + 1, new
    assert next(iter(new))[1:] == (201, "delivered"), new
    if case.comment is not None:
        assert case.comment in {comment for _, comment in after["observations"].values()}
        key = next(metric for metric, _ in case.stored)
        served = client.get(f"/api/metrics/metrics/{key}/observations").json()["items"]
        assert case.comment in {o["comment"] for o in served}, served
