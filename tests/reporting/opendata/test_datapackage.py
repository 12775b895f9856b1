"""Frictionless Data Package descriptors, checked by the real `frictionless` over HTTP against a live server: the
descriptor, and every data row against its Table Schema (dates, booleans, numbers, the primary key); and by the
Data Package v1 JSON Schemas."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import frictionless
import httpx
import pytest

from services.common.db import Database
from tests.conftest import serving
from tests.reporting.opendata.open_data_city import frictionless_validators, make_open_city


@pytest.fixture(scope="module")
def base(database_set, settings) -> Iterator[str]:
    database_set.truncate()
    db = Database(database_set.urls["metrics"])
    try:
        with db.session() as session:
            make_open_city(session)
    finally:
        db.dispose()
    with serving(settings) as url:
        yield url
    database_set.truncate()


@pytest.fixture(scope="module")
def datasets(base) -> dict[str, dict]:
    catalog = httpx.get(f"{base}/api/catalog/v1").json()["results"]
    return {entry["resource"]["name"]: entry["resource"] for entry in catalog}


def _errors(report: frictionless.Report) -> list[str]:
    return [error.message for task in report.tasks for error in task.errors] + [e.message for e in report.errors]


def test_frictionless_finds_each_dataset_package_valid_rows_included(base, datasets):
    rows = {}
    for name, dataset in datasets.items():
        url = f"{base}/api/views/{dataset['id']}/datapackage.json"
        report = frictionless.validate(url)
        assert report.valid, (name, _errors(report))
        assert [task.type for task in report.tasks] == ["table"]
        rows[name] = report.tasks[0].stats["rows"]
        # Every row metrics counts, read and checked.
        view = httpx.get(f"{base}/api/views/{dataset['id']}.json").json()
        assert rows[name] == int(view["metadata"]["custom_fields"]["CityStat"]["rowCount"]), name
    assert rows["Performance metric values"] == 8 and rows["Work orders"] == 3
    # The budget is public once it has lines.
    assert rows["City budget"] == 3


def test_frictionless_finds_the_catalogue_package_valid(base, datasets):
    package = httpx.get(f"{base}/datapackage.json").json()
    assert {resource["title"] for resource in package["resources"]} == set(datasets)
    report = frictionless.validate(f"{base}/datapackage.json")
    assert report.valid, _errors(report)
    assert sum(task.stats["rows"] for task in report.tasks) == 11 + 3


def test_descriptors_say_how_to_read_the_csv(base, datasets):
    package = httpx.get(f"{base}/api/views/{datasets['Work orders']['id']}/datapackage.json").json()
    (resource,) = package["resources"]
    assert resource["path"] == f"{base}/api/views/{datasets['Work orders']['id']}/rows.csv?accessType=DOWNLOAD"
    assert (resource["format"], resource["mediatype"]) == ("csv", "text/csv")
    schema = resource["schema"]
    types = {field["name"]: field["type"] for field in schema["fields"]}
    assert [field["name"] for field in schema["fields"]] == datasets["Work orders"]["columns_field_name"]
    assert types["record_id"] == "string" and types["on_time"] == "boolean"
    assert types["latitude"] == "number" and types["opened_at"] == "datetime"
    assert schema["primaryKey"] == ["record_id"]
    assert package["licenses"][0]["path"] == "https://opendatacommons.org/licenses/pddl/1-0/"
    values = httpx.get(f"{base}/api/views/{datasets['Performance metric values']['id']}/datapackage.json").json()
    # An observation's key includes its org unit, which is empty for a department as a whole: no Table Schema key.
    assert "primaryKey" not in values["resources"][0]["schema"]
    budget = httpx.get(f"{base}/api/views/{datasets['City budget']['id']}/datapackage.json").json()
    assert budget["resources"][0]["schema"]["primaryKey"] == ["line"]
    response = httpx.get(f"{base}/datapackage.json", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert httpx.get(f"{base}/datapackage.json", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    missing = httpx.get(f"{base}/api/views/abcd-2345/datapackage.json")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_frictionless_rejects_a_descriptor_that_misreads_the_rows(base, datasets):
    # The checks above mean something only if frictionless reads the rows: a wrong date format or a key that is
    # not unique must fail.
    descriptor = httpx.get(f"{base}/api/views/{datasets['Work orders']['id']}/datapackage.json").json()
    wrong_date = copy.deepcopy(descriptor)
    for field in wrong_date["resources"][0]["schema"]["fields"]:
        if field["type"] == "datetime":
            field["format"] = "%Y-%m-%d %H:%M:%S"
    not_a_key = copy.deepcopy(descriptor)
    not_a_key["resources"][0]["schema"]["primaryKey"] = ["department"]
    for broken in (wrong_date, not_a_key):
        assert not frictionless.validate(broken).valid


def test_descriptors_match_the_data_package_v1_profiles(base, datasets):
    profiles = frictionless_validators()
    packages = [httpx.get(f"{base}/api/views/{d['id']}/datapackage.json").json() for d in datasets.values()]
    packages.append(httpx.get(f"{base}/datapackage.json").json())
    for package in packages:
        assert list(profiles["datapackage.json"].iter_errors(package)) == []
        for resource in package["resources"]:
            assert list(profiles["dataresource.json"].iter_errors(resource)) == []
            assert list(profiles["tableschema.json"].iter_errors(resource["schema"])) == []
    bad_name = {**packages[0], "name": "Not A Name"}
    assert not profiles["datapackage.json"].is_valid(bad_name)
