"""What every benchmark hands to bench/run_all.py: figure records, their goals checked, and the throwaway PostgreSQL.

A record is one figure on one engine: {"figure", "engine", "value", "unit", "baseline", "ratio", "goal", "met",
"what", "baseline_what", "note", "engine_note"}. A goal is a dict of conditions that must all hold:
- "ratio_at_least" / "ratio_at_most": the ratio to the baseline measured in the same run (>= and <=, as the issues
  say "at least" and "at most");
- "max" with "unit": the value must be under it (the issues say "under"; strictly less), in the record's own unit.
No goal (None) means the figure is reported for context and `met` is None.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THROWAWAY = ROOT / "infra" / "dev" / "throwaway-postgres.sh"
SERVICES = ("ingest", "metrics", "reporting")
ENGINES = ("sqlite", "postgresql")


def goal_met(goal: dict | None, value: float | None, ratio: float | None) -> bool | None:
    if not goal:
        return None
    if value is None:
        return False
    checks = []
    if "ratio_at_least" in goal:
        checks.append(ratio is not None and ratio >= goal["ratio_at_least"])
    if "ratio_at_most" in goal:
        checks.append(ratio is not None and ratio <= goal["ratio_at_most"])
    if "max" in goal:
        checks.append(value < goal["max"])
    if not checks:
        raise ValueError(f"a goal with nothing to check: {goal}")
    return all(checks)


def record(
    figure: str,
    engine: str,
    value: float | None,
    unit: str,
    *,
    what: str,
    baseline: float | None = None,
    baseline_what: str | None = None,
    goal: dict | None = None,
    note: str = "",
    ratio: float | None = None,
    engine_note: str = "",
) -> dict:
    """One figure on one engine. The ratio is value / baseline unless given (a rate's ratio is the same division:
    rows/s through the API over bare rows/s). `engine_note` says why the engine does not matter to the figure, where
    it does not."""
    if goal and "max" in goal and goal.get("unit") != unit:
        raise ValueError(f"{figure}: goal in {goal.get('unit')}, value in {unit}")
    if ratio is None and value is not None and baseline:
        ratio = value / baseline
    return {
        "figure": figure,
        "engine": engine,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "goal": goal,
        "met": goal_met(goal, value, ratio),
        "what": what,
        "baseline_what": baseline_what,
        "note": note,
        "engine_note": engine_note,
    }


def describe_goal(goal: dict | None) -> str:
    if not goal:
        return "-"
    parts = []
    if "ratio_at_least" in goal:
        parts.append(f">= {goal['ratio_at_least']:g} x")
    if "ratio_at_most" in goal:
        parts.append(f"<= {goal['ratio_at_most']:g} x")
    if "max" in goal:
        parts.append(f"< {goal['max']:g} {goal['unit']}")
    return ", ".join(parts)


class PostgresServer:
    """A running throwaway server (infra/dev/throwaway-postgres.sh): hands out fresh databases by prefix."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base = url.rsplit("/", 1)[0]

    def database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{self.base}/{name}"

    def databases(self, prefix: str, names: tuple[str, ...] = SERVICES) -> dict[str, str]:
        return {name: self.database(f"{prefix}_{name}") for name in names}


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """The script runs initdb and postgres as the postgres user when we are root, as ourselves otherwise."""
    started = subprocess.run(["bash", str(THROWAWAY), "start"], check=True, capture_output=True, text=True)
    pgdir, url = started.stdout.split()[:2]
    try:
        yield PostgresServer(url)
    finally:
        subprocess.run(["bash", str(THROWAWAY), "stop", pgdir], check=False, capture_output=True)


def sqlite_urls(folder: Path, names: tuple[str, ...] = SERVICES) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: f"sqlite:///{folder / f'{name}.db'}" for name in names}


def engine_urls(engine: str, folder: Path, server: PostgresServer | None, prefix: str) -> dict[str, str]:
    """Fresh, empty databases of the three services on `engine`: files in `folder`, or new databases on `server`."""
    if engine == "sqlite":
        return sqlite_urls(folder)
    if server is None:
        raise ValueError("PostgreSQL needs a server")
    return server.databases(prefix)
