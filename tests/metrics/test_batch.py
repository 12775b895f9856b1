"""The write path ingest uses: every row judged, each delivery applied once."""

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
