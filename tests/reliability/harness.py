"""What the reliability tests share: ingest and metrics as separate processes, a city to submit to, many
submitters that record every request and answer, and what the databases hold afterwards."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.common.db import Database
from services.common.periods import Frequency, Period
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN, SEED, DatabaseSet, free_port
from tests.factories import make_department, make_metric, make_token

ACCEPTED = (201, 202)
PairKey = tuple[str, str]  # (metric key, period)


# ---------------------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------------------


class ServiceProcesses:
    """Metrics and ingest, each its own uvicorn process as docker-compose runs them, logging to files."""

    def __init__(self, dbs: DatabaseSet, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.ports = {name: free_port() for name in ("metrics", "ingest")}
        self.env = {
            **os.environ,
            "CITYSTAT_DATA_DIR": str(workdir),
            "CITYSTAT_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
            "CITYSTAT_OUTBOX_POLL_SECONDS": "0.5",
            "CITYSTAT_RATE_LIMIT_PER_MINUTE": "1000000",
            "CITYSTAT_RATE_LIMIT_BURST": "100000",
            # The load writes periods back to 1900; here nothing locks, so every one of them stays open.
            "CITYSTAT_LOCK_AFTER_DAYS": "80000",
            **env,
        }
        for name in self.ports:
            self.env[f"CITYSTAT_{name.upper()}_DATABASE_URL"] = dbs.urls[name]
            self.env[f"CITYSTAT_{name.upper()}_URL"] = self.url(name)
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: list[Path] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/api/{name}"

    def start(self, *names: str, timeout: float = 120.0) -> None:
        # Started together, then awaited: each spends most of its start-up importing.
        for name in names:
            assert name not in self.processes, f"{name} is already running"
            log = self.workdir / f"{name}-{len(self.logs)}.log"
            self.logs.append(log)
            with log.open("wb") as out:
                self.processes[name] = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "services.cli",
                        "serve",
                        "--service",
                        name,
                        "--port",
                        str(self.ports[name]),
                        "--no-access-log",
                    ],
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        for name in names:
            self._wait_healthy(name, timeout)

    def _wait_healthy(self, name: str, timeout: float) -> None:
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url(name)}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become healthy in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, name: str) -> None:
        """A graceful stop (SIGTERM), as an orchestrator stops a container."""
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self, name: str) -> None:
        """kill -9: no shutdown code runs, whatever was in flight is cut off."""
        process = self.processes.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            try:
                self.stop(name)
            except Exception:  # noqa: BLE001 - stop the others whatever happens to one
                self.processes.pop(name, None)

    def health(self, timeout: float = 10.0) -> dict[str, Any]:
        response = httpx.get(f"{self.url('ingest')}/health", timeout=timeout)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_empty_outbox(self, timeout: float) -> float:
        """Seconds until ingest's health says the outbox is empty; fails with the logs after `timeout`."""
        started = time.monotonic()
        pending = None
        while time.monotonic() - started < timeout:
            pending = self.health()["details"]["outbox_pending"]
            if pending == 0:
                return time.monotonic() - started
            time.sleep(0.25)
        raise AssertionError(f"{pending} submission(s) still pending after {timeout:.0f} s:\n{self.log_tail()}")

    def log_text(self) -> str:
        return "\n".join(f"==> {log.name} <==\n{log.read_text(errors='replace')}" for log in self.logs if log.exists())

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        """Every traceback or logged error the services wrote; a clean run writes none."""
        found = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("Traceback") or line.startswith("ERROR"):
                    found.append(f"{log.name}:{i + 1}: " + "\n".join(lines[i : i + 30]))
        return found


@contextmanager
def running_services(dbs: DatabaseSet, workdir: Path, **env: str) -> Iterator[ServiceProcesses]:
    """Both processes started, and stopped again whatever the test does."""
    services = ServiceProcesses(dbs, workdir, **env)
    try:
        services.start("metrics", "ingest")
        yield services
    finally:
        services.stop_all()


# ---------------------------------------------------------------------------------------------------------------
# The city
# ---------------------------------------------------------------------------------------------------------------


def periods_until(frequency: Frequency, as_of: dt.date = DEMO_AS_OF) -> list[str]:
    """Every period of a frequency from 1900 to the one that holds `as_of`: all of them can be submitted."""
    step = {Frequency.week: 7, Frequency.month: 28}[frequency]
    day, found = dt.date(1900, 1, 1), []
    while day <= as_of:
        period = str(Period.containing(day, frequency))
        if not found or found[-1] != period:
            found.append(period)
        day += dt.timedelta(days=step)
    return found


@dataclass(frozen=True)
class Client:
    """One department system: its token, and the metric+period pairs only it writes."""

    department: str
    token: str
    pairs: tuple[PairKey, ...]


