"""sodapy, unchanged, as a real Socrata client against CityStat served over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from sodapy import Socrata

from services.common.auth import SESSION_COOKIE
from services.common.db import Database
from services.metrics.definitions.models import MetricState
from tests.conftest import serving
from tests.factories import make_department, make_metric, make_observation

HIDDEN_VALUE = 0.424242


@pytest.fixture(scope="module")
def base(database_set, settings) -> Iterator[str]:
    """A small published city (and values that must stay hidden), served by uvicorn for this module's tests."""
    database_set.truncate()
    db = Database(database_set.urls["metrics"])
    try:
        with db.session() as session:
            dwm = make_department(session, "DWM", "Watershed Management")
            on_time = make_metric(session, dwm, key="dwm.on_time", name="Work orders on time")
            for month, value in enumerate((0.5, 0.62, 0.75, 0.8, 0.88, 0.91), start=1):
                make_observation(session, on_time, f"2017-{month:02d}", value)
            breaks = make_metric(session, dwm, key="dwm.main_breaks", name="Main breaks", unit="count", max_value=None)
            make_observation(session, breaks, "2017-06", 31)
            hidden = make_metric(session, dwm, key="dwm.internal", name="Internal", is_published=False)
            make_observation(session, hidden, "2017-06", HIDDEN_VALUE)
            draft = make_metric(
                session, dwm, key="dwm.draft", name="Draft", is_published=False, state=MetricState.draft
            )
            make_observation(session, draft, "2017-05", HIDDEN_VALUE)
    finally:
        db.dispose()
    with serving(settings) as url:
        yield url
    database_set.truncate()


@pytest.fixture(scope="module")
def soda(base) -> Iterator[Socrata]:
    # sodapy speaks https unless given an adapter for another scheme: its documented `session_adapter` option.
    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    client = Socrata(urlsplit(base).netloc, None, session_adapter=adapter)
    yield client
    client.close()


@pytest.fixture(scope="module")
def dataset(soda) -> str:
    found = [d for d in soda.datasets() if "metric" in d["resource"]["columns_field_name"]]
    assert len(found) == 1
    return found[0]["resource"]["id"]


def test_get_with_where_select_order_limit(soda, dataset):
    rows = soda.get(dataset, select="period, value", where="metric = 'dwm.on_time' AND value >= 0.6", order="period")
    assert rows == [
        {"period": "2017-02", "value": "0.62"},
        {"period": "2017-03", "value": "0.75"},
        {"period": "2017-04", "value": "0.8"},
        {"period": "2017-05", "value": "0.88"},
        {"period": "2017-06", "value": "0.91"},
    ]
    assert len(soda.get(dataset, order="period", limit=2)) == 2


def test_get_with_group_and_plain_filter(soda, dataset):
    grouped = soda.get(dataset, select="metric, count(*) AS n, sum(value) AS total", group="metric", order="metric")
    assert [(row["metric"], row["n"]) for row in grouped] == [("dwm.main_breaks", "1"), ("dwm.on_time", "6")]
    assert grouped[0]["total"] == "31"
    assert float(grouped[1]["total"]) == pytest.approx(4.46)
    assert [row["value"] for row in soda.get(dataset, metric="dwm.main_breaks")] == ["31"]


def test_get_all_pages_through_every_row(soda, dataset):
    everything = list(soda.get_all(dataset, order="metric, period", limit=2))
    assert len(everything) == 7  # four pages of two, the last one short
    assert everything == soda.get(dataset, order="metric, period")
    assert [(row["metric"], row["period"]) for row in everything][:2] == [
        ("dwm.main_breaks", "2017-06"),
        ("dwm.on_time", "2017-01"),
    ]
    assert {row["metric"] for row in everything} == {"dwm.on_time", "dwm.main_breaks"}
    assert all(str(HIDDEN_VALUE) not in row.values() for row in everything)


def test_get_metadata(soda, dataset):
    metadata = soda.get_metadata(dataset)
    assert metadata["id"] == dataset
    assert metadata["name"]
    assert isinstance(metadata["rowsUpdatedAt"], int)
    fields = [column["fieldName"] for column in metadata["columns"]]
    assert {"metric", "period", "period_start", "value", "provisional"} <= set(fields)
    assert "attributes" not in fields


def test_csv_through_sodapy_and_httpx(soda, dataset, base):
    rows = soda.get(dataset, content_type="csv", select="metric, value", where="metric = 'dwm.main_breaks'")
    assert rows == [["metric", "value"], ["dwm.main_breaks", "31"]]
    response = httpx.get(f"{base}/resource/{dataset}.csv", params={"$order": "metric, period"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == 7
    assert str(HIDDEN_VALUE) not in response.text


def test_errors_reach_sodapy_with_socrata_messages(soda, dataset):
    with pytest.raises(requests.exceptions.HTTPError) as bad_column:
        soda.get(dataset, where="flavour = 'lime'")
    assert bad_column.value.response.status_code == 400
    assert "flavour" in str(bad_column.value)
    with pytest.raises(requests.exceptions.HTTPError) as unknown:
        soda.get("zzzz-zzzz")
    assert unknown.value.response.status_code == 404


def test_cors_and_etag_over_http(base, dataset):
    url = f"{base}/resource/{dataset}.json"
    first = httpx.get(url, headers={"Origin": "https://example.org", "Cookie": f"{SESSION_COOKIE}=x"})
    assert first.status_code == 200
    assert first.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in first.headers
    again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=60"
