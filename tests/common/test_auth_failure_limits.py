"""Failed authentication is limited per client address in every service (services/common/auth.py): wrong
sign-ins, unknown API tokens, session cookies that do not verify and wrong internal tokens. Past the limit
(AUTH_FAILURE_BURST at once, then AUTH_FAILURES_PER_MINUTE: 30 and 30 by default) the address is answered 429
problem+json with Retry-After, whatever it sends; successes never count, and other addresses are not affected.

The tests spend the default allowance of 30, but with the refill slowed down (`no_refill`): on a busy machine 30
sign-ins (argon2) take longer than the 2 seconds that give one back at the default rate."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.common.auth import SESSION_COOKIE
from services.common.limits import FailureLimiter
from services.common.settings import Settings
from tests.factories import DEFAULT_PASSWORD, make_token, make_user

LIMIT = int(Settings.model_fields["auth_failure_burst"].default)
PROBLEM = "application/problem+json"


@pytest.fixture
def no_refill(client):
    """Every service's failure allowance at its default size, given back a thousand times slower."""
    for app in client.app.state.services.values():
        app.state.auth_failures = FailureLimiter(per_minute=LIMIT / 1000, burst=LIMIT)
    return client


def _is_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("rate-limited")
    assert int(response.headers["Retry-After"]) >= 1


def _elsewhere(client: TestClient, address: str = "198.51.100.7") -> TestClient:
    """The same running app, reached from another address."""
    return TestClient(client.app, client=(address, 40000), raise_server_exceptions=False)


def _login(client: TestClient, username: str, password: str):
    return client.post("/api/ingest/auth/login", json={"username": username, "password": password})


def test_the_limiter_counts_failures_only_and_refills():
    limiter = FailureLimiter(per_minute=30, burst=3)
    for _ in range(3):
        assert limiter.wait("a", now=0.0) is None
        limiter.failed("a", now=0.0)
    assert limiter.wait("a", now=0.0) == pytest.approx(2.0)
    assert limiter.wait("a", now=0.0) == pytest.approx(2.0)  # asking takes nothing
    assert limiter.wait("b", now=0.0) is None
    assert limiter.wait("a", now=2.0) is None
    limiter.failed("a", now=2.0)
    assert limiter.wait("a", now=2.5) == pytest.approx(1.5)


def test_the_default_allowance_is_30_failures_then_30_a_minute(client):
    assert client.get("/api/ingest/submissions", headers={"Authorization": "Bearer wrong"}).status_code == 401
    limiter = client.app.state.services["ingest"].state.auth_failures
    assert (limiter.burst, limiter.rate * 60) == (30, 30.0)
    _elsewhere(client).get("/api/ingest/submissions", headers={"Authorization": "Bearer wrong"})
    # One bucket per address and kind: two addresses, one failure each so far.
    assert sorted(limiter._buckets) == ["credential:198.51.100.7", "credential:testclient"]


def test_one_address_spraying_usernames_is_stopped(no_refill, ingest_db):
    client = no_refill
    # A smaller allowance than the default's 30: each wrong password costs an argon2 hash.
    allowance = 5
    client.app.state.services["ingest"].state.auth_failures = FailureLimiter(per_minute=0.005, burst=allowance)
    make_user(ingest_db, "ann", "analyst")
    for i in range(allowance - 1):
        assert _login(client, f"nobody{i}", "guess").status_code == 401
    # A success in between takes nothing from the allowance.
    assert _login(client, "ann", DEFAULT_PASSWORD).status_code == 200
    assert _login(client, "nobody-last", "guess").status_code == 401
    _is_limited(_login(client, "nobody-more", "guess"))
    # Refused unchecked: the right password gets no further from here, so guessing cannot go faster than the limit.
    _is_limited(_login(client, "ann", DEFAULT_PASSWORD))
    assert _login(_elsewhere(client), "ann", DEFAULT_PASSWORD).status_code == 200
    # Sign-ins have their own allowance: the same address's staff session still works.
    assert client.get("/api/ingest/auth/me").status_code == 200