def build_city(dbs: DatabaseSet, departments: int, monthly: int, weekly: int, systems: int) -> list[Client]:
    """`departments` departments with count metrics (some monthly, some weekly), and `systems` API tokens
    spread over them. Each token is dealt its own share of the pairs, so the last value sent for a pair
    is the last value its one sender sent: a fact the test can check, whatever the interleaving."""
    metrics_db, ingest_db = Database(dbs.urls["metrics"]), Database(dbs.urls["ingest"])
    rng = random.Random(SEED)
    pairs_of: dict[str, list[PairKey]] = {}
    try:
        with metrics_db.session() as session:
            for d in range(departments):
                department = make_department(session, f"REL{d}", f"Reliability department {d}")
                pairs: list[PairKey] = []
                for i in range(monthly + weekly):
                    frequency = Frequency.month if i < monthly else Frequency.week
                    metric = make_metric(
                        session,
                        department,
                        key=f"rel{d}.{frequency}_{i}",
                        unit="count",
                        frequency=str(frequency),
                        min_value=0.0,
                        max_value=1_000_000.0,
                    )
                    pairs += [(metric.key, period) for period in periods_until(frequency)]
                rng.shuffle(pairs)
                pairs_of[department.code] = pairs
        codes = sorted(pairs_of)
        clients = []
        for n in range(systems):
            # Systems n, n + len(codes), n + 2 len(codes)... share a department and deal its pairs among them.
            code, position = codes[n % len(codes)], n // len(codes)
            members = len(range(n % len(codes), systems, len(codes)))
            token = make_token(ingest_db, code, f"reliability system {n}")
            clients.append(Client(code, token, tuple(pairs_of[code][position::members])))
        return clients
    finally:
        metrics_db.dispose()
        ingest_db.dispose()


# ---------------------------------------------------------------------------------------------------------------
# Submitters
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Sent:
    """One request as it went out, and the answer it got."""

    submitter: int
    seq: int
    kind: str  # new | correction | retry
    department: str
    key: str
    path: str
    content_type: str
    body: bytes
    rows: list[tuple[str, str, float]]
    started: float
    elapsed: float = 0.0
    status: int | None = None
    answer: Any = None
    error: str | None = None
    retry_of: int | None = None  # seq of the request a retry repeats

    def describe(self) -> str:
        return (
            f"submitter {self.submitter} #{self.seq} {self.kind} POST {self.path} Idempotency-Key: {self.key}\n"
            f"  body: {self.body[:300]!r}\n"
            f"  answer: {self.status} {json.dumps(self.answer)[:600] if self.answer else ''}"
            f"{' error: ' + self.error if self.error else ''}"
        )


@dataclass
class Mix:
    retries: float = 0.10
    corrections: float = 0.05
    csv: float = 0.15
    max_rows: int = 3
    # Seconds a submitter waits between requests: 0 is a system that sends as fast as it is answered.
    pause: float = 0.0
    # Requests each submitter sends before it stops (None: until the load ends).
    requests: int | None = None


class Submitter:
    """A department system that keeps sending: new values, corrections, and same-key retries."""

    def __init__(self, index: int, client: Client, base_url: str, mix: Mix) -> None:
        self.index = index
        self.client = client
        self.base_url = base_url
        self.mix = mix
        self.rng = random.Random(SEED * 1000 + index)
        self.fresh = list(client.pairs)
        self.last: dict[PairKey, float] = {}
        self.sent: list[Sent] = []
        self.crash: str | None = None

    def _value(self) -> float:
        return round(self.rng.uniform(0, 100_000), 2)

    def _request(self, kind: str, path: str, content_type: str, body: bytes, rows, key: str | None = None) -> Sent:
        return Sent(
            submitter=self.index,
            seq=len(self.sent),
            kind=kind,
            department=self.client.department,
            key=key or f"s{self.index}-{uuid.uuid4().hex}",
            path=path,
            content_type=content_type,
            body=body,
            rows=rows,
            started=time.monotonic(),
        )

    def _next(self) -> Sent | None:
        firsts = [s for s in self.sent if s.kind != "retry"]
        roll = self.rng.random()
        if firsts and roll < self.mix.retries:
            original = self.rng.choice(firsts)
            sent = self._request(
                "retry", original.path, original.content_type, original.body, original.rows, original.key
            )
            sent.retry_of = original.seq
            return sent
        if self.last and roll < self.mix.retries + self.mix.corrections:
            pair = self.rng.choice(sorted(self.last))
            # Now and then a "correction" that repeats the stored value: unchanged, so no revision.
            value = self.last[pair] if self.rng.random() < 0.2 else self._value()
            row = {"metric": pair[0], "period": pair[1], "value": value, "reason": f"corrected by system {self.index}"}
            body = json.dumps({"observations": [row]}).encode()
            return self._request("correction", "/submissions", "application/json", body, [(*pair, value)])
        if not self.fresh:
            return None
        count = min(len(self.fresh), self.rng.randint(1, self.mix.max_rows))
        rows = [(*self.fresh.pop(), self._value()) for _ in range(count)]
        if self.rng.random() < self.mix.csv:
            text = "metric,period,value\r\n" + "".join(f"{m},{p},{v!r}\r\n" for m, p, v in rows)
            return self._request("new", "/submissions/csv", "text/csv", text.encode(), rows)
        body = json.dumps({"observations": [{"metric": m, "period": p, "value": v} for m, p, v in rows]}).encode()
        return self._request("new", "/submissions", "application/json", body, rows)

    def run(self, stop: threading.Event) -> None:
        try:
            headers = {"Authorization": f"Bearer {self.client.token}"}
            with httpx.Client(base_url=self.base_url, headers=headers, timeout=60) as http:
                while not stop.is_set() and len(self.sent) != self.mix.requests:
                    sent = self._next()
                    if sent is None:
                        return
                    self._send(http, sent)
                    if self.mix.pause:
                        stop.wait(self.mix.pause)
        except Exception:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.crash = traceback.format_exc()

    def _send(self, http: httpx.Client, sent: Sent) -> None:
        try:
            response = http.post(
                sent.path, content=sent.body, headers={"Content-Type": sent.content_type, "Idempotency-Key": sent.key}
            )
            sent.status = response.status_code
            try:
                sent.answer = response.json()
            except ValueError:
                sent.answer = response.text
        except httpx.HTTPError as exc:
            sent.error = f"{type(exc).__name__}: {exc}"
        sent.elapsed = time.monotonic() - sent.started
        self.sent.append(sent)
        if sent.kind != "retry" and sent.status in ACCEPTED:
            for metric, period, value in sent.rows:
                self.last[(metric, period)] = value


