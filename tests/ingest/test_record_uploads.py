"""Bulk raw-record uploads through ingest: spooled and answered at once (202), handed to metrics in the background,
followed as a job until done, on the real 311 files in the shared data."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from services.common.db import Database
from services.ingest.records.handoff import LEASE
from services.ingest.records.models import RecordUpload
from services.metrics.records.models import ImportStatus, RawRecord, RecordImport, RecordRejection
from services.runner import create_root_app
from tests.conftest import DatabaseSet
from tests.factories import make_department, make_token, make_user, sign_in
from tests.reliability.harness import running_services

SHARED_311 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "311"
NYC = SHARED_311 / "nyc311_sample_1000_2014-2019.csv"
BOSTON = SHARED_311 / "boston311_100_qsv_2022.csv"
URL = "/api/ingest/records"
PROBLEM = "application/problem+json"
ENDED = ("done", "failed")
NYC_TIME = "%m/%d/%Y %I:%M:%S %p"


def upload(client, body, headers, content_type="text/csv", **params) -> httpx.Response:
    query = {"dataset": "service_requests", "mapping": "nyc311", **params}
    return client.post(URL, params=query, content=body, headers={"Content-Type": content_type, **headers})


def wait_for(client, job_id: str, headers=None, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/ingest/jobs/{job_id}", headers=headers or {})
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in ENDED:
            return job
        assert time.monotonic() < deadline, f"the job did not end in {timeout:.0f} s: {job}"
        time.sleep(0.1)


def spool_files(settings) -> set[str]:
    directory = settings.spool_dir / "ingest"
    return {p.name for p in directory.iterdir()} if directory.is_dir() else set()


def nyc_rows() -> list[dict]:
    with NYC.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def closed_before_opened(row: dict) -> bool:
    if not row["Closed Date"]:
        return False
    return dt.datetime.strptime(row["Closed Date"], NYC_TIME) < dt.datetime.strptime(row["Created Date"], NYC_TIME)


@pytest.fixture
def analyst(client, ingest_db) -> dict[str, str]:
    make_user(ingest_db, "ana", "analyst")
    return sign_in(client, "ana")


@pytest.fixture
def dpr_token(metrics_db, ingest_db) -> dict[str, str]:
    with metrics_db.session() as s:
        make_department(s, "DPR", "Parks and Recreation")
        make_department(s, "NYPD", "Police")
    return {"Authorization": f"Bearer {make_token(ingest_db, 'DPR')}"}


@contextmanager
def app_with(settings, **changes):
    with TestClient(create_root_app(settings.model_copy(update=changes)), raise_server_exceptions=False) as client:
        yield client


def test_a_city_feed_is_answered_at_once_then_loaded_with_its_rejections(client, analyst, settings, metrics_db):
    data = NYC.read_bytes()
    answer = upload(client, data, analyst, create_departments="true", filename="nyc.csv")
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["Location"] == f"/api/ingest/jobs/{job['id']}"
    assert job["status"] in ("spooled", "loading")
    assert (job["bytes_total"], job["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert job["progress"]["total"] == len(data)
    assert (job["department"], job["filename"], job["create_departments"]) == (None, "nyc.csv", True)

    ended = wait_for(client, job["id"])
    assert ended["status"] == "done", ended
    assert ended["progress"] == {"done": len(data), "total": len(data)}
    summary = ended["summary"]
    # The file's own count: the requests its city closed before they were created, and none else, are refused.
    bad = [row["Unique Key"] for row in nyc_rows() if closed_before_opened(row)]
    assert len(bad) == 10
    assert (summary["rows_read"], summary["accepted"], summary["rejected"]) == (1000, 990, 10)
    assert {r["field"] for r in summary["first_rejections"]} == {"closed_at"}
    assert sorted(r["record_id"] for r in summary["first_rejections"]) == sorted(bad)
    assert {"NYPD", "DPR", "HPD"} <= set(summary["departments_created"])

    rejections = client.get(f"/api/ingest/jobs/{job['id']}/rejections", params={"limit": 4, "offset": 8}).json()
    assert rejections["total"] == 10 and len(rejections["items"]) == 2
    # Loaded and ended: the spooled copy is gone, the records are in metrics once each.
    assert f"{job['id']}.upload" not in spool_files(settings)
    with metrics_db.session(write=False) as s:
        assert s.exec(select(func.count()).select_from(RawRecord)).one() == 990
    listed = client.get("/api/ingest/jobs", params={"status": "done"}).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    assert client.get("/api/ingest/health").json()["details"]["records_spooled"] == 0


def test_a_replayed_key_answers_the_first_job_and_another_file_under_it_is_refused(
    client, dpr_token, settings, ingest_db
):
    data = NYC.read_bytes()
    key = {**dpr_token, "Idempotency-Key": "nyc-2019"}
    first = upload(client, data, key)
    assert first.status_code == 202, first.text
    wait_for(client, first.json()["id"], dpr_token)
    again = upload(client, data, key)
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "done"
    other = upload(client, data[:-200], key)
    assert other.status_code == 422 and other.headers["content-type"].startswith(PROBLEM)
    assert other.json()["job"] == first.json()["id"]
    with ingest_db.session(write=False) as s:
        assert s.exec(select(func.count()).select_from(RecordUpload)).one() == 1
    # Neither the replay nor the refused file left a copy behind.
    assert not {name for name in spool_files(settings) if name.startswith(first.json()["id"])}
    assert not [name for name in spool_files(settings) if name.endswith(".part")]


def test_a_token_loads_only_its_own_departments_records(client, dpr_token, metrics_db, ingest_db):
    answer = upload(client, NYC.read_bytes(), dpr_token)
    assert answer.status_code == 202, answer.text
    assert answer.json()["department"] == "DPR"
    job = wait_for(client, answer.json()["id"], dpr_token)
    rows = nyc_rows()
    expected = sum(1 for row in rows if row["Agency"] == "DPR" and not closed_before_opened(row))
    summary = job["summary"]
    assert (summary["rows_read"], summary["accepted"], summary["rejected"]) == (1000, expected, 1000 - expected)
    with metrics_db.session(write=False) as s:
        departments = set(s.exec(select(RawRecord.department).distinct()))
    assert departments == {"DPR"}

    # NYPD's rows are refused for a DPR token, with the reason.
    reasons = client.get(f"/api/ingest/jobs/{job['id']}/rejections", params={"limit": 500}, headers=dpr_token).json()
    nypd = {row["Unique Key"] for row in rows if row["Agency"] == "NYPD"}
    assert any(r["record_id"] in nypd and "may only load DPR" in r["reason"] for r in reasons["items"])

    other = {"Authorization": f"Bearer {make_token(ingest_db, 'NYPD')}"}
    assert client.get(f"/api/ingest/jobs/{job['id']}", headers=other).status_code == 404
    assert client.get(f"/api/ingest/jobs/{job['id']}/rejections", headers=other).status_code == 404
    assert client.get("/api/ingest/jobs", headers=other).json()["total"] == 0
    assert client.get("/api/ingest/jobs", headers=dpr_token).json()["total"] == 1


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"department": "NYPD"}, "department NYPD"),
        ({"create_departments": "true"}, "performance office"),
    ],
)
def test_a_token_may_not_load_another_department_or_create_departments(client, dpr_token, params, detail, ingest_db):
    refused = upload(client, NYC.read_bytes(), dpr_token, **params)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)
    assert detail in refused.json()["detail"]
    with ingest_db.session(write=False) as s:
        assert s.exec(select(func.count()).select_from(RecordUpload)).one() == 0


def test_staff_roles_decide_who_may_upload_and_for_whom(client, ingest_db, metrics_db):
    with metrics_db.session() as s:
        make_department(s, "DPR")
    make_user(ingest_db, "lia", "liaison", "DPR")
    make_user(ingest_db, "vic", "viewer")
    body = NYC.read_bytes()
    csrf = sign_in(client, "vic")
    assert upload(client, body, csrf).status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, "lia")
    assert upload(client, body, csrf, department="NYPD").status_code == 403
    assert upload(client, body, csrf, create_departments="true").status_code == 403
    mine = upload(client, body, csrf)
    assert mine.status_code == 202 and mine.json()["department"] == "DPR"
    assert wait_for(client, mine.json()["id"])["status"] == "done"


def test_a_gzipped_file_is_loaded_as_it_was_sent(client, analyst, tmp_path):
    packed = gzip.compress(BOSTON.read_bytes())
    with BOSTON.open(newline="", encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    answer = upload(client, packed, analyst, "application/gzip", mapping="boston311", create_departments="true")
    assert answer.status_code == 202, answer.text
    assert answer.json()["bytes_total"] == len(packed)
    job = wait_for(client, answer.json()["id"])
    assert job["status"] == "done", job
    summary = job["summary"]
    assert summary["rows_read"] == rows
    assert summary["accepted"] + summary["rejected"] == rows and summary["accepted"] > 0


def test_a_loading_job_shows_metrics_live_progress_and_rejections(client, analyst, ingest_db, metrics_db):
    job_id = uuid.uuid4().hex
    with ingest_db.session() as s:
        # Held by a live hand-off (its heartbeat is fresh): no worker takes it, metrics is on its way through.
        s.add(
            RecordUpload(
                id=job_id,
                dataset="service_requests",
                mapping="nyc311",
                media_type="text/csv",
                bytes_total=5000,
                sha256="0" * 64,
                status="loading",
                attempts=1,
                claim="elsewhere",
                actor="user:1",
                request_hash="x",
            )
        )
    assert client.get(f"/api/ingest/jobs/{job_id}").json()["progress"] == {"done": 0, "total": 5000}
    with metrics_db.session() as s:
        s.add(
            RecordImport(
                id=job_id,
                dataset="service_requests",
                mapping="nyc311",
                status=ImportStatus.running,
                bytes_total=5000,
                bytes_done=2048,
                rows_read=40,
                accepted=37,
                rejected=3,
                actor="user:1",
            )
        )
        s.flush()
        for row in (4, 9, 30):
            s.add(RecordRejection(import_id=job_id, row=row, field="opened_at", reason="unparseable time"))
    job = client.get(f"/api/ingest/jobs/{job_id}").json()
    assert job["status"] == "loading" and job["progress"] == {"done": 2048, "total": 5000}
    assert (job["summary"]["rows_read"], job["summary"]["accepted"], job["summary"]["rejected"]) == (40, 37, 3)
    assert [j["progress"]["done"] for j in client.get("/api/ingest/jobs").json()["items"]] == [2048]
    page = client.get(f"/api/ingest/jobs/{job_id}/rejections", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 3 and [r["row"] for r in page["items"]] == [9, 30]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_a_body_of_another_type_is_415(client, analyst, content_type, settings):
    before = spool_files(settings)
    refused = upload(client, NYC.read_bytes(), analyst, content_type)
    assert refused.status_code == 415 and refused.headers["content-type"].startswith(PROBLEM)
    assert spool_files(settings) == before


def test_an_unknown_mapping_fails_the_job_with_metrics_reason(client, analyst):
    answer = upload(client, NYC.read_bytes(), analyst, mapping="no-such-feed")
    assert answer.status_code == 202
    job = wait_for(client, answer.json()["id"])
    assert job["status"] == "failed"
    assert "no-such-feed" in job["error"]


def test_the_bulk_limit_is_its_own_and_counted_while_streaming(settings, dpr_token, ingest_db):
    data = NYC.read_bytes()

    def chunked():
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    with app_with(settings, max_body_bytes=10_000, max_bulk_upload_bytes=len(data) - 1) as client:
        before = spool_files(settings)
        declared = upload(client, data, dpr_token)
        streamed = upload(client, chunked(), dpr_token)
        for refused in (declared, streamed):
            assert refused.status_code == 413, refused.text
            assert refused.headers["content-type"].startswith(PROBLEM)
        assert spool_files(settings) == before
        with ingest_db.session(write=False) as s:
            assert s.exec(select(func.count()).select_from(RecordUpload)).one() == 0
    # Far above the limit for ordinary requests, within the bulk one: accepted, chunked or not.
    with app_with(settings, max_body_bytes=10_000, max_bulk_upload_bytes=len(data)) as client:
        accepted = [upload(client, body, dpr_token) for body in (data, chunked())]
        assert [a.status_code for a in accepted] == [202, 202], [a.text for a in accepted]
        assert {a.json()["sha256"] for a in accepted} == {hashlib.sha256(data).hexdigest()}
        for answer in accepted:
            assert wait_for(client, answer.json()["id"], dpr_token)["status"] == "done"


def test_a_job_left_loading_by_a_killed_process_is_loaded_at_the_next_start(settings, analyst, ingest_db, metrics_db):
    data = NYC.read_bytes()
    job_id = uuid.uuid4().hex
    directory = settings.spool_dir / "ingest"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{job_id}.upload").write_bytes(data)
    stalled = dt.datetime.now(dt.UTC) - LEASE - dt.timedelta(seconds=1)
    with ingest_db.session() as s:
        s.add(
            RecordUpload(
                id=job_id,
                dataset="service_requests",
                mapping="nyc311",
                create_departments=True,
                media_type="text/csv",
                bytes_total=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                status="loading",
                attempts=1,
                claim="dead",
                actor="operator",
                request_hash="x",
                updated_at=stalled,
            )
        )
    with app_with(settings) as client:
        sign_in(client, "ana")
        job = wait_for(client, job_id)
    assert job["status"] == "done", job
    assert job["attempts"] == 2 and job["summary"]["accepted"] == 990
    assert not (directory / f"{job_id}.upload").exists()


@pytest.fixture
def outage_dbs(tmp_path):
    databases = DatabaseSet("records", tmp_path)
    yield databases
    databases.drop()


def test_uploads_wait_spooled_while_metrics_is_down_and_load_once_it_is_back(outage_dbs, tmp_path):
    metrics_db = Database(outage_dbs.urls["metrics"])
    ingest_db = Database(outage_dbs.urls["ingest"])
    try:
        with metrics_db.session() as s:
            make_department(s, "DPR")
        headers = {"Authorization": f"Bearer {make_token(ingest_db, 'DPR')}", "Content-Type": "text/csv"}
    finally:
        ingest_db.dispose()
    data = NYC.read_bytes()
    try:
        with running_services(outage_dbs, tmp_path) as services:
            ingest = services.url("ingest")
            services.stop("metrics")
            answer = httpx.post(
                f"{ingest}/records",
                params={"dataset": "service_requests", "mapping": "nyc311"},
                content=data,
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 202, answer.text
            job_url = f"{ingest}/jobs/{answer.json()['id']}"
            deadline = time.monotonic() + 30
            # attempts counts a hand-off from its start: wait until the first one has also failed back to spooled.
            while (job := httpx.get(job_url, headers=headers).json())["attempts"] < 1 or job["status"] != "spooled":
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            assert "metrics" in job["error"]
            assert job["next_attempt_at"] is not None
            health = services.health()
            assert health["status"] == "degraded" and health["details"]["records_spooled"] == 1
            assert (tmp_path / "spool" / "ingest" / f"{job['id']}.upload").exists()

            services.start("metrics")
            deadline = time.monotonic() + 90
            while (job := httpx.get(job_url, headers=headers).json())["status"] not in ENDED:
                assert time.monotonic() < deadline, job
                time.sleep(0.5)
            assert job["status"] == "done", job
            assert job["summary"]["rows_read"] == 1000
            assert services.health()["details"]["records_spooled"] == 0
            tracebacks = services.tracebacks()
        assert not tracebacks, "\n\n".join(tracebacks[:3])
        with metrics_db.session(write=False) as s:
            assert s.exec(select(func.count()).select_from(RawRecord)).one() == job["summary"]["accepted"]
    finally:
        metrics_db.dispose()