def test_unknown_api_tokens_are_limited_per_address(no_refill, ingest_db):
    client = no_refill
    token = make_token(ingest_db, "DPW")
    good = {"Authorization": f"Bearer {token}"}
    for _ in range(3 * LIMIT):  # successes never count
        assert client.get("/api/ingest/submissions", headers=good).status_code == 200
    for i in range(LIMIT):
        bad = client.get("/api/ingest/submissions", headers={"Authorization": f"Bearer wrong-{i}"})
        assert bad.status_code == 401
    _is_limited(client.get("/api/ingest/submissions", headers={"Authorization": "Bearer wrong-again"}))
    _is_limited(client.get("/api/ingest/submissions", headers=good))
    # Another address with the same token, and sign-ins from this one, are not affected.
    assert _elsewhere(client).get("/api/ingest/submissions", headers=good).status_code == 200
    make_user(ingest_db, "ann", "analyst")
    assert _login(client, "ann", DEFAULT_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("service", "staff_path", "public_path"),
    [
        ("ingest", "/api/ingest/auth/me", None),
        ("metrics", "/api/metrics/audit", "/api/metrics/departments"),
        ("reporting", "/api/reporting/meetings", "/api/reporting/scorecards"),
    ],
)
def test_forged_session_cookies_are_limited_in_every_service(no_refill, ingest_db, service, staff_path, public_path):
    client = no_refill
    forged = {"Cookie": f"{SESSION_COOKIE}=eyJzdWIiOiIxIn0.forged-signature"}
    for _ in range(LIMIT):
        assert client.get(staff_path, headers=forged).status_code == 401
    _is_limited(client.get(staff_path, headers=forged))
    # A real session from the same address is refused unchecked too; from another address it works.
    make_user(ingest_db, "ann", "analyst")
    elsewhere = _elsewhere(client)
    assert _login(elsewhere, "ann", DEFAULT_PASSWORD).status_code == 200
    real = {"Cookie": f"{SESSION_COOKIE}={elsewhere.cookies[SESSION_COOKIE]}"}
    assert elsewhere.get(staff_path).status_code == 200
    _is_limited(client.get(staff_path, headers=real))
    if public_path:
        # Routes open to everyone keep answering the blocked address, as to anyone signed out.
        assert client.get(public_path, headers=real).status_code == 200
    # Each service keeps its own count: the others still check this address's cookies.
    for other in {"ingest": "/api/ingest/auth/me", "metrics": "/api/metrics/audit"}.values():
        if other != staff_path:
            assert client.get(other, headers=real).status_code == 200


def test_wrong_internal_tokens_are_limited_in_metrics(no_refill):
    client = no_refill
    path = "/api/metrics/observations/batches"
    for i in range(LIMIT):
        assert client.post(path, json={"batches": []}, headers={"Authorization": f"Bearer no-{i}"}).status_code == 401
    _is_limited(client.post(path, json={"batches": []}, headers={"Authorization": "Bearer no-more"}))
    # Without any credential there is nothing to count: a plain 401, as before.
    assert _elsewhere(client).post(path, json={"batches": []}).status_code == 401


def test_every_operation_that_checks_credentials_declares_the_429(client):
    for service in ("ingest", "metrics", "reporting"):
        document = client.get(f"/api/{service}/openapi.json").json()
        operations = [op for ops in document["paths"].values() for op in ops.values()]
        checked = [op for op in operations if "401" in op["responses"]]
        assert checked, service
        assert [op["operationId"] for op in checked if "429" not in op["responses"]] == []


def test_a_local_programs_failures_do_not_block_the_services_calls_to_each_other(no_refill, metrics_db, ingest_db):
    """In one process the services call each other through the ASGI transport; those calls have their own client
    address, so a program on the same machine that keeps failing to authenticate cannot get metrics to refuse
    ingest's deliveries."""
    from tests.factories import make_department, make_metric

    with metrics_db.session() as s:
        make_metric(s, make_department(s, "DPW", "Public Works"), key="dpw.count", unit="count", max_value=None)
    token = make_token(ingest_db, "DPW")
    # A local program sending wrong internal tokens to the route ingest delivers to, from 127.0.0.1 (which the
    # transport used to give the services' own calls).
    local, path = _elsewhere(no_refill, "127.0.0.1"), "/api/metrics/observations/batches"
    for i in range(LIMIT):
        local.post(path, json={"batches": []}, headers={"Authorization": f"Bearer no-{i}"})
    _is_limited(local.post(path, json={"batches": []}, headers={"Authorization": "Bearer no-more"}))

    sent = no_refill.post(
        "/api/ingest/submissions",
        json={"observations": [{"metric": "dpw.count", "period": "2017-06", "value": 3}]},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "local-program"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "delivered"
