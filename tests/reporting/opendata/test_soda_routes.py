"""SODA routes at the site root, through the whole app: rows as Socrata writes them, metadata, the catalogue,
caching, CORS, rate limits and errors; and only published values, ever."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from services.common.limits import AddressLimiter, RateLimiter
from services.metrics.definitions.models import MetricState
from services.reporting.opendata.formats import csv_rows, json_rows, soda_number, soda_value
from services.runner import create_single_service_app
from tests.factories import make_department, make_metric, make_observation

SECRET = 0.123457  # a value only unpublished metrics hold: it must never be seen publicly


@pytest.fixture(autouse=True)
def _fresh_public_limits(client):
    """Every test starts with the configured limit's full burst: reporting makes a new limiter from settings."""
    reporting = client.app.state.services["reporting"]
    reporting.state.public_limiter = None
    yield
    reporting.state.public_limiter = None


@pytest.fixture
def city(metrics_db) -> dict[str, str]:
    with metrics_db.session() as session:
        dpw = make_department(session, "DPW", "Public Works")
        on_time = make_metric(session, dpw, key="dpw.on_time", name="Requests closed on time, all types")
        for month, value in zip(range(1, 7), (0.57, 0.61, 0.7, 0.82, 0.9, 0.95), strict=True):
            make_observation(session, on_time, f"2017-{month:02d}", value, numerator=value * 100, denominator=100)
        potholes = make_metric(session, dpw, key="dpw.potholes", name="Potholes filled", unit="count", max_value=None)
        make_observation(session, potholes, "2017-06", 1250)
        hidden = make_metric(session, dpw, key="dpw.hidden", name="Hidden", is_published=False)
        make_observation(session, hidden, "2017-06", SECRET)
        draft = make_metric(session, dpw, key="dpw.draft", name="Draft", state=MetricState.draft, is_published=False)
        make_observation(session, draft, "2017-06", SECRET)
    return {"on_time": "dpw.on_time", "potholes": "dpw.potholes"}


def observations_id(client: TestClient) -> str:
    catalog = client.get("/api/catalog/v1", params={"q": "observations"}).json()
    ids = [r["resource"]["id"] for r in catalog["results"] if "metric" in r["resource"]["columns_field_name"]]
    assert len(ids) == 1, catalog
    return ids[0]


