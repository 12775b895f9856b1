"""The access matrix's cases for raw records: datasets, mapping profiles, bulk import jobs, SLA rules, holidays,
computed metrics' recompute and drill-down. The world fixture adds B's computed metric (dpb.records_on_time), a
finished import of B's records (matrix-import), a profile, an SLA rule and a holiday for the office to remove."""

from __future__ import annotations

import datetime as dt

from tests.access_cases import (
    Case,
    M,
    Who,
    _names,
    first_office_member,
    get,
    ingest_list,
    ingest_read_b,
    internal_only,
    office_changes_b,
    office_only,
    signed_in_to_metrics,
)

# An ingest job id (32 hex digits) and the metrics import that loaded it share the id.
RECORDS_IMPORT = "0123456789abcdef0123456789abcdef"
RECORDS_ABSENT = "fedcba9876543210fedcba9876543210"
RECORDS_PROFILE = "matrix-profile"
RECORDS_METRIC_B = "dpb.records_on_time"
RECORDS_SLA_CATEGORY = "Matrix category"
RECORDS_HOLIDAY = "2031-01-02"
PROFILE_DEFINITION = {
    "time_zone": "America/New_York",
    "fields": {"record_id": ["id"], "opened_at": ["opened"]},
    "department": "DPA",
}


def staff_reading_b(who: Who) -> int:
    # Raw records are never public: a staff session that may read B; a token is nobody in metrics.
    return 401 if who.kind != "user" else 200 if who.reads_b else 404


def staff_reading_b_records(who: Who) -> int:
    # Aggregates of B's records, asked for by department: B's readers; the others are told no (403).
    return 401 if who.kind != "user" else 200 if who.reads_b else 403


def _new_day() -> str:
    return (dt.date(2040, 1, 1) + dt.timedelta(days=next(_names))).isoformat()


def _put_profile(_w) -> dict:
    return {"url": f"{M}/mapping-profiles/matrix-{next(_names)}", "json": {"definition": PROFILE_DEFINITION}}


INGEST = "/api/ingest"


def upload_to_b(who: Who) -> int:
    # Loading B's records: the performance office; B's own systems and staff are not in the matrix.
    return 401 if who.kind == "anonymous" else 202 if who.writes_b else 403


