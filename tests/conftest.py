"""Test harness: which database this pass runs on, clean state per test, and the running app."""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import hypothesis
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.common.db import Database
from services.common.limits import RateLimiter
from services.common.migrations import upgrade
from services.common.settings import SERVICES, Settings
from services.ingest.app import LOGIN_ATTEMPTS_PER_MINUTE
from services.ingest.models import metadata as ingest_metadata
from services.ingest.tokens.service import TokenCache
from services.metrics.models import metadata as metrics_metadata
from services.reporting.models import metadata as reporting_metadata
from services.runner import create_root_app

DATABASE = os.environ.get("CITYSTAT_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("CITYSTAT_TEST_POSTGRES_URL", "")
SEED = int(os.environ.get("CITYSTAT_TEST_SEED", "20170710"))
DEMO_AS_OF = dt.date(2017, 7, 10)
# At least 32 characters and no placeholder word: services refuse to start otherwise (services/common/secret_checks.py).
INTERNAL_TOKEN = "suite-internal-token-3kq9ZpW2vR8xL5mN"
METADATA = {"metrics": metrics_metadata, "ingest": ingest_metadata, "reporting": reporting_metadata}

# No per-example deadline: on the 2-core CI machine, with both passes, browsers and servers beside it, a garbage
# collection pause can hold a 0.4 ms example for half a second, and hypothesis would call the test flaky. Speed is
# measured by bench/, never by tests.
hypothesis.settings.register_profile("citystat", deadline=None)
hypothesis.settings.load_profile("citystat")

def pytest_report_header(config) -> list[str]:
    if DATABASE == "postgresql" and not POSTGRES_URL:
        raise pytest.UsageError("CITYSTAT_TEST_DATABASE=postgresql needs CITYSTAT_TEST_POSTGRES_URL")
    if DATABASE not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"unknown CITYSTAT_TEST_DATABASE {DATABASE!r}")
    return [f"database: {DATABASE}", f"seed: {SEED}"]


@pytest.fixture(autouse=True)
def _seeded_random() -> None:
    random.seed(SEED)


def _postgres_admin() -> psycopg.Connection:
    return psycopg.connect(
        make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False), autocommit=True
    )


