"""Every submission format through the API: CSV, DHIS2 JSON and CSV, import strategies, receipts."""

import pytest

from services.metrics.orgunits.models import OrgUnit
from tests.factories import make_department, make_metric, make_observation, make_token

PROBLEM = "application/problem+json"


@pytest.fixture
def dpw(metrics_db, ingest_db):
    with metrics_db.session() as s:
        dept = make_department(s, "DPW", "Public Works")
        make_metric(s, dept, key="dpw.potholes", unit="count", min_value=0, max_value=None)
        make_metric(s, dept, key="dpw.on_time")
        make_metric(s, dept, key="dpw.weekly", unit="count", frequency="week", min_value=0, max_value=None)
        make_metric(s, dept, key="dpw.quarterly", unit="count", frequency="quarter", min_value=0, max_value=None)
        s.add(OrgUnit(department_id=dept.id, code="DPW-NORTH", name="North yard", kind="yard"))
    return {"Authorization": f"Bearer {make_token(ingest_db, 'DPW')}"}


def values(client, key, org_unit=""):
    items = client.get(f"/api/metrics/metrics/{key}/observations", params={"org_unit": org_unit}).json()["items"]
    return {item["period"]: item["value"] for item in items}


def send_csv(client, auth, body: bytes, key="csv-1", **params):
    headers = {**auth, "Idempotency-Key": key, "Content-Type": "text/csv"}
    return client.post("/api/ingest/submissions/csv", content=body, headers=headers, params=params)


def test_a_csv_upload_stores_good_rows_and_numbers_bad_ones_as_spreadsheet_rows(client, dpw):
    body = (
        "\ufeffmetric,period,value,comment\r\n"
        "dpw.potholes,2017-05,1200,\r\n"
        "dpw.potholes,2017-06,not a number,typo\r\n"
        "dpw.on_time,2017-06,0.93,Ça marche ✓\r\n"
        "dpw.unknown,2017-06,1,\r\n"
    ).encode()
    answer = send_csv(client, dpw, body)
    assert answer.status_code == 201, answer.text
    summary = answer.json()["summary"]
    assert summary["accepted"] == 2
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [(3, "value"), (5, "metric")]
    assert values(client, "dpw.potholes") == {"2017-05": 1200}
    stored = client.get("/api/metrics/metrics/dpw.on_time/observations").json()["items"][0]
    assert (stored["value"], stored["comment"]) == (0.93, "Ça marche ✓")


def test_a_csv_dry_run_answers_the_same_summary_and_writes_nothing(client, dpw):
    body = b"metric,period,value\ndpw.potholes,2017-06,5\ndpw.potholes,2017-13,5\n"
    checked = send_csv(client, dpw, body, dryRun="true")
    assert checked.status_code == 200
    assert checked.json()["status"] == "validated" and checked.json()["id"] is None
    assert checked.json()["summary"]["accepted"] == 1
    assert [(r["row"], r["field"]) for r in checked.json()["summary"]["rejected"]] == [(3, "period")]
    assert values(client, "dpw.potholes") == {}
    assert client.get("/api/ingest/submissions", headers=dpw).json()["total"] == 0


def test_an_atomic_csv_with_one_bad_row_is_a_422_that_stores_nothing(client, dpw):
    body = b"metric,period,value\ndpw.potholes,2017-06,5\ndpw.potholes,2017-06,-1\n"
    refused = send_csv(client, dpw, body, atomic="true")
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(3, "value")]
    assert values(client, "dpw.potholes") == {}
    # The key was not used up by the refusal: the corrected file goes through under it.
    fixed = send_csv(client, dpw, b"metric,period,value\ndpw.potholes,2017-06,5\n", atomic="true")
    assert fixed.status_code == 201 and values(client, "dpw.potholes") == {"2017-06": 5}


