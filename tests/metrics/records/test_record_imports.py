"""Metrics' side of a bulk load: a spooled file in, each row stored once (upserted on its id), every unusable row
listed with row, field and reason, the job's progress and summary readable while and after it runs."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from services.metrics.departments.models import Department
from services.metrics.records.models import RawRecord
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_user, sign_in

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "311"
BOSTON = DATA / "boston311_100_qsv_2022.csv"
NYC = DATA / "nyc311_sample_1000_2014-2019.csv"
URL = "/api/metrics/record-imports"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def _load(client, body: bytes, job: str, mapping: str = "boston311", **params):
    query = {"id": job, "dataset": "service_requests", "mapping": mapping, "actor": "test", **params}
    return client.post(URL, params=query, content=body, headers=AUTH)


def _records(metrics_db) -> int:
    with metrics_db.session(write=False) as session:
        return session.exec(select(func.count()).select_from(RawRecord)).one()


def _data_rows(path: Path) -> int:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_a_real_file_loads_with_every_row_accounted_for(client, metrics_db):
    answer = _load(client, BOSTON.read_bytes(), "boston-1", create_departments="true")
    assert answer.status_code == 200, answer.text
    job = answer.json()
    assert job["status"] == "done"
    assert job["rows_read"] == _data_rows(BOSTON)
    assert job["accepted"] + job["rejected"] == job["rows_read"]
    assert job["accepted"] == _records(metrics_db) > 0
    assert job["done"] == job["total"] == BOSTON.stat().st_size
    # Boston's departments became CityStat departments, as asked.
    with metrics_db.session(write=False) as session:
        codes = set(session.exec(select(Department.code)))
    assert set(job["departments_created"]) <= codes
    assert "PWD" in codes  # the profile maps Boston's PWDx to PWD


def test_the_same_job_again_answers_without_loading_and_a_new_job_updates_in_place(client, metrics_db):
    first = _load(client, BOSTON.read_bytes(), "boston-a", create_departments="true").json()
    again = _load(client, b"case_enquiry_id,open_dt\n", "boston-a", create_departments="true").json()
    assert again == first
    second = _load(client, BOSTON.read_bytes(), "boston-b", create_departments="true").json()
    assert (second["accepted"], second["updated"], second["unchanged"]) == (0, 0, first["accepted"])
    assert _records(metrics_db) == first["accepted"]

    # A corrected file: one request closed later than first said.
    text = BOSTON.read_text(encoding="utf-8")
    corrected = text.replace("2022-01-09 06:43:06", "2022-01-10 06:43:06", 1)
    assert corrected != text
    third = _load(client, corrected.encode(), "boston-c", create_departments="true").json()
    assert (third["accepted"], third["updated"]) == (0, 1)
    assert _records(metrics_db) == first["accepted"]
    with metrics_db.session(write=False) as session:
        record = session.get(RawRecord, ("service_requests", "101004120108"))
    assert record.closed_at.isoformat().startswith("2022-01-10T11:43:06")
    assert record.closed_month == "2022-01"


def test_a_gzipped_file_loads_the_same_records(client, metrics_db):
    plain = _load(client, BOSTON.read_bytes(), "plain", create_departments="true").json()
    zipped = _load(client, gzip.compress(BOSTON.read_bytes()), "zipped", create_departments="true").json()
    assert zipped["status"] == "done"
    assert zipped["unchanged"] == plain["accepted"]
    assert zipped["rejected"] == plain["rejected"]


def test_unknown_agencies_are_rejected_rows_unless_departments_may_be_created(client, metrics_db):
    job = _load(client, BOSTON.read_bytes(), "no-create").json()
    assert job["accepted"] == 0
    assert job["rejected"] == job["rows_read"]
    reasons = {r["field"] for r in job["rejections_sample"]}
    assert "agency" in reasons
    agency = next(r for r in job["rejections_sample"] if r["field"] == "agency")
    assert "unknown department" in agency["reason"] and "boston311" in agency["reason"]


def test_an_upload_confined_to_a_department_keeps_only_its_records(client, metrics_db):
    with metrics_db.session() as session:
        make_department(session, "PWD", "Public Works (Boston)")
        make_department(session, "BTDT", "Transportation (Boston)")
    job = _load(client, BOSTON.read_bytes(), "confined", department="PWD").json()
    with metrics_db.session(write=False) as session:
        departments = set(session.exec(select(RawRecord.department)))
    assert departments == {"PWD"}
    assert job["accepted"] == _records(metrics_db)
    others = {r["reason"] for r in job["rejections_sample"] if r["field"] == "agency"}
    assert "the record belongs to department BTDT; this upload may only load PWD's" in others


def test_nyc_rejects_exactly_the_requests_closed_before_they_were_created(client, metrics_db):
    job = _load(client, NYC.read_bytes(), "nyc", mapping="nyc311", create_departments="true").json()
    assert job["status"] == "done", job
    assert job["rejected"] == 10
    page = client.get(f"{URL}/nyc/rejections", params={"limit": 5, "offset": 5}, headers=AUTH).json()
    assert page["total"] == 10 and len(page["items"]) == 5
    assert {r["field"] for r in page["items"]} == {"closed_at"}
    assert job["accepted"] == _records(metrics_db) == _data_rows(NYC) - 10


def test_an_unusable_header_fails_the_job_with_the_reason(client, metrics_db):
    answer = _load(client, b"foo,bar\n1,2\n", "bad-header")
    assert answer.status_code == 200
    job = answer.json()
    assert job["status"] == "failed"
    assert job["error"]
    assert _records(metrics_db) == 0


def test_unknown_profiles_and_profiles_of_another_dataset_are_refused(client, metrics_db, ingest_db):
    assert _load(client, b"x", "nope", mapping="no_such_profile").status_code == 404
    make_user(ingest_db, "analyst1", role="analyst")
    csrf = sign_in(client, "analyst1")
    body = {"key": "inspections", "title": "Building inspections", "fields": [{"name": "inspector"}]}
    assert client.post("/api/metrics/datasets", json=body, headers=csrf).status_code == 201
    client.cookies.clear()
    answer = client.post(
        URL,
        params={"id": "other", "dataset": "inspections", "mapping": "boston311", "actor": "test"},
        content=BOSTON.read_bytes(),
        headers=AUTH,
    )
    assert answer.status_code == 422
    assert "service_requests" in answer.json()["detail"]


def test_the_job_is_readable_by_the_office_and_by_its_department_only(client, metrics_db, ingest_db):
    with metrics_db.session() as session:
        make_department(session, "PWD", "Public Works (Boston)")
        make_department(session, "OTHER", "Another department")
    _load(client, BOSTON.read_bytes(), "seen", department="PWD")
    make_user(ingest_db, "analyst1", role="analyst")
    make_user(ingest_db, "pwdx1", role="liaison", department="PWD")
    make_user(ingest_db, "other1", role="liaison", department="OTHER")
    for username, status in (("analyst1", 200), ("pwdx1", 200), ("other1", 404)):
        client.cookies.clear()
        sign_in(client, username)
        assert client.get(f"{URL}/seen").status_code == status, username
    client.cookies.clear()
    assert client.get(f"{URL}/seen").status_code == 401


def test_a_large_file_is_loaded_in_chunks_with_progress_moving(client, metrics_db):
    rows = ["case_enquiry_id,open_dt,closed_dt,target_dt,department,type"]
    for number in range(45_000):
        rows.append(f"{number},2022-01-0{1 + number % 9} 10:00:00,2022-01-1{number % 9} 09:00:00,,PWDx,Pothole")
    body = ("\n".join(rows) + "\n").encode()
    job = _load(client, io.BytesIO(body).getvalue(), "large", create_departments="true").json()
    assert job["status"] == "done", job
    assert job["accepted"] == 45_000 == _records(metrics_db)
    assert job["done"] == len(body)
