"""Citywide priorities with their key metrics, outputs linked to the outcomes they drive, and org units."""

import pytest

from tests.factories import make_department, make_metric, make_user, sign_in

API = "/api/metrics"


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        apd = make_department(s, "APD", "Police")
        make_metric(s, dpw, key="dpw.potholes_repaired", unit="count", kind="output", max_value=None)
        make_metric(s, dpw, key="dpw.road_condition", kind="outcome")
        make_metric(s, dpw, key="dpw.hidden_output", unit="count", kind="output", max_value=None, is_published=False)
        make_metric(s, apd, key="apd.response_minutes", unit="minutes", kind="output", max_value=None)
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    make_user(ingest_db, "apdlia", "liaison", "APD")
    return metrics_db


def _office(client, city):
    csrf = sign_in(client, "ana")
    created = client.post(f"{API}/priorities", json={"code": "infrastructure", "name": "Infrastructure"}, headers=csrf)
    assert created.status_code == 201, created.text
    for key, is_key in [("dpw.road_condition", True), ("dpw.potholes_repaired", False), ("dpw.hidden_output", False)]:
        aligned = client.put(f"{API}/priorities/infrastructure/metrics/{key}", json={"is_key": is_key}, headers=csrf)
        assert aligned.status_code == 204, aligned.text
    for output in ("dpw.potholes_repaired", "dpw.hidden_output"):
        assert client.put(f"{API}/metrics/{output}/drives/dpw.road_condition", headers=csrf).status_code == 204
    return csrf


def test_a_priority_page_shows_each_outcome_with_the_outputs_that_drive_it(client, city):
    _office(client, city)
    client.cookies.clear()
    page = client.get(f"{API}/priorities/infrastructure").json()
    assert [o["outcome"]["key"] for o in page["outcomes"]] == ["dpw.road_condition"]
    # The public sees the published driver only.
    assert [d["key"] for d in page["outcomes"][0]["drivers"]] == ["dpw.potholes_repaired"]
    assert page["other_outputs"] == []
    assert (page["metric_count"], page["key_metric_count"]) == (2, 1)
    sign_in(client, "lia")
    staff = client.get(f"{API}/priorities/infrastructure").json()
    assert [d["key"] for d in staff["outcomes"][0]["drivers"]] == ["dpw.hidden_output", "dpw.potholes_repaired"]


def test_key_metrics_are_marked_per_priority_and_filter_the_catalogue(client, city):
    _office(client, city)
    client.cookies.clear()
    outcome = client.get(f"{API}/metrics/dpw.road_condition").json()
    assert outcome["is_key"] is True
    assert outcome["priorities"] == [{"code": "infrastructure", "name": "Infrastructure", "is_key": True}]
    assert outcome["driven_by"] == ["dpw.potholes_repaired"]
    keys = [m["key"] for m in client.get(f"{API}/metrics", params={"key": "true"}).json()["items"]]
    assert keys == ["dpw.road_condition"]
    aligned = [m["key"] for m in client.get(f"{API}/metrics", params={"priority": "infrastructure"}).json()["items"]]
    assert aligned == ["dpw.potholes_repaired", "dpw.road_condition"]
    assert client.get(f"{API}/metrics", params={"priority": "nope_nope"}).status_code == 404
    csrf = sign_in(client, "ana")
    client.put(f"{API}/priorities/infrastructure/metrics/dpw.road_condition", json={"is_key": False}, headers=csrf)
    assert client.get(f"{API}/metrics/dpw.road_condition").json()["is_key"] is False
    assert client.delete(f"{API}/priorities/infrastructure/metrics/dpw.road_condition", headers=csrf).status_code == 204
    assert client.get(f"{API}/metrics/dpw.road_condition").json()["priorities"] == []


def test_an_output_drives_an_outcome_and_not_the_other_way_round(client, city):
    csrf = sign_in(client, "ana")
    refused = client.put(f"{API}/metrics/dpw.road_condition/drives/dpw.potholes_repaired", headers=csrf)
    assert refused.status_code == 422
    assert client.put(f"{API}/metrics/dpw.potholes_repaired/drives/dpw.road_condition", headers=csrf).status_code == 204
    # Linking twice changes nothing.
    assert client.put(f"{API}/metrics/dpw.potholes_repaired/drives/dpw.road_condition", headers=csrf).status_code == 204
    assert client.get(f"{API}/metrics/dpw.potholes_repaired").json()["drives"] == ["dpw.road_condition"]
    assert (
        client.delete(f"{API}/metrics/dpw.potholes_repaired/drives/dpw.road_condition", headers=csrf).status_code == 204
    )
    assert (
        client.delete(f"{API}/metrics/dpw.potholes_repaired/drives/dpw.road_condition", headers=csrf).status_code == 404
    )


def test_priorities_links_and_key_marks_are_the_performance_offices(client, city):
    csrf = sign_in(client, "lia")
    assert client.post(f"{API}/priorities", json={"code": "safety", "name": "Safety"}, headers=csrf).status_code == 403
    assert client.put(f"{API}/metrics/dpw.potholes_repaired/drives/dpw.road_condition", headers=csrf).status_code == 403
    client.cookies.clear()
    assert client.post(f"{API}/priorities", json={"code": "safety", "name": "Safety"}).status_code == 401


def test_org_units_belong_to_a_department_and_its_staff_may_add_them(client, city):
    csrf = sign_in(client, "lia")
    yard = {"code": "NORTH_YARD", "name": "North yard", "kind": "yard"}
    assert client.post(f"{API}/departments/DPW/org-units", json=yard, headers=csrf).status_code == 201
    assert client.post(f"{API}/departments/DPW/org-units", json=yard, headers=csrf).status_code == 409
    crew = {"code": "NORTH_CREW_1", "name": "Crew 1", "kind": "division", "parent": "NORTH_YARD"}
    assert client.post(f"{API}/departments/DPW/org-units", json=crew, headers=csrf).json()["parent"] == "NORTH_YARD"
    orphan = {**crew, "code": "X1", "parent": "SOUTH_YARD"}
    assert client.post(f"{API}/departments/DPW/org-units", json=orphan, headers=csrf).status_code == 422
    csrf = sign_in(client, "apdlia")
    assert client.post(f"{API}/departments/DPW/org-units", json={**yard, "code": "Z"}, headers=csrf).status_code == 403
    client.cookies.clear()
    units = client.get(f"{API}/departments/DPW/org-units").json()["items"]
    assert [u["code"] for u in units] == ["NORTH_CREW_1", "NORTH_YARD"]
    assert client.get(f"{API}/departments/NOPE/org-units").status_code == 404
