"""The search box's answer: briefings the caller may read, merged with what metrics finds as that caller."""

from __future__ import annotations

from services.reporting.briefings.models import Briefing, BriefingState
from tests.factories import make_department, make_metric, make_user, sign_in

SEARCH = "/api/reporting/search"


def _city(metrics_db, reporting_db, ingest_db) -> dict[str, int]:
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        make_metric(s, dpw, key="dpw.pothole_days", name="Days to fill a pothole")
        make_metric(s, dpw, key="dpw.pothole_backlog", name="Pothole backlog", is_published=False)
    ids = {}
    with reporting_db.session() as s:
        for name, title, state, departments in (
            ("dpw", "Pothole roundtable: Public Works", BriefingState.published, ["DPW"]),
            ("dwm", "Pothole spillover: Watershed", BriefingState.published, ["DWM"]),
            ("draft", "Pothole memo (draft)", BriefingState.draft, []),
            ("wild", "Budget 100% reached", BriefingState.published, []),
        ):
            briefing = Briefing(
                kind="roundtable", title=title, period="2017-06", departments=departments, state=state, created_by="ana"
            )
            s.add(briefing)
            s.flush()
            ids[name] = briefing.id
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lee", "liaison", "DPW")
    make_user(ingest_db, "wes", "liaison", "DWM")
    return ids


def _found(client, q: str) -> list[tuple[str, str]]:
    answer = client.get(SEARCH, params={"q": q})
    assert answer.status_code == 200, answer.text
    return [(item["kind"], item["key"]) for item in answer.json()["items"]]


def test_briefings_and_metrics_as_the_caller_may_see_them(client, metrics_db, reporting_db, ingest_db):
    ids = _city(metrics_db, reporting_db, ingest_db)

    # Anonymous: published metrics only, and no briefings at all.
    assert _found(client, "pothole") == [("metric", "dpw.pothole_days")]

    sign_in(client, "lee")  # Public Works: its unpublished metric, its published briefing; no draft, no DWM's
    answer = client.get(SEARCH, params={"q": "POTHOLE"}).json()
    assert [(i["kind"], i["key"]) for i in answer["items"]] == [
        ("metric", "dpw.pothole_backlog"),  # title starts with the words
        ("briefing", str(ids["dpw"])),
        ("metric", "dpw.pothole_days"),
    ]
    assert answer["total"] == 3
    assert answer["items"][1]["url"] == f"briefing.html?id={ids['dpw']}"

    sign_in(client, "wes")  # Watershed: not DPW's unpublished metric
    assert set(_found(client, "pothole")) == {("briefing", str(ids["dwm"])), ("metric", "dpw.pothole_days")}

    sign_in(client, "ana")  # the performance office: every briefing, drafts too, and every metric
    assert {key for kind, key in _found(client, "pothole") if kind == "briefing"} == {
        str(ids["dpw"]),
        str(ids["dwm"]),
        str(ids["draft"]),
    }
    assert _found(client, str(ids["wild"]))[0] == ("briefing", str(ids["wild"]))  # an exact id comes first


def test_wildcards_are_literal_and_the_query_is_bounded(client, metrics_db, reporting_db, ingest_db):
    ids = _city(metrics_db, reporting_db, ingest_db)
    sign_in(client, "ana")
    assert _found(client, "100%") == [("briefing", str(ids["wild"]))]
    assert _found(client, "100_") == []
    for q in ("", "x" * 201, "  "):
        refused = client.get(SEARCH, params={"q": q})
        assert refused.status_code == 422, q
        assert refused.headers["content-type"].startswith("application/problem+json")
