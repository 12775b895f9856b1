"""The public datasets: what the catalogue lists, who may query, publishing raw records, and the proof that drafts,
unpublished values and personal fields never come out, whatever the query asks."""

from __future__ import annotations

import json
import re

import pytest

from services.metrics.opendata.registry import dataset_id
from services.metrics.records.models import Dataset
from tests.factories import make_user, sign_in
from tests.metrics.opendata.opendata_city import (
    INTERNAL,
    LISTING,
    OBSERVATIONS_ID,
    PERSONAL,
    RECORD_TYPES,
    REQUESTS_ID,
    add_requests,
    build_city,
    rows,
    tree,
)

SECRET_VALUES = (0.123456, 0.654321)


@pytest.fixture
def city(client, metrics_db, ingest_db):
    with metrics_db.session() as session:
        build_city(session)
        add_requests(session)
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    return client


def _publish(client, key: str, published: bool = True, who: str = "ana"):
    csrf = sign_in(client, who)
    response = client.patch(f"/api/metrics/datasets/{key}", json={"is_published": published}, headers=csrf)
    client.cookies.clear()
    return response


def test_ids_are_stable_socrata_four_by_fours():
    ids = {key: dataset_id(key) for key in ("observations", "records.service_requests", "records.work_orders")}
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", value) for value in ids.values())
    assert len(set(ids.values())) == 3
    assert dataset_id("observations") == ids["observations"]


def test_the_catalogue_is_public_and_lists_published_data_only(city):
    response = city.get(LISTING)
    assert response.status_code == 200
    body = response.json()
    assert [item["key"] for item in body["items"]] == ["observations"]
    assert body["total"] == 1
    observations = body["items"][0]
    assert observations["id"] == OBSERVATIONS_ID
    assert observations["row_count"] == 11  # the unpublished and the draft metric's values are not counted
    assert [c["field_name"] for c in observations["columns"]][:3] == ["metric", "metric_name", "department"]
    assert observations["updated_at"].endswith(("Z", "+00:00"))
    one = city.get(f"{LISTING}/{OBSERVATIONS_ID}")
    assert one.status_code == 200 and one.json() == observations


