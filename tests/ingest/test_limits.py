"""Each limit is a setting, and each answers as it should: 413 for size and rows, 429 for rate."""

from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from services.runner import create_root_app
from tests.factories import make_department, make_metric, make_token

PROBLEM = "application/problem+json"


@contextmanager
def app_with(settings, **limits):
    with TestClient(create_root_app(settings.model_copy(update=limits)), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def token(metrics_db, ingest_db):
    with metrics_db.session() as s:
        make_metric(s, make_department(s, "DPW"), key="dpw.potholes", unit="count", min_value=0, max_value=None)
    return make_token(ingest_db, "DPW")


def json_rows(n):
    return {"observations": [{"metric": "dpw.potholes", "period": "2017-06", "value": i} for i in range(n)]}


def csv_rows(n, pad=0):
    lines = ["metric,period,value,comment"]
    lines += [f"dpw.potholes,2017-06,{i},{'x' * pad}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def post_json(client, token, body, key):
    return client.post(
        "/api/ingest/submissions", json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    )


def post_csv(client, token, body, key):
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "text/csv"}
    return client.post("/api/ingest/submissions/csv", content=body, headers=headers)


def submissions(client, token):
    return client.get("/api/ingest/submissions", headers={"Authorization": f"Bearer {token}"}).json()["total"]


def test_the_body_limit_is_per_route_files_get_the_larger_one(settings, token):
    with app_with(settings, max_body_bytes=4_000, max_upload_bytes=40_000) as client:
        too_big = post_json(client, token, json_rows(200), "a")
        assert too_big.status_code == 413
        assert too_big.headers["content-type"].startswith(PROBLEM)
        assert "4000 bytes" in too_big.json()["detail"]
        # The same rows as a file are within the upload limit...
        assert len(csv_rows(200)) > 4_000
        assert post_csv(client, token, csv_rows(200), "b").status_code == 201
        # ...until the file passes it too.
        refused = post_csv(client, token, csv_rows(200, pad=200), "c")
        assert refused.status_code == 413 and "40000 bytes" in refused.json()["detail"]
        assert submissions(client, token) == 1


def test_the_row_limit_refuses_the_whole_request(settings, token):
    with app_with(settings, max_rows_per_submission=3) as client:
        assert post_json(client, token, json_rows(3), "a").status_code == 201
        refused = post_json(client, token, json_rows(4), "b")
        assert refused.status_code == 413 and "at most 3 rows" in refused.json()["detail"]
        assert post_csv(client, token, csv_rows(4), "c").status_code == 413
        assert submissions(client, token) == 1


def test_the_rate_limit_answers_429_with_retry_after_per_token(settings, token, ingest_db):
    other = make_token(ingest_db, "DPW", "second system")
    with app_with(settings, rate_limit_per_minute=6, rate_limit_burst=3) as client:
        answers = [post_json(client, token, json_rows(1), f"k{i}").status_code for i in range(4)]
        assert answers == [201, 201, 201, 429]
        limited = post_json(client, token, json_rows(1), "k9")
        assert limited.headers["content-type"].startswith(PROBLEM)
        # 6 a minute is one every 10 s: the client is told to wait about that long.
        assert 1 <= int(limited.headers["Retry-After"]) <= 10
        # Another token of the same department has its own allowance.
        assert post_json(client, other, json_rows(1), "o1").status_code == 201
        assert submissions(client, token) == 4


def test_sign_in_attempts_are_limited_per_username(client, ingest_db):
    from tests.factories import make_user

    make_user(ingest_db, "ana", "analyst")
    wrong = [client.post("/api/ingest/auth/login", json={"username": "ana", "password": "nope"}) for _ in range(10)]
    assert {r.status_code for r in wrong} == {401}
    blocked = client.post("/api/ingest/auth/login", json={"username": "ana", "password": "nope"})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "60"
