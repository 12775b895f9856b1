"""The write path ingest uses: every row judged, each delivery applied once."""

from sqlalchemy import func
from sqlmodel import select

from services.metrics.observations.models import ObservationRevision
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_metric

URL = "/api/metrics/observations/batch"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def _city(metrics_db):
    with metrics_db.session() as s:
        make_metric(s, make_department(s, "DPW", "Public Works"), key="dpw.potholes", unit="count",
                    min_value=0, max_value=None)


def test_a_redelivered_batch_is_answered_from_memory_and_changes_nothing(client, metrics_db):
    _city(metrics_db)
    batch = {"department": "DPW", "delivery_id": "sub-1",
             "rows": [{"metric": "dpw.potholes", "period": "2017-06", "value": 10}]}
    first = client.post(URL, json=batch, headers=AUTH).json()
    assert first["summary"]["accepted"] == 1
    # Same delivery with other content: the first answer stands, the stored value too.
    batch["rows"][0]["value"] = 99
    again = client.post(URL, json=batch, headers=AUTH).json()
    assert again == first
    values = client.get("/api/metrics/metrics/dpw.potholes/observations").json()["items"]
    assert [v["value"] for v in values] == [10]


def test_duplicate_rows_in_one_batch_count_once_then_as_an_update(client, metrics_db):
    _city(metrics_db)
    rows = [{"metric": "dpw.potholes", "period": "2017-06", "value": 10},
            {"metric": "dpw.potholes", "period": "2017-06", "value": 12}]
    summary = client.post(URL, json={"department": "DPW", "rows": rows}, headers=AUTH).json()["summary"]
    assert (summary["accepted"], summary["updated"]) == (1, 1)
    assert client.get("/api/metrics/metrics/dpw.potholes/observations").json()["items"][0]["value"] == 12


def test_dry_run_judges_without_writing(client, metrics_db):
    _city(metrics_db)
    rows = [{"metric": "dpw.potholes", "period": "2017-06", "value": 10}]
    summary = client.post(URL, json={"department": "DPW", "dry_run": True, "delivery_id": "d", "rows": rows},
                          headers=AUTH).json()["summary"]
    assert summary["accepted"] == 1
    assert client.get("/api/metrics/metrics/dpw.potholes/observations").json()["total"] == 0


def test_concurrent_deliveries_of_one_value_neither_fail_nor_double(client, metrics_db):
    from concurrent.futures import ThreadPoolExecutor

    _city(metrics_db)

    def deliver(i: int) -> int:
        batch = {"department": "DPW", "delivery_id": f"sub-{i}",
                 "rows": [{"metric": "dpw.potholes", "period": "2017-06", "value": 100 + i}]}
        return client.post(URL, json=batch, headers=AUTH).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(deliver, range(16)))
    assert statuses == [200] * 16
    values = client.get("/api/metrics/metrics/dpw.potholes/observations").json()
    assert values["total"] == 1 and 100 <= values["items"][0]["value"] < 116


def _send(client, rows, **batch):
    response = client.post(URL, json={"department": "DPW", "rows": rows, **batch}, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def _stored(client) -> dict[str, float]:
    items = client.get("/api/metrics/metrics/dpw.potholes/observations").json()["items"]
    return {v["period"]: v["value"] for v in items}


def _revision_count(metrics_db) -> int:
    with metrics_db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(ObservationRevision)).one()


def _pothole(period, value=None):
    return {"metric": "dpw.potholes", "period": period, **({} if value is None else {"value": value})}


def test_create_strategy_adds_new_values_and_ignores_stored_ones(client, metrics_db):
    _city(metrics_db)
    _send(client, [_pothole("2017-05", 5)])
    result = _send(client, [_pothole("2017-05", 50), _pothole("2017-06", 6)], strategy="create")
    assert result["summary"] | {"rejected": None} == {
        "accepted": 1, "updated": 0, "unchanged": 0, "ignored": 1, "deleted": 0, "rejected": None
    }
    assert _stored(client) == {"2017-05": 5, "2017-06": 6}
    assert _revision_count(metrics_db) == 2


