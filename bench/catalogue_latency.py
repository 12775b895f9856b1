"""Latency of the catalogue's two busiest reads on a large city: one metric's series, and a department
dashboard of 20 metrics with their performance (status, changes, trend, XmR limits and signals, streaks).

Builds 2,000 metrics x 120 months (100 departments of 20 metrics, July 2007 to June 2017) in SQLite (with --engine
postgresql, a throwaway PostgreSQL), serves it with `citystat serve` (one process, one worker) and times sequential
requests over one keep-alive connection, next to a bare FastAPI hello world timed the same way in the same run.
Prints figures only (bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import ENGINES, record, sqlite_urls, throwaway_postgres  # noqa: E402
from ingest_throughput import Servers, free_port  # noqa: E402

from services.common.db import Database  # noqa: E402
from services.common.migrations import upgrade  # noqa: E402
from services.common.periods import Period  # noqa: E402
from services.metrics.definitions.models import Metric, MetricRevision, Target  # noqa: E402
from services.metrics.departments.models import Department  # noqa: E402
from services.metrics.observations.models import Observation  # noqa: E402

DEPARTMENTS, PER_DEPARTMENT, MONTHS = 100, 20, 120
FIRST = Period.parse("2007-07")
LAST = FIRST.shift(MONTHS - 1)
UNITS = [
    ("percent", "ratio", "higher_is_better"),
    ("count", "sum", "higher_is_better"),
    ("days", "mean", "lower_is_better"),
    ("dollars", "sum", "closer_is_better"),
]


def build(url: str, seed: int, departments: int = DEPARTMENTS) -> tuple[int, int]:
    """The city, with Core inserts: 100 departments, 2,000 metrics with targets, 240,000 observations (at the
    issue's size; `departments` of 20 metrics each)."""
    rng = random.Random(seed)
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    periods = [FIRST.shift(i) for i in range(MONTHS)]
    observations = 0
    try:
        with db.session() as session:
            session.execute(
                insert(Department),
                [{"code": f"D{d:03d}", "name": f"Department {d}", "created_at": now} for d in range(departments)],
            )
            ids = dict(
                session.execute(
                    Department.__table__.select().with_only_columns(
                        Department.__table__.c.code, Department.__table__.c.id
                    )
                ).all()
            )
            metric_rows = []
            for d in range(departments):
                for m in range(PER_DEPARTMENT):
                    unit, rollup, direction = UNITS[m % len(UNITS)]
                    metric_rows.append(
                        {
                            "key": f"d{d:03d}.metric_{m:02d}",
                            "name": f"Metric {m} of department {d}",
                            "unit": unit,
                            "kind": "output" if m % 3 else "outcome",
                            "direction": direction,
                            "frequency": "month",
                            "methodology": "Generated for the benchmark.",
                            "is_published": True,
                            "is_computed": False,
                            "rollup": rollup,
                            "data_source": "",
                            "owner": "",
                            "due_days": 10,
                            "first_period": str(FIRST),
                            "state": "active",
                            "version": 1,
                            "signed_off_on_behalf": False,
                            "created_by": "operator",
                            "department_id": ids[f"D{d:03d}"],
                            "created_at": now,
                            "updated_at": now,
                            "min_value": None,
                            "max_value": None,
                        }
                    )
            session.execute(insert(Metric), metric_rows)
            metrics = session.execute(
                Metric.__table__.select().with_only_columns(Metric.__table__.c.id, Metric.__table__.c.unit)
            ).all()
            session.execute(
                insert(MetricRevision),
                [
                    {
                        "metric_id": mid,
                        "version": 1,
                        "action": "created",
                        "changes": {},
                        "reason": "",
                        "series_break": False,
                        "actor": "operator",
                        "actor_name": "bench",
                        "at": now,
                    }
                    for mid, _ in metrics
                ],
            )
            session.execute(
                insert(Target),
                [
                    {
                        "metric_id": mid,
                        "value": 0.9 if unit == "percent" else 100.0,
                        "tolerance": 0.05 if unit == "percent" else 10.0,
                        "tolerance_kind": "absolute",
                        "effective_from": dt.date(2007, 1, 1),
                        "set_by": "bench",
                        "reason": "bench",
                        "created_by": "operator",
                        "created_at": now,
                    }
                    for mid, unit in metrics
                ],
            )
            batch = []
            for mid, unit in metrics:
                level = 0.85 if unit == "percent" else 100.0
                noise = 0.02 if unit == "percent" else 8.0
                for period in periods:
                    value = level + rng.gauss(0, noise)
                    row = {
                        "metric_id": mid,
                        "period": str(period),
                        "period_start": period.start,
                        "org_unit": "",
                        "value": value,
                        "numerator": None,
                        "denominator": None,
                        "comment": None,
                        "submission_id": "bench",
                        "sent_at": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    if unit == "percent":
                        row["denominator"] = 1000.0
                        row["numerator"] = value * 1000.0
                    batch.append(row)
                if len(batch) >= 20_000:
                    session.execute(insert(Observation), batch)
                    observations += len(batch)
                    batch = []
            if batch:
                session.execute(insert(Observation), batch)
                observations += len(batch)
        return len(metrics), observations
    finally:
        db.dispose()


def timed(client: httpx.Client, urls: list[str]) -> list[float]:
    out = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return out


def summary(ms: list[float]) -> tuple[float, float, float]:
    ordered = sorted(ms)
    return (
        statistics.median(ordered),
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        statistics.mean(ordered),
    )


def measure(metrics_url: str, tmp: Path, requests: int, seed: int, departments: int = DEPARTMENTS) -> dict:
    """The catalogue built into the fresh metrics database `metrics_url`, served, and timed next to hello world."""
    rng = random.Random(seed)
    warmup = min(50, requests)  # unmeasured requests first (fewer only in the runner's smallest test)
    env = {**os.environ, "CITYSTAT_DATA_DIR": str(tmp / "var"), "CITYSTAT_AS_OF": "2017-07-10",
           "CITYSTAT_METRICS_DATABASE_URL": metrics_url}  # fmt: skip
    servers = Servers(tmp, env)
    results: dict[str, tuple[float, float, float]] = {}
    try:
        upgrade("metrics", metrics_url)
        started = time.perf_counter()
        metric_count, observation_count = build(metrics_url, seed, departments)
        build_seconds = time.perf_counter() - started

        port = free_port()
        hello = servers.start(
            "hello", [sys.executable, str(ROOT / "bench" / "hello_app.py"), str(port)], f"http://127.0.0.1:{port}/hello"
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            timed(client, ["/hello"] * warmup)
            results["hello world GET"] = summary(timed(client, ["/hello"] * requests))
        servers.stop(hello)

        port = free_port()
        app = servers.start(
            "app",
            [
                str(ROOT / ".venv" / "bin" / "citystat"),
                "serve",
                "--service",
                "metrics",
                "--no-access-log",
                "--port",
                str(port),
            ],
            f"http://127.0.0.1:{port}/api/metrics/health",
        )
        series = [
            f"/api/metrics/metrics/d{rng.randrange(departments):03d}.metric_{rng.randrange(PER_DEPARTMENT):02d}"
            f"/observations?limit=500"
            for _ in range(requests)
        ]
        dashboards = [
            f"/api/metrics/performance?department=D{rng.randrange(departments):03d}&period=2017-06"
            for _ in range(requests)
        ]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            first = client.get(series[0]).json()
            if first["total"] != MONTHS:
                sys.exit(f"a series has {first['total']} values, expected {MONTHS}")
            board = client.get(dashboards[0]).json()
            if board["total"] != PER_DEPARTMENT or board["items"][0]["limits"]["centre"] is None:
                sys.exit(f"a dashboard is not what was built: {str(board)[:300]}")
            timed(client, series[:warmup] + dashboards[:warmup])
            results["one metric's series"] = summary(timed(client, series))
            results["dashboard of 20"] = summary(timed(client, dashboards))
        servers.stop(app)
    finally:
        servers.stop_all()
    return {"results": results, "metrics": metric_count, "observations": observation_count,
            "build_seconds": build_seconds, "requests": requests}  # fmt: skip


GOALS = {"one metric's series": ("P4 series p99", 20.0), "dashboard of 20": ("P4 dashboard p99", 50.0)}


def figures(result: dict, engine: str) -> list[dict]:
    results = result["results"]
    hello_p99 = results["hello world GET"][1]
    return [
        record(figure, engine, results[name][1], "ms", baseline=hello_p99,
               what=f"{name}, p99 of {result['requests']} sequential requests",
               baseline_what="hello world GET p99, same client", goal={"max": goal, "unit": "ms"},
               note=f"p50 {results[name][0]:.1f} ms; {result['metrics']:,} metrics x {MONTHS} months")
        for name, (figure, goal) in GOALS.items()
    ]  # fmt: skip


def report(result: dict, engine: str) -> None:
    results = result["results"]
    print(f"CityStat catalogue latency, {dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(
        f"catalogue: {result['metrics']:,} metrics x {MONTHS} months = {result['observations']:,} observations in "
        f"{'SQLite' if engine == 'sqlite' else 'PostgreSQL'}, built in {result['build_seconds']:.1f} s"
    )
    print(f"load: {result['requests']} sequential requests per scenario over one keep-alive connection, 1 worker\n")
    print(f"{'scenario':<22} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'p99 x hello':>12}")
    hello_p99 = results["hello world GET"][1]
    for name, (p50, p99, mean) in results.items():
        print(f"{name:<22} {p50:>8.2f} {p99:>8.2f} {mean:>8.2f} {p99 / hello_p99:>12.1f}")
    print()
    for name, (_figure, goal) in GOALS.items():
        verdict = "met" if results[name][1] < goal else "NOT met"
        print(f"goal {name}: p99 < {goal:.0f} ms: {verdict} ({results[name][1]:.1f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per scenario (default 400)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--departments", type=int, default=DEPARTMENTS, help="of 20 metrics each (default 100)")
    parser.add_argument("--engine", choices=ENGINES, default="sqlite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="citystat-catalogue-"))
    try:
        with contextlib.ExitStack() as stack:
            if args.engine == "sqlite":
                url = sqlite_urls(tmp / "var", ("metrics",))["metrics"]
            else:
                url = stack.enter_context(throwaway_postgres()).database("bench_metrics")
            result = measure(url, tmp, args.requests, args.seed, args.departments)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(result, args.engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
