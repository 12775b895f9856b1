"""Metrics names the revision behind every value it serves, so a briefing can cite it: the id of the newest change
written to the value, read beside it with one grouped query whatever the length of the list."""

from __future__ import annotations

import contextlib

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from services.metrics.departments.models import Department
from services.metrics.orgunits.models import OrgUnit
from tests.factories import make_department, make_metric, make_observation, make_target
from tests.reporting.build.build_city import months, send, small_city

M = "/api/metrics"


def revisions(client, key: str, period: str, org_unit: str = "") -> list[dict]:
    response = client.get(f"{M}/metrics/{key}/observations/{period}/revisions", params={"org_unit": org_unit})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_every_value_names_its_newest_revision(client, metrics_db):
    small_city(client, metrics_db)
    # A correction: June's value is written twice, and the second change is the one to cite.
    send(client, "PWT", [{"metric": "pwt.on_time", "period": "2017-06", "value": 0.81, "reason": "Recount"}])
    history = revisions(client, "pwt.on_time", "2017-06")
    assert [r["value"] for r in history] == [0.81, 0.80]
    assert history[0]["id"] > history[1]["id"]

    series = client.get(f"{M}/metrics/pwt.on_time/observations", params={"start": "2017-05"}).json()["items"]
    assert [(p["period"], p["value"]) for p in series] == [("2017-05", 0.92), ("2017-06", 0.81)]
    assert series[0]["revision"] == revisions(client, "pwt.on_time", "2017-05")[0]["id"]
    assert series[1]["revision"] == history[0]["id"]

    single = client.get(f"{M}/metrics/pwt.on_time/performance", params={"period": "2017-06"}).json()
    assert (single["value"], single["revision"]) == (0.81, history[0]["id"])
    listed = client.get(f"{M}/performance", params={"period": "2017-06", "department": "PWT"}).json()["items"]
    by_key = {p["metric"]: p for p in listed}
    assert by_key["pwt.on_time"]["revision"] == history[0]["id"]
    assert by_key["pwt.tons"]["revision"] == revisions(client, "pwt.tons", "2017-06")[0]["id"]
    # No value, nothing to cite.
    may = client.get(f"{M}/metrics/pwt.sparse/performance", params={"period": "2017-05"}).json()
    assert (may["value"], may["revision"]) == (None, None)


def test_an_org_units_values_name_their_own_revisions(client, metrics_db):
    small_city(client, metrics_db)
    with metrics_db.session() as s:
        department = s.exec(select(Department).where(Department.code == "PWT")).one()
        s.add(OrgUnit(department_id=department.id, code="YARD-1", name="Yard one", kind="yard"))
    send(client, "PWT", [{"metric": "pwt.tons", "period": "2017-06", "value": 60.0, "org_unit": "YARD-1"}])
    unit = client.get(f"{M}/metrics/pwt.tons/observations", params={"org_unit": "YARD-1"}).json()["items"]
    department = client.get(f"{M}/metrics/pwt.tons/observations", params={"start": "2017-06"}).json()["items"]
    assert [(p["period"], p["value"], p["org_unit"]) for p in unit] == [("2017-06", 60.0, "YARD-1")]
    assert unit[0]["revision"] == revisions(client, "pwt.tons", "2017-06", "YARD-1")[0]["id"]
    assert department[0]["revision"] == revisions(client, "pwt.tons", "2017-06")[0]["id"] != unit[0]["revision"]


def test_a_value_stored_without_a_revision_has_none(client, metrics_db):
    with metrics_db.session() as s:
        department = make_department(s, "OLD", "Old Data")
        metric = make_metric(s, department, key="old.rate")
        make_target(s, metric, 0.5)
        make_observation(s, metric, "2017-06", 0.6)
    (point,) = client.get(f"{M}/metrics/old.rate/observations").json()["items"]
    assert point["value"] == 0.6 and point["revision"] is None
    assert client.get(f"{M}/metrics/old.rate/performance", params={"period": "2017-06"}).json()["revision"] is None


@contextlib.contextmanager
def statements():
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _reads(client, path: str, params: dict) -> tuple[int, int]:
    """Statements that read values, and those that read revisions, for one request."""
    with statements() as seen:
        assert client.get(path, params=params).status_code == 200
    values = sum(1 for s in seen if "observation" in s and "observation_revision" not in s)
    revised = sum(1 for s in seen if "observation_revision" in s)
    return values, revised


def test_revisions_cost_one_query_whatever_the_length_of_the_list(client, metrics_db):
    with metrics_db.session() as s:
        department = make_department(s, "QRY", "Queries")
        for n in range(6):
            make_target(s, make_metric(s, department, key=f"qry.m{n}"), 0.5)
    send(client, "QRY", [{"metric": "qry.m0", "period": p, "value": 0.5} for p, _ in months("2017-04", [1] * 3)])
    rows = [
        {"metric": f"qry.m{n}", "period": p, "value": 0.6} for n in range(1, 6) for p, _ in months("2016-01", [1] * 18)
    ]
    send(client, "QRY", rows)

    short = _reads(client, f"{M}/metrics/qry.m0/observations", {})
    long = _reads(client, f"{M}/metrics/qry.m1/observations", {})
    assert short == long and short[1] == 1
    one = _reads(client, f"{M}/performance", {"period": "2017-06", "department": "QRY", "limit": 1})
    all_six = _reads(client, f"{M}/performance", {"period": "2017-06", "department": "QRY"})
    assert one == all_six and one[1] == 1
