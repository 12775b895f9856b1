"""Each service refuses to start with a placeholder secret (services/common/secret_checks.py): the app factory raises
with a message naming the setting and how to make a real one, and `citystat serve` exits non-zero with it.

Nothing here touches a database, so the module runs in the SQLite pass only (tests/common/conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.common.secret_checks import GENERATE, InsecureSettings, placeholder_reason
from services.common.settings import Settings
from services.ingest.app import create_app as create_ingest_app
from services.metrics.app import create_app as create_metrics_app
from services.reporting.app import create_app as create_reporting_app
from services.runner import create_root_app
from tests.conftest import INTERNAL_TOKEN

ROOT = Path(__file__).resolve().parents[2]
GOOD = "hK3n0Qy7-ZP2vT9wX4mB8cR1sD6fG5jL0aE2uI7oN3"
FACTORIES = {"ingest": create_ingest_app, "metrics": create_metrics_app, "reporting": create_reporting_app}

PLACEHOLDERS = [
    "",
    "   ",
    "change-me",
    "CHANGEME",
    "Change_Me!",
    "<change me>",
    "changethis",
    "secret",
    "Secret_1",
    "password",
    "password123",
    "citystat",
    "CityStat-2024",
    "example",
    "placeholder",
    "xxx",
    "x" * 64,
    "0" * 40,
    "replace-me-with-a-long-random-secret-0123456789",
    "your-secret-here-your-secret-here-your-secret-here",
    "an-example-value-that-is-plenty-long-0123456789",
    # Values this repository's own files show; anyone can read them.
    "session-Secret_4-long-enough-for-hmac-0123456789",
    "bench-internal-token-0123456789",
    # Random-looking, but too short for a key.
    "q8Zt2LmV0xR7",
    GOOD[:31],
]


def _settings(tmp_path: Path, **overrides) -> Settings:
    return Settings(**{"data_dir": tmp_path, "internal_token": GOOD, **overrides})


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_every_placeholder_internal_token_is_refused(tmp_path, value):
    with pytest.raises(InsecureSettings) as refused:
        create_metrics_app(_settings(tmp_path, internal_token=value))
    message = str(refused.value)
    assert "CityStat metrics will not start" in message
    assert "CITYSTAT_INTERNAL_TOKEN" in message
    assert GENERATE in message
    if len(value) > 12:
        assert value not in message  # the refusal names the setting, never repeats the secret


@pytest.mark.parametrize("value", ["", "changeme", "s" * 40, "secret-secret", GOOD[:20]])
def test_a_placeholder_session_secret_is_refused_by_every_service(tmp_path, value):
    for service, factory in FACTORIES.items():
        with pytest.raises(InsecureSettings, match=f"CityStat {service} will not start") as refused:
            factory(_settings(tmp_path, session_secret=value))
        assert "CITYSTAT_SESSION_SECRET" in str(refused.value)


def test_every_placeholder_is_named_at_once(tmp_path):
    settings = _settings(tmp_path, internal_token="changeme", session_secret="secret")
    with pytest.raises(InsecureSettings) as refused:
        create_ingest_app(settings)
    message = str(refused.value)
    assert "CITYSTAT_INTERNAL_TOKEN: it is a placeholder word" in message
    assert "CITYSTAT_SESSION_SECRET: it is a placeholder word" in message


def test_passwords_need_no_length_but_may_not_be_placeholders(tmp_path):
    # Login is attempted only with a username: then the password must be real. A short one is the mail server's
    # business, not ours.
    with pytest.raises(InsecureSettings, match="CITYSTAT_SMTP_PASSWORD: it is a placeholder word"):
        create_ingest_app(_settings(tmp_path, smtp_username="citystat", smtp_password="password"))
    with pytest.raises(InsecureSettings, match="CITYSTAT_SMTP_PASSWORD: it is empty"):
        create_ingest_app(_settings(tmp_path, smtp_username="citystat"))
    create_ingest_app(_settings(tmp_path, smtp_username="citystat", smtp_password="mail-Pass_1x"))
    create_ingest_app(_settings(tmp_path, smtp_password="changeme"))  # no username: never sent
    # The password in a database URL, checked by the service that connects with it.
    url = "postgresql+psycopg://citystat:changeme@db.example:5432/citystat_metrics"
    with pytest.raises(InsecureSettings, match="the password in CITYSTAT_METRICS_DATABASE_URL"):
        create_metrics_app(_settings(tmp_path, metrics_database_url=url))
    create_ingest_app(_settings(tmp_path, metrics_database_url=url))
    create_metrics_app(_settings(tmp_path, metrics_database_url=url.replace("changeme", "Xv9-q2Lm")))


def test_good_secrets_start_and_serve(tmp_path, database_set):
    settings = database_set.settings(tmp_path, internal_token=GOOD, session_secret=GOOD[::-1])
    with TestClient(create_root_app(settings)) as client:
        for service in FACTORIES:
            assert client.get(f"/api/{service}/health").status_code == 200
    # The defaults are fine too: a random internal token per run, and a session key file made on first start.
    defaults = Settings(data_dir=tmp_path / "fresh", metrics_database_url=database_set.urls["metrics"])
    assert placeholder_reason(defaults.internal_token.get_secret_value(), min_length=32) is None
    with TestClient(create_metrics_app(defaults)) as client:
        assert client.get("/health").status_code == 200
    assert len((tmp_path / "fresh" / "session.key").read_text().strip()) >= 32


def test_a_placeholder_session_key_file_stops_the_start_up(tmp_path):
    (tmp_path / "session.key").write_text("changeme-changeme-changeme-changeme\n")
    app = create_metrics_app(_settings(tmp_path))  # the file is read when the service starts
    with pytest.raises(InsecureSettings) as refused:
        with TestClient(app):
            pass
    assert "session key file" in str(refused.value)
    assert f"Or delete {tmp_path / 'session.key'}" in str(refused.value)


def test_the_real_process_exits_non_zero_with_the_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSTAT_")}
    env.update(CITYSTAT_DATA_DIR=str(tmp_path), CITYSTAT_INTERNAL_TOKEN="change-me")
    command = [str(Path(sys.executable).parent / "citystat"), "serve", "--service", "metrics", "--port", "9"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode != 0
    assert "CityStat metrics will not start with a placeholder secret" in result.stderr
    assert "CITYSTAT_INTERNAL_TOKEN: it is a placeholder word" in result.stderr
    assert GENERATE in result.stderr
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout


def test_the_suites_own_token_is_not_a_placeholder():
    assert placeholder_reason(INTERNAL_TOKEN, min_length=32) is None


def test_no_placeholder_secret_ships_in_the_compose_file_or_the_docs():
    """Any literal value given to a secret variable in these files (not `$(...)` or `${...}`) would now stop the
    services; docker-compose.yml must take them from the environment and refuse to start without them."""
    secret = re.compile(r"(CITYSTAT_(?:INTERNAL_TOKEN|SESSION_SECRET|SMTP_PASSWORD))\s*[:=]\s*\"?([^\s\"#]*)")
    files = [ROOT / "docker-compose.yml", ROOT / "README.md", *sorted((ROOT / "infra").rglob("*.md"))]
    literals, required = [], set()
    for path in files:
        for name, value in secret.findall(path.read_text()):
            if value.startswith("${") and ":?" in value:
                required.add(name)
            elif value and not value.startswith(("$(", "${")):
                literals.append((path.name, name, value))
    assert required >= {"CITYSTAT_INTERNAL_TOKEN", "CITYSTAT_SESSION_SECRET"}
    assert [(f, n, v) for f, n, v in literals if placeholder_reason(v, min_length=32) is None] == []
