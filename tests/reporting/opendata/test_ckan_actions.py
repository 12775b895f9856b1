"""CKAN's action API at the site root, through the whole app: the envelope, GET and POST (JSON and form) at
/api/3/action and /api/action, packages, organizations, datastore_search's filters and paging, CKAN's errors
(never problem+json), caching, CORS and rate limits; and only published values, ever."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from services.common.limits import RateLimiter
from services.metrics.definitions.models import MetricState
from services.reporting.opendata.ckan import ckan_json
from tests.factories import make_department, make_metric, make_observation

SECRET = 0.123457  # a value only unpublished metrics hold: it must never be seen publicly
PREFIXES = ("/api/3/action", "/api/action")
ORG = "citystat-performance-office"


@pytest.fixture(autouse=True)
def _fresh_public_limits(client):
    reporting = client.app.state.services["reporting"]
    reporting.state.public_limiter = None
    yield
    reporting.state.public_limiter = None


@pytest.fixture
def city(metrics_db) -> None:
    with metrics_db.session() as session:
        dpw = make_department(session, "DPW", "Public Works")
        on_time = make_metric(session, dpw, key="dpw.on_time", name="Requests closed on time")
        for month, value in zip(range(1, 7), (0.57, 0.61, 0.7, 0.82, 0.9, 0.95), strict=True):
            make_observation(session, on_time, f"2017-{month:02d}", value)
        potholes = make_metric(session, dpw, key="dpw.potholes", name="Potholes filled", unit="count", max_value=None)
        make_observation(session, potholes, "2017-06", 1250)
        hidden = make_metric(session, dpw, key="dpw.hidden", name="Hidden", is_published=False)
        make_observation(session, hidden, "2017-06", SECRET)
        draft = make_metric(session, dpw, key="dpw.draft", name="Draft", state=MetricState.draft, is_published=False)
        make_observation(session, draft, "2017-06", SECRET)


def observations(client: TestClient) -> str:
    return client.get("/api/3/action/package_show", params={"id": "observations"}).json()["result"]["id"]


def ok(response) -> object:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["help"].endswith("/api/3/action/help_show?name=" + response.url.path.rsplit("/", 1)[-1])
    return body["result"]


def failed(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")  # not problem+json
    body = response.json()
    assert body["success"] is False and "result" not in body and body["help"]
    assert body["error"]["__type"] == kind
    return body["error"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_post_and_form_at_both_prefixes(client, city, prefix):
    url = f"{prefix}/datastore_search"
    dataset = observations(client)
    wanted = {"resource_id": dataset, "filters": '{"metric": "dpw.potholes"}', "fields": "metric,value"}
    by_get = client.get(url, params=wanted)
    by_json = client.post(url, json={**wanted, "filters": {"metric": "dpw.potholes"}, "fields": ["metric", "value"]})
    by_form = client.post(url, data=wanted)
    for response in (by_get, by_json, by_form):
        assert ok(response)["records"] == [{"metric": "dpw.potholes", "value": 1250}]
    assert by_get.headers["cache-control"] == "public, max-age=60" and by_get.headers["etag"]
    assert by_get.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in by_get.headers
    for posted in (by_json, by_form):
        assert posted.headers["cache-control"] == "no-store"
        assert "etag" not in posted.headers and "access-control-allow-origin" not in posted.headers
    assert ok(client.get(f"{prefix}/package_list")) == ["observations"]
    assert ok(client.post(f"{prefix}/package_list")) == ["observations"]
    # The same routes under reporting's own mount, as every reporting route is.
    assert ok(client.get(f"/api/reporting{prefix}/package_list")) == ["observations"]


def test_etag_answers_304_and_preflight_is_answered(client, city):
    first = client.get("/api/3/action/package_search")
    again = client.get("/api/3/action/package_search", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/api/action/package_list",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, OPTIONS"


def test_package_show_by_id_or_name_with_its_resource(client, city):
    dataset = observations(client)
    by_id = ok(client.post("/api/action/package_show", json={"id": dataset}))
    assert by_id == ok(client.get("/api/3/action/package_show", params={"id": "observations"}))
    assert (by_id["id"], by_id["name"], by_id["num_resources"]) == (dataset, "observations", 1)
    assert by_id["organization"]["name"] == by_id["owner_org"] == ORG
    assert by_id["metadata_modified"] and by_id["private"] is False
    [resource] = by_id["resources"]
    assert resource["id"] == resource["package_id"] == dataset
    assert resource["format"] == "CSV" and resource["datastore_active"] is True
    assert resource["url"] == f"http://testserver/api/views/{dataset}/rows.csv?accessType=DOWNLOAD"
    missing = failed(client.get("/api/3/action/package_show", params={"id": "zzzz-zzzz"}), 404, "Not Found Error")
    assert missing["message"] == "Not found: Dataset not found"
    no_id = failed(client.post("/api/action/package_show", json={}), 409, "Validation Error")
    assert no_id["id"] == ["Missing value"]


def test_package_search_q_fq_rows_and_sort(client, city):
    everything = ok(client.get("/api/3/action/package_search", params={"q": "*:*"}))
    assert everything["count"] == 1 and everything["facets"] == {} and everything["search_facets"] == {}
    assert everything["sort"] == "score desc, metadata_modified desc"
    assert [p["name"] for p in everything["results"]] == ["observations"]
    found = ok(client.post("/api/action/package_search", json={"q": "metric values", "fq": f"organization:{ORG}"}))
    assert [p["name"] for p in found["results"]] == ["observations"]
    assert ok(client.get("/api/3/action/package_search", params={"q": "potholes budget"}))["count"] == 0
    other = ok(client.get("/api/3/action/package_search", params={"fq": "organization:parks"}))
    assert other == {**other, "count": 0, "results": []}
    excluded = ok(client.get("/api/3/action/package_search", params={"fq": f'-organization:"{ORG}"'}))
    assert excluded["count"] == 0
    paged = ok(client.post("/api/action/package_search", json={"rows": 0, "start": 0, "sort": "name asc"}))
    assert (paged["count"], paged["results"], paged["sort"]) == (1, [], "name asc")
    bad_rows = failed(client.get("/api/3/action/package_search", params={"rows": "ten"}), 409, "Validation Error")
    assert bad_rows["rows"] == ["Invalid integer"]
    failed(client.get("/api/3/action/package_search", params={"fq": "flavour:lime"}), 409, "Search Query Error")
    failed(client.get("/api/3/action/package_search", params={"sort": "colour asc"}), 409, "Search Query Error")


def test_organization_list_names_and_all_fields(client, city):
    assert ok(client.get("/api/3/action/organization_list")) == [ORG]
    [organization] = ok(client.post("/api/action/organization_list", json={"all_fields": True}))
    assert organization["name"] == ORG and organization["title"] == "CityStat performance office"
    assert organization["package_count"] == 1 and organization["is_organization"] is True
    assert ok(client.get("/api/3/action/organization_list", params={"all_fields": "true", "offset": "1"})) == []
    assert ok(client.get("/api/3/action/organization_list", params={"sort": "package_count desc"})) == [ORG]
    failed(client.get("/api/3/action/organization_list", params={"sort": "colour"}), 409, "Validation Error")


def test_datastore_search_filters_sort_and_paging(client, city):
    dataset = observations(client)
    url = "/api/action/datastore_search"
    first = ok(
        client.post(
            url, json={"resource_id": dataset, "filters": {"metric": "dpw.on_time"}, "sort": "period desc", "limit": 2}
        )
    )
    assert [r["period"] for r in first["records"]] == ["2017-06", "2017-05"]
    assert (first["total"], first["limit"], first["offset"]) == (6, 2, 0)
    assert {"id": "value", "type": "numeric"} in first["fields"] and {"id": "provisional", "type": "bool"} in first[
        "fields"
    ]
    assert first["records"][0]["period_start"] == "2017-06-01T00:00:00.000"
    assert first["records"][0]["provisional"] is True
    assert "offset=2" in first["_links"]["next"] and first["_links"]["start"].startswith(
        "/api/action/datastore_search?"
    )
    # The next link is a working GET: the third page holds the last two months.
    second = ok(client.get(first["_links"]["next"]))
    assert [r["period"] for r in second["records"]] == ["2017-04", "2017-03"]
    last = ok(
        client.get(
            url,
            params={
                "resource_id": dataset,
                "filters": '{"metric": "dpw.on_time"}',
                "sort": "period",
                "offset": 4,
                "limit": 10,
            },
        )
    )
    assert [r["period"] for r in last["records"]] == ["2017-05", "2017-06"] and last["total"] == 6
    any_of = ok(
        client.post(url, json={"resource_id": dataset, "filters": {"period": ["2017-01", "2017-06"], "value": 1250}})
    )
    assert [(r["metric"], r["value"]) for r in any_of["records"]] == [("dpw.potholes", 1250)]
    searched = ok(client.get(url, params={"resource_id": dataset, "q": "pothole", "fields": "metric, period"}))
    assert searched["records"] == [{"metric": "dpw.potholes", "period": "2017-06"}]
    assert searched["fields"] == [{"id": "metric", "type": "text"}, {"id": "period", "type": "text"}]
    lists = ok(
        client.post(
            url,
            json={"id": dataset, "fields": ["value"], "filters": {"metric": "dpw.potholes"}, "records_format": "lists"},
        )
    )
    assert lists["records"] == [[1250]]
    clamped = ok(client.post(url, json={"resource_id": dataset, "limit": 10**9, "include_total": False}))
    assert clamped["limit"] == 50_000 and len(clamped["records"]) == 7 and "total" not in clamped
    counted = ok(client.get(url, params={"resource_id": dataset, "limit": 0, "filters": '{"provisional": true}'}))
    assert (counted["records"], counted["total"]) == ([], 7)


def test_datastore_search_errors_are_ckan_envelopes(client, city):
    dataset = observations(client)
    url = "/api/3/action/datastore_search"
    unknown = failed(client.get(url, params={"resource_id": "zzzz-zzzz"}), 404, "Not Found Error")
    assert unknown["message"] == 'Not found: Resource "zzzz-zzzz" was not found.'
    failed(client.get(url, params={"resource_id": "not-a-4x4-id"}), 404, "Not Found Error")
    assert failed(client.post(url, json={}), 409, "Validation Error")["resource_id"] == ["Missing value"]
    cases = [
        ({"filters": {"flavour": "lime"}}, "filters", 'field "flavour" not in table'),
        ({"fields": ["metric", "colour"]}, "fields", 'field "colour" not in table'),
        ({"sort": "colour desc"}, "sort", 'field "colour" not in table'),
        ({"filters": {"value": "lots"}}, "filters", 'invalid value for field "value": lots'),
        ({"filters": "{not json"}, "filters", "Cannot parse JSON"),
        ({"limit": "many"}, "limit", "Invalid integer"),
        ({"offset": -1}, "offset", "Must be a natural number"),
    ]
    for params, field, message in cases:
        error = failed(client.post(url, json={"resource_id": dataset, **params}), 409, "Validation Error")
        assert error[field] == [message], params
    bad_date = failed(
        client.post(url, json={"resource_id": dataset, "filters": {"period_start": "June"}}), 409, "Validation Error"
    )
    assert "June" in bad_date["filters"][0]


def test_unknown_action_and_malformed_bodies(client, city):
    for prefix in PREFIXES:
        error = failed(client.get(f"{prefix}/package_create"), 400, "Bad Request")
        assert error["message"] == "Bad request - Action name not known: package_create"
    broken = client.post("/api/action/package_list", content=b"{nope", headers={"Content-Type": "application/json"})
    assert failed(broken, 400, "Bad Request")["message"].startswith("Bad request - JSON Error:")
    listed = client.post("/api/action/package_list", json=[1, 2])
    assert "needs to be a dictionary" in failed(listed, 400, "Bad Request")["message"]
    nan = client.post(
        "/api/action/package_list", content=b'{"limit": NaN}', headers={"Content-Type": "application/json"}
    )
    failed(nan, 400, "Bad Request")
    assert "filters" in ok(client.get("/api/3/action/help_show", params={"name": "datastore_search"}))


def test_rate_limit_is_a_429_envelope_with_retry_after(client, city):
    reporting = client.app.state.services["reporting"]
    reporting.state.public_limiter = RateLimiter(per_minute=1, burst=2)
    assert client.get("/api/3/action/package_list").status_code == 200
    assert client.post("/api/action/package_list").status_code == 200
    limited = client.get("/api/3/action/package_list")
    error = failed(limited, 429, "Too Many Requests")
    assert int(limited.headers["retry-after"]) >= 1 and error["message"]
    assert limited.headers["access-control-allow-origin"] == "*"


def test_unpublished_and_draft_values_never_appear(client, city):
    dataset = observations(client)
    everything = client.post("/api/action/datastore_search", json={"resource_id": dataset, "limit": 50_000})
    result = ok(everything)
    assert {r["metric"] for r in result["records"]} == {"dpw.on_time", "dpw.potholes"} and result["total"] == 7
    assert str(SECRET) not in everything.text and "dpw.hidden" not in everything.text
    for key in ("dpw.hidden", "dpw.draft"):
        hidden = ok(
            client.post("/api/action/datastore_search", json={"resource_id": dataset, "filters": {"metric": key}})
        )
        assert (hidden["records"], hidden["total"]) == ([], 0)
        searched = ok(client.get("/api/3/action/datastore_search", params={"resource_id": dataset, "q": key}))
        assert searched["total"] == 0


def test_numbers_are_written_exactly():
    assert ckan_json({"a": Decimal("0.1"), "b": [Decimal("12345678901234567.5"), None, True, "x"]}) == (
        '{"a":0.1,"b":[12345678901234567.5,null,true,"x"]}'
    )
