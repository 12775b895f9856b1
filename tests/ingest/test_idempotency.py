"""Concurrent requests with one Idempotency-Key have exactly one effect, over real HTTP."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import func, select

from services.ingest.submissions.models import Submission
from services.metrics.observations.models import Observation, ObservationRevision
from tests.conftest import serving
from tests.factories import make_department, make_metric, make_token

TWINS = 24


def _count(db, table) -> int:
    with db.session(write=False) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def _send_at_once(base: str, token: str, bodies: list[dict]) -> list[httpx.Response]:
    start = threading.Barrier(len(bodies))

    def send(body: dict) -> httpx.Response:
        start.wait()
        return httpx.post(
            f"{base}/api/ingest/submissions",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "one-key"},
            timeout=30,
        )

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def _city(metrics_db, ingest_db) -> str:
    with metrics_db.session() as s:
        make_metric(s, make_department(s, "DPW"), key="dpw.potholes", unit="count", min_value=0, max_value=None)
    return make_token(ingest_db, "DPW")


def test_twins_with_one_key_and_one_body_store_once_and_hear_the_same_answer(settings, metrics_db, ingest_db):
    token = _city(metrics_db, ingest_db)
    body = {"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": 7}]}
    with serving(settings) as base:
        answers = _send_at_once(base, token, [body] * TWINS)
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _count(ingest_db, Submission) == 1
    assert (_count(metrics_db, Observation), _count(metrics_db, ObservationRevision)) == (1, 1)


def test_twins_with_one_key_and_different_bodies_have_one_winner(settings, metrics_db, ingest_db):
    token = _city(metrics_db, ingest_db)
    bodies = [{"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": v}]} for v in range(TWINS)]
    with serving(settings) as base:
        answers = _send_at_once(base, token, bodies)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [422] * (TWINS - 1), statuses
    winner = next(a for a in answers if a.status_code == 201)
    assert _count(ingest_db, Submission) == 1
    assert _count(metrics_db, ObservationRevision) == 1
    refused = [a.json() for a in answers if a.status_code == 422]
    assert {r["submission"] for r in refused} == {winner.json()["id"]}
