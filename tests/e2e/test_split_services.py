"""The three services as separate uvicorn processes behind nginx, talking over HTTP: the topology of
docker-compose.yml and `make run-services`, started by the same code (infra/dev/run_services.py) on this pass's
databases (SQLite files in the SQLite pass, PostgreSQL databases in the PostgreSQL pass)."""

from __future__ import annotations

import time
from contextlib import ExitStack

import httpx
import pytest

from infra.dev.run_services import SERVICES, Nginx, Services, load_secrets
from services.common.db import Database
from services.common.frontend_headers import CONTENT_SECURITY_POLICY
from tests.conftest import DEMO_AS_OF, DatabaseSet, free_port
from tests.factories import make_department, make_metric, make_observation, make_target, make_token


class Cluster:
    def __init__(self, services: Services, nginx: Nginx) -> None:
        self.services = services
        self.nginx = nginx
        self.url = services.url
        self.start = services.start
        self.stop = services.stop

    def front(self, service: str) -> str:
        """The service's base URL through nginx, as clients reach it."""
        return self.nginx.url(f"/api/{service}")


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
        nginx_port = free_port()
        services = Services(
            dbs.urls,
            {name: free_port() for name in SERVICES},
            tmp_path / "data",
            tmp_path / "logs",
            load_secrets(tmp_path / "secrets.env"),
            app_url=f"http://127.0.0.1:{nginx_port}",
            extra_env={
                "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
                "CITYSTAT_OUTBOX_POLL_SECONDS": "0.5",
                "CITYSTAT_HTTP_TIMEOUT_SECONDS": "3",
            },
        )
        stack.callback(services.stop_all)
        nginx = Nginx(tmp_path / "nginx", nginx_port, services.ports)
        stack.callback(nginx.stop)
        services.start(*SERVICES)
        nginx.start()
        yield Cluster(services, nginx), token


def _submit(cluster: Cluster, token: str, key: str, period: str, value: float) -> httpx.Response:
    return httpx.post(
        f"{cluster.front('ingest')}/submissions",
        json={"observations": [{"metric": "dpw.on_time", "period": period, "value": value}]},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        timeout=15,
    )


def _scorecard(cluster: Cluster, period: str) -> tuple[float | None, str]:
    card = httpx.get(f"{cluster.front('reporting')}/departments/DPW/scorecard", params={"period": period}).json()
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
    # Submission (ingest) and scorecard (reporting) went through nginx above; metrics and the frontend too.
    observations = httpx.get(f"{running.front('metrics')}/metrics/dpw.on_time/observations").json()
    assert sorted(o["period"] for o in observations["items"]) == ["2017-05", "2017-06"]
    page = httpx.get(running.nginx.url("/departments/DPW"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<html" in page.text.lower()


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
