"""A record type beyond service requests: the office defines building inspections with fields of their own and a
profile for the inspections system's export; values that do not fit a field's type reject their rows."""

from __future__ import annotations

from sqlmodel import select

from services.metrics.records.models import RawRecord
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_user, sign_in

M = "/api/metrics"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
EXPORT = (
    b"inspection_no,scheduled,completed,deadline,unit,kind,inspector,score,passed\n"
    b"I-1,2017-06-01 09:00,2017-06-02 10:00,2017-06-05 17:00,OCE,Fire safety,Ana Diaz,92.5,yes\n"
    b"I-2,2017-06-03 09:00,,2017-06-09 17:00,OCE,Elevator,Ben Ode,,no\n"
    b"I-3,2017-06-04 09:00,2017-06-04 12:00,,OCE,Fire safety,,80,yes\n"
    b"I-4,2017-06-05 09:00,2017-06-06 12:00,,OCE,Elevator,Cy Lee,eighty,yes\n"
    b"I-5,2017-06-05 09:00,2017-06-06 12:00,,OCE,Elevator,Cy Lee,75,perhaps\n"
)


def test_an_inspections_dataset_keeps_its_own_typed_fields(client, metrics_db, ingest_db):
    with metrics_db.session() as s:
        make_department(s, "OCE", "Code Enforcement")
    make_user(ingest_db, "office", "analyst")
    csrf = sign_in(client, "office")
    dataset = {
        "key": "inspections",
        "title": "Building inspections",
        "fields": [
            {"name": "inspector", "type": "string", "required": True},
            {"name": "score", "type": "number"},
            {"name": "passed", "type": "boolean"},
        ],
    }
    assert client.post(f"{M}/datasets", json=dataset, headers=csrf).status_code == 201
    profile = {
        "definition": {
            "dataset": "inspections",
            "time_zone": "America/New_York",
            "timestamp_formats": ["%Y-%m-%d %H:%M"],
            "fields": {
                "record_id": ["inspection_no"], "opened_at": ["scheduled"], "closed_at": ["completed"],
                "due_at": ["deadline"], "agency": ["unit"], "category": ["kind"],
            },
            "keep": ["inspector", "score", "passed"],
        }
    }  # fmt: skip
    assert client.put(f"{M}/mapping-profiles/oce-inspections", json=profile, headers=csrf).status_code == 201
    job = client.post(
        f"{M}/record-imports",
        params={"id": "inspections-1", "dataset": "inspections", "mapping": "oce-inspections", "actor": "test"},
        content=EXPORT,
        headers=AUTH,
    ).json()
    assert job["status"] == "done", job
    assert (job["accepted"], job["rejected"]) == (2, 3)
    rejected = {(r["row"], r["field"]) for r in job["rejections_sample"]}
    assert rejected == {(4, "inspector"), (5, "score"), (6, "passed")}
    with metrics_db.session(write=False) as s:
        stored = {r.record_id: r for r in s.exec(select(RawRecord).where(RawRecord.dataset == "inspections"))}
    assert stored["I-1"].attributes == {"inspector": "Ana Diaz", "score": 92.5, "passed": True}
    assert stored["I-1"].on_time == 1
    assert stored["I-2"].attributes == {"inspector": "Ben Ode", "passed": False}
    assert stored["I-2"].closed_at is None
    listed = {d["key"]: d for d in client.get(f"{M}/datasets", headers=csrf).json()["items"]}
    assert listed["inspections"]["records"] == 2 and listed["service_requests"]["records"] == 0