class DatabaseSet:
    """One database per service, as in production: SQLite files or PostgreSQL databases."""

    def __init__(self, label: str, tmp: Path) -> None:
        self.label = label
        self.urls: dict[str, str] = {}
        self._created: list[str] = []
        for service in SERVICES:
            if DATABASE == "sqlite":
                self.urls[service] = f"sqlite:///{tmp / f'{label}-{service}.db'}"
            else:
                name = f"t{os.getpid()}_{label}_{service}_{uuid.uuid4().hex[:6]}"
                with _postgres_admin() as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
                self._created.append(name)
                self.urls[service] = make_url(POSTGRES_URL).set(database=name).render_as_string(False)
        for service, url in self.urls.items():
            upgrade(service, url)

    def settings(self, data_dir: Path, **overrides) -> Settings:
        values = {
            "data_dir": data_dir,
            "metrics_database_url": self.urls["metrics"],
            "ingest_database_url": self.urls["ingest"],
            "reporting_database_url": self.urls["reporting"],
            "internal_token": INTERNAL_TOKEN,
            "as_of": DEMO_AS_OF,
            "outbox_poll_seconds": 3600.0,
            # The memo scheduler would write into the databases tests truncate; its own tests turn it on.
            "report_poll_seconds": 0,
            # Likewise the reminder loop; the notification tests run their rounds themselves.
            "notify_poll_seconds": 0,
        }
        values.update(overrides)
        return Settings(**values)

    def truncate(self) -> None:
        for service, metadata in METADATA.items():
            tables = list(reversed(metadata.sorted_tables))
            if not tables:
                continue
            db = Database(self.urls[service])
            try:
                with db.session() as session:
                    # The audit tables refuse DELETE and TRUNCATE (append-only triggers, migrations 0005/0007):
                    # the wipe between tests lifts them for its own transaction only.
                    if db.is_sqlite:
                        driver = session.connection().exec_driver_sql
                        triggers = driver("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
                        for name, _ in triggers:
                            driver(f'DROP TRIGGER "{name}"')
                        for table in tables:
                            session.execute(table.delete())
                        for _, sql in triggers:
                            driver(sql)
                    else:
                        # Triggers do not fire for a replica applying changes; needs a superuser, as tests have.
                        session.execute(text("SET LOCAL session_replication_role = replica"))
                        names = ", ".join(f'"{t.name}"' for t in tables)
                        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            finally:
                db.dispose()

    def drop(self) -> None:
        if not self._created:
            return
        with _postgres_admin() as admin:
            for name in self._created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_set(tmp_path_factory) -> Iterator[DatabaseSet]:
    dbs = DatabaseSet("main", tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop()


@pytest.fixture(scope="session")
def settings(database_set, tmp_path_factory) -> Settings:
    return database_set.settings(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def _session_client(settings) -> Iterator[TestClient]:
    with TestClient(create_root_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def clean_db(database_set) -> DatabaseSet:
    database_set.truncate()
    return database_set


def reset_process_state(root_app) -> None:
    """What a service keeps in memory between requests, forgotten as if the process had restarted."""
    ingest = root_app.state.services["ingest"]
    settings = ingest.state.settings
    ingest.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    ingest.state.login_limiter = RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE, LOGIN_ATTEMPTS_PER_MINUTE)
    ingest.state.token_cache = TokenCache(settings.token_cache_seconds)
    for service, remembered in (("reporting", "open_dataset_memory"), ("reporting", "public_limiter"),
                                ("metrics", "public_limiter"), ("ingest", "auth_failures"),
                                ("metrics", "auth_failures"), ("reporting", "auth_failures")):  # fmt: skip
        state = root_app.state.services[service].state
        if hasattr(state, remembered):
            delattr(state, remembered)


@pytest.fixture
def client(_session_client, clean_db) -> TestClient:
    """The whole application in-process, on a clean database, signed out, with fresh limits."""
    _session_client.cookies.clear()
    reset_process_state(_session_client.app)
    return _session_client


@pytest.fixture
def metrics_db(clean_db) -> Iterator[Database]:
    db = Database(clean_db.urls["metrics"])
    yield db
    db.dispose()


@pytest.fixture
def ingest_db(clean_db) -> Iterator[Database]:
    db = Database(clean_db.urls["ingest"])
    yield db
    db.dispose()


@pytest.fixture
def reporting_db(clean_db) -> Iterator[Database]:
    db = Database(clean_db.urls["reporting"])
    yield db
    db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy: {last}")


@pytest.fixture(scope="session")
def demo_database_set(tmp_path_factory) -> Iterator[DatabaseSet]:
    """A second set of databases holding the demo city, for read-only tests of the whole app."""
    dbs = DatabaseSet("demo", tmp_path_factory.mktemp("demo"))
    load_demo(dbs)
    yield dbs
    dbs.drop()


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The whole application served by uvicorn in a thread on a loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_root_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{base}/api/metrics/health")
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# The demo's raw service requests at one per request of its series (about 125,000): the computed on-time rates
# are the same as at full size, for a fraction of the load time.
DEMO_RECORDS_MULTIPLIER = 1


def load_demo(dbs: DatabaseSet) -> None:
    from services.metrics.demo.load import load_demo as load_demo_city

    db = Database(dbs.urls["metrics"])
    try:
        load_demo_city(db, settings=Settings(as_of=DEMO_AS_OF), multiplier=DEMO_RECORDS_MULTIPLIER)
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def live_server(demo_database_set, tmp_path_factory) -> Iterator[str]:
    """The whole application over real HTTP with the demo city loaded (read-only tests)."""
    with serving(demo_database_set.settings(tmp_path_factory.mktemp("live"))) as base:
        yield base
