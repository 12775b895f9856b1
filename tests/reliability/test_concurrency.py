"""Fifty department systems submitting at once to ingest and metrics as separate processes: every answer a
2xx, every retry the first answer, and afterwards nothing lost, nothing doubled, the last value sent in place."""

from __future__ import annotations

import os

import pytest

from tests.conftest import DatabaseSet
from tests.reliability.checks import answer_problems, compare, expected_from, stored_state
from tests.reliability.figures import report
from tests.reliability.harness import build_city, run_load, running_services

SUBMITTERS = 50
# make test runs the reduced battery (issue 9: "make test runs a reduced version of each test, so CI keeps them
# honest"); the full one sets CITYSTAT_LOAD_SECONDS=120.
LOAD_SECONDS = float(os.environ.get("CITYSTAT_LOAD_SECONDS", "12"))


@pytest.fixture
def dbs(tmp_path):
    databases = DatabaseSet("load", tmp_path)
    yield databases
    databases.drop()


def test_fifty_concurrent_submitters_lose_and_double_nothing(dbs, tmp_path):
    clients = build_city(dbs, departments=5, monthly=3, weekly=3, systems=SUBMITTERS)
    with running_services(dbs, tmp_path) as services:
        run = run_load(clients, services.url("ingest"), LOAD_SECONDS)
        run.save(tmp_path / "requests.jsonl")
        print("\n" + run.figures("concurrency"))
        drained_in = services.wait_for_empty_outbox(timeout=120)
        tracebacks = services.tracebacks()

    problems = answer_problems(run)
    expected = expected_from(run.sent)
    stored_problems, figures = compare(expected, stored_state(dbs))
    print(f"concurrency: outbox empty {drained_in:.1f} s after the load; {figures}")
    passed = not (problems or stored_problems or tracebacks)
    report("concurrency", passed, **run.counts(), **figures.counts, drained_seconds=round(drained_in, 1))
    assert not problems, "\n\n".join(problems)
    assert not stored_problems, "\n".join(stored_problems)
    assert not tracebacks, "\n\n".join(tracebacks[:3])
    # The load did what it says: corrections and retries were really among the requests.
    kinds = {s.kind for s in run.sent}
    assert kinds == {"new", "correction", "retry"}, kinds