def test_an_unpublished_dataset_is_a_404_like_an_unknown_one(city):
    for unknown in (REQUESTS_ID, "abcd-2345"):
        response = city.get(f"{LISTING}/{unknown}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        query = city.post(f"{LISTING}/{unknown}/query", json=tree({}, RECORD_TYPES), headers=INTERNAL)
        assert query.status_code == 404


def test_the_performance_office_publishes_the_built_in_service_requests(city):
    assert _publish(city, "service_requests", who="lia").status_code == 403
    response = _publish(city, "service_requests")
    assert response.status_code == 200, response.text
    assert response.json()["is_published"] is True and response.json()["is_builtin"] is True
    listed = {item["key"]: item for item in city.get(LISTING).json()["items"]}
    assert listed["records.service_requests"]["id"] == REQUESTS_ID
    assert listed["records.service_requests"]["row_count"] == 4
    assert "attributes" not in {c["field_name"] for c in listed["records.service_requests"]["columns"]}
    # The staff view of datasets shows the choice, once, beside the definition in code.
    csrf = sign_in(city, "ana")
    staff = city.get("/api/metrics/datasets", headers=csrf).json()["items"]
    assert [(d["key"], d["is_published"]) for d in staff] == [("service_requests", True)]
    city.cookies.clear()
    assert _publish(city, "service_requests", published=False).status_code == 200
    assert [item["key"] for item in city.get(LISTING).json()["items"]] == ["observations"]
    assert city.get(f"{LISTING}/{REQUESTS_ID}").status_code == 404


def test_a_defined_dataset_is_listed_once_published(city, metrics_db):
    with metrics_db.session() as session:
        session.add(Dataset(key="work_orders", title="Work orders", is_published=False))
    assert "records.work_orders" not in {i["key"] for i in city.get(LISTING).json()["items"]}
    assert _publish(city, "work_orders").status_code == 200
    listed = {i["key"]: i for i in city.get(LISTING).json()["items"]}
    assert listed["records.work_orders"]["id"] == dataset_id("records.work_orders")
    assert listed["records.work_orders"]["row_count"] == 0  # service requests are not work orders
    assert _publish(city, "no_such_dataset").status_code == 404


def test_query_needs_the_internal_token(city):
    path = f"{LISTING}/{OBSERVATIONS_ID}/query"
    assert city.post(path, json=tree({})).status_code == 401
    assert city.post(path, json=tree({}), headers={"Authorization": "Bearer not-the-token"}).status_code == 401
    csrf = sign_in(city, "ana")
    assert city.post(path, json=tree({}), headers=csrf).status_code == 401  # staff go through reporting too
    city.cookies.clear()
    assert city.post(path, json=tree({}), headers=INTERNAL).status_code == 200


def test_unpublished_and_draft_metrics_never_appear(city):
    everything = rows(city, OBSERVATIONS_ID, {})
    text = json.dumps(everything)
    for hidden in ("dpw.secret", "dwm.draft", "Unpublished count", "Draft rate"):
        assert hidden not in text
    assert not {row[5] for row in everything} & set(SECRET_VALUES)
    for params in (
        {"$where": "metric = 'dpw.secret'"},
        {"$where": "metric IN ('dpw.secret', 'dwm.draft')"},
        {"$q": "secret"},
        {"$q": "draft"},
        {"$where": "value = 0.123456 OR value = 0.654321"},
    ):
        assert rows(city, OBSERVATIONS_ID, params) == []
    assert rows(city, OBSERVATIONS_ID, {"$select": "count(*), max(value)", "$where": "value < 1"}) == [[4, 0.95]]


def test_a_metric_unpublished_later_disappears(city, metrics_db):
    from sqlmodel import select

    from services.metrics.definitions.models import Metric

    with metrics_db.session() as session:
        session.exec(select(Metric).where(Metric.key == "dwm.breaks")).one().is_published = False
    assert rows(city, OBSERVATIONS_ID, {"$select": "count(*)", "$where": "metric = 'dwm.breaks'"}) == [[0]]


def test_personal_fields_never_appear(city):
    assert _publish(city, "service_requests").status_code == 200
    everything = rows(city, REQUESTS_ID, {})
    assert len(everything) == 4
    assert not any(name in json.dumps(everything) for name in PERSONAL)
    for term in ("Jane", "Peachtree", "caller_name"):
        assert rows(city, REQUESTS_ID, {"$q": term}) == []
    # `attributes` (and anything else outside the public columns) is an unknown column: a 400, never a value.
    for name in ("attributes", "caller_name", "address", "import_id", "dataset"):
        for clause in ("select", "where", "order"):
            body = tree({}, RECORD_TYPES)
            column = {"kind": "column", "name": name}
            if clause == "select":
                body["select"] = [{"expr": column, "alias": None}]
            elif clause == "where":
                body["where"] = {"kind": "is_null", "arg": column, "negated": True}
            else:
                body["order"] = [{"expr": column, "direction": "asc", "nulls": "last"}]
            response = city.post(f"{LISTING}/{REQUESTS_ID}/query", json=body, headers=INTERNAL)
            assert response.status_code == 400, (name, clause, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert not any(p in response.text for p in PERSONAL)


def test_deeply_nested_json_is_a_4xx_problem(city):
    path = f"{LISTING}/{OBSERVATIONS_ID}/query"
    headers = {**INTERNAL, "Content-Type": "application/json"}
    # Past the tree's own bound (64), past pydantic's recursion guard, past Python's json recursion limit.
    for depth in (80, 300, 900, 100_000):
        nots = (
            '{"where": ' + '{"kind": "not", "arg": ' * depth + '{"kind": "boolean", "value": true}' + "}" * depth + "}"
        )
        calls = (
            '{"select": [{"expr": '
            + '{"kind": "call", "name": "upper", "args": [' * depth
            + '{"kind": "column", "name": "metric"}'
            + "]}" * depth
            + "}]}"
        )
        lists = '{"select": ' + "[" * depth + "]" * depth + "}"
        for body in (nots, calls, lists):
            response = city.post(path, content=body.encode(), headers=headers)
            assert 400 <= response.status_code < 500, (depth, response.status_code, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json")


def test_limit_is_bounded(city):
    body = tree({})
    body["limit"] = 50_001
    response = city.post(f"{LISTING}/{OBSERVATIONS_ID}/query", json=body, headers=INTERNAL)
    assert response.status_code == 422
    body["limit"] = 50_000
    assert len(city.post(f"{LISTING}/{OBSERVATIONS_ID}/query", json=body, headers=INTERNAL).json()["rows"]) == 11
