"""`make bench`: every benchmark in bench/ on SQLite and on PostgreSQL, one table, and bench/results.json.

Each benchmark's measuring function runs in this process, on fresh databases (SQLite files in a temporary folder, or
new databases on one throwaway PostgreSQL started for the run by infra/dev/throwaway-postgres.sh), and hands back
figure records (bench/figures.py): value, unit, the baseline measured in the same run, their ratio, the goal from the
earlier issues as a condition, and whether it was met. A benchmark that breaks is a row of its own ("FAILED") and the
others still run. The table goes to stdout, progress and each benchmark's own chatter to stderr.

The defaults are smaller than the issues' sizes so that the run fits in 15 minutes on the 2-core machines (measured
wall times: bench/README.md); the issues' full sizes are
    .venv/bin/python bench/run_all.py --records 1000000 --duration 10 --requests 400 --runs 5 --repeat 7 --loads 15 \\
        --demo-multiplier 8
Exit status: 1 when a benchmark broke (or, with --strict, when a goal was not met), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import ENGINES, PostgresServer, describe_goal, engine_urls, record, throwaway_postgres  # noqa: E402

FIGURES = ("P1", "P2", "P3", "P4", "P5", "P6", "P7")
OUTPUT = ROOT / "bench" / "results.json"


class Context:
    """What a benchmark needs for one engine: a fresh folder, fresh databases, the shared inputs, the sizes."""

    def __init__(self, args: argparse.Namespace, tmp: Path, server: PostgresServer | None, engine: str) -> None:
        self.args, self.tmp, self.server, self.engine = args, tmp, server, engine
        self.run_id = uuid.uuid4().hex[:8]

    def folder(self, name: str) -> Path:
        path = self.tmp / f"{name}-{self.engine}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def urls(self, name: str) -> dict[str, str]:
        # A random part in the names: --postgres-url may point at a server others use too.
        return engine_urls(self.engine, self.folder(name) / "db", self.server, f"{name}_{self.run_id}")

    def inputs(self) -> tuple[Path, Path]:
        """One CSV of --records service requests (and 1,000 more) for P1, P3 and P6, on both engines."""
        shared = self.tmp / "inputs"
        if not (shared / "more.csv").exists():
            shared.mkdir(exist_ok=True)
            importlib.import_module("records_bulk").write_inputs(shared, self.args.records)
        return shared / "requests.csv", shared / "more.csv"


def run_records(ctx: Context) -> list[dict]:
    records_bulk = importlib.import_module("records_bulk")
    path, extra = ctx.inputs()
    result = records_bulk.measure(ctx.engine, ctx.urls("p1"), ctx.folder("p1"), path, extra, ctx.args.records,
                                  ctx.server, floor=not ctx.args.no_floor, prefix=f"p1_{ctx.run_id}")  # fmt: skip
    if ctx.args.details:
        records_bulk.report(result, ctx.engine)
    return records_bulk.figures(result, ctx.engine)


def run_throughput(ctx: Context) -> list[dict]:
    ingest_throughput = importlib.import_module("ingest_throughput")
    urls = ctx.urls("p2") if ctx.engine == "postgresql" else None
    a = ctx.args
    result = ingest_throughput.measure(ctx.folder("p2"), duration=a.duration, warmup=a.warmup,
                                       connections=a.connections, threads=a.threads, urls=urls,
                                       demo_multiplier=a.demo_multiplier)  # fmt: skip
    if a.details:
        ingest_throughput.report(result)
    return ingest_throughput.figures(result, ctx.engine)


def run_catalogue(ctx: Context) -> list[dict]:
    catalogue_latency = importlib.import_module("catalogue_latency")
    url = ctx.urls("p4")["metrics"]
    result = catalogue_latency.measure(url, ctx.folder("p4"), ctx.args.requests, ctx.args.seed, ctx.args.departments)
    if ctx.args.details:
        catalogue_latency.report(result, ctx.engine)
    return catalogue_latency.figures(result, ctx.engine)


def run_briefing(ctx: Context) -> list[dict]:
    briefing_render = importlib.import_module("briefing_render")
    result = asyncio.run(briefing_render.measure(ctx.urls("p5"), ctx.folder("p5"), ctx.args.runs))
    if ctx.args.details:
        briefing_render.report(result)
    return briefing_render.figures(result, ctx.engine)


def run_soda(ctx: Context) -> list[dict]:
    soda_query = importlib.import_module("soda_query")
    path, _extra = ctx.inputs()
    since, until = soda_query.default_window(path, ctx.args.records)
    result = soda_query.measure(ctx.engine, ctx.urls("p6"), ctx.folder("p6"), path, ctx.args.repeat, since, until)
    result["rows"] = ctx.args.records
    if ctx.args.details:
        soda_query.report(result, ctx.engine, ctx.args.repeat)
    return soda_query.figures(result, ctx.engine)


def run_frontend(ctx: Context) -> list[dict]:
    frontend_home = importlib.import_module("frontend_home")
    urls = ctx.urls("p7") if ctx.engine == "postgresql" else None
    result = frontend_home.measure(ctx.folder("p7"), ctx.args.loads, urls=urls,
                                   demo_multiplier=ctx.args.demo_multiplier)  # fmt: skip
    if ctx.args.details:
        frontend_home.report(result, ctx.args.loads)
    return frontend_home.figures(result, ctx.engine)


# (figures it yields, script, runner), in the order they run. Each runner imports its script when it runs: a run of
# one cheap figure does not pay for importing Playwright, WeasyPrint and every service.
BENCHMARKS: list[tuple[tuple[str, ...], str, Callable[[Context], list[dict]]]] = [
    (("P1", "P3"), "records_bulk.py", run_records),
    (("P2",), "ingest_throughput.py", run_throughput),
    (("P4",), "catalogue_latency.py", run_catalogue),
    (("P5",), "briefing_render.py", run_briefing),
    (("P6",), "soda_query.py", run_soda),
    (("P7",), "frontend_home.py", run_frontend),
]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_argument_group("sizes (the issues' full sizes in brackets)")
    size.add_argument("--records", type=int, default=200_000, help="service requests for P1, P3, P6 [1000000]")
    size.add_argument("--duration", type=int, default=5, help="P2: seconds of wrk load per scenario [10]")
    size.add_argument("--warmup", type=int, default=1, help="P2: unmeasured seconds before each [1]")
    size.add_argument("--connections", type=int, default=32, help="P2: wrk connections [32]")
    size.add_argument("--threads", type=int, default=2, help="P2: wrk threads [2]")
    size.add_argument("--requests", type=int, default=200, help="P4: timed requests per scenario [400]")
    size.add_argument("--departments", type=int, default=100, help="P4: departments of 20 metrics x 120 months [100]")
    size.add_argument("--runs", type=int, default=3, help="P5: PDF renders (HTML and GETs: 5 x as many) [5]")
    size.add_argument("--repeat", type=int, default=5, help="P6: timed queries after the first [7]")
    size.add_argument("--loads", type=int, default=5, help="P7: cold loads per page [15]")
    size.add_argument(
        "--demo-multiplier",
        type=int,
        default=1,
        help="P2, P7: raw records per demo request; they play no part in either figure [8]",
    )
    parser.add_argument("--seed", type=int, default=2017, help="P4's catalogue and requests")
    parser.add_argument("--no-floor", action="store_true", help="skip P1's floor (rows written bare again)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="sqlite,postgresql (default both)")
    parser.add_argument("--only", default=",".join(FIGURES), help="figures to run, e.g. P1,P5 (P1 and P3 run together)")
    parser.add_argument("--postgres-url", help="an existing server to create databases on, instead of a throwaway one")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"results file (default {OUTPUT})")
    parser.add_argument("--details", action="store_true", help="also print each benchmark's own report (stderr)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.only = {f.strip().upper() for f in args.only.split(",") if f.strip()}
    if unknown := [e for e in args.engines if e not in ENGINES]:
        parser.error(f"unknown engines {unknown}: choose from {', '.join(ENGINES)}")
    if unknown := sorted(args.only - set(FIGURES)):
        parser.error(f"unknown figures {unknown}: choose from {', '.join(FIGURES)}")
    return args


def sizes(args: argparse.Namespace) -> dict:
    return {"records": args.records, "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
            "requests": args.requests, "departments": args.departments, "runs": args.runs, "repeat": args.repeat,
            "loads": args.loads, "demo_multiplier": args.demo_multiplier}  # fmt: skip


def failed(names: tuple[str, ...], script: str, engine: str, error: BaseException) -> dict:
    """A benchmark that broke: no value, and its goals count as not met."""
    message = (str(error) or type(error).__name__).strip().splitlines() or [type(error).__name__]
    row = record("/".join(names), engine, None, "-", what=f"bench/{script}", note=f"FAILED: {message[-1][:300]}")
    row["met"] = False
    return row


def run(args: argparse.Namespace) -> tuple[list[dict], float]:
    started = time.perf_counter()
    records: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="citystat-bench-all-"))
    try:
        with contextlib.ExitStack() as stack:
            server = None
            if "postgresql" in args.engines:
                server = PostgresServer(args.postgres_url) if args.postgres_url else stack.enter_context(
                    throwaway_postgres())  # fmt: skip
            for names, script, runner in BENCHMARKS:
                if not args.only & set(names):
                    continue
                for engine in args.engines:
                    ctx = Context(args, tmp, server if engine == "postgresql" else None, engine)
                    print(f"[{time.perf_counter() - started:6.0f} s] {'/'.join(names)} on {engine} "
                          f"(bench/{script})...", file=sys.stderr, flush=True)  # fmt: skip
                    began = time.perf_counter()
                    try:
                        # The benchmarks' own lines (CSV written, demo loading...) go to stderr: stdout is the table.
                        with contextlib.redirect_stdout(sys.stderr):
                            got = runner(ctx)
                        records += [r for r in got if r["figure"].split()[0] in args.only]
                    except (Exception, SystemExit) as error:  # one broken benchmark must not hide the others
                        traceback.print_exc(file=sys.stderr)
                        records.append(failed(names, script, engine, error))
                    print(f"         done in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return records, time.perf_counter() - started


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 0.1 else f"{value:.2f}"


def table(records: list[dict], args: argparse.Namespace, wall: float) -> str:
    header = ("figure", "engine", "value", "unit", "baseline", "ratio", "goal", "met")
    rows = [
        (r["figure"], r["engine"] + ("*" if r["engine_note"] else ""), number(r["value"]), r["unit"],
         number(r["baseline"]), "-" if r["ratio"] is None else f"{r['ratio']:.3f}", describe_goal(r["goal"]),
         {True: "yes", False: "NO", None: "-"}[r["met"]])
        for r in records
    ]  # fmt: skip
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 4, 5}

    def line(row: tuple) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in
                         enumerate(zip(row, widths, strict=True))).rstrip()  # fmt: skip

    s = sizes(args)
    out = [
        f"CityStat benchmarks, {dt.datetime.now().astimezone().isoformat(timespec='seconds')}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; wall time {wall / 60:.1f} min",
        f"sizes: {s['records']:,} records (P1, P3, P6); wrk {s['wrk']} (P2); {s['requests']} requests over "
        f"{s['departments'] * 20:,} metrics (P4); "
        f"{s['runs']} PDF runs (P5); {s['repeat']} repeats (P6); {s['loads']} loads per page (P7); "
        f"demo records multiplier {s['demo_multiplier']} (P2, P7)",
        "",
        line(header),
        line(tuple("-" * w for w in widths)),
        *(line(row) for row in rows),
        "",
    ]
    by_figure: dict[str, list[dict]] = {}
    for r in records:
        by_figure.setdefault(r["figure"], []).append(r)
    for name, same in by_figure.items():
        against = f" against {same[0]['baseline_what']}" if same[0]["baseline_what"] else ""
        out.append(f"{name}: {same[0]['what']}{against}.")
        out += [f"    {r['engine']}: {r['note']}" for r in same if r["note"]]
    notes = {r["engine_note"] for r in records if r["engine_note"]}
    if notes:
        out.append("")
        out += [f"* the engine does not matter here: {note}" for note in sorted(notes)]
    return "\n".join(out)


def results_document(records: list[dict], args: argparse.Namespace, wall: float) -> dict:
    figures: dict[str, dict[str, dict]] = {}
    for r in records:
        figures.setdefault(r["figure"], {})[r["engine"]] = {k: v for k, v in r.items() if k not in ("figure", "engine")}
    return {
        "run": {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(wall, 1),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "engines": args.engines,
            "only": sorted(args.only),
            "sizes": sizes(args),
        },
        "figures": figures,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    records, wall = run(args)
    print(table(records, args, wall), flush=True)
    args.output.write_text(json.dumps(results_document(records, args, wall), indent=2) + "\n")
    print(f"\nwritten to {args.output}", file=sys.stderr)
    broken = any(r["note"].startswith("FAILED") for r in records)
    unmet = any(r["met"] is False for r in records)
    return 1 if broken or (args.strict and unmet) else 0


if __name__ == "__main__":
    sys.exit(main())
