"""A small city for the open-data tests: published and unpublished metrics with values, approvals, and service
requests whose attributes hold a resident's name and address."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from services.common.query_tree import Query
from services.metrics.approvals.models import PeriodApproval
from services.metrics.definitions.models import MetricState
from services.metrics.opendata.registry import dataset_id
from services.reporting.opendata.soql import parse_soql
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_metric, make_observation
from tests.metrics.records.record_factory import local, make_record

INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
LISTING = "/api/metrics/open-datasets"
OBSERVATIONS_ID = dataset_id("observations")
REQUESTS_ID = dataset_id("records.service_requests")
PERSONAL = ("Jane Resident", "123 Peachtree St")

OBSERVATION_TYPES = {
    "metric": "text",
    "metric_name": "text",
    "department": "text",
    "period": "text",
    "period_start": "floating_timestamp",
    "value": "number",
    "numerator": "number",
    "denominator": "number",
    "org_unit": "text",
    "provisional": "boolean",
}
RECORD_TYPES = {
    "record_id": "text",
    "department": "text",
    "category": "text",
    "status": "text",
    "opened_at": "floating_timestamp",
    "closed_at": "floating_timestamp",
    "due_at": "floating_timestamp",
    "org_unit": "text",
    "district": "text",
    "latitude": "number",
    "longitude": "number",
    "source": "text",
    "days_to_close": "number",
    "on_time": "boolean",
}


def build_city(session: Session) -> None:
    dpw = make_department(session, "DPW", "Public Works")
    dwm = make_department(session, "DWM", "Watershed Management")
    on_time = make_metric(session, dpw, key="dpw.on_time", name="Requests closed on time")
    tons = make_metric(session, dpw, key="dpw.tons", name="Tons collected", unit="tons", min_value=0, max_value=None)
    breaks = make_metric(session, dwm, key="dwm.breaks", name="Main breaks", unit="count", max_value=None)
    secret = make_metric(session, dpw, key="dpw.secret", name="Unpublished count", is_published=False)
    draft = make_metric(session, dwm, key="dwm.draft", name="Draft rate", is_published=False, state=MetricState.draft)
    for period, value in [("2017-03", 0.5), ("2017-04", 0.75), ("2017-05", 0.875), ("2017-06", 0.95)]:
        make_observation(session, on_time, period, value, numerator=value * 8, denominator=8.0)
    for period, value in [("2017-04", 120.0), ("2017-05", 100.0), ("2017-06", 140.0)]:
        make_observation(session, tons, period, value)
    make_observation(session, tons, "2017-06", 60.0, org_unit="NORTH")
    make_observation(session, tons, "2017-06", 80.0, org_unit="SOUTH")
    for period, value in [("2017-Q1", 12.0), ("2017-Q2", 9.0)]:
        make_observation(session, breaks, period, value)
    make_observation(session, secret, "2017-06", 0.123456)
    make_observation(session, draft, "2017-06", 0.654321)
    # DPW approved April and May; DWM approved March, which ends its first quarter.
    for department, month in [(dpw, "2017-04"), (dpw, "2017-05"), (dwm, "2017-03")]:
        session.add(PeriodApproval(department_id=department.id, period=month, actor="test"))
    session.flush()


def add_requests(session: Session) -> None:
    """Four service requests; the attributes of one hold a resident's name and address."""
    make_record(
        session,
        "SR-1",
        "DPW",
        local("2017-06-01 09:00"),
        local("2017-06-02 09:00"),
        local("2017-06-05 17:00"),
        category="Pothole",
        district="3",
        latitude=33.75,
        longitude=-84.39,
        source="phone",
        status="Closed",
        attributes={"caller_name": PERSONAL[0], "address": PERSONAL[1]},
    )
    make_record(
        session,
        "SR-2",
        "DPW",
        local("2017-06-30 23:30"),
        local("2017-07-10 12:00"),
        local("2017-07-03 17:00"),
        category="Streetlight",
        district="3",
        status="Closed",
    )
    make_record(session, "SR-3", "DWM", local("2017-05-15 08:00"), None, None, category="Water main", status="Open")
    make_record(
        session,
        "SR-4",
        "DPW",
        local("2017-05-31 22:15"),
        local("2017-06-01 10:15"),
        None,
        category=None,
        status="Closed",
    )


def tree(params: dict[str, str], types: dict[str, str] = OBSERVATION_TYPES) -> dict[str, Any]:
    query: Query = parse_soql(params, columns=types)
    return query.model_dump(mode="json")


def run(client, dataset: str, params: dict[str, str], types: dict[str, str] | None = None) -> dict[str, Any]:
    types = types or (OBSERVATION_TYPES if dataset == OBSERVATIONS_ID else RECORD_TYPES)
    response = client.post(f"{LISTING}/{dataset}/query", json=tree(params, types), headers=INTERNAL)
    assert response.status_code == 200, response.text
    return response.json()


def rows(client, dataset: str, params: dict[str, str]) -> list[list[Any]]:
    return run(client, dataset, params)["rows"]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
