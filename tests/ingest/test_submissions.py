import datetime as dt

import pytest

from tests.factories import make_department, make_metric, make_target, make_token

URL = "/api/ingest/submissions"
PROBLEM = "application/problem+json"


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        make_target(s, make_metric(s, dpw, key="dpw.on_time"), 0.9, 0.05)
        make_metric(s, dpw, key="dpw.potholes", unit="count", min_value=0, max_value=None)
        make_metric(s, dpw, key="dpw.quarterly", frequency="quarter")
        make_metric(s, dpw, key="dpw.computed", is_computed=True)
        dwm = make_department(s, "DWM", "Watershed")
        make_metric(s, dwm, key="dwm.on_time")
    return {"DPW": make_token(ingest_db, "DPW"), "DWM": make_token(ingest_db, "DWM")}


def post(client, token, rows, key="key-1", **params):
    return client.post(
        URL,
        json={"observations": rows},
        params=params,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def observations(client, key):
    return client.get(f"/api/metrics/metrics/{key}/observations").json()["items"]


def test_receipt_counts_accepted_updated_unchanged_and_rejected_rows(client, city):
    first = post(
        client,
        city["DPW"],
        [
            {"metric": "dpw.on_time", "period": "2017-05", "value": 0.9},
            {"metric": "dpw.on_time", "period": "2017-06", "numerator": 95, "denominator": 100},
        ],
        key="a",
    )
    assert first.status_code == 201
    assert first.json()["summary"] == {
        "accepted": 2, "updated": 0, "unchanged": 0, "ignored": 0, "deleted": 0, "rejected": []
    }
    second = post(
        client,
        city["DPW"],
        [
            {"metric": "dpw.on_time", "period": "2017-05", "value": 0.9},  # unchanged
            {"metric": "dpw.on_time", "period": "2017-06", "value": 0.96},  # updated
            {"metric": "dpw.nope", "period": "2017-06", "value": 1},  # unknown metric
            {"metric": "dpw.on_time", "period": "2017-Q2", "value": 0.5},  # wrong frequency
            {"metric": "dpw.on_time", "period": "2017-14", "value": 0.5},  # not a period
            {"metric": "dpw.on_time", "period": "2017-04", "value": 1.5},  # outside 0..1
            {"metric": "dpw.computed", "period": "2017-06", "value": 0.5},  # computed
            {"metric": "dpw.potholes", "period": "2017-06"},  # no value
            {"metric": "dpw.on_time", "period": "2017-03", "numerator": 1, "denominator": 0},
            {"metric": "dpw.on_time", "period": "2017-08", "value": 0.5},  # not started (as_of 2017-07-10)
            {"metric": "dpw.on_time", "period": "2017-02", "value": 0.2, "numerator": 1, "denominator": 2},
        ],
        key="b",
    )
    assert second.status_code == 201
    summary = second.json()["summary"]
    assert (summary["accepted"], summary["updated"], summary["unchanged"]) == (0, 1, 1)
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [
        (2, "metric"),
        (3, "period"),
        (4, "period"),
        (5, "value"),
        (6, "metric"),
        (7, "value"),
        (8, "denominator"),
        (9, "period"),
        (10, "value"),
    ]
    assert all(r["reason"] for r in summary["rejected"])
    stored = {o["period"]: o["value"] for o in observations(client, "dpw.on_time")}
    assert stored == {"2017-05": 0.9, "2017-06": 0.96}


def test_replayed_key_returns_the_first_answer_and_changes_nothing(client, city):
    rows = [{"metric": "dpw.potholes", "period": "2017-06", "value": 120}]
    first = post(client, city["DPW"], rows, key="same")
    again = post(client, city["DPW"], rows, key="same")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert len(observations(client, "dpw.potholes")) == 1


def test_same_key_with_another_body_is_refused(client, city):
    post(client, city["DPW"], [{"metric": "dpw.potholes", "period": "2017-06", "value": 120}], key="k")
    response = post(
        client, city["DPW"], [{"metric": "dpw.potholes", "period": "2017-06", "value": 999}], key="k"
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert observations(client, "dpw.potholes")[0]["value"] == 120


def test_another_departments_metric_is_403_and_nothing_is_stored(client, city, ingest_db):
    response = post(
        client,
        city["DPW"],
        [
            {"metric": "dpw.potholes", "period": "2017-06", "value": 120},
            {"metric": "dwm.on_time", "period": "2017-06", "value": 0.5},
        ],
    )
    assert response.status_code == 403
    assert response.json()["errors"] == [
        {"row": 1, "field": "metric", "reason": "'dwm.on_time' belongs to department DWM"}
    ]
    assert observations(client, "dpw.potholes") == []
    assert observations(client, "dwm.on_time") == []
    from sqlmodel import func, select

    from services.ingest.submissions.models import Submission

    with ingest_db.session() as s:
        assert s.exec(select(func.count()).select_from(Submission)).one() == 0


def test_dry_run_validates_and_writes_nothing(client, city):
    response = post(
        client, city["DPW"], [{"metric": "dpw.potholes", "period": "2017-06", "value": 5}], dryRun="true"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "validated" and response.json()["summary"]["accepted"] == 1
    assert observations(client, "dpw.potholes") == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer cst_not-a-token"}, 401), ({"Authorization": "Basic abc"}, 401)],
)
def test_missing_or_wrong_token_is_401(client, city, headers, status):
    response = client.post(URL, json={"observations": []}, headers={"Idempotency-Key": "x", **headers})
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "body",
    [
        '{"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": NaN}]}',
        '{"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": Infinity}]}',
        '{"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": true}]}',
        '{"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": "5"}]}',
        '{"observations": [], "generated_at": "2017-07-01T10:00:00"}',
        '{"observations": [], "surprise": 1}',
        '{"observations": {}}',
    ],
)
def test_malformed_bodies_are_422_with_field_paths(client, city, body):
    response = client.post(
        URL,
        content=body,
        headers={
            "Authorization": f"Bearer {city['DPW']}",
            "Idempotency-Key": "m",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"].startswith("body")
    assert observations(client, "dpw.potholes") == []


def test_offset_timestamp_is_accepted(client, city):
    response = client.post(
        URL,
        json={"observations": [], "generated_at": "2017-07-01T10:00:00-04:00"},
        headers={"Authorization": f"Bearer {city['DPW']}", "Idempotency-Key": "ts"},
    )
    assert response.status_code == 201


def test_unparseable_json_is_400(client, city):
    response = client.post(
        URL,
        content=b"{not json",
        headers={
            "Authorization": f"Bearer {city['DPW']}",
            "Idempotency-Key": "j",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_body_over_the_limit_is_413(client, city, settings):
    rows = [{"metric": "dpw.potholes", "period": "2017-06", "value": 1, "comment": "x" * 1000}] * (
        settings.max_body_bytes // 1000 + 1
    )
    response = post(client, city["DPW"], rows)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert observations(client, "dpw.potholes") == []


def test_receipt_time_carries_an_offset(client, city):
    receipt = post(client, city["DPW"], [{"metric": "dpw.potholes", "period": "2017-06", "value": 3}]).json()
    assert dt.datetime.fromisoformat(receipt["received_at"]).utcoffset() is not None