def test_rows_as_socrata_writes_them(client, city):
    dataset = observations_id(client)
    response = client.get(f"/resource/{dataset}.json", params={"metric": "dpw.on_time", "$order": "period"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    rows = response.json()
    assert [row["period"] for row in rows] == [f"2017-{m:02d}" for m in range(1, 7)]
    june = rows[-1]
    assert june["value"] == "0.95"
    assert june["metric"] == "dpw.on_time"
    assert june["department"] == "DPW"
    assert june["period_start"] == "2017-06-01T00:00:00.000"
    assert isinstance(june["provisional"], bool)
    assert all(isinstance(value, str | bool) for row in rows for value in row.values())
    fields = json.loads(response.headers["x-soda2-fields"])
    types = json.loads(response.headers["x-soda2-types"])
    assert len(fields) == len(types) and "value" in fields
    assert types[fields.index("value")] == "number"
    assert types[fields.index("period_start")] == "floating_timestamp"
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_nulls_are_left_out(client, city):
    dataset = observations_id(client)
    rows = client.get(f"/resource/{dataset}.json", params={"metric": "dpw.potholes"}).json()
    assert len(rows) == 1
    assert rows[0]["value"] == "1250"
    assert "numerator" not in rows[0] and "denominator" not in rows[0]


def test_soql_select_group_and_where(client, city):
    dataset = observations_id(client)
    response = client.get(
        f"/resource/{dataset}.json",
        params={
            "$select": "metric, count(*) AS n, max(value) AS best",
            "$where": "period_start >= '2017-03-01' AND value > 0",
            "$group": "metric",
            "$order": "metric",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"metric": "dpw.on_time", "n": "4", "best": "0.95"},
        {"metric": "dpw.potholes", "n": "1", "best": "1250"},
    ]
    assert json.loads(response.headers["x-soda2-fields"]) == ["metric", "n", "best"]
    assert json.loads(response.headers["x-soda2-types"]) == ["text", "number", "number"]


def test_unpublished_and_draft_values_never_appear(client, city):
    dataset = observations_id(client)
    everything = client.get(f"/resource/{dataset}.json", params={"$limit": "50000"})
    assert everything.status_code == 200
    assert {row["metric"] for row in everything.json()} == {"dpw.on_time", "dpw.potholes"}
    assert str(SECRET) not in everything.text
    for key in ("dpw.hidden", "dpw.draft"):
        assert client.get(f"/resource/{dataset}.json", params={"metric": key}).json() == []
        found = client.get(f"/resource/{dataset}.json", params={"$q": key.split(".")[1]}).json()
        assert found == []
    as_csv = client.get(f"/resource/{dataset}.csv", params={"$limit": "50000"})
    assert str(SECRET) not in as_csv.text and "dpw.hidden" not in as_csv.text


def test_csv_with_a_header_row_and_rfc4180_quoting(client, city):
    dataset = observations_id(client)
    response = client.get(
        f"/resource/{dataset}.csv",
        params={"$select": "metric, metric_name, value", "$where": "metric = 'dpw.on_time'", "$order": "period"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("metric,metric_name,value\r\n")
    # The name holds a comma, so that field is quoted.
    assert '\r\ndpw.on_time,"Requests closed on time, all types",0.57\r\n' in response.text
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["metric", "metric_name", "value"]
    assert [row[2] for row in rows[1:]] == ["0.57", "0.61", "0.7", "0.82", "0.9", "0.95"]
    assert response.headers["access-control-allow-origin"] == "*"


def test_plain_resource_path_is_json_and_api_reporting_prefix_serves_the_same(client, city):
    dataset = observations_id(client)
    plain = client.get(f"/resource/{dataset}", params={"$order": "period, metric"})
    prefixed = client.get(f"/api/reporting/resource/{dataset}.json", params={"$order": "period, metric"})
    assert plain.status_code == prefixed.status_code == 200
    assert plain.json() == prefixed.json()
    assert plain.headers["etag"] == prefixed.headers["etag"]


def test_etag_and_if_none_match(client, city):
    dataset = observations_id(client)
    url = f"/resource/{dataset}.json"
    first = client.get(url, params={"$order": "period, metric"})
    etag = first.headers["etag"]
    again = client.get(url, params={"$order": "period, metric"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["access-control-allow-origin"] == "*"
    weak = client.get(url, params={"$order": "period, metric"}, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    other = client.get(url, params={"$order": "period DESC, metric"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    stale = client.get(url, params={"$order": "period, metric"}, headers={"If-None-Match": '"nope"'})
    assert stale.status_code == 200
    view = client.get(f"/api/views/{dataset}.json")
    assert client.get(f"/api/views/{dataset}.json", headers={"If-None-Match": view.headers["etag"]}).status_code == 304
    catalog = client.get("/api/catalog/v1")
    repeat = client.get("/api/catalog/v1", headers={"If-None-Match": catalog.headers["etag"]})
    assert repeat.status_code == 304


def test_unknown_column_is_a_socrata_style_400(client, city):
    dataset = observations_id(client)
    response = client.get(f"/resource/{dataset}.json", params={"$where": "colour = 'red'"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["code"].startswith("query.")
    assert "colour" in problem["message"]
    assert problem["data"]["parameter"] == "$where"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    filtered = client.get(f"/resource/{dataset}.json", params={"colour": "red"})
    assert filtered.status_code == 400
    assert filtered.json()["code"] == "query.soql.no-such-column"
    too_many = client.get(f"/resource/{dataset}.json", params={"$limit": "50001"})
    assert too_many.status_code == 400


def test_unknown_dataset_is_404(client, city):
    for path in ("/resource/zzzz-zzzz.json", "/resource/zzzz-zzzz.csv", "/api/views/zzzz-zzzz.json"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "not_found"
        assert response.headers["access-control-allow-origin"] == "*"
    assert client.get("/resource/not-a-4x4-id.json").status_code == 404
    assert client.get("/resource/..%2Fmetrics.json").status_code == 404


def test_view_metadata(client, city):
    dataset = observations_id(client)
    response = client.get(f"/api/views/{dataset}.json")
    assert response.status_code == 200
    view = response.json()
    assert view["id"] == dataset
    assert view["name"] and isinstance(view["description"], str)
    assert isinstance(view["rowsUpdatedAt"], int) and view["rowsUpdatedAt"] > 1_400_000_000
    fields = {column["fieldName"]: column for column in view["columns"]}
    assert fields["value"]["dataTypeName"] == "number"
    assert fields["provisional"]["dataTypeName"] == "checkbox"
    assert [column["position"] for column in view["columns"]] == list(range(1, len(view["columns"]) + 1))
    assert {"id", "name", "fieldName", "dataTypeName", "position", "description"} <= set(fields["metric"])
    assert "attributes" not in fields
    assert response.headers["access-control-allow-origin"] == "*"


def test_catalog_discovery_shape_and_filters(client, city):
    response = client.get("/api/catalog/v1")
    assert response.status_code == 200
    body = response.json()
    assert body["resultSetSize"] == len(body["results"]) >= 1
    assert "timings" in body
    entry = next(r for r in body["results"] if "metric" in r["resource"]["columns_field_name"])
    resource = entry["resource"]
    assert resource["type"] == "dataset"
    assert len(resource["columns_field_name"]) == len(resource["columns_datatype"])
    assert resource["updatedAt"].endswith("Z")
    assert entry["metadata"]["domain"] == "testserver"
    assert entry["link"].endswith(f"/resource/{resource['id']}.json")
    category = entry["classification"]["domain_category"]

    by_category = client.get("/api/catalog/v1", params={"categories": category}).json()
    assert resource["id"] in [r["resource"]["id"] for r in by_category["results"]]
    assert client.get("/api/catalog/v1", params={"categories": "No such category"}).json()["resultSetSize"] == 0
    assert client.get("/api/catalog/v1", params={"q": "zebra crossing unicorn"}).json()["results"] == []
    only = client.get("/api/catalog/v1", params={"ids": resource["id"]}).json()
    assert [r["resource"]["id"] for r in only["results"]] == [resource["id"]]

    page = client.get("/api/catalog/v1", params={"limit": 1, "offset": 0}).json()
    assert len(page["results"]) == 1 and page["resultSetSize"] == body["resultSetSize"]
    past_end = client.get("/api/catalog/v1", params={"offset": body["resultSetSize"]}).json()
    assert past_end["results"] == [] and past_end["resultSetSize"] == body["resultSetSize"]
    assert client.get("/api/catalog/v1", params={"order": "sideways"}).status_code == 422
    newest_first = client.get("/api/catalog/v1", params={"order": "updatedAt DESC"}).json()
    assert newest_first["resultSetSize"] == body["resultSetSize"]
    assert client.get("/api/catalog/v1", params={"limit": -1}).status_code == 422


def test_rate_limit_answers_429_with_retry_after(client, city):
    reporting = client.app.state.services["reporting"]
    reporting.state.public_limiter = RateLimiter(per_minute=1, burst=3)
    dataset = observations_id(client)  # one of the three
    assert client.get(f"/api/views/{dataset}.json").status_code == 200
    assert client.get(f"/resource/{dataset}.json").status_code == 200
    limited = client.get(f"/resource/{dataset}.csv")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert limited.json()["type"] == "urn:citystat:problem:rate-limited"
    assert limited.headers["access-control-allow-origin"] == "*"
    assert client.get("/api/catalog/v1").status_code == 429
    # Staff and service routes are not counted against the public limit.
    assert client.get("/api/reporting/health").status_code == 200


def test_single_service_mode_serves_open_data_at_the_root(settings):
    # Reporting alone, metrics "elsewhere" (nothing listens): the root paths reach reporting, which says so.
    alone = settings.model_copy(update={"metrics_url": "http://127.0.0.1:9/api/metrics"})
    with TestClient(create_single_service_app("reporting", alone), raise_server_exceptions=False) as single:
        assert single.get("/resource/not-an-id.json").json()["code"] == "not_found"
        unreachable = single.get("/api/catalog/v1")
        assert unreachable.status_code == 503
        assert unreachable.json()["type"] == "urn:citystat:problem:upstream-unavailable"
        assert single.get("/api/views/zzzz-zzzz.json").status_code == 503
        assert single.get("/api/reporting/health").status_code == 200


# --- the writers alone ---------------------------------------------------------------------------------------------


def test_numbers_are_written_exactly_and_without_exponents():
    assert soda_number(Decimal("0.95")) == "0.95"
    assert soda_number(0.1) == "0.1"
    assert soda_number(12) == "12"
    assert soda_number(Decimal("12.000")) == "12"
    assert soda_number(Decimal("1E+5")) == "100000"
    assert soda_number(Decimal("-0.00")) == "0"
    assert soda_number(Decimal("12345678901234567.5")) == "12345678901234567.5"
    assert soda_value("2017-06-01T08:30:00", "floating_timestamp") == "2017-06-01T08:30:00.000"
    assert soda_value("2017-06-01", "floating_timestamp") == "2017-06-01T00:00:00.000"
    assert soda_value(False, "boolean") is False
    assert soda_value(None, "text") is None


def test_writers_shape_rows():
    names, types = ["a", "b", "c"], ["text", "number", "boolean"]
    rows = [['say "hi", then\nleave', Decimal("2.50"), True], [None, None, False]]
    assert json.loads(json_rows(names, types, rows)) == [
        {"a": 'say "hi", then\nleave', "b": "2.5", "c": True},
        {"c": False},
    ]
    assert csv_rows(names, types, rows) == b'a,b,c\r\n"say ""hi"", then\nleave",2.5,true\r\n,,false\r\n'


def test_address_limiter_forgets_refilled_buckets_only():
    limiter = AddressLimiter(per_minute=60, burst=2)  # refills in 2 seconds
    limiter.prune_above = 3
    assert limiter.acquire("a", now=0.0) is None
    assert limiter.acquire("a", now=0.0) is None
    assert limiter.acquire("a", now=0.0) is not None  # a is out of tokens
    limiter.acquire("b", now=0.0)
    limiter.acquire("c", now=1.0)
    # At 2.5 s, a and b have refilled and are forgotten; c has not and keeps its count.
    limiter.acquire("d", now=2.5)
    assert set(limiter._buckets) == {"c", "d"}
    assert limiter.acquire("a", now=2.5) is None


def test_cors_preflight_for_open_data_only(client, city):
    dataset = observations_id(client)
    asked = {
        "Origin": "https://example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-app-token",
    }
    for path in (f"/resource/{dataset}.json", "/api/catalog/v1", f"/api/reporting/api/views/{dataset}.json"):
        response = client.options(path, headers=asked)
        assert response.status_code == 204, path
        assert response.headers["access-control-allow-origin"] == "*"
        assert "x-app-token" in response.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in response.headers
    # Staff routes get no such answer.
    staff = client.options("/api/reporting/briefings", headers=asked)
    assert "access-control-allow-origin" not in staff.headers
