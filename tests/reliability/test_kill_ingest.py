"""kill -9 of the ingest process: what it accepted is in its database, and a new process delivers all of it,
once, whether the old one died with a full outbox or in the middle of draining it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from sqlmodel import func, select

from services.common.db import Database
from services.metrics.observations.models import ObservationDelivery
from tests.conftest import DatabaseSet
from tests.reliability.checks import Figures, answer_problems, compare, expected_from, stored_state
from tests.reliability.figures import report
from tests.reliability.harness import (
    Client,
    LoadRun,
    Mix,
    Sent,
    ServiceProcesses,
    build_city,
    run_load,
    running_services,
)

SYSTEMS = 8
# New values only: the order of corrections behind an outage is test_metrics_outage's business.
NEW_ONLY = Mix(retries=0.0, corrections=0.0, csv=0.2)


@pytest.fixture
def dbs(tmp_path):
    databases = DatabaseSet("kill", tmp_path)
    yield databases
    databases.drop()


def _queue(services: ServiceProcesses, clients, per_system: int) -> LoadRun:
    """Submissions sent while metrics is stopped: every one must be stored and answered 202 queued."""
    run = run_load(clients, services.url("ingest"), 120, mix=replace(NEW_ONLY, requests=per_system))
    problems = answer_problems(run, allowed=(202,))
    assert not problems, "\n\n".join(problems)
    assert {s.answer["status"] for s in run.sent} == {"queued"}
    assert services.health()["details"]["outbox_pending"] == len(run.sent)
    return run


def _deliveries(dbs: DatabaseSet) -> int:
    metrics_db = Database(dbs.urls["metrics"])
    try:
        with metrics_db.session(write=False) as session:
            return session.exec(select(func.count()).select_from(ObservationDelivery)).one()
    finally:
        metrics_db.dispose()


def _check_after_restart(services: ServiceProcesses, clients, sent: list[Sent], dbs: DatabaseSet) -> Figures:
    """Each submission delivered, its replay still the first answer, and the stores exactly what was sent."""
    tokens = {c.department: c.token for c in clients}

    def check(s: Sent) -> str | None:
        auth = {"Authorization": f"Bearer {tokens[s.department]}"}
        with httpx.Client(base_url=services.url("ingest"), headers=auth, timeout=30) as http:
            state = http.get(f"/submissions/{s.answer['id']}").json()
            if state.get("delivery_status") != "delivered" or state["summary"]["accepted"] != len(s.rows):
                return f"not delivered as sent: {s.describe()}\nnow: {state}"
            again = http.post(
                s.path, content=s.body, headers={"Content-Type": s.content_type, "Idempotency-Key": s.key}
            )
            if (again.status_code, again.json()) != (s.status, s.answer):
                return f"replay differs: {s.describe()}\nreplay: {again.status_code} {again.text[:600]}"
        return None

    with ThreadPoolExecutor(8) as pool:
        failures = [f for f in pool.map(check, sent) if f is not None]
    assert not failures, f"{len(failures)} submission(s) not as they should be:\n" + "\n".join(failures[:3])
    problems, figures = compare(expected_from(sent), stored_state(dbs))
    assert not problems, "\n".join(problems)
    deliveries = _deliveries(dbs)
    assert deliveries == len(sent), f"metrics applied {deliveries} deliveries for {len(sent)} submissions"
    return figures


def test_kill_9_of_ingest_loses_and_doubles_nothing(dbs, tmp_path):
    clients = build_city(dbs, departments=2, monthly=2, weekly=1, systems=SYSTEMS)
    # Each phase writes its own metric+period pairs, so that what each must leave behind is plain.
    first, second = ([Client(c.department, c.token, c.pairs[half::2]) for c in clients] for half in (0, 1))
    with running_services(dbs, tmp_path) as services:
        # 1. Killed with a full outbox, metrics away: the new process finds it all in the database.
        services.stop("metrics")
        full = _queue(services, first, per_system=8).sent
        services.kill("ingest")
        services.start("metrics", "ingest")
        full_drained_in = services.wait_for_empty_outbox(timeout=120)
        full_figures = _check_after_restart(services, clients, full, dbs)

        # 2. Killed while draining: some deliveries are cut off after metrics applied them but before ingest
        # wrote that down. The new process delivers them again; metrics, which remembers each delivery id,
        # must not apply them twice.
        services.stop("metrics")
        draining = _queue(services, second, per_system=30).sent
        services.start("metrics")
        deadline = time.monotonic() + 120
        while (pending := services.health()["details"]["outbox_pending"]) == len(draining):
            assert time.monotonic() < deadline, "the outbox never started draining"
            time.sleep(0.05)
        services.kill("ingest")
        unapplied_at_kill = len(full) + len(draining) - _deliveries(dbs)
        assert pending > 0, "the outbox was drained before the kill landed; nothing was cut off"
        services.start("ingest")
        drained_in = services.wait_for_empty_outbox(timeout=120)
        figures = _check_after_restart(services, clients, full + draining, dbs)
        tracebacks = services.tracebacks()
    print(
        f"\nkill -9 with a full outbox: {len(full)} queued, delivered by the new process in {full_drained_in:.1f} s; "
        f"{full_figures}\nkill -9 while draining: {len(draining)} queued, killed with {pending} pending by "
        f"ingest's count and {unapplied_at_kill} not yet applied by metrics; the new process finished in "
        f"{drained_in:.1f} s; all together: {figures}"
    )
    report(
        "kill-ingest-outbox",
        not tracebacks,
        queued_full=len(full),
        queued_draining=len(draining),
        pending_at_kill=pending,
        **figures.counts,
    )
    assert not tracebacks, "\n\n".join(tracebacks[:3])
