"""Department API tokens: made by an administrator or the operator, shown once, kept as a hash, expiring."""

import datetime as dt
import hashlib
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from services.cli import app as cli
from services.ingest.accounts.models import StaffUser
from services.ingest.audit.models import AuditEvent
from services.ingest.base import utcnow
from services.ingest.submissions.models import Submission
from services.ingest.tokens import service as tokens
from services.ingest.tokens.models import ApiToken
from services.ingest.tokens.service import create_token
from services.metrics.observations.models import Observation
from tests.conftest import INTERNAL_TOKEN
from tests.factories import DEFAULT_PASSWORD, make_department, make_metric, make_token, make_user

TOKENS = "/api/ingest/tokens"
SUBMIT = "/api/ingest/submissions"
ME = "/api/ingest/auth/me"
PROBLEM = "application/problem+json"
CITYSTAT = Path(sys.executable).parent / "citystat"

_names = itertools.count(1)
_keys = itertools.count(1)


@pytest.fixture
def web(client):
    client.cookies.clear()
    yield client
    client.cookies.clear()


@pytest.fixture
def city(metrics_db):
    with metrics_db.session() as s:
        make_metric(s, make_department(s, "DPW"), key="dpw.potholes", unit="count", max_value=None)
        make_metric(s, make_department(s, "DWM"), key="dwm.breaks", unit="count", max_value=None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit(web, token, metric="dpw.potholes", value=1, **params):
    return web.post(
        SUBMIT,
        json={"observations": [{"metric": metric, "period": "2017-06", "value": value}]},
        params=params,
        headers={**bearer(token), "Idempotency-Key": f"key-{next(_keys)}"},
    )


def admin_csrf(web, ingest_db) -> tuple[int, dict[str, str]]:
    username = f"tok-admin-{next(_names)}"
    admin_id = make_user(ingest_db, username, "admin")
    response = web.post("/api/ingest/auth/login", json={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return admin_id, {"X-CSRF-Token": response.json()["csrf_token"]}


def token_row(ingest_db, token_id: int) -> ApiToken:
    with ingest_db.session() as s:
        return s.get(ApiToken, token_id)


def token_id_of(ingest_db, plaintext: str) -> int:
    with ingest_db.session() as s:
        return s.exec(
            select(ApiToken.id).where(ApiToken.token_hash == hashlib.sha256(plaintext.encode()).hexdigest())
        ).one()


def count(db, model) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def test_a_token_is_shown_once_and_stored_only_as_its_sha256(web, ingest_db, city, settings):
    admin_id, csrf = admin_csrf(web, ingest_db)
    created = web.post(TOKENS, json={"department": "DPW", "name": "DPW work orders"}, headers=csrf)
    assert created.status_code == 201, created.text
    body = created.json()
    plaintext = body["token"]
    assert re.fullmatch(r"cst_[A-Za-z0-9_-]{43,}", plaintext)  # 32 random bytes, base64url
    assert (body["department"], body["name"], body["active"], body["created_by"]) == (
        "DPW",
        "DPW work orders",
        True,
        f"user:{admin_id}",
    )
    lifetime = dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.fromisoformat(body["created_at"])
    assert lifetime == dt.timedelta(days=settings.token_default_days)

    row = token_row(ingest_db, body["id"])
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = " ".join(str(v) for v in row.model_dump().values())
    assert plaintext not in stored and plaintext[4:] not in stored

    listed = web.get(TOKENS).json()
    assert listed["total"] == 1
    assert "token" not in listed["items"][0] and plaintext[4:] not in web.get(TOKENS).text
    assert listed["items"][0]["id"] == body["id"]

    [event] = [e for e in _events(ingest_db) if e.action == "token.created"]
    assert (event.actor, event.department_code, event.subject) == (f"user:{admin_id}", "DPW", f"token:{body['id']}")
    assert plaintext[4:] not in str(event.detail)

    assert submit(web, plaintext).status_code == 201


def test_tokens_differ_and_take_a_lifetime(web, ingest_db, city):
    _, csrf = admin_csrf(web, ingest_db)
    made = [
        web.post(TOKENS, json={"department": "DPW", "name": "x", "expires_in_days": 30}, headers=csrf).json()
        for _ in range(3)
    ]
    assert len({m["token"] for m in made}) == 3
    for m in made:
        lifetime = dt.datetime.fromisoformat(m["expires_at"]) - dt.datetime.fromisoformat(m["created_at"])
        assert lifetime == dt.timedelta(days=30)
    listed = web.get(TOKENS, params={"department": "DWM"}).json()
    assert listed == {"items": [], "total": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"department": "NOPE", "name": "x"},
        {"department": "dpw", "name": "x"},
        {"department": "DPW", "name": ""},
        {"department": "DPW", "name": "x", "expires_in_days": 0},
        {"department": "DPW", "name": "x", "token": "cst_chosen-by-the-caller"},
    ],
)
def test_token_creation_is_validated(web, ingest_db, city, body):
    _, csrf = admin_csrf(web, ingest_db)
    response = web.post(TOKENS, json=body, headers=csrf)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert count(ingest_db, ApiToken) == 0


def test_an_expired_token_is_401(web, ingest_db, city):
    with ingest_db.session() as session:
        _, expired = create_token(session, "DPW", "old", lifetime=dt.timedelta(seconds=-1))
    response = submit(web, expired)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert web.get(ME, headers=bearer(expired)).status_code == 401
    assert count(ingest_db, Submission) == 0


def test_a_token_in_use_stops_working_when_it_expires(web, ingest_db, city):
    # A token already checked (and perhaps remembered by the server) must still expire on time.
    with ingest_db.session() as session:
        row, token = create_token(session, "DPW", "short-lived", lifetime=dt.timedelta(seconds=3))
    expires_at = aware(row.expires_at)
    assert web.get(ME, headers=bearer(token)).status_code == 200
    time.sleep(max(0.0, (expires_at - utcnow()).total_seconds()) + 0.1)
    assert submit(web, token).status_code == 401
    assert count(ingest_db, Submission) == 0


def test_a_revoked_token_is_401_at_once(web, ingest_db, city):
    token = make_token(ingest_db, "DPW")
    token_id = token_id_of(ingest_db, token)
    admin_id, csrf = admin_csrf(web, ingest_db)
    assert submit(web, token).status_code == 201

    revoked = web.delete(f"{TOKENS}/{token_id}", headers=csrf)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"] is not None
    assert "token" not in revoked.json()

    response = submit(web, token, value=2)
    assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
    assert count(ingest_db, Submission) == 1

    again = web.delete(f"{TOKENS}/{token_id}", headers=csrf)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert web.delete(f"{TOKENS}/999999", headers=csrf).status_code == 404
    events = [(e.action, e.actor, e.subject) for e in _events(ingest_db) if e.action == "token.revoked"]
    assert events[0] == ("token.revoked", f"user:{admin_id}", f"token:{token_id}")


def test_last_used_is_set_on_use_and_kept_within_the_minute(web, ingest_db, city):
    token = make_token(ingest_db, "DPW")
    token_id = token_id_of(ingest_db, token)
    assert token_row(ingest_db, token_id).last_used_at is None

    before = utcnow()
    assert submit(web, token).status_code == 201
    first = aware(token_row(ingest_db, token_id).last_used_at)
    assert before - dt.timedelta(seconds=1) <= first <= utcnow()

    assert submit(web, token, value=2).status_code == 201
    assert web.get(ME, headers=bearer(token)).status_code == 200
    assert aware(token_row(ingest_db, token_id).last_used_at) == first


def test_a_tokens_first_use_on_a_route_that_writes_before_it_authorises_does_not_wait_for_itself(web, ingest_db, city):
    """POST /tokens opens its write session (SQLite's write lock) before it resolves the caller; writing the token's
    last use there waited for that lock forever. It is written after the response instead."""
    token = make_token(ingest_db, "DPW")
    token_id = token_id_of(ingest_db, token)
    answers: list = []
    call = threading.Thread(
        target=lambda: answers.append(web.post(TOKENS, json={"department": "DPW", "name": "x"}, headers=bearer(token))),
        daemon=True,
    )
    call.start()
    call.join(timeout=30)
    assert not call.is_alive(), "the request waited for its own write lock"
    assert answers[0].status_code == 403, answers[0].text
    # A refused call leaves no trace in last use; the next one that gets through writes it.
    assert token_row(ingest_db, token_id).last_used_at is None
    assert submit(web, token).status_code == 201
    assert token_row(ingest_db, token_id).last_used_at is not None


def test_last_used_is_rewritten_once_a_minute_has_passed(ingest_db, city):
    token = make_token(ingest_db, "DPW")
    with ingest_db.session() as session:
        row = tokens.authenticate(session, token)
        assert tokens.needs_last_used(row, utcnow())
        tokens.mark_used(session, row.id, utcnow())
    used = token_row(ingest_db, row.id)
    last = aware(used.last_used_at)
    assert not tokens.needs_last_used(used, last + dt.timedelta(seconds=59))
    assert tokens.needs_last_used(used, last + dt.timedelta(seconds=60))


def test_a_token_is_its_department_system(web, ingest_db, city):
    token = make_token(ingest_db, "DPW", "DPW work orders")
    me = web.get(ME, headers=bearer(token)).json()
    assert me == {
        "kind": "token",
        "id": str(token_id_of(ingest_db, token)),
        "name": "DPW work orders",
        "role": None,
        "department": "DPW",
        "citywide": False,
    }


def test_a_token_of_one_department_cannot_write_for_another(web, ingest_db, metrics_db, city):
    token = make_token(ingest_db, "DPW")
    headers = bearer(token)

    def attempts():
        yield "json for DWM", submit(web, token, metric="dwm.breaks", department="DWM")
        yield "json naming DWM's metric", submit(web, token, metric="dwm.breaks")
        yield (
            "csv for DWM",
            web.post(
                f"{SUBMIT}/csv",
                params={"department": "DWM"},
                content=b"metric,period,value\ndwm.breaks,2017-06,3\n",
                headers={**headers, "Idempotency-Key": "csv", "Content-Type": "text/csv"},
            ),
        )
        yield (
            "csv naming DWM's metric",
            web.post(
                f"{SUBMIT}/csv",
                content=b"metric,period,value\ndwm.breaks,2017-06,3\n",
                headers={**headers, "Idempotency-Key": "csv2", "Content-Type": "text/csv"},
            ),
        )
        yield (
            "dataValueSet for DWM",
            web.post(
                "/api/ingest/dataValueSets",
                params={"department": "DWM"},
                json={
                    "dataValues": [{"dataElement": "dwm.breaks", "period": "201706", "orgUnit": "DWM", "value": "3"}]
                },
                headers=headers,
            ),
        )
        yield (
            "dataValueSet naming DWM's metric",
            web.post(
                "/api/ingest/dataValueSets",
                json={
                    "dataValues": [{"dataElement": "dwm.breaks", "period": "201706", "orgUnit": "DWM", "value": "3"}]
                },
                headers=headers,
            ),
        )

    for name, response in attempts():
        assert response.status_code == 403, (name, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert count(ingest_db, Submission) == 0, name
        assert count(metrics_db, Observation) == 0, name
    assert submit(web, token).status_code == 201


def test_a_token_is_not_a_staff_session(web, ingest_db, city):
    # Administration needs a signed-in administrator: a department system's token is known, and refused.
    token = make_token(ingest_db, "DPW")
    token_id = token_id_of(ingest_db, token)
    for method, path in (("GET", TOKENS), ("DELETE", f"{TOKENS}/{token_id}"), ("GET", "/api/ingest/users")):
        assert web.request(method, path, headers=bearer(token)).status_code == 403, (method, path)
    created = web.post(TOKENS, json={"department": "DPW", "name": "x"}, headers=bearer(token))
    assert created.status_code == 403
    assert count(ingest_db, ApiToken) == 1 and token_row(ingest_db, token_id).revoked_at is None


# The command line, run as an operator runs it: its own process, configured by CITYSTAT_* variables.


def _cli(clean_db, data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSTAT_")}
    env.update(
        {f"CITYSTAT_{service.upper()}_DATABASE_URL": url for service, url in clean_db.urls.items()},
        CITYSTAT_DATA_DIR=str(data_dir),
        CITYSTAT_INTERNAL_TOKEN=INTERNAL_TOKEN,
    )
    return subprocess.run(
        [str(CITYSTAT), *args], input=stdin, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _cli_here(clean_db, data_dir: Path, *args: str, stdin: str | None = None):
    """The same command line in this process: quicker, for the refusals."""
    env = {f"CITYSTAT_{service.upper()}_DATABASE_URL": url for service, url in clean_db.urls.items()}
    env.update(CITYSTAT_DATA_DIR=str(data_dir), CITYSTAT_INTERNAL_TOKEN=INTERNAL_TOKEN)
    return CliRunner().invoke(cli, list(args), input=stdin, env=env)


def _events(ingest_db) -> list[AuditEvent]:
    with ingest_db.session() as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.id)))


def test_cli_token_create_and_revoke_work_and_are_audited_as_the_operator(
    web, ingest_db, city, clean_db, tmp_path, settings
):
    created = _cli(clean_db, tmp_path, "token", "create", "--department", "DPW", "--name", "DPW work orders")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"cst_[A-Za-z0-9_-]{43,}", token)
    token_id = token_id_of(ingest_db, token)
    row = token_row(ingest_db, token_id)
    assert (row.department_code, row.name, row.created_by) == ("DPW", "DPW work orders", "operator")
    assert token not in " ".join(str(v) for v in row.model_dump().values())
    assert submit(web, token).status_code == 201

    revoked = _cli(clean_db, tmp_path, "token", "revoke", str(token_id))
    assert revoked.returncode == 0, revoked.stderr
    assert token_row(ingest_db, token_id).revoked_at is not None
    # The serving process learns of a revocation made elsewhere within its token cache time, if it has one.
    deadline = time.monotonic() + getattr(settings, "token_cache_seconds", 0.0) + 2.0
    while (answer := submit(web, token, value=2).status_code) != 401 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer == 401

    audited = [(e.action, e.actor, e.department_code, e.subject) for e in _events(ingest_db)]
    assert audited[0] == ("token.created", "operator", "DPW", f"token:{token_id}")
    assert ("token.revoked", "operator", "DPW", f"token:{token_id}") in audited
    assert all(token[4:] not in str(e.detail) for e in _events(ingest_db))