@dataclass
class LoadRun:
    sent: list[Sent]
    seconds: float
    submitters: list[Submitter]

    def figures(self, title: str) -> str:
        statuses = Counter(str(s.status if s.status is not None else "error") for s in self.sent)
        kinds = Counter(s.kind for s in self.sent)
        latencies = sorted(s.elapsed for s in self.sent) or [0.0]

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

        rows = sum(len(s.rows) for s in self.sent if s.kind != "retry")
        exhausted = sum(1 for s in self.submitters if not s.fresh)
        return (
            f"{title}: {len(self.sent)} requests in {self.seconds:.1f} s = {len(self.sent) / self.seconds:.1f} req/s "
            f"from {len(self.submitters)} submitters ({rows} rows; {dict(kinds)}); statuses {dict(statuses)}; "
            f"latency ms p50 {pct(0.5):.0f} p95 {pct(0.95):.0f} p99 {pct(0.99):.0f} max {latencies[-1] * 1000:.0f}, "
            f"mean {statistics.fmean(latencies) * 1000:.0f}; submitters out of fresh pairs: {exhausted}"
        )

    def counts(self) -> dict[str, float | int]:
        """The load in numbers, for `make reliability`'s table."""
        kinds = Counter(s.kind for s in self.sent)
        latencies = sorted(s.elapsed for s in self.sent) or [0.0]
        return {
            "submitters": len(self.submitters),
            "seconds": round(self.seconds, 1),
            "requests": len(self.sent),
            "retries": kinds["retry"],
            "corrections": kinds["correction"],
            "server_errors": sum(1 for s in self.sent if s.status is not None and s.status >= 500),
            "no_answer": sum(1 for s in self.sent if s.error is not None),
            "p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000),
        }

    def save(self, path: Path) -> None:
        with path.open("w") as out:
            for s in self.sent:
                record = {k: v for k, v in s.__dict__.items() if k != "body"}
                out.write(json.dumps({**record, "body": s.body.decode(errors="replace")}) + "\n")


def run_load(
    clients: list[Client],
    base_url: str,
    seconds: float,
    mix: Mix | None = None,
    during: Callable[[], None] | None = None,
) -> LoadRun:
    """One thread per client, sending until `seconds` have passed (or each has sent `mix.requests`), or until
    `during` returns."""
    submitters = [Submitter(i, c, base_url, mix or Mix()) for i, c in enumerate(clients)]
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in submitters]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        if during is None:
            deadline = started + seconds
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        else:
            during()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    elapsed = time.monotonic() - started
    crashes = [s.crash for s in submitters if s.crash]
    assert not crashes, crashes[0]
    assert not any(t.is_alive() for t in threads), "a submitter did not stop"
    sent = sorted((s for sub in submitters for s in sub.sent), key=lambda s: (s.submitter, s.seq))
    return LoadRun(sent, elapsed, submitters)


class HealthWatch:
    """Polls ingest's health a few times a second, in a thread, and keeps every answer."""

    def __init__(self, url: str, every: float = 0.25) -> None:
        self.url = url
        self.every = every
        self.samples: list[tuple[float, int | None, str | None, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self._stop.is_set():
                at = time.monotonic()
                try:
                    response = http.get(self.url)
                    body = response.json()
                    self.samples.append((at, response.status_code, body.get("status"), body.get("details")))
                except (httpx.HTTPError, ValueError) as exc:
                    self.samples.append((at, None, None, f"{type(exc).__name__}: {exc}"))
                self._stop.wait(self.every)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def between(self, start: float, end: float) -> list[tuple[float, int | None, str | None, Any]]:
        return [s for s in self.samples if start <= s[0] <= end]
