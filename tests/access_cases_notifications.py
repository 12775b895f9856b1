"""The access matrix's cases for in-app notifications: each person reads and marks only their own; someone else's
notification is a 404 to everyone (an id tells nothing); running the reminders and digests is the performance
office's. Department systems (API tokens) have no notifications. The world adds a notification of a viewer of A
who is none of the principals."""

from __future__ import annotations

from tests.access_cases import Case, Who, get, never_shows

INGEST = "/api/ingest"
OTHER_NOTICE = "Matrix notice for someone else"


def own_notifications(who: Who) -> int:
    return {"anonymous": 401, "token": 403}.get(who.kind, 200)


def someone_elses(who: Who) -> int:
    return {"anonymous": 401, "token": 403}.get(who.kind, 404)


def office_runs(who: Who) -> int:
    return {"anonymous": 401, "token": 403}.get(who.kind, 200 if who.writes_b else 403)


NOTIFICATION_CASES: list[Case] = [
    Case(
        "my notifications",
        ("ingest", "GET", "/notifications"),
        get(f"{INGEST}/notifications"),
        own_notifications,
        check=lambda who, response: f"LEAK: shows {OTHER_NOTICE}" if OTHER_NOTICE in response.text else None,
    ),
    Case(
        "mark all mine read",
        ("ingest", "POST", "/notifications/read-all"),
        lambda w: {"url": f"{INGEST}/notifications/read-all"},
        own_notifications,
        writes=True,
    ),
    Case(
        "mark someone else's notification read",
        ("ingest", "POST", "/notifications/{notification_id}/read"),
        lambda w: {"url": f"{INGEST}/notifications/{w.notification_other}/read"},
        someone_elses,
        check=never_shows(OTHER_NOTICE),
        writes=True,
        same_as_missing=lambda w: {"url": f"{INGEST}/notifications/{2**31 - 1}/read"},
    ),
    Case(
        "run the reminders and digests now",
        ("ingest", "POST", "/notifications/run"),
        lambda w: {"url": f"{INGEST}/notifications/run"},
        office_runs,
        writes=True,
    ),
]