def test_cli_refuses_an_unknown_department_or_token(ingest_db, city, clean_db, tmp_path):
    unknown = _cli_here(clean_db, tmp_path, "token", "create", "--department", "NOPE", "--name", "x")
    assert unknown.exit_code == 2 and "NOPE" in unknown.output
    assert "cst_" not in unknown.output
    missing = _cli_here(clean_db, tmp_path, "token", "revoke", "999999")
    assert missing.exit_code == 2 and "999999" in missing.output
    assert count(ingest_db, ApiToken) == 0 and _events(ingest_db) == []


def test_cli_user_create_reads_the_password_from_stdin(web, ingest_db, city, clean_db, tmp_path):
    password = "typed into a pipe, not the shell history"
    result = _cli(
        clean_db,
        tmp_path,
        "user",
        "create",
        "--username",
        "dpw.liaison",
        "--name",
        "DPW Liaison",
        "--role",
        "liaison",
        "--department",
        "DPW",
        "--password-stdin",
        stdin=password + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert password not in result.stdout + result.stderr
    with ingest_db.session() as s:
        user = s.exec(select(StaffUser).where(StaffUser.username == "dpw.liaison")).one()
    assert user.password_hash.startswith("$argon2id$") and password not in user.password_hash
    assert (user.role, user.department_code, user.created_by) == ("liaison", "DPW", "operator")
    [event] = _events(ingest_db)
    assert (event.action, event.actor, event.subject, event.department_code) == (
        "user.created",
        "operator",
        "dpw.liaison",
        "DPW",
    )
    signed_in = web.post("/api/ingest/auth/login", json={"username": "dpw.liaison", "password": password})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "liaison"


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["--role", "liaison"], "long enough password"),  # a liaison without a department
        (["--role", "liaison", "--department", "NOPE"], "long enough password"),
        (["--role", "analyst"], "short"),
        (["--role", "root"], "long enough password"),
    ],
)
def test_cli_user_create_refuses_bad_input_and_creates_nothing(ingest_db, city, clean_db, tmp_path, args, stdin):
    result = _cli_here(
        clean_db,
        tmp_path,
        "user",
        "create",
        "--username",
        "someone",
        "--name",
        "Someone",
        *args,
        "--password-stdin",
        stdin=stdin + "\n",
    )
    assert result.exit_code == 2, result.output
    assert count(ingest_db, StaffUser) == 0 and _events(ingest_db) == []


def test_cli_user_create_refuses_a_taken_username(ingest_db, city, clean_db, tmp_path):
    make_user(ingest_db, "taken", "viewer")
    result = _cli_here(
        clean_db,
        tmp_path,
        "user",
        "create",
        "--username",
        "taken",
        "--name",
        "Again",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="long enough password\n",
    )
    assert result.exit_code == 2 and "taken" in result.output
    assert count(ingest_db, StaffUser) == 1 and _events(ingest_db) == []
