"""`/data.json`: a DCAT-US 1.1 catalog that the published (non-federal) JSON Schema accepts, one dataset per public
dataset, with download URLs that really download."""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest

from tests.reporting.opendata.open_data_city import SECRET_RECORD, dcat_validator, make_open_city


@pytest.fixture
def city(client, metrics_db) -> dict[str, dict]:
    with metrics_db.session() as session:
        make_open_city(session)
    catalog = client.get("/api/catalog/v1").json()["results"]
    return {entry["resource"]["id"]: entry["resource"] for entry in catalog}


def test_data_json_is_a_valid_dcat_us_catalog(client, city, settings):
    response = client.get("/data.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    catalog = response.json()
    validator = dcat_validator()
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(catalog)]
    assert errors == []
    assert catalog["@type"] == "dcat:Catalog"
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"

    datasets = {entry["identifier"].rsplit("/", 1)[1]: entry for entry in catalog["dataset"]}
    assert set(datasets) == set(city)
    assert SECRET_RECORD not in response.text and "Inspections" not in response.text
    base = str(client.base_url)
    for dataset_id, entry in datasets.items():
        assert entry["identifier"] == f"{base}/api/views/{dataset_id}"
        assert entry["title"] == city[dataset_id]["name"]
        assert entry["keyword"] and all(entry["keyword"])
        assert entry["accessLevel"] == "public"
        assert entry["license"] == "https://opendatacommons.org/licenses/pddl/1-0/"
        assert entry["contactPoint"] == {
            "@type": "vcard:Contact",
            "fn": settings.open_data_contact_name,
            "hasEmail": f"mailto:{settings.open_data_contact_email}",
        }
        downloads = {d["mediaType"]: d["downloadURL"] for d in entry["distribution"] if "downloadURL" in d}
        assert set(downloads) == {"text/csv", "application/json"}
        api = [d for d in entry["distribution"] if d.get("format") == "API"]
        assert [d["accessURL"] for d in api] == [f"{base}/resource/{dataset_id}.json"]
        # Every URL the entry gives is absolute and answers.
        for url in [*downloads.values(), api[0]["accessURL"], entry["describedBy"], entry["landingPage"]]:
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == base, url
            assert client.get(url).status_code == 200, url
        assert client.get(downloads["text/csv"]).text.startswith(",".join(city[dataset_id]["columns_field_name"]))


def test_the_validator_refuses_a_bad_catalog(client, city):
    # The schema check above means something only if the validator can say no.
    catalog = client.get("/data.json").json()
    validator = dcat_validator()
    no_title = copy.deepcopy(catalog)
    del no_title["dataset"][0]["title"]
    bad_email = copy.deepcopy(catalog)
    bad_email["dataset"][0]["contactPoint"]["hasEmail"] = "opendata at city"
    no_media_type = copy.deepcopy(catalog)
    del no_media_type["dataset"][0]["distribution"][0]["mediaType"]
    for broken in (no_title, bad_email, no_media_type):
        assert not validator.is_valid(broken)


def test_data_json_is_cached_and_open_to_any_origin(client):
    # No city: the catalogue still validates (the metric values dataset exists, without rows).
    empty = client.get("/data.json")
    assert empty.status_code == 200
    assert len(empty.json()["dataset"]) == client.get("/api/catalog/v1").json()["resultSetSize"]
    assert dcat_validator().is_valid(empty.json())
    assert empty.headers["access-control-allow-origin"] == "*"
    assert empty.headers["cache-control"] == "public, max-age=60"
    assert client.get("/data.json", headers={"If-None-Match": empty.headers["etag"]}).status_code == 304
    preflight = client.options(
        "/data.json", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
