"""The town the notification tests share: Public Works with one value missing and one arrived, its staff, the
performance office, and people who must get nothing. As of 2017-07-10 (a Monday, the digest's day) Public Works'
monthly values are due 10 days after each month: June's are due today, May's were due on June 10.

Made in a round: 3 reminders (DPW's two liaisons and head), 4 overdue notices (the same and the analyst) and
5 digests (DPW's liaisons, head and viewer; Watershed's liaison); 9 of the 12 to an e-mail address."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from services.common.db import Database
from services.ingest.notifications.models import Notification
from services.ingest.notifications.rounds import run_round
from tests.factories import make_department, make_metric, make_observation, make_target, make_user


@dataclass
class Town:
    liaison: int
    head: int
    viewer: int
    no_address: int
    analyst: int
    other_liaison: int


def build_town(metrics_db: Database, ingest_db: Database) -> Town:
    with metrics_db.session() as session:
        dpw = make_department(session, "DPW", "Public Works")
        make_department(session, "DWM", "Watershed Management")
        potholes = make_metric(
            session, dpw, key="dpw.potholes", name="Potholes repaired on time", first_period="2017-01"
        )
        make_target(session, potholes, 0.9, 0.05)
        # February is missing too, but lies beyond the two latest due dates an overdue notice looks back over.
        for period in ("2017-01", "2017-03", "2017-04"):
            make_observation(session, potholes, period, 0.8)
        lights = make_metric(session, dpw, key="dpw.streetlights", name="Streetlights fixed in 3 days")
        make_target(session, lights, 0.9, 0.05)
        for period, value in (("2017-01", 0.8), ("2017-02", 0.8), ("2017-03", 0.8), ("2017-04", 0.8),
                              ("2017-05", 0.85), ("2017-06", 0.92)):  # fmt: skip
            make_observation(session, lights, period, value)
    # People who get nothing: an inactive liaison, an administrator, a citywide viewer.
    make_user(ingest_db, "dpw.former", "liaison", "DPW", active=False, email="dpw.former@city.example")
    make_user(ingest_db, "admin", "admin", email="admin@city.example")
    make_user(ingest_db, "citywide", "viewer", email="citywide@city.example")
    return Town(
        liaison=make_user(ingest_db, "dpw.liaison", "liaison", "DPW", email="dpw.liaison@city.example"),
        head=make_user(ingest_db, "dpw.head", "head", "DPW", email="dpw.head@city.example"),
        viewer=make_user(ingest_db, "dpw.viewer", "viewer", "DPW", email="dpw.viewer@city.example"),
        no_address=make_user(ingest_db, "dpw.clerk", "liaison", "DPW"),
        analyst=make_user(ingest_db, "analyst", "analyst", email="analyst@city.example"),
        other_liaison=make_user(ingest_db, "dwm.liaison", "liaison", "DWM", email="dwm.liaison@city.example"),
    )


def run(client, settings):
    """One round in the app's own event loop, with the app's database and metrics client."""
    state = client.app.state.services["ingest"].state
    return client.portal.call(run_round, state.db, state.metrics_client, state.session_codec, settings)


def rows(ingest_db: Database) -> list[Notification]:
    with ingest_db.session(write=False) as session:
        return list(session.exec(select(Notification).order_by(Notification.id)))
