"""`make reliability`: issue 9's reliability battery at full size, on SQLite and on PostgreSQL, in one table.

Each check is a pytest module that `make test` already runs at a reduced size; here the sizes are the issue's
(environment variables the modules read). Every check runs in its own pytest process, one after another (they
start servers and measure; side by side they would measure each other). Each test states its figures through
tests/reliability/figures.py; this script adds what pytest counted (cases passed of cases run) and the time.

    .venv/bin/python tools/reliability.py                       # everything, both engines (about 1.5 hours)
    .venv/bin/python tools/reliability.py --only crash,load     # some checks
    .venv/bin/python tools/reliability.py --engines sqlite      # one engine
    .venv/bin/python tools/reliability.py --reduced             # make test's sizes (a quick rehearsal)

Exit status: 0 when every check passed on every engine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Check:
    name: str
    what: str
    paths: tuple[str, ...]
    # The sizes; `--reduced` leaves them unset, so each module uses make test's defaults.
    full_size: dict[str, str] = field(default_factory=dict)


CHECKS = (
    Check(
        "concurrency",
        "50 submitters for 120 s, 10% retries, 5% corrections: 0 lost, 0 duplicated, 0 5xx",
        ("tests/reliability/test_concurrency.py",),
        {"CITYSTAT_LOAD_SECONDS": "120"},
    ),
    Check(
        "crash",
        "kill -9 of ingest at 20 points of a 1M-record import, restart, client resume: exact count, checksum, "
        "integrity; and kill -9 with a full or draining outbox",
        ("tests/reliability/test_crash_bulk_import.py", "tests/reliability/test_kill_ingest.py"),
        {"CITYSTAT_CRASH_RECORDS": "1000000", "CITYSTAT_CRASH_KILLS": "20"},
    ),
    Check(
        "outage",
        "metrics down for 60 s under load: every accepted row arrives, 0 duplicated",
        ("tests/reliability/test_metrics_outage.py",),
        {"CITYSTAT_OUTAGE_SECONDS": "60"},
    ),
    Check(
        "schemathesis",
        "stateless and stateful runs over every operation of the three APIs: 0 server errors, 0 schema "
        "violations, every error problem+json",
        ("tests/contract",),
        {"CITYSTAT_CONTRACT_EXAMPLES": "200", "CITYSTAT_STATEFUL_EXAMPLES": "200"},
    ),
    Check(
        "bad-input",
        "the corpus (malformed files, huge bodies, NaN, naive times, unicode, SoQL injection): 4xx problem+json "
        "or a receipt naming each unusable row, 0 5xx, nothing changed that the answer does not account for",
        ("tests/reliability/test_bad_input.py", "tests/reliability/test_bad_queries.py"),
        {"CITYSTAT_BAD_QUERIES": "1000000"},
    ),
    Check(
        "access",
        "roles x routes x other departments' objects: every refusal as expected, 0 leaks; every route guarded "
        "or listed as public",
        ("tests/test_access_matrix.py", "tests/test_route_auth.py"),
    ),
    Check(
        "load",
        "locust, its own process, 200 users on the public and reporting routes for 2 minutes: < 1% failures, p95",
        ("tests/reliability/test_locust_load.py",),
        {"CITYSTAT_LOCUST_USERS": "200", "CITYSTAT_LOCUST_SECONDS": "120"},
    ),
)


@dataclass
class Outcome:
    check: Check
    engine: str
    seconds: float
    returncode: int
    tests: int = 0
    failed: int = 0
    skipped: int = 0
    figures: list[dict] = field(default_factory=list)
    log: Path | None = None

    @property
    def passed(self) -> bool:
        return (
            self.returncode == 0
            and self.tests > 0
            and not self.failed
            and not self.skipped
            and all(f.get("passed") for f in self.figures)
        )


def _junit_counts(path: Path) -> tuple[int, int, int]:
    if not path.exists():
        return 0, 0, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests, failed, skipped


def run_check(check: Check, engine: str, postgres_url: str | None, work: Path, reduced: bool, seed: str) -> Outcome:
    label = f"{check.name}-{engine}"
    figures_file, junit, log = work / f"{label}.jsonl", work / f"{label}.xml", work / f"{label}.log"
    env = {
        **os.environ,
        "CITYSTAT_TEST_DATABASE": engine,
        "CITYSTAT_TEST_SEED": seed,
        "CITYSTAT_RELIABILITY_FIGURES": str(figures_file),
        **({} if reduced else check.full_size),
    }
    if postgres_url:
        env["CITYSTAT_TEST_POSTGRES_URL"] = postgres_url
    command = [
        sys.executable,
        "-m",
        "pytest",
        *check.paths,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--hypothesis-seed={seed}",
        f"--basetemp={work / ('tmp-' + label)}",
        f"--junitxml={junit}",
    ]
    started = time.monotonic()
    with log.open("w") as out:
        returncode = subprocess.call(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    outcome = Outcome(check, engine, time.monotonic() - started, returncode, log=log)
    outcome.tests, outcome.failed, outcome.skipped = _junit_counts(junit)
    if figures_file.exists():
        outcome.figures = [json.loads(line) for line in figures_file.read_text().splitlines() if line.strip()]
    return outcome


def _figure_text(figure: dict) -> str:
    shown = {k: v for k, v in figure.items() if k not in ("check", "engine", "passed")}
    return f"{figure['check']}: " + ", ".join(f"{k} {v}" for k, v in shown.items())


def print_table(outcomes: list[Outcome]) -> None:
    print()
    print(f"{'check':<13} {'engine':<11} {'result':<6} {'tests':>9} {'seconds':>8}  figures")
    print("-" * 120)
    for o in outcomes:
        result = "pass" if o.passed else "FAIL"
        print(f"{o.check.name:<13} {o.engine:<11} {result:<6} {o.tests - o.failed:>4}/{o.tests:<4} {o.seconds:>8.0f}")
        for figure in o.figures:
            print(f"{'':<52}{_figure_text(figure)}")
    print("-" * 120)
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} checks passed" + (":" if failed else "."))
    for o in failed:
        print(f"  FAILED {o.check.name} on {o.engine} (exit {o.returncode}); its pytest output: {o.log}")


def _start_postgres() -> tuple[str, str]:
    started = subprocess.run(
        ["bash", "infra/dev/throwaway-postgres.sh", "start"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    pgdir, url = started.stdout.split()
    return pgdir, url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated checks: " + ",".join(c.name for c in CHECKS))
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: sqlite,postgresql")
    parser.add_argument("--reduced", action="store_true", help="make test's sizes instead of the issue's")
    parser.add_argument("--seed", default=os.environ.get("CITYSTAT_TEST_SEED", str(int(time.time()) % 2**31)))
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "reliability.json", help="results as JSON")
    args = parser.parse_args()

    wanted = set(args.only.split(",")) if args.only else {c.name for c in CHECKS}
    unknown = wanted - {c.name for c in CHECKS}
    engines = [e for e in args.engines.split(",") if e]
    if unknown or not set(engines) <= set(ENGINES):
        parser.error(f"unknown check or engine: {sorted(unknown) or engines}")
    checks = [c for c in CHECKS if c.name in wanted]

    print(f"reliability battery, {'reduced' if args.reduced else 'full'} size, seed {args.seed}")
    for check in checks:
        sizes = "" if args.reduced else " ".join(f"{k}={v}" for k, v in check.full_size.items())
        print(f"  {check.name:<13} {check.what}" + (f" [{sizes}]" if sizes else ""))
    work = Path(tempfile.mkdtemp(prefix="citystat-reliability-"))
    pg = _start_postgres() if "postgresql" in engines else None
    outcomes: list[Outcome] = []
    started = time.monotonic()
    try:
        for engine in engines:
            for check in checks:
                print(f"[{time.strftime('%H:%M:%S')}] {check.name} on {engine} ...", flush=True)
                outcome = run_check(
                    check, engine, pg[1] if engine == "postgresql" else None, work, args.reduced, args.seed
                )
                outcomes.append(outcome)
                verdict = "pass" if outcome.passed else "FAIL"
                print(f"    {verdict}: {outcome.tests - outcome.failed}/{outcome.tests} tests, {outcome.seconds:.0f} s")
                for figure in outcome.figures:
                    print(f"    {_figure_text(figure)}", flush=True)
    finally:
        if pg:
            subprocess.run(["bash", "infra/dev/throwaway-postgres.sh", "stop", pg[0]], cwd=ROOT, check=False)
    print_table(outcomes)
    print(f"total {time.monotonic() - started:.0f} s; logs in {work}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            [
                {
                    "check": o.check.name,
                    "engine": o.engine,
                    "passed": o.passed,
                    "tests": o.tests,
                    "failed": o.failed,
                    "seconds": round(o.seconds, 1),
                    "figures": o.figures,
                }
                for o in outcomes
            ],
            indent=2,
        )
    )
    print(f"results written to {args.output}")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
