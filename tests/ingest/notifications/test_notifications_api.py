"""In-app notifications through the API: the performance office runs a round, each person reads their own."""

from __future__ import annotations

import pytest
from sqlmodel import select

from services.ingest.audit.models import AuditEvent
from tests.factories import make_token, make_user, sign_in
from tests.ingest.notifications.notify_town import rows

NOTIFICATIONS = "/api/ingest/notifications"
RUN = f"{NOTIFICATIONS}/run"


@pytest.fixture
def made(client, town) -> dict:
    """The town's round, run by the analyst through the API (no mail server in the app's settings)."""
    csrf = sign_in(client, "analyst")
    response = client.post(RUN, headers=csrf)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return response.json()


def test_the_performance_office_runs_a_round_and_a_second_run_makes_nothing(client, ingest_db, town, made):
    assert made["as_of"] == "2017-07-10"
    assert (made["reminders"], made["overdue"], made["digests"]) == (3, 4, 5)
    assert (made["emails_sent"], made["emails_pending"], made["metrics_answered"]) == (0, 0, True)
    csrf = sign_in(client, "admin")
    again = client.post(RUN, headers=csrf).json()
    assert (again["reminders"], again["overdue"], again["digests"]) == (0, 0, 0)
    assert len(rows(ingest_db)) == 12
    with ingest_db.session(write=False) as session:
        runs = session.exec(select(AuditEvent).where(AuditEvent.action == "notifications.run")).all()
    assert len(runs) == 2 and runs[0].actor == f"user:{town.analyst}"
    assert runs[0].detail["digests"] == 5 and runs[1].detail["digests"] == 0
    # No mail server in the app's settings: every notification is for the app only.
    assert {r.email_status for r in rows(ingest_db)} == {"none"}


def test_a_person_lists_reads_and_clears_their_own_notifications(client, town, made):
    csrf = sign_in(client, "dpw.liaison")
    page = client.get(NOTIFICATIONS).json()
    assert (page["total"], page["unread"]) == (3, 3)
    # Newest first: the round makes reminders, then overdue notices, then digests.
    assert [n["kind"] for n in page["items"]] == ["digest", "overdue", "reminder"]
    digest = page["items"][0]
    assert digest["subject"] == "Weekly digest: Public Works, week of July 10, 2017"
    assert digest["link"] == "department.html?code=DPW"
    assert digest["department"] == "DPW" and digest["read"] is False and digest["email"] == "none"
    assert "Streetlights fixed in 3 days" in digest["body"]

    first = client.get(NOTIFICATIONS, params={"limit": 1, "offset": 1}).json()
    assert (first["total"], [n["kind"] for n in first["items"]]) == (3, ["overdue"])

    read = client.post(f"{NOTIFICATIONS}/{digest['id']}/read", headers=csrf)
    assert read.status_code == 200 and read.json()["read"] is True
    read_at = read.json()["read_at"]
    assert client.post(f"{NOTIFICATIONS}/{digest['id']}/read", headers=csrf).json()["read_at"] == read_at
    unread = client.get(NOTIFICATIONS, params={"unread": "true"}).json()
    assert (unread["total"], unread["unread"]) == (2, 2)
    assert [n["kind"] for n in unread["items"]] == ["overdue", "reminder"]

    cleared = client.post(f"{NOTIFICATIONS}/read-all", headers=csrf).json()
    assert cleared == {"marked": 2, "unread": 0}
    assert client.get(NOTIFICATIONS).json()["unread"] == 0
    # Only the caller's own: the head's are still unread.
    client.cookies.clear()
    sign_in(client, "dpw.head")
    assert client.get(NOTIFICATIONS).json()["unread"] == 3


def test_nobody_reads_another_persons_and_everyone_has_theirs_in_the_app(client, ingest_db, town, made):
    heads = [r.id for r in rows(ingest_db) if r.recipient_id == town.head]
    csrf = sign_in(client, "dpw.liaison")
    for other in (heads[0], 2_000_000_000):
        response = client.post(f"{NOTIFICATIONS}/{other}/read", headers=csrf)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    assert all(r.read_at is None for r in rows(ingest_db) if r.recipient_id == town.head)
    assert {n["id"] for n in client.get(NOTIFICATIONS).json()["items"]}.isdisjoint(heads)

    # A person without an e-mail address has theirs in the app all the same.
    client.cookies.clear()
    sign_in(client, "dpw.clerk")
    page = client.get(NOTIFICATIONS).json()
    assert sorted((n["kind"], n["email"]) for n in page["items"]) == [
        ("digest", "none"), ("overdue", "none"), ("reminder", "none")
    ]  # fmt: skip
    overdue = next(n for n in page["items"] if n["kind"] == "overdue")
    assert overdue["subject"] == "Overdue since June 10, 2017: 1 value for Public Works"
    assert "Potholes repaired on time (dpw.potholes), May 2017" in overdue["body"]
    assert overdue["link"] == "due.html?department=DPW"


def test_who_may_do_what(client, ingest_db, town):
    assert client.get(NOTIFICATIONS).status_code == 401
    assert client.post(RUN).status_code == 401
    token = {"Authorization": f"Bearer {make_token(ingest_db, 'DPW')}"}
    for method, path in (("GET", NOTIFICATIONS), ("POST", RUN), ("POST", f"{NOTIFICATIONS}/read-all")):
        response = client.request(method, path, headers=token)
        assert response.status_code == 403, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")
    make_user(ingest_db, "dpw.viewer2", "viewer", "DPW")
    for username in ("dpw.liaison", "dpw.head", "dpw.viewer2", "citywide"):
        client.cookies.clear()
        csrf = sign_in(client, username)
        assert client.post(RUN, headers=csrf).status_code == 403, username
        assert client.get(NOTIFICATIONS).status_code == 200
    # A signed-in write without the CSRF header is refused; an id that cannot be one is a 422.
    assert client.post(f"{NOTIFICATIONS}/read-all").status_code == 403
    assert client.post(f"{NOTIFICATIONS}/0/read", headers=csrf).status_code == 422
    assert rows(ingest_db) == []


def test_staff_accounts_carry_an_email_address(client, ingest_db):
    make_user(ingest_db, "root", "admin")
    csrf = sign_in(client, "root")
    body = {"username": "new.liaison", "display_name": "New Liaison", "password": "a long passphrase",
            "role": "viewer", "email": "new.liaison@city.example"}  # fmt: skip
    created = client.post("/api/ingest/users", json=body, headers=csrf)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "new.liaison@city.example"
    user_id = created.json()["id"]
    for bad in ("no-at-sign", "two@@city.example", "a b@city.example", "x@city.example, y@city.example", "x@city"):
        response = client.patch(f"/api/ingest/users/{user_id}", json={"email": bad}, headers=csrf)
        assert response.status_code == 422, bad
    changed = client.patch(f"/api/ingest/users/{user_id}", json={"email": "moved@city.example"}, headers=csrf)
    assert changed.json()["email"] == "moved@city.example"
    assert (
        client.patch(f"/api/ingest/users/{user_id}", json={"display_name": "Renamed"}, headers=csrf).json()["email"]
        == "moved@city.example"
    )
    cleared = client.patch(f"/api/ingest/users/{user_id}", json={"email": None}, headers=csrf)
    assert cleared.json()["email"] is None
