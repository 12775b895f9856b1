"""P6 of the open-data issue, on SQLite and on PostgreSQL.

N service requests (default 1,000,000, the demo city's generator, loaded through the ingest API as in
bench/records_bulk.py) are published as a raw-record dataset. Then one SODA query with `$where` and `$group` is sent
to `GET /resource/{id}.json` of a running `citystat serve` (reporting parses the SoQL, metrics runs the tree), and
timed against the bare SQL aggregate that gives the same answer, run on the same engine in the same run: one
SELECT ... WHERE ... GROUP BY over raw_record through a plain connection, with the city-time bounds turned into the
stored UTC instants beforehand, as someone writing it by hand would.

Each figure is the median of --repeat runs after a first one, so that both sides read a warm cache; the first run
is printed apart.
The answers are compared row by row before any figure is printed. Usage:
    .venv/bin/python bench/soda_query.py [--rows N] [--engines sqlite,postgresql] [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from records_bulk import served_city, upload, write_csv  # noqa: E402

from services.metrics.records.models import RawRecord  # noqa: E402

TIME_ZONE = "America/New_York"


def soda_query(since: dt.datetime, until: dt.datetime) -> dict[str, str]:
    return {
        "$select": "department, category, count(*) AS requests, avg(days_to_close) AS mean_days_to_close",
        "$where": f"opened_at >= '{since.isoformat()}' AND opened_at < '{until.isoformat()}' AND status = 'closed'",
        "$group": "department, category",
        "$order": "department, category",
    }


def bare_statement(since: dt.datetime, until: dt.datetime) -> sa.Select:
    zone = ZoneInfo(TIME_ZONE)
    low, high = (moment.replace(tzinfo=zone).astimezone(dt.UTC) for moment in (since, until))
    return (
        sa.select(RawRecord.department, RawRecord.category, sa.func.count(), sa.func.avg(RawRecord.days_to_close))
        .where(
            RawRecord.dataset == "service_requests",
            RawRecord.opened_at >= low,
            RawRecord.opened_at < high,
            RawRecord.status == "closed",
        )
        .group_by(RawRecord.department, RawRecord.category)
        .order_by(RawRecord.department, RawRecord.category)
    )


def timed(run, repeat: int) -> tuple[float, object, float]:
    """The median time of `repeat` runs after a first one, and that first run's time (cold caches)."""
    started = time.perf_counter()
    answer = run()
    first = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), answer, first


def same_answer(api: list[dict], bare: list[tuple]) -> str | None:
    if len(api) != len(bare):
        return f"{len(api)} rows through the API, {len(bare)} bare"
    for row, (department, category, count, mean) in zip(api, bare, strict=True):
        if (row["department"], row["category"], int(row["requests"])) != (department, category, count):
            return f"API {row} against bare {(department, category, count, mean)}"
        if mean is not None and abs(float(row["mean_days_to_close"]) - float(mean)) > 1e-6 * max(1.0, float(mean)):
            return f"means differ: API {row} against bare {mean}"
    return None


def measure(engine: str, urls: dict[str, str], tmp: Path, path: Path, args: argparse.Namespace) -> dict:
    repeat = args.repeat
    public_limits = {"CITYSTAT_PUBLIC_RATE_LIMIT_PER_MINUTE": "1000000", "CITYSTAT_PUBLIC_RATE_LIMIT_BURST": "100000",
                     "CITYSTAT_TIME_ZONE": TIME_ZONE}  # fmt: skip
    with served_city(engine, urls, tmp, public_limits) as (client, csrf, base):
        load_seconds, job = upload(client, path, csrf)
        answer = client.patch("/api/metrics/datasets/service_requests", json={"is_published": True}, headers=csrf)
        if answer.status_code != 200:
            sys.exit(f"publishing refused: {answer.status_code} {answer.text}")
        datasets = client.get("/api/metrics/open-datasets").json()["items"]
        dataset_id = next(item["id"] for item in datasets if item["key"] == "records.service_requests")
        # A client that keeps no cookie, as the public's would not have one.
        with httpx.Client(base_url=base, timeout=None) as public:

            def through_api() -> list[dict]:
                answer = public.get(f"/resource/{dataset_id}.json", params=soda_query(args.since, args.until))
                if answer.status_code != 200:
                    sys.exit(f"SODA query refused: {answer.status_code} {answer.text}")
                return answer.json()

            api_seconds, api_rows, api_first = timed(through_api, repeat)
    engine_ = sa.create_engine(urls["metrics"].replace("sqlite:///", "sqlite:///", 1))
    statement = bare_statement(args.since, args.until)
    with engine_.connect() as connection:
        bare_seconds, bare_rows, bare_first = timed(lambda: connection.execute(statement).all(), repeat)
    engine_.dispose()
    return {
        "load": load_seconds, "accepted": job["summary"]["accepted"], "api": api_seconds, "bare": bare_seconds,
        "api_first": api_first, "bare_first": bare_first,
        "mismatch": same_answer(api_rows, bare_rows), "groups": len(bare_rows),
        "matched": sum(int(row[2]) for row in bare_rows),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7)
    # The generator is chronological: 1,000,000 rows reach well into 2016 (the default: a year of city time).
    parser.add_argument("--since", type=dt.datetime.fromisoformat, default=dt.datetime(2015, 7, 1))
    parser.add_argument("--until", type=dt.datetime.fromisoformat, default=dt.datetime(2016, 7, 1))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="citystat-soda-bench-"))
    path = tmp / "requests.csv"
    write_csv(path, args.rows)
    print(f"{args.rows:,} service requests; query: {soda_query(args.since, args.until)}")
    for engine in args.engines.split(","):
        stop = None
        if engine == "sqlite":
            urls = {s: f"sqlite:///{tmp / f'{s}.db'}" for s in ("ingest", "metrics", "reporting")}
        else:
            start = subprocess.run(["bash", str(ROOT / "infra/dev/throwaway-postgres.sh"), "start"],
                                   check=True, capture_output=True, text=True).stdout.split()  # fmt: skip
            pgdir, pgurl = start[0], start[1]
            stop = ["bash", str(ROOT / "infra/dev/throwaway-postgres.sh"), "stop", pgdir]
            import psycopg

            with psycopg.connect(pgurl.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
                for service in ("ingest", "metrics", "reporting"):
                    conn.execute(f"CREATE DATABASE bench_{service}")
            base = pgurl.rsplit("/", 1)[0]
            urls = {s: f"{base}/bench_{s}" for s in ("ingest", "metrics", "reporting")}
        try:
            result = measure(engine, urls, tmp, path, args)
        finally:
            if stop:
                subprocess.run(stop, check=False, capture_output=True)
        print(f"\n{engine}: {result['accepted']:,} records loaded through the ingest API in {result['load']:.1f} s; "
              f"the query matches {result['matched']:,} of them in {result['groups']} groups")  # fmt: skip
        if result["mismatch"]:
            print(f"  ANSWERS DIFFER: {result['mismatch']}")
        print(f"  P6 bare SQL aggregate:     {result['bare'] * 1000:8.1f} ms (median of {args.repeat})")
        print(f"  P6 SODA query through API: {result['api'] * 1000:8.1f} ms = {result['api'] / result['bare']:.2f} x "
              f"bare (goal <= 1.5{', and < 1 s' if engine != 'sqlite' else ''})")  # fmt: skip
        # The first query also fetches the dataset's description from metrics (remembered for 30 s after).
        print(f"  first run, cold:           {result['api_first'] * 1000:8.1f} ms through the API, "
              f"{result['bare_first'] * 1000:.1f} ms bare")  # fmt: skip


if __name__ == "__main__":
    main()