def test_a_malformed_csv_is_a_400_and_a_wrong_content_type_a_415(client, dpw):
    missing = send_csv(client, dpw, b"period,value\n2017-06,5\n")
    assert missing.status_code == 400 and missing.headers["content-type"].startswith(PROBLEM)
    assert "metric" in missing.json()["detail"]
    wrong_type = client.post(
        "/api/ingest/submissions/csv",
        content=b"metric,period,value\n",
        headers={**dpw, "Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert wrong_type.status_code == 415


def data_value_set(rows, **top):
    return {"dataSet": "ds", **top, "dataValues": rows}


def send_dhis2(client, auth, payload=None, csv: bytes | None = None, **params):
    if csv is not None:
        return client.post(
            "/api/ingest/dataValueSets", content=csv, params=params, headers={**auth, "Content-Type": "application/csv"}
        )
    return client.post("/api/ingest/dataValueSets", json=payload, params=params, headers=auth)


def test_dhis2_json_maps_elements_periods_and_org_units_and_answers_in_both_shapes(client, dpw):
    payload = data_value_set(
        [
            {"dataElement": "dpw.potholes", "value": "1412"},
            {"dataElement": "dpw.potholes", "orgUnit": "DPW-NORTH", "value": 700},
            {"dataElement": "dpw.weekly", "period": "2017W23", "value": "41"},
            {"dataElement": "dpw.quarterly", "period": "2017Q2", "value": "9"},
            {"dataElement": "dpw.potholes", "period": "20170601", "value": "1"},
        ],
        period="201706",
        orgUnit="DPW",
    )
    answer = send_dhis2(client, dpw, payload)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    # DHIS2's own reading of it
    assert body["response"]["importCount"] == {"imported": 4, "updated": 0, "ignored": 1, "deleted": 0}
    assert body["response"]["conflicts"][0]["indexes"] == [4]
    assert body["response"]["status"] == "WARNING"
    # and CityStat's receipt beside it
    assert body["receipt"]["summary"]["accepted"] == 4
    assert [(r["row"], r["field"]) for r in body["receipt"]["summary"]["rejected"]] == [(4, "period")]
    assert values(client, "dpw.potholes") == {"2017-06": 1412}
    assert values(client, "dpw.potholes", "DPW-NORTH") == {"2017-06": 700}
    assert values(client, "dpw.weekly") == {"2017-W23": 41}
    assert values(client, "dpw.quarterly") == {"2017-Q2": 9}


def test_dhis2_import_strategies_create_update_and_delete(client, dpw, metrics_db):
    with metrics_db.session() as s:
        from sqlmodel import select

        from services.metrics.definitions.models import Metric

        potholes = s.exec(select(Metric).where(Metric.key == "dpw.potholes")).one()
        make_observation(s, potholes, "2017-05", 10)
    rows = [
        {"dataElement": "dpw.potholes", "period": "201705", "value": "11"},
        {"dataElement": "dpw.potholes", "period": "201706", "value": "12"},
    ]
    created = send_dhis2(client, dpw, data_value_set(rows), importStrategy="CREATE").json()
    assert created["response"]["importCount"] == {"imported": 1, "updated": 0, "ignored": 1, "deleted": 0}
    assert values(client, "dpw.potholes") == {"2017-05": 10, "2017-06": 12}
    rows = [
        {"dataElement": "dpw.potholes", "period": "201705", "value": "15"},
        {"dataElement": "dpw.potholes", "period": "201704", "value": "9"},
    ]
    updated = send_dhis2(client, dpw, data_value_set(rows), importStrategy="UPDATE").json()
    assert updated["response"]["importCount"] == {"imported": 0, "updated": 1, "ignored": 1, "deleted": 0}
    assert values(client, "dpw.potholes") == {"2017-05": 15, "2017-06": 12}
    csv = b"dataelement,period,orgunit,catoptcombo,attroptcombo,value\ndpw.potholes,201705,DPW,,,15\n"
    deleted = send_dhis2(client, dpw, csv=csv, importStrategy="DELETE")
    assert deleted.status_code == 201, deleted.text
    assert deleted.json()["response"]["importCount"]["deleted"] == 1
    assert values(client, "dpw.potholes") == {"2017-06": 12}
    kinds = [
        r["kind"]
        for r in client.get("/api/metrics/metrics/dpw.potholes/observations/2017-05/revisions").json()["items"]
    ]
    assert kinds == ["deleted", "updated"]


def test_dhis2_dry_run_writes_nothing(client, dpw):
    payload = data_value_set([{"dataElement": "dpw.potholes", "period": "201706", "value": "3"}])
    answer = send_dhis2(client, dpw, payload, dryRun="true")
    assert answer.status_code == 200
    assert answer.json()["response"]["importOptions"]["dryRun"] is True
    assert answer.json()["response"]["importCount"]["imported"] == 1
    assert values(client, "dpw.potholes") == {}


def test_a_correction_keeps_its_reason_in_the_revision_history(client, dpw):
    headers = {**dpw, "Idempotency-Key": "first"}
    row = {"metric": "dpw.potholes", "period": "2017-06", "value": 100}
    assert client.post("/api/ingest/submissions", json={"observations": [row]}, headers=headers).status_code == 201
    corrected = {**row, "value": 104, "reason": "four repairs were logged late"}
    headers["Idempotency-Key"] = "second"
    answer = client.post("/api/ingest/submissions", json={"observations": [corrected]}, headers=headers)
    assert answer.json()["summary"]["updated"] == 1
    history = client.get("/api/metrics/metrics/dpw.potholes/observations/2017-06/revisions").json()["items"]
    assert [(h["kind"], h["value"], h["previous_value"], h["reason"]) for h in history] == [
        ("updated", 104, 100, "four repairs were logged late"),
        ("created", 100, None, None),
    ]


def test_a_submission_can_be_read_back_with_its_delivery_outcome(client, dpw, ingest_db):
    other = {"Authorization": f"Bearer {make_token(ingest_db, 'DWM')}"}
    sent = send_csv(client, dpw, b"metric,period,value\ndpw.potholes,2017-06,5\ndpw.potholes,2017-99,5\n")
    receipt = sent.json()
    read = client.get(f"/api/ingest/submissions/{receipt['id']}", headers=dpw)
    assert read.status_code == 200
    body = read.json()
    assert (body["delivery_status"], body["format"], body["receipt"]) == ("delivered", "csv", receipt)
    assert [(r["row"], r["field"]) for r in body["summary"]["rejected"]] == [(3, "period")]
    assert client.get("/api/ingest/submissions", headers=dpw).json()["total"] == 1
    # Another department's system does not learn the submission exists.
    assert client.get(f"/api/ingest/submissions/{receipt['id']}", headers=other).status_code == 404
    assert client.get("/api/ingest/submissions", headers=other).json()["total"] == 0