RECORDS_CASES: list[Case] = [
    Case(
        "upload B's raw records",
        ("ingest", "POST", "/records"),
        lambda w: {
            "url": f"{INGEST}/records",
            "params": {"dataset": "service_requests", "mapping": "nyc311", "department": "DPB"},
            "content": b"Unique Key,Created Date,Agency\n1,06/01/2017 10:00:00 AM,DPB\n",
            "headers": {"Content-Type": "text/csv"},
        },
        upload_to_b,
        writes=True,
    ),
    Case("the upload jobs", ("ingest", "GET", "/jobs"), get(f"{INGEST}/jobs"), ingest_list),
    Case(
        "B's upload job", ("ingest", "GET", "/jobs/{job_id}"), get(f"{INGEST}/jobs/{RECORDS_IMPORT}"), ingest_read_b,
        same_as_missing=get(f"{INGEST}/jobs/{RECORDS_ABSENT}"),
    ),
    Case(
        "its rejected rows",
        ("ingest", "GET", "/jobs/{job_id}/rejections"),
        get(f"{INGEST}/jobs/{RECORDS_IMPORT}/rejections"),
        ingest_read_b,
        same_as_missing=get(f"{INGEST}/jobs/{RECORDS_ABSENT}/rejections"),
    ),
    Case("the datasets", ("metrics", "GET", "/datasets"), get(f"{M}/datasets"), signed_in_to_metrics(200)),
    Case(
        "a dataset", ("metrics", "GET", "/datasets/{key}"), get(f"{M}/datasets/service_requests"),
        signed_in_to_metrics(200),
    ),
    Case(
        "define a dataset",
        ("metrics", "POST", "/datasets"),
        lambda w: {"url": f"{M}/datasets", "json": {"key": f"matrix_{next(_names)}", "title": "Matrix records"}},
        office_only(201),
        writes=True,
    ),
    Case(
        "the mapping profiles", ("metrics", "GET", "/mapping-profiles"), get(f"{M}/mapping-profiles"),
        signed_in_to_metrics(200),
    ),
    Case(
        "a mapping profile", ("metrics", "GET", "/mapping-profiles/{name}"), get(f"{M}/mapping-profiles/nyc311"),
        signed_in_to_metrics(200),
    ),
    Case("define a mapping profile", ("metrics", "PUT", "/mapping-profiles/{name}"), _put_profile, office_only(201),
         writes=True),
    Case(
        "pull a profile's source now",
        ("metrics", "POST", "/mapping-profiles/{name}/pull"),
        # A built-in profile names no source to pull from: the office learns that; nobody else gets that far.
        lambda w: {"url": f"{M}/mapping-profiles/nyc311/pull"},
        lambda who: 401 if who.kind != "user" else 422 if who.writes_b else 403,
        writes=True,
    ),
    Case(
        "a profile's pulls", ("metrics", "GET", "/mapping-profiles/{name}/pulls"),
        get(f"{M}/mapping-profiles/nyc311/pulls"), signed_in_to_metrics(200),
    ),
    Case(
        "remove a mapping profile",
        ("metrics", "DELETE", "/mapping-profiles/{name}"),
        lambda w: {"url": f"{M}/mapping-profiles/{RECORDS_PROFILE}"},
        first_office_member(204, 404),
        writes=True,
    ),
    Case(
        "load a spooled file (ingest's hand-off)",
        ("metrics", "POST", "/record-imports"),
        lambda w: {
            "url": f"{M}/record-imports",
            "params": {"id": "matrix-x", "dataset": "service_requests", "mapping": "nyc311", "actor": "x"},
            "content": b"Unique Key,Created Date\n",
        },
        internal_only,
        writes=True,
    ),
    Case(
        "B's import job", ("metrics", "GET", "/record-imports/{job_id}"), get(f"{M}/record-imports/{RECORDS_IMPORT}"),
        staff_reading_b, same_as_missing=get(f"{M}/record-imports/{RECORDS_ABSENT}"),
    ),
    Case(
        "its rejected rows",
        ("metrics", "GET", "/record-imports/{job_id}/rejections"),
        get(f"{M}/record-imports/{RECORDS_IMPORT}/rejections"),
        staff_reading_b,
        same_as_missing=get(f"{M}/record-imports/{RECORDS_ABSENT}/rejections"),
    ),
    Case(
        "the SLA table", ("metrics", "GET", "/datasets/{dataset}/sla-rules"),
        get(f"{M}/datasets/service_requests/sla-rules"), signed_in_to_metrics(200),
    ),
    Case(
        "set an SLA",
        ("metrics", "PUT", "/datasets/{dataset}/sla-rules"),
        lambda w: {
            "url": f"{M}/datasets/service_requests/sla-rules",
            "json": {"category": f"Matrix {next(_names)}", "days": 3, "day_kind": "business"},
        },
        office_only(201),
        writes=True,
    ),
    Case(
        "remove an SLA",
        ("metrics", "DELETE", "/datasets/{dataset}/sla-rules"),
        lambda w: {"url": f"{M}/datasets/service_requests/sla-rules", "params": {"category": RECORDS_SLA_CATEGORY}},
        first_office_member(204, 404),
        writes=True,
    ),
    Case("the holidays", ("metrics", "GET", "/holidays"), get(f"{M}/holidays"), signed_in_to_metrics(200)),
    Case(
        "declare a holiday",
        ("metrics", "PUT", "/holidays/{day}"),
        lambda w: {"url": f"{M}/holidays/{_new_day()}", "json": {"name": "Matrix day"}},
        office_only(201),
        writes=True,
    ),
    Case(
        "remove a holiday",
        ("metrics", "DELETE", "/holidays/{day}"),
        lambda w: {"url": f"{M}/holidays/{RECORDS_HOLIDAY}"},
        first_office_member(204, 404),
        writes=True,
    ),
    Case(
        "recompute B's computed metric",
        ("metrics", "POST", "/metrics/{key}/recompute"),
        lambda w: {"url": f"{M}/metrics/{RECORDS_METRIC_B}/recompute"},
        office_changes_b(200),
        writes=True,
        same_as_missing=lambda w: {"url": f"{M}/metrics/dpb.absent/recompute"},
    ),
    Case(
        "recompute a dataset's metrics",
        ("metrics", "POST", "/datasets/{dataset}/recompute"),
        lambda w: {"url": f"{M}/datasets/service_requests/recompute"},
        office_only(200),
        writes=True,
    ),
    Case(
        "analytics of B's records",
        ("metrics", "GET", "/datasets/{dataset}/analytics"),
        get(f"{M}/datasets/service_requests/analytics", department="DPB"),
        staff_reading_b_records,
    ),
    Case(
        "the categories of B's records",
        ("metrics", "GET", "/datasets/{dataset}/categories"),
        get(f"{M}/datasets/service_requests/categories", department="DPB"),
        staff_reading_b_records,
    ),
    Case(
        "the records behind B's computed value",
        ("metrics", "GET", "/metrics/{key}/records"),
        get(f"{M}/metrics/{RECORDS_METRIC_B}/records", period="2017-06"),
        staff_reading_b,
        same_as_missing=get(f"{M}/metrics/dpb.absent/records", period="2017-06"),
    ),
]


