"""Metrics' search: metrics, departments and datasets by the words in their names, keys and descriptions, each as the
caller may see it, closest match first."""

from __future__ import annotations

from services.metrics.records.models import Dataset
from tests.factories import make_department, make_metric, make_user, sign_in

SEARCH = "/api/metrics/search"


def _city(metrics_db, ingest_db) -> None:
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        dwm = make_department(s, "DWM", "Watershed Management")
        make_metric(s, dpw, key="dpw.pothole_days", name="Days to fill a pothole")
        make_metric(s, dpw, key="dpw.calls", name="Calls answered", methodology="Pothole and graffiti calls.")
        make_metric(s, dpw, key="dpw.repairs", name="Pothole repairs (draft)", is_published=False)
        make_metric(s, dwm, key="dwm.main_breaks", name="Water main breaks")
        make_metric(s, dwm, key="dwm.rate", name="100% of hydrants_checked")
        s.add(Dataset(key="pothole_log", title="Pothole crew log", is_published=False))
        s.add(Dataset(key="inspections", title="Street inspections", is_published=True))
    make_user(ingest_db, "lee", "liaison", "DPW")
    make_user(ingest_db, "wes", "liaison", "DWM")


def _found(client, q: str, **params) -> list[tuple[str, str]]:
    answer = client.get(SEARCH, params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    return [(item["kind"], item["key"]) for item in answer.json()["items"]]


def test_search_finds_each_kind_and_ranks_exact_then_prefix_then_contains(client, metrics_db, ingest_db):
    _city(metrics_db, ingest_db)
    answer = client.get(SEARCH, params={"q": "pothole"}).json()
    # Anonymous: published metrics by name and by methodology, never the draft; no unpublished dataset.
    assert [(i["kind"], i["key"]) for i in answer["items"]] == [("metric", "dpw.calls"), ("metric", "dpw.pothole_days")]
    assert answer["total"] == 2
    assert answer["items"][1]["url"] == "metric.html?key=dpw.pothole_days"

    # An exact code comes first, then titles that begin with the words, then the rest; case does not matter.
    assert _found(client, "DWM")[0] == ("department", "DWM")
    assert _found(client, "water MAIN") == [("metric", "dwm.main_breaks")]
    assert _found(client, "works")[0] == ("department", "DPW")
    department = client.get(SEARCH, params={"q": "dpw"}).json()["items"][0]
    assert department == {
        "kind": "department",
        "title": "Public Works",
        "subtitle": "Department DPW",
        "key": "DPW",
        "url": "department.html?code=DPW",
    }
    assert _found(client, "days")[0] == ("metric", "dpw.pothole_days")  # title starts with "Days"
    assert _found(client, "Inspections") == [("dataset", "inspections")]
    assert ("dataset", "observations") in _found(client, "performance metric values")
    assert _found(client, "pothole", limit=1) == [("metric", "dpw.calls")]


def test_unpublished_metrics_and_datasets_only_for_their_staff(client, metrics_db, ingest_db):
    _city(metrics_db, ingest_db)
    sign_in(client, "lee")
    assert set(_found(client, "pothole")) == {
        ("metric", "dpw.calls"),
        ("metric", "dpw.pothole_days"),
        ("metric", "dpw.repairs"),
        ("dataset", "pothole_log"),
    }
    sign_in(client, "wes")  # another department: its staff see every dataset, not DPW's unpublished metric
    assert set(_found(client, "pothole")) == {
        ("metric", "dpw.calls"),
        ("metric", "dpw.pothole_days"),
        ("dataset", "pothole_log"),
    }


def test_wildcards_are_literal_and_the_query_is_bounded(client, metrics_db, ingest_db):
    _city(metrics_db, ingest_db)
    assert _found(client, "100%") == [("metric", "dwm.rate")]
    assert _found(client, "%") == [("metric", "dwm.rate")]
    assert ("metric", "dwm.rate") in _found(client, "_")
    assert _found(client, "100_") == []  # `_` is not "any one character"
    assert _found(client, "hydrants_checked") == [("metric", "dwm.rate")]
    for q in ("", "x" * 201, "   "):
        refused = client.get(SEARCH, params={"q": q})
        assert refused.status_code == 422, q
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(SEARCH, params={"q": "x" * 200}).status_code == 200


def test_a_nul_byte_in_the_words_is_a_422_on_both_searches(client):
    # PostgreSQL text cannot hold one: it must be refused before any query, never reach the database as a 500.
    for url in ("/api/metrics/search", "/api/reporting/search"):
        answer = client.get(url, params={"q": "pot\x00hole"})
        assert answer.status_code == 422, (url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
