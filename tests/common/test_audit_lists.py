"""The audit lists of ingest (administrators) and metrics (staff, their departments) filter the same way: who,
action (exact, or every action under a prefix ending in a dot), department, subject and a range of UTC days; and
list newest first by time then id, the order the audit page merges them in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.audit.models import AuditEvent as IngestEvent
from services.metrics.audit.models import AuditEvent as MetricsEvent
from tests.factories import make_user, sign_in

UTC = dt.UTC
EVENTS = [
    # (at, actor, action, department, subject); ids follow this order, times do not.
    (dt.datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC), "user:1", "token.created", "DPW", "crm"),
    (dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "user:1", "token.revoked", "DPW", "crm"),
    (dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC), "token:4", "submission.received", "DWM", "17"),
    (dt.datetime(2026, 3, 2, 8, 30, tzinfo=UTC), "operator", "tokens.purged", None, None),
    (dt.datetime(2026, 3, 2, 8, 30, tzinfo=UTC), "user:2", "auth.login", "DWM", "bob"),
]
ROUTES = {
    "ingest": ("/api/ingest/audit", IngestEvent, "admin"),
    "metrics": ("/api/metrics/audit", MetricsEvent, "analyst"),
}


@pytest.fixture(params=sorted(ROUTES))
def trail(request, client, ingest_db, metrics_db):
    path, table, role = ROUTES[request.param]
    db = ingest_db if request.param == "ingest" else metrics_db
    with db.session() as session:
        for at, actor, action, department, subject in EVENTS:
            session.add(
                table(at=at, actor=actor, actor_name=actor, action=action, department_code=department,
                      subject=subject, outcome="ok")
            )  # fmt: skip
    make_user(ingest_db, "reader", role)
    sign_in(client, "reader")
    # Sign-ins land in ingest's trail too: the lists below ask only about March 2026.
    return lambda **query: client.get(path, params={"start": "2026-03-01", "end": "2026-03-31", **query})


def _subjects_and_actions(answer) -> list[tuple[str | None, str]]:
    assert answer.status_code == 200, answer.text
    return [(e["subject"], e["action"]) for e in answer.json()["items"]]


def test_newest_first_by_time_then_id(trail):
    assert _subjects_and_actions(trail()) == [
        ("17", "submission.received"),
        ("bob", "auth.login"),  # same time as the purge, a later id
        (None, "tokens.purged"),
        ("crm", "token.revoked"),
        ("crm", "token.created"),
    ]
    page = trail(limit=2, offset=1).json()
    assert page["total"] == 5
    assert [e["action"] for e in page["items"]] == ["auth.login", "tokens.purged"]


def test_filters(trail):
    assert [a for _, a in _subjects_and_actions(trail(actor="user:1"))] == ["token.revoked", "token.created"]
    assert [a for _, a in _subjects_and_actions(trail(action="token.revoked"))] == ["token.revoked"]
    # A prefix ends in a dot and takes only what is under it: not tokens.purged.
    assert [a for _, a in _subjects_and_actions(trail(action="token."))] == ["token.revoked", "token.created"]
    assert [a for _, a in _subjects_and_actions(trail(action="token"))] == []
    assert [a for _, a in _subjects_and_actions(trail(action="%."))] == []  # LIKE's wildcard is a plain character
    assert [a for _, a in _subjects_and_actions(trail(department="DWM"))] == ["submission.received", "auth.login"]
    assert [a for _, a in _subjects_and_actions(trail(subject="crm", actor="user:1", action="token.created"))] == [
        "token.created"
    ]


def test_days_are_utc_and_inclusive(trail):
    assert [a for _, a in _subjects_and_actions(trail(start="2026-03-02", end="2026-03-02"))] == [
        "auth.login",
        "tokens.purged",
        "token.revoked",
    ]
    assert [a for _, a in _subjects_and_actions(trail(end="2026-03-01"))] == ["token.created"]
    assert [a for _, a in _subjects_and_actions(trail(start="2026-03-03"))] == ["submission.received"]
    # A window that ends before it starts holds nothing; the last day there is is a day like any other.
    assert _subjects_and_actions(trail(start="2026-03-03", end="2026-03-02")) == []
    assert {a for _, a in _subjects_and_actions(trail(end="9999-12-31"))} >= {e[2] for e in EVENTS}


def test_bad_filters_are_refused(trail):
    for query in ({"start": "yesterday"}, {"department": "not a code"}, {"actor": "x" * 201}, {"action": "a\x00"}):
        answer = trail(**query)
        assert answer.status_code == 422, query
        assert answer.headers["content-type"].startswith("application/problem+json")
