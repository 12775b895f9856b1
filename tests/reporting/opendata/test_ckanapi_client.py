"""ckanapi, unchanged, as a real CKAN client against CityStat served over HTTP: it reads results from CKAN's
envelope and turns error envelopes back into its own exceptions, so these tests prove both shapes."""

from __future__ import annotations

from collections.abc import Iterator

import ckanapi
import pytest

from services.common.db import Database
from services.metrics.definitions.models import MetricState
from tests.conftest import serving
from tests.factories import make_department, make_metric, make_observation

HIDDEN_VALUE = 0.424242
ORG = "citystat-performance-office"


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
def ckan(base) -> Iterator[ckanapi.RemoteCKAN]:
    with ckanapi.RemoteCKAN(base) as client:  # POSTs JSON to /api/action/{name}
        yield client


@pytest.fixture(scope="module")
def resource_id(ckan) -> str:
    [resource] = ckan.action.package_show(id="observations")["resources"]
    return resource["id"]


def test_packages_and_organizations(ckan, base):
    assert ckan.action.package_list() == ["observations"]
    package = ckan.action.package_show(id="observations")
    assert package["name"] == "observations" and package["organization"]["name"] == ORG
    assert ckan.action.package_show(id=package["id"]) == package
    [resource] = package["resources"]
    assert resource["id"] == package["id"] and resource["datastore_active"] is True
    assert resource["url"] == f"{base}/api/views/{package['id']}/rows.csv?accessType=DOWNLOAD"
    found = ckan.action.package_search(q="metric", fq=f"organization:{ORG}", rows=5)
    assert found["count"] == 1 and [p["id"] for p in found["results"]] == [package["id"]]
    assert ckan.action.package_search(fq="organization:parks")["count"] == 0
    assert ckan.action.organization_list() == [ORG]
    [organization] = ckan.action.organization_list(all_fields=True)
    assert organization["package_count"] == 1
    # The same actions by GET, and at the versioned prefix.
    with ckanapi.RemoteCKAN(base, get_only=True) as by_get:
        by_get.base_url = "api/3/action/"
        assert by_get.action.package_list() == ["observations"]
        assert by_get.action.package_show(id="observations") == package


def test_datastore_search_with_filters_and_paging(ckan, resource_id):
    filtered = ckan.action.datastore_search(
        resource_id=resource_id, filters={"metric": "dwm.on_time"}, sort="period desc", limit=4
    )
    assert filtered["total"] == 6
    assert [(r["period"], r["value"]) for r in filtered["records"]] == [
        ("2017-06", 0.91),
        ("2017-05", 0.88),
        ("2017-04", 0.8),
        ("2017-03", 0.75),
    ]
    pages, offset = [], 0
    while True:
        page = ckan.action.datastore_search(
            resource_id=resource_id, fields=["metric", "period"], sort="metric, period", limit=3, offset=offset
        )
        if not page["records"]:
            break
        pages.append(page["records"])
        offset += page["limit"]
    assert [len(records) for records in pages] == [3, 3, 1]
    everything = [row for records in pages for row in records]
    assert everything[0] == {"metric": "dwm.main_breaks", "period": "2017-06"}
    assert [row["period"] for row in everything[1:]] == [f"2017-{m:02d}" for m in range(1, 7)]
    breaks = ckan.action.datastore_search(resource_id=resource_id, filters={"value": 31}, fields="metric,value")
    assert breaks["records"] == [{"metric": "dwm.main_breaks", "value": 31}]


def test_errors_become_ckanapi_exceptions(ckan, resource_id):
    with pytest.raises(ckanapi.NotFound) as unknown:
        ckan.action.package_show(id="no-such-dataset")
    assert "not found" in str(unknown.value).lower()
    with pytest.raises(ckanapi.NotFound):
        ckan.action.datastore_search(resource_id="zzzz-zzzz")
    with pytest.raises(ckanapi.ValidationError) as invalid:
        ckan.action.datastore_search(resource_id=resource_id, filters={"flavour": "lime"})
    assert invalid.value.error_dict["filters"] == ['field "flavour" not in table']
    with pytest.raises(ckanapi.CKANAPIError) as unknown_action:
        ckan.action.package_create(name="mine")
    assert "Action name not known: package_create" in str(unknown_action.value)


def test_unpublished_values_never_appear(ckan, resource_id):
    everything = ckan.action.datastore_search(resource_id=resource_id, limit=50_000)
    assert everything["total"] == 7
    assert {row["metric"] for row in everything["records"]} == {"dwm.on_time", "dwm.main_breaks"}
    assert HIDDEN_VALUE not in [row["value"] for row in everything["records"]]
    for key in ("dwm.internal", "dwm.draft"):
        assert ckan.action.datastore_search(resource_id=resource_id, filters={"metric": key})["total"] == 0
        assert ckan.action.datastore_search(resource_id=resource_id, q=key.split(".")[1])["records"] == []
