"""Issue 9's load check: locust, as its own process, with 200 users on the public and reporting routes of the demo
city for 2 minutes. Pass: under 1% of requests failed (an error status, a refused connection or no answer in 30 s),
every route class was exercised, and the server logged no error. The p95 is reported, overall and per route class.

The city is the session's demo city served over HTTP (`live_server` in tests/conftest.py: 125,000 service requests,
uvicorn on a loopback port, on the pass's engine), with what `citystat demo` adds beyond metrics: the demo's staff
accounts and meeting calendar. What the users do is tests/reliability/locustfile.py.

The public routes are rate limited per client address and 200 local users all come from 127.0.0.1: each simulated
user sends its own X-Forwarded-For address, as the reverse proxy of a deployment passes each client's address, and
uvicorn trusts that header from loopback (its default, FORWARDED_ALLOW_IPS=127.0.0.1). The limits themselves stay at
their defaults: a resident browsing at a human pace must never meet them.

Sizes: CITYSTAT_LOCUST_USERS (full: 200) and CITYSTAT_LOCUST_SECONDS (full: 120); make test runs 20 users for 10 s.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import select

from services.common.db import Database
from services.ingest.accounts.demo import ensure_demo_staff
from services.metrics.departments.models import Department
from services.reporting.meetings.demo import load_demo_meetings
from tests.reliability.figures import report

USERS = int(os.environ.get("CITYSTAT_LOCUST_USERS", "20"))
SECONDS = int(os.environ.get("CITYSTAT_LOCUST_SECONDS", "10"))
# Every user is in within the first tenth of the run (10 s of the full 2 minutes; 1 s of make test's 10 s).
SPAWN_RATE = max(1.0, USERS / max(1.0, SECONDS / 10))
MAX_FAILURE_RATIO = 0.01
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
ROUTE_CLASSES = ("open-data", "public-api", "static", "sign-in", "reporting", "series")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_city(demo_database_set):
    """The session's demo city with what `citystat demo` adds beyond metrics: staff accounts and the calendar
    (both idempotent, and no other test's account shares their names)."""
    metrics, ingest, reporting = (Database(demo_database_set.urls[s]) for s in ("metrics", "ingest", "reporting"))
    try:
        with metrics.session(write=False) as session:
            codes = list(session.exec(select(Department.code)))
        with ingest.session() as session:
            ensure_demo_staff(session, codes)
        with reporting.session() as session:
            load_demo_meetings(session)
    finally:
        for db in (metrics, ingest, reporting):
            db.dispose()
    return demo_database_set


def _run_locust(base: str, workdir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CITYSTAT_LOCUST_SUMMARY": str(workdir / "classes.json")}
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
        "-u", str(USERS), "-r", f"{SPAWN_RATE:g}", "-t", f"{SECONDS}s",
        "--csv", str(workdir / "load"), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    # locust exits 1 when any request failed; whether that many is too many is this test's to say.
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 180)


class _Errors(logging.Handler):
    """Every error the server logs while the load runs (a traceback, an exception in the ASGI app)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.found.append(self.format(record))


@contextmanager
def _server_errors() -> Iterator[list[str]]:
    # uvicorn's loggers do not propagate to the root: listen on both.
    errors, loggers = _Errors(), [logging.getLogger(), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(errors)
    try:
        yield errors.found
    finally:
        for logger in loggers:
            logger.removeHandler(errors)


def test_two_hundred_users_on_the_public_and_reporting_routes_fail_under_one_percent(demo_city, live_server, tmp_path):
    with _server_errors() as tracebacks:
        run = _run_locust(live_server, tmp_path)
    assert run.returncode in (0, 1) and (tmp_path / "classes.json").exists(), (
        f"locust exited with {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    )
    with (tmp_path / "load_failures.csv").open(newline="") as failures_csv:
        failure_kinds = [f"{row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}" for row in
                         csv.DictReader(failures_csv)]  # fmt: skip
    # The locustfile's own count of every request, by route class and in all: exact percentiles, where locust's CSV
    # rounds them, and taken when the run stops, where the CSV may have been written before the last answers.
    classes = json.loads((tmp_path / "classes.json").read_text())
    total = classes["all"]
    requests, failures = total["requests"], total["failures"]
    ratio = failures / requests if requests else 1.0
    idle = [name for name in ROUTE_CLASSES if not classes.get(name, {}).get("requests")]

    for name in ROUTE_CLASSES:
        got = classes.get(name, {})
        print(
            f"load {name:>10}: {got.get('requests', 0):6} requests, {got.get('failures', 0):4} failed, "
            f"p50 {got.get('p50_ms')} ms, p95 {got.get('p95_ms')} ms, statuses {got.get('statuses')}"
        )
    passed = ratio < MAX_FAILURE_RATIO and not idle and not tracebacks
    report(
        "load", passed=passed, users=USERS, seconds=SECONDS, requests=requests, failures=failures,
        failure_ratio=round(ratio, 5), p95_ms=total["p95_ms"], rps=round(requests / total["seconds"], 1),
        p95_ms_by_class={name: classes.get(name, {}).get("p95_ms") for name in ROUTE_CLASSES},
        failures_by_class={name: classes.get(name, {}).get("failures", 0) for name in ROUTE_CLASSES},
    )  # fmt: skip
    assert ratio < MAX_FAILURE_RATIO, f"{failures} of {requests} requests failed:\n" + "\n".join(failure_kinds[:20])
    assert not idle, f"no requests for {idle}: {classes}"
    assert not tracebacks, "the server logged errors:\n\n" + "\n\n".join(tracebacks[:3])
