"""Whole-dataset downloads (`/api/views/{id}/rows.csv|.json`): every public row, streamed in stable pages, written
as `/resource/{id}` writes them; public, cached, rate limited; never an unpublished value."""

from __future__ import annotations

import csv
import io

import pytest

from services.common.limits import RateLimiter
from services.reporting.opendata import downloads
from tests.factories import make_user, sign_in
from tests.reporting.opendata.open_data_city import SECRET, SECRET_RECORD, make_open_city


@pytest.fixture
def city(client, metrics_db) -> dict[str, dict]:
    with metrics_db.session() as session:
        make_open_city(session)
    catalog = client.get("/api/catalog/v1").json()["results"]
    return {entry["resource"]["name"]: entry["resource"] for entry in catalog}


def test_downloads_are_the_whole_dataset_in_stable_pages(client, city, monkeypatch):
    # Pages of three rows: the eight public values and three records take several pages, the last one short.
    monkeypatch.setattr(downloads, "PAGE_ROWS", 3)
    for resource in city.values():
        dataset, fields = resource["id"], resource["columns_field_name"]
        everything = {"$order": ",".join(fields), "$limit": "50000"}
        expected_csv = client.get(f"/resource/{dataset}.csv", params=everything).text
        expected_json = client.get(f"/resource/{dataset}.json", params=everything).json()

        got_csv = client.get(f"/api/views/{dataset}/rows.csv", params={"accessType": "DOWNLOAD", "other": "x"})
        assert got_csv.status_code == 200, got_csv.text
        assert got_csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert got_csv.text == expected_csv
        table = list(csv.reader(io.StringIO(got_csv.text)))
        assert table[0] == fields
        assert len(table) - 1 == len(expected_json) > 0

        got_json = client.get(f"/api/views/{dataset}/rows.json")
        assert got_json.status_code == 200, got_json.text
        assert got_json.headers["content-type"] == "application/json; charset=utf-8"
        assert got_json.json() == expected_json
        for response in (got_csv, got_json):
            assert str(SECRET) not in response.text and SECRET_RECORD not in response.text

    observations = city["Performance metric values"]["id"]
    values = client.get(f"/api/views/{observations}/rows.json").json()
    assert len(values) == 8  # six months, and June's main breaks city-wide and for NORTH
    assert len({tuple(sorted(row.items())) for row in values}) == 8
    assert {row["metric"] for row in values} == {"dwm.on_time", "dwm.main_breaks"}


def test_download_headers_etag_and_same_for_everyone(client, city, ingest_db):
    dataset = city["Work orders"]["id"]
    response = client.get(f"/api/views/{dataset}/rows.csv")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["content-disposition"] == f'attachment; filename="{dataset}.csv"'
    etag = response.headers["etag"]
    assert etag.startswith('W/"')
    again = client.get(f"/api/views/{dataset}/rows.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(f"/api/views/{dataset}/rows.json", headers={"If-None-Match": etag}).status_code == 200

    make_user(ingest_db, "ann.office", "analyst")
    sign_in(client, "ann.office")
    signed_in = client.get(f"/api/views/{dataset}/rows.csv")
    assert signed_in.content == response.content
    assert signed_in.headers["etag"] == etag


def test_unknown_or_unpublished_ids_are_404_problems(client, city):
    known = set(city)
    assert "Inspections" not in known  # the unpublished record dataset is in no catalogue
    for path in ("/api/views/abcd-2345/rows.csv", "/api/views/abcd-2345/rows.json", "/api/views/NOT-AN-ID/rows.csv"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["access-control-allow-origin"] == "*"


def test_downloads_share_the_public_rate_limit(client, city, monkeypatch):
    reporting = client.app.state.services["reporting"]
    # Put back afterwards: the limiter lives in the app, which the next tests share.
    monkeypatch.setattr(reporting.state, "public_limiter", RateLimiter(per_minute=1, burst=2), raising=False)
    dataset = city["Work orders"]["id"]
    assert client.get(f"/api/views/{dataset}/rows.csv").status_code == 200
    assert client.get(f"/resource/{dataset}.json").status_code == 200
    for path in (
        f"/api/views/{dataset}/rows.json",
        "/data.json",
        "/datapackage.json",
        f"/api/views/{dataset}/datapackage.json",
    ):
        limited = client.get(path)
        assert limited.status_code == 429, path
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["access-control-allow-origin"] == "*"