def test_update_strategy_changes_stored_values_and_ignores_new_ones(client, metrics_db):
    _city(metrics_db)
    _send(client, [_pothole("2017-05", 5)])
    result = _send(client, [_pothole("2017-05", 50), _pothole("2017-06", 6), _pothole("2017-05", 50)],
                   strategy="update")
    summary = result["summary"]
    assert (summary["updated"], summary["ignored"], summary["unchanged"], summary["accepted"]) == (1, 1, 1, 0)
    assert _stored(client) == {"2017-05": 50}
    assert _revision_count(metrics_db) == 2


def test_create_and_update_is_the_default_strategy(client, metrics_db):
    _city(metrics_db)
    _send(client, [_pothole("2017-05", 5)])
    summary = _send(client, [_pothole("2017-05", 50), _pothole("2017-06", 6)])["summary"]
    assert (summary["accepted"], summary["updated"], summary["ignored"]) == (1, 1, 0)
    assert _stored(client) == {"2017-05": 50, "2017-06": 6}


def test_delete_strategy_needs_only_the_key_and_still_judges_it(client, metrics_db):
    _city(metrics_db)
    _send(client, [_pothole("2017-05", 5), _pothole("2017-06", 6)])
    rows = [
        _pothole("2017-05"),  # stored: deleted, no value needed
        _pothole("2017-04"),  # nothing stored: ignored
        _pothole("2017-06", -3),  # a value on a delete row is not judged
        _pothole("2017-06"),  # already deleted by the row before: ignored
        _pothole("2017-Q2"),  # wrong frequency
        _pothole("2017-08"),  # not started yet
        {"metric": "dpw.nope", "period": "2017-06"},
    ]
    summary = _send(client, rows, strategy="delete")["summary"]
    assert (summary["deleted"], summary["ignored"]) == (2, 2)
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [(4, "period"), (5, "period"), (6, "metric")]
    assert _stored(client) == {}
    assert _revision_count(metrics_db) == 4


def test_delete_strategy_refuses_another_departments_metric(client, metrics_db):
    _city(metrics_db)
    with metrics_db.session() as s:
        make_metric(s, make_department(s, "DWM", "Watershed"), key="dwm.main_breaks", unit="count",
                    min_value=0, max_value=None)
    _send(client, [_pothole("2017-06", 6)])
    result = _send(client, [_pothole("2017-06"), {"metric": "dwm.main_breaks", "period": "2017-06"}],
                   strategy="delete")
    assert result["forbidden"] == [{"row": 1, "metric": "dwm.main_breaks", "department": "DWM"}]
    assert result["applied"] is False
    assert _stored(client) == {"2017-06": 6}


def test_an_atomic_batch_with_a_bad_row_writes_nothing_and_a_redelivery_answers_the_same(client, metrics_db):
    _city(metrics_db)
    _send(client, [_pothole("2017-05", 5)])
    batch = {"atomic": True, "delivery_id": "atomic-1",
             "rows": [_pothole("2017-05", 50), _pothole("2017-06", 6), _pothole("2017-06", -1)]}
    first = _send(client, **batch)
    assert first["applied"] is False
    summary = first["summary"]
    assert (summary["updated"], summary["accepted"]) == (1, 1)
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [(2, "value")]
    assert _stored(client) == {"2017-05": 5}
    assert _revision_count(metrics_db) == 1

    # The same delivery, even with the bad row mended, gets the first answer and still writes nothing.
    batch["rows"][2]["value"] = 7
    assert _send(client, **batch) == first
    assert _stored(client) == {"2017-05": 5}
    assert _revision_count(metrics_db) == 1


def test_an_atomic_batch_of_good_rows_is_applied(client, metrics_db):
    _city(metrics_db)
    result = _send(client, [_pothole("2017-05", 5), _pothole("2017-06", 6)], atomic=True, delivery_id="a")
    assert result["applied"] is True and result["summary"]["accepted"] == 2
    assert _stored(client) == {"2017-05": 5, "2017-06": 6}


def test_a_non_atomic_batch_stores_its_good_rows(client, metrics_db):
    _city(metrics_db)
    result = _send(client, [_pothole("2017-05", 5), _pothole("2017-06", -1)])
    assert result["applied"] is True and len(result["summary"]["rejected"]) == 1
    assert _stored(client) == {"2017-05": 5}


def test_a_dry_run_is_not_applied(client, metrics_db):
    _city(metrics_db)
    result = _send(client, [_pothole("2017-05", 5)], dry_run=True, atomic=True)
    assert result["applied"] is False and result["summary"]["accepted"] == 1
    assert _revision_count(metrics_db) == 0