def records_ingest_world(ingest_session) -> None:
    """B's finished upload job in ingest, the one the metrics import above loaded."""
    from services.ingest.records.models import RecordUpload

    ingest_session.add(
        RecordUpload(
            id=RECORDS_IMPORT, department_code="DPB", dataset="service_requests", mapping="nyc311",
            media_type="text/csv", bytes_total=10, sha256="0" * 64, status="failed", actor="operator",
            request_hash="0" * 64, error="matrix: a file that could not be loaded",
        )
    )  # fmt: skip


def records_world(metrics_session) -> None:
    """What the records cases act on, in B (and one profile, SLA rule and holiday for the office to remove)."""
    from sqlmodel import select

    from services.metrics.definitions.models import Metric
    from services.metrics.departments.models import Department
    from services.metrics.records.models import Holiday, MappingProfile, RecordImport, RecordRejection, SlaRule

    b = metrics_session.exec(select(Department).where(Department.code == "DPB")).one()
    rule = {"dataset": "service_requests", "measure": "on_time_rate", "filters": {}, "by_org_unit": False}
    metrics_session.add(
        Metric(
            key=RECORDS_METRIC_B, name="B's requests on time", unit="percent", kind="output",
            direction="higher_is_better", frequency="month", rollup="ratio", is_published=False, is_computed=True,
            rule=rule, department_id=b.id, state="active",
        )
    )  # fmt: skip
    metrics_session.add(RecordImport(id=RECORDS_IMPORT, dataset="service_requests", mapping="nyc311",
                                     department="DPB", status="done", actor="operator"))  # fmt: skip
    metrics_session.flush()
    metrics_session.add(RecordRejection(import_id=RECORDS_IMPORT, row=2, field="opened_at", reason="matrix"))
    metrics_session.add(MappingProfile(name=RECORDS_PROFILE, dataset="service_requests",
                                       definition=PROFILE_DEFINITION, created_by="operator"))  # fmt: skip
    metrics_session.add(SlaRule(dataset="service_requests", category=RECORDS_SLA_CATEGORY, days=2))
    metrics_session.add(Holiday(day=dt.date.fromisoformat(RECORDS_HOLIDAY), name="Matrix holiday"))


