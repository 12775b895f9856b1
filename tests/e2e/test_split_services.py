"""The three services as separate uvicorn processes, talking over HTTP, as docker-compose runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack

import httpx
import pytest

from services.common.db import Database
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN, DatabaseSet, free_port, wait_until_healthy
from tests.factories import make_department, make_metric, make_observation, make_target, make_token

SERVICES = ("metrics", "ingest", "reporting")


class Cluster:
    def __init__(self, dbs: DatabaseSet, data_dir) -> None:
        self.ports = {name: free_port() for name in SERVICES}
        self.env = {
            **os.environ,
            "CITYSTAT_DATA_DIR": str(data_dir),
            "CITYSTAT_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
            "CITYSTAT_OUTBOX_POLL_SECONDS": "0.5",
            "CITYSTAT_HTTP_TIMEOUT_SECONDS": "3",
        }
        for name in SERVICES:
            self.env[f"CITYSTAT_{name.upper()}_DATABASE_URL"] = dbs.urls[name]
            self.env[f"CITYSTAT_{name.upper()}_URL"] = self.url(name)
        self.processes: dict[str, subprocess.Popen] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/api/{name}"

    def start(self, *names: str) -> None:
        # Started together, then awaited: each spends most of its start-up importing.
        for name in names:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "serve", "--service", name, "--port", str(self.ports[name])],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for name in names:
            wait_until_healthy(f"{self.url(name)}/health")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        process.wait(timeout=15)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


@pytest.fixture
def cluster(tmp_path):
    dbs = DatabaseSet("split", tmp_path)
    with ExitStack() as stack:
        stack.callback(dbs.drop)
        metrics_db = Database(dbs.urls["metrics"])
        stack.callback(metrics_db.dispose)
        with metrics_db.session() as s:
            dpw = make_department(s, "DPW", "Public Works")
            metric = make_metric(s, dpw, key="dpw.on_time")
            make_target(s, metric, 0.9, 0.05)
            make_observation(s, metric, "2017-05", 0.82)
        ingest_db = Database(dbs.urls["ingest"])
        stack.callback(ingest_db.dispose)
        token = make_token(ingest_db, "DPW")
        running = Cluster(dbs, tmp_path)
        stack.callback(running.stop_all)
        running.start(*SERVICES)
        yield running, token


def _submit(cluster: Cluster, token: str, key: str, period: str, value: float) -> httpx.Response:
    return httpx.post(
        f"{cluster.url('ingest')}/submissions",
        json={"observations": [{"metric": "dpw.on_time", "period": period, "value": value}]},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        timeout=15,
    )


def _scorecard(cluster: Cluster, period: str) -> tuple[float | None, str]:
    card = httpx.get(f"{cluster.url('reporting')}/departments/DPW/scorecard", params={"period": period}).json()
    row = card["metrics"][0]
    return row["value"], row["status"]


def test_submission_travels_through_separate_processes(cluster):
    running, token = cluster
    assert _scorecard(running, "2017-06") == (None, "missing")
    response = _submit(running, token, "june", "2017-06", 0.93)
    assert response.status_code == 201, response.text
    assert response.json()["summary"]["accepted"] == 1
    assert _scorecard(running, "2017-06") == (0.93, "on_target")
    # The write path between services is closed to anyone without the internal token.
    refused = httpx.post(f"{running.url('metrics')}/observations/batch", json={"department": "DPW", "rows": []})
    assert refused.status_code == 401


def test_a_metrics_outage_delays_data_but_loses_none(cluster):
    running, token = cluster
    running.stop("metrics")
    response = _submit(running, token, "during-outage", "2017-06", 0.91)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert httpx.get(f"{running.url('ingest')}/health").json()["details"]["outbox_pending"] == 1

    running.start("metrics")

    def pending() -> int:
        return httpx.get(f"{running.url('ingest')}/health").json()["details"]["outbox_pending"]

    deadline = time.monotonic() + 20
    while pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pending() == 0
    assert _scorecard(running, "2017-06") == (0.91, "on_target")
    # A replay answers what was said at the time and does not deliver twice.
    again = _submit(running, token, "during-outage", "2017-06", 0.91)
    assert (again.status_code, again.json()) == (202, response.json())
    observations = httpx.get(f"{running.url('metrics')}/metrics/dpw.on_time/observations").json()
    assert observations["total"] == 2
