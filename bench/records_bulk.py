"""P1 and P3 of the raw-records issue, on SQLite and on PostgreSQL.

P1: a CSV of N service requests (default 1,000,000, the demo city's generator in CityStat's own layout) is
uploaded through the ingest API of a running `citystat serve`, and timed until its job is done, that is until the
computed metrics built on the records are queryable. Its rows/s are set against the bare bulk-load rate of the same
file on the same engine in the same run: csv.reader + executemany in one transaction on SQLite, COPY ... FROM STDIN
on PostgreSQL, into a table of the file's columns with its primary key.

P3: a full recompute of every computed metric (POST /datasets/service_requests/recompute?force=true) against the
bare SQL aggregates that give the same numbers on the same engine, and an incremental load of 1,000 new records
(upload to job done, recompute of the touched periods included).

Prints figures only (see bench/README.md). Usage: .venv/bin/python bench/records_bulk.py [--rows N] [--engines ...]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import itertools
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import PostgresServer, record, sqlite_urls, throwaway_postgres  # noqa: E402
from ingest_throughput import Servers, free_port  # noqa: E402

from services.common.db import Database  # noqa: E402
from services.common.migrations import upgrade  # noqa: E402
from services.metrics.demo.city import build_demo_city  # noqa: E402
from services.metrics.demo.records import demo_service_requests  # noqa: E402
from services.metrics.departments.service import create_department  # noqa: E402

COLUMNS = ("id", "department", "category", "status", "opened_at", "closed_at", "due_at", "org_unit", "district",
           "latitude", "longitude", "source")  # fmt: skip
MEASURES = ("on_time_rate", "opened", "closed", "backlog", "median_days_to_close", "p90_days_to_close")
UNITS = {"on_time_rate": "percent", "median_days_to_close": "days", "p90_days_to_close": "days"}
PASSWORD = "bench password 2017"


def write_csv(path: Path, rows: int, *, start: int = 0, multiplier: int = 9) -> None:
    city = build_demo_city(2017)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        generated = demo_service_requests(city, multiplier)
        for number, row in enumerate(itertools.islice(generated, start, start + rows), start=start):
            out.writerow((
                f"B{number:08d}", row.agency, row.category, row.status, row.opened_at.isoformat(),
                row.closed_at.isoformat() if row.closed_at else "", row.due_at.isoformat() if row.due_at else "",
                row.org_unit, row.district, row.latitude, row.longitude, row.source,
            ))  # fmt: skip


def bare_sqlite(path: Path, db_path: Path) -> float:
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"CREATE TABLE bare ({', '.join(COLUMNS)}, PRIMARY KEY (id))")
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        connection.execute("BEGIN")
        connection.executemany(f"INSERT INTO bare VALUES ({', '.join('?' * len(COLUMNS))})", reader)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def bare_postgres(path: Path, url: str) -> float:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bare")
        connection.execute(f"CREATE TABLE bare ({', '.join(c + ' text' for c in COLUMNS)}, PRIMARY KEY (id))")
        started = time.perf_counter()
        with connection.transaction(), connection.cursor().copy("COPY bare FROM STDIN (FORMAT csv, HEADER)") as copy:
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    copy.write(block)
        return time.perf_counter() - started


def bare_aggregates(engine: str, url: str) -> float:
    """The SQL that gives the computed metrics' numbers, run bare: per department and month, opened, closed, on
    time, due-known, and the ranked days to close the percentiles read."""
    queries = [
        "SELECT department, opened_month, count(*) FROM raw_record GROUP BY department, opened_month",
        "SELECT department, closed_month, count(*), sum(on_time), count(on_time) FROM raw_record "
        "WHERE closed_month IS NOT NULL GROUP BY department, closed_month",
        "SELECT department, closed_month, days_to_close FROM (SELECT department, closed_month, days_to_close, "
        "row_number() OVER (PARTITION BY department, closed_month ORDER BY days_to_close) AS r, "
        "count(*) OVER (PARTITION BY department, closed_month) AS n FROM raw_record WHERE closed_month IS NOT NULL) "
        "ranked WHERE r IN (CAST((n + 1) / 2 AS INTEGER), CAST((n + 2) / 2 AS INTEGER), "
        "CAST(0.9 * (n - 1) AS INTEGER) + 1, CAST(0.9 * (n - 1) AS INTEGER) + 2)",
    ]
    # Six measures per department: the percentile query runs twice (median, p90), the counts once each.
    plan = [queries[0], queries[1], queries[1], queries[1], queries[2], queries[2]]
    if engine == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        started = time.perf_counter()
        for query in plan:
            connection.execute(query).fetchall()
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        started = time.perf_counter()
        for query in plan:
            connection.execute(query).fetchall()
        return time.perf_counter() - started


def floor_write(engine: str, source_url: str, tmp: Path, admin_url: str | None, name: str = "bench_floor") -> float:
    """The least any pipeline that stores what this one stores could spend writing it: the rows the pipeline left in
    raw_record (derived columns included), read out beforehand, written bare into an empty raw_record of the same
    schema and indexes (a fresh migration) in one transaction: executemany on SQLite, COPY on PostgreSQL."""
    if engine == "sqlite":
        source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
        rows = source.execute("SELECT * FROM raw_record").fetchall()
        width = len(rows[0])
        source.close()
        target_url = f"sqlite:///{tmp / 'floor.db'}"
        upgrade("metrics", target_url)
        target = sqlite3.connect(tmp / "floor.db", isolation_level=None)
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
        target.execute("PRAGMA foreign_keys=OFF")
        started = time.perf_counter()
        target.execute("BEGIN")
        target.executemany(f"INSERT INTO raw_record VALUES ({', '.join('?' * width)})", rows)
        target.execute("COMMIT")
        elapsed = time.perf_counter() - started
        target.close()
        return elapsed
    import psycopg

    def plain(url: str) -> str:
        return url.replace("postgresql+psycopg://", "postgresql://")

    with psycopg.connect(plain(source_url)) as source, source.cursor().copy("COPY raw_record TO STDOUT") as copy:
        blocks = [bytes(block) for block in copy]
    with psycopg.connect(plain(admin_url), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    target_url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    upgrade("metrics", target_url)
    with psycopg.connect(plain(target_url)) as target:
        # Nothing refers to the datasets and departments the rows name in this empty copy.
        target.execute("SET session_replication_role = replica")
        started = time.perf_counter()
        with target.cursor().copy("COPY raw_record FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)
        target.commit()
        return time.perf_counter() - started


def wait_for_job(client: httpx.Client, job_id: str) -> dict:
    while True:
        job = client.get(f"/api/ingest/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)


def upload(client: httpx.Client, path: Path, csrf: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    with path.open("rb") as handle:
        answer = client.post(
            "/api/ingest/records",
            params={"dataset": "service_requests", "mapping": "citystat"},
            content=handle,
            headers={**csrf, "Content-Type": "text/csv", "Content-Length": str(path.stat().st_size)},
        )
    if answer.status_code != 202:
        sys.exit(f"upload refused: {answer.status_code} {answer.text}")
    spooled = time.perf_counter() - started
    job = wait_for_job(client, answer.json()["id"])
    elapsed = time.perf_counter() - started
    if job["status"] != "done":
        sys.exit(f"job failed: {job}")
    loaded = client.get(f"/api/metrics/record-imports/{job['id']}").json()
    load = dt.datetime.fromisoformat(loaded["finished_at"]) - dt.datetime.fromisoformat(loaded["started_at"])
    job["phases"] = (
        f"spooled by ingest {spooled:.1f} s; metrics' job (receive, load, recompute) {load.total_seconds():.1f} s"
    )
    return elapsed, job


@contextlib.contextmanager
def served_city(
    engine: str, urls: dict[str, str], tmp: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[httpx.Client, dict[str, str], str]]:
    """Migrated databases with DPW and DWM, an admin, and `citystat serve` on a free port: yields a client signed
    in as that admin, its CSRF header and the base URL; stops the server after."""
    env = {
        **os.environ,
        "CITYSTAT_DATA_DIR": str(tmp / f"data-{engine}"),
        "CITYSTAT_AS_OF": "2017-07-10",
        # A fresh random token: services refuse published or placeholder secrets (services/common/secret_checks.py).
        "CITYSTAT_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        "CITYSTAT_RATE_LIMIT_PER_MINUTE": "1000000",
        "CITYSTAT_RATE_LIMIT_BURST": "100000",
        **(extra_env or {}),
        **{f"CITYSTAT_{service.upper()}_DATABASE_URL": url for service, url in urls.items()},
    }
    for service, url in urls.items():
        upgrade(service, url)
    db = Database(urls["metrics"])
    with db.session() as session:
        for code, name in (("DPW", "Public Works"), ("DWM", "Watershed Management")):
            create_department(session, code, name)
    db.dispose()
    citystat = str(ROOT / ".venv" / "bin" / "citystat")
    subprocess.run(
        [citystat, "user", "create", "--username", "bench", "--name", "Bench", "--role", "admin", "--password-stdin"],
        input=PASSWORD, text=True, env=env, check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    servers = Servers(tmp, env)
    base = f"http://127.0.0.1:{port}"
    servers.start(
        f"serve-{engine}", [citystat, "serve", "--port", str(port), "--no-access-log"], f"{base}/api/metrics/health"
    )
    try:
        with httpx.Client(base_url=base, timeout=None) as client:
            login = client.post("/api/ingest/auth/login", json={"username": "bench", "password": PASSWORD})
            yield client, {"X-CSRF-Token": login.json()["csrf_token"]}, base
    finally:
        servers.stop_all()


def pipeline(engine: str, urls: dict[str, str], tmp: Path, path: Path, extra: Path, rows: int) -> dict:
    with served_city(engine, urls, tmp) as (client, csrf, _base):
        for code in ("DPW", "DWM"):
            for measure in MEASURES:
                metric = {
                    "key": f"{code.lower()}.{measure}", "department": code, "name": measure,
                    "unit": UNITS.get(measure, "count"), "kind": "output", "direction": "higher_is_better",
                    "frequency": "month", "rule": {"measure": measure},
                }  # fmt: skip
                answer = client.post("/api/metrics/metrics", json=metric, headers=csrf)
                if answer.status_code != 201:
                    sys.exit(f"metric refused: {answer.text}")
        load_seconds, job = upload(client, path, csrf)
        started = time.perf_counter()
        answer = client.post("/api/metrics/datasets/service_requests/recompute", params={"force": "true"},
                             headers=csrf)  # fmt: skip
        full_seconds = time.perf_counter() - started
        if answer.status_code != 200:
            sys.exit(f"recompute refused: {answer.text}")
        incremental_seconds, incremental = upload(client, extra, csrf)
    return {"load": load_seconds, "job": job, "full": full_seconds, "incremental": incremental_seconds,
            "incremental_job": incremental}  # fmt: skip


def measure(engine: str, urls: dict[str, str], tmp: Path, path: Path, extra: Path, rows: int,
            server: PostgresServer | None = None, *, floor: bool = True, prefix: str = "bench") -> dict:
    """P1 and P3 on one engine, on fresh databases `urls` (and, on PostgreSQL, `server` for the bare and floor
    databases): the raw timings `report` prints and `figures` turns into records."""
    if engine == "sqlite":
        bare = bare_sqlite(path, tmp / f"bare-{engine}.db")
    else:
        bare = bare_postgres(path, server.database(f"{prefix}_bare"))
    result = pipeline(engine, urls, tmp, path, extra, rows)
    result["rows"], result["bare"] = rows, bare
    result["aggregates"] = bare_aggregates(engine, urls["metrics"])
    admin = server.url if server else None
    result["floor"] = floor_write(engine, urls["metrics"], tmp, admin, f"{prefix}_floor") if floor else None
    return result


def figures(result: dict, engine: str) -> list[dict]:
    rows, job = result["rows"], result["job"]
    note = f"{rows:,} rows; accepted {job['summary']['accepted']:,}, rejected {job['summary']['rejected']}"
    out = [
        record("P1", engine, rows / result["load"], "rows/s", baseline=rows / result["bare"],
               what="service requests through the ingest API until the computed metrics are queryable",
               baseline_what=f"bare bulk load ({'executemany' if engine == 'sqlite' else 'COPY'})",
               goal={"ratio_at_least": 0.5}, note=note),
        record("P3", engine, result["full"], "s", baseline=result["aggregates"],
               what="full recompute of every computed metric", baseline_what="bare SQL aggregates, same numbers",
               goal={"ratio_at_most": 2.0}, note=f"{rows:,} rows"),
        record("P3 incremental", engine, result["incremental"], "s",
               what="1,000 new records, upload to recomputed", note="no goal: reported, as issue 5 asks"),
    ]  # fmt: skip
    if result["floor"] is not None:
        least = result["floor"] + min(result["aggregates"], result["full"])
        out.insert(1, record(
            "P1 floor", engine, rows / least, "rows/s", baseline=rows / result["bare"],
            what="the best any pipeline storing these rows and computing the metrics could do",
            baseline_what="bare bulk load",
            note=f"stored rows written bare {result['floor']:.1f} s + metrics computed "
                 f"{min(result['aggregates'], result['full']):.1f} s",
        ))  # fmt: skip
    return out


def report(result: dict, engine: str) -> None:
    rows, job, bare = result["rows"], result["job"], result["bare"]
    aggregates = result["aggregates"]
    print(f"\n{engine}")
    print(f"  P1 bare bulk load:      {bare:7.1f} s  {rows / bare:9,.0f} rows/s")
    print(f"  P1 through ingest API:  {result['load']:7.1f} s  {rows / result['load']:9,.0f} rows/s "
          f"= {bare / result['load']:.2f} x bare (goal >= 0.50); accepted {job['summary']['accepted']:,}, rejected "
          f"{job['summary']['rejected']}")  # fmt: skip
    print(f"    ({job['phases']})")
    if result["floor"] is not None:
        # Writing the stored shape and computing the metrics exactly have to happen whatever reads and derives
        # the rows: their bare cost bounds what any implementation of this pipeline can reach.
        computed = min(aggregates, result["full"])
        least = result["floor"] + computed
        print(f"  P1 floor: stored rows written bare {result['floor']:.1f} s + metrics computed {computed:.1f} s "
              f"= {least:.1f} s, at best {bare / least:.2f} x bare")  # fmt: skip
    print(f"  P3 bare SQL aggregates: {aggregates:7.2f} s")
    print(
        f"  P3 full recompute:      {result['full']:7.2f} s = {result['full'] / aggregates:.2f} x bare (goal <= 2)"
    )
    print(f"  P3 1,000 new records, upload to recomputed: {result['incremental']:.2f} s "
          f"(accepted {result['incremental_job']['summary']['accepted']})")  # fmt: skip


def write_inputs(tmp: Path, rows: int) -> tuple[Path, Path]:
    """The N-row CSV and the 1,000 rows after it (the incremental load)."""
    path, extra = tmp / "requests.csv", tmp / "more.csv"
    started = time.perf_counter()
    write_csv(path, rows)
    write_csv(extra, 1_000, start=rows)
    print(f"{rows:,} rows, {path.stat().st_size / 1e6:.0f} MB CSV written in {time.perf_counter() - started:.1f} s")
    return path, extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="citystat-records-bench-"))
    path, extra = write_inputs(tmp, args.rows)
    for engine in args.engines.split(","):
        with contextlib.ExitStack() as stack:
            if engine == "sqlite":
                server, urls = None, sqlite_urls(tmp)
            else:
                server = stack.enter_context(throwaway_postgres())
                urls = server.databases("bench")
            result = measure(engine, urls, tmp, path, extra, args.rows, server)
        report(result, engine)


if __name__ == "__main__":
    main()
