"""Requests/s of POST /api/ingest/submissions next to a bare FastAPI hello world, measured in the same run.

Prints figures only; exits non-zero when the application answered more than 1% of requests with errors,
so that a broken benchmark is visible. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from figures import ENGINES, record, throwaway_postgres  # noqa: E402

INGEST_PATH = "/api/ingest/submissions"
SCORECARD_PATH = "/api/reporting/departments/DPW/scorecard?period=2017-06"
MAX_ERROR_RATE = 0.01
# One DPW row per request; wrk's Lua puts a new value in place of %.4f each time.
POST_BODY = json.dumps({"observations": [{"metric": "dpw.service_requests_on_time", "period": "2017-06",
                                          "value": 0.95}]}).replace("0.95", "%.4f")

# Every request carries a new Idempotency-Key (a replayed key is answered from the store without work) and a
# new value, so metrics really updates the row. response() tallies exact statuses: a 202 means "stored, but
# metrics unreachable", which wrk would count as a success.
POST_LUA = """
threads = {}
counter, statuses, sample = 0, {}, nil

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + tid)
  prefix = string.format("bench-%d-%d-%d-", tid, os.time(), math.random(1, 1000000000))
end

function request()
  counter = counter + 1
  local body = string.format(BODY, 0.90 + math.random() * 0.09)
  local headers = {["Authorization"] = AUTH, ["Content-Type"] = "application/json",
                   ["Idempotency-Key"] = prefix .. counter}
  return wrk.format("POST", PATH, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 201 and sample == nil then sample = status .. " " .. string.sub(body, 1, 300) end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
    local s = thread:get("sample")
    if s then io.write("SAMPLE ", (string.gsub(s, "\\n", " ")), "\\n") end
  end
  for status, n in pairs(total) do io.write("STATUS ", status, " ", n, "\\n") end
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def parse_wrk(out: str) -> dict:
    """The figures we print, from wrk --latency's text report."""
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": to_ms(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1)),
        "p99": to_ms(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
        "statuses": dict(re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)),
        "sample": re.findall(r"^SAMPLE (.*)$", out, re.M),
    }


class Servers:
    """Subprocesses in their own sessions, so that stopping one kills its whole group, even after Ctrl-C."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env, self.procs = tmp, env, []

    def start(self, name: str, cmd: list[str], health_url: str) -> subprocess.Popen:
        return self.wait_healthy(name, self.launch(name, cmd), health_url)

    def launch(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def wait_healthy(self, name: str, proc: subprocess.Popen, health_url: str) -> subprocess.Popen:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                sys.exit(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                with urllib.request.urlopen(health_url, timeout=2) as answer:
                    if answer.status == 200:
                        return proc
            except OSError:
                time.sleep(0.1)
        sys.exit(f"{name} not healthy at {health_url} within 60 s:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 30) -> str:
        return "\n".join((self.tmp / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            try:
                self.stop(proc)
            except ProcessLookupError:
                pass


def run_wrk(args: argparse.Namespace, url: str, lua: Path | None = None) -> dict:
    # --timeout 10s: wrk's 2 s default would drop slow requests from the latency figures as "timeouts".
    base = ["wrk", f"-t{args.threads}", f"-c{args.connections}", "--timeout", "10s", "--latency"]
    base += ["-s", str(lua)] if lua else []
    # A short unmeasured run first, so start-up costs (imports, pools, caches) do not count.
    warmup = subprocess.run([*base, f"-d{args.warmup}s", url], check=True, capture_output=True, text=True).stdout
    out = subprocess.run([*base, f"-d{args.duration}s", url], check=True, capture_output=True, text=True).stdout
    result = parse_wrk(out)
    result["sent"] = result["requests"] + parse_wrk(warmup)["requests"]
    return result


def group_commit_figures(port: int) -> str:
    """What ingest's health says of its group commit: submissions per group and time per group."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ingest/health", timeout=10) as answer:
        details = json.loads(answer.read())["details"]
    return "; ".join(f"{k.removeprefix('group commit, ')}: {v}" for k, v in details.items() if k.startswith("group"))


def citystat(env: dict[str, str], *cmd: str) -> str:
    done = subprocess.run([str(BIN / "citystat"), *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"citystat {' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def measure(tmp: Path, *, duration: int = 10, warmup: int = 1, connections: int = 32, threads: int = 2,
            urls: dict[str, str] | None = None, demo_multiplier: int | None = None) -> dict:
    """Every scenario, one server at a time, on the demo city in `tmp` (SQLite files there, or the fresh databases
    `urls`): the raw figures `report` prints and `figures` turns into records."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run `apt-get install -y --no-install-recommends wrk` (Debian) and retry.")
    args = argparse.Namespace(duration=duration, warmup=warmup, connections=connections, threads=threads)
    env = {**os.environ, "CITYSTAT_DATA_DIR": str(tmp / "var"), "CITYSTAT_AS_OF": "2017-07-10",
           "CITYSTAT_MAX_BODY_BYTES": "10000000", "CITYSTAT_MAX_ROWS_PER_SUBMISSION": "100000",
           # One client sends everything here: the per-token rate limit would measure itself, not ingest.
           "CITYSTAT_RATE_LIMIT_PER_MINUTE": "100000000", "CITYSTAT_RATE_LIMIT_BURST": "1000000"}
    for name in ("ingest", "metrics", "reporting"):
        env.pop(f"CITYSTAT_{name.upper()}_DATABASE_URL", None)
        if urls:
            env[f"CITYSTAT_{name.upper()}_DATABASE_URL"] = urls[name]
    ingest_url = urls["ingest"] if urls else f"sqlite:///{tmp / 'var' / 'ingest.db'}"
    servers = Servers(tmp, env)
    results: dict[str, dict] = {}
    try:
        citystat(env, "migrate")
        # The raw service requests of the demo play no part here; fewer of them only load faster.
        citystat(env, "demo", *(["--records-multiplier", str(demo_multiplier)] if demo_multiplier else []))
        token = citystat(env, "token", "create", "--department", "DPW", "--name", "bench").strip().splitlines()[-1]

        # One server at a time, so the two never compete for the same cores.
        port = free_port()
        hello = servers.start("hello", [sys.executable, str(ROOT / "bench" / "hello_app.py"), str(port)],
                              f"http://127.0.0.1:{port}/hello")
        results["hello world GET"] = run_wrk(args, f"http://127.0.0.1:{port}/hello")
        servers.stop(hello)

        # The same POST against the route's shape doing no work: the most any submission route could do here.
        port = free_port()
        bound = servers.start("bound", [sys.executable, str(ROOT / "bench" / "bound_app.py"), str(port)],
                              f"http://127.0.0.1:{port}/docs")
        bound_lua = tmp / "bound.lua"
        bound_lua.write_text(f"PATH = \"/submit\"\nAUTH = \"Bearer unchecked\"\n"
                             f"BODY = {json.dumps(POST_BODY)}\n{POST_LUA}")
        results["FastAPI bound POST"] = run_wrk(args, f"http://127.0.0.1:{port}/submit", bound_lua)
        servers.stop(bound)

        port = free_port()
        app = servers.start("app", [str(BIN / "citystat"), "serve", "--no-access-log",
                                    "--host", "127.0.0.1", "--port", str(port)],
                            f"http://127.0.0.1:{port}/api/ingest/health")
        lua = tmp / "post.lua"
        lua.write_text(f"PATH = {json.dumps(INGEST_PATH)}\nAUTH = {json.dumps('Bearer ' + token)}\n"
                       f"BODY = {json.dumps(POST_BODY)}\n{POST_LUA}")
        results["ingest POST"] = run_wrk(args, f"http://127.0.0.1:{port}{INGEST_PATH}", lua)
        results["ingest POST"]["group commit"] = group_commit_figures(port)
        results["scorecard GET"] = run_wrk(args, f"http://127.0.0.1:{port}{SCORECARD_PATH}")
        servers.stop(app)
        app_log = (tmp / "app.log").read_text(errors="replace").splitlines()

        # As deployed (docker-compose): ingest and metrics as separate processes, one worker each.
        metrics_port, ingest_port = free_port(), free_port()
        split_env = {**env, "CITYSTAT_METRICS_URL": f"http://127.0.0.1:{metrics_port}/api/metrics",
                     "CITYSTAT_INTERNAL_TOKEN": secrets.token_urlsafe(32)}
        servers.env = split_env
        # Both start at once (start-up is not measured; most of it is importing): then each is waited for.
        metrics = servers.launch("metrics", [str(BIN / "citystat"), "serve", "--service", "metrics",
                                             "--no-access-log", "--port", str(metrics_port)])
        ingest = servers.launch("ingest", [str(BIN / "citystat"), "serve", "--service", "ingest", "--no-access-log",
                                           "--port", str(ingest_port)])
        servers.wait_healthy("metrics", metrics, f"http://127.0.0.1:{metrics_port}/api/metrics/health")
        servers.wait_healthy("ingest", ingest, f"http://127.0.0.1:{ingest_port}/api/ingest/health")
        results["ingest POST, split"] = run_wrk(args, f"http://127.0.0.1:{ingest_port}{INGEST_PATH}", lua)
        results["ingest POST, split"]["group commit"] = group_commit_figures(ingest_port)
        servers.stop(ingest)
        servers.stop(metrics)
        app_log += (tmp / "ingest.log").read_text(errors="replace").splitlines()
        app_log += (tmp / "metrics.log").read_text(errors="replace").splitlines()
        # Proof that the keys were unique: a replayed key would be answered without storing a submission.
        engine = sa.create_engine(ingest_url)
        try:
            with engine.connect() as connection:
                stored = connection.execute(sa.text("SELECT count(*) FROM submission")).scalar_one()
        finally:
            engine.dispose()
    finally:
        servers.stop_all()
    return {"results": results, "stored": stored, "app_log": app_log, "args": args,
            "database": "SQLite" if ingest_url.startswith("sqlite") else "PostgreSQL"}  # fmt: skip


def failures(measured: dict) -> list[str]:
    """What makes the run not count: too many errors, nothing served, or keys replayed."""
    results = measured["results"]
    scenarios = ("FastAPI bound POST", "ingest POST", "ingest POST, split", "scorecard GET")
    out = [f"more than {MAX_ERROR_RATE:.0%} errors in {n}" for n in scenarios
           if results[n]["errors"] > MAX_ERROR_RATE * max(results[n]["requests"], 1) or results[n]["requests"] == 0]
    if measured["stored"] < results["ingest POST"]["sent"] + results["ingest POST, split"]["sent"]:
        out.append("fewer submissions stored than POSTs answered: keys were replayed")
    return out


def figures(measured: dict, engine: str) -> list[dict]:
    results = measured["results"]
    hello, ingest = results["hello world GET"], results["ingest POST"]
    args = measured["args"]
    load = f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, 1 uvicorn worker"
    broken = failures(measured)
    hello_what = "hello world GET (bench/hello_app.py)"
    out = [
        record("P2", engine, ingest["rps"], "req/s", baseline=hello["rps"], baseline_what=hello_what,
               what="POST /api/ingest/submissions, one process", goal={"ratio_at_least": 0.3},
               note=f"{load}; {ingest['errors']} errors"),
        record("P2 p99", engine, ingest["p99"], "ms", baseline=hello["p99"], baseline_what=f"{hello_what} p99",
               what="p99 of the same POSTs", goal={"max": 50.0, "unit": "ms"}),
        record("P2 bound", engine, results["FastAPI bound POST"]["rps"], "req/s", baseline=hello["rps"],
               baseline_what=hello_what, what="the route's shape doing no work (bench/bound_app.py)",
               note="the ceiling of any submission route on FastAPI", engine_note="no database: bench/bound_app.py"),
        record("P2 split", engine, results["ingest POST, split"]["rps"], "req/s", baseline=hello["rps"],
               baseline_what=hello_what, what="the same POST, ingest and metrics as separate processes"),
        record("P2 scorecard", engine, results["scorecard GET"]["rps"], "req/s", baseline=hello["rps"],
               baseline_what=hello_what, what="GET a department scorecard, one process"),
    ]  # fmt: skip
    if broken:
        for item in out[:2]:
            item["met"], item["note"] = False, f"RUN FAILED: {'; '.join(broken)}. {item['note']}"
    return out


def report(measured: dict) -> int:
    results, stored, app_log, args = measured["results"], measured["stored"], measured["app_log"], measured["args"]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0]
    print(f"CityStat throughput, {dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, uvicorn {version('uvicorn')}, "
          f"fastapi {version('fastapi')}, {wrk_version.strip()}")
    print(f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s (after {args.warmup}s warm-up), "
          f"{measured['database']}, 1 uvicorn worker each\n")
    print(f"{'scenario':<19} {'requests/s':>11} {'p50 ms':>9} {'p99 ms':>9} {'requests':>9} {'errors':>7}")
    for name, r in results.items():
        print(f"{name:<19} {r['rps']:>11.1f} {r['p50']:>9.2f} {r['p99']:>9.2f} {r['requests']:>9} {r['errors']:>7}")
    hello_rps = results["hello world GET"]["rps"]
    print()
    for name in ("FastAPI bound POST", "ingest POST", "ingest POST, split", "scorecard GET"):
        print(f"{name} = {results[name]['rps'] / hello_rps:.3f} x hello world")
    bound_rps = results["FastAPI bound POST"]["rps"]
    print(f"ingest POST = {results['ingest POST']['rps'] / bound_rps:.3f} x the FastAPI bound")
    for name in ("ingest POST", "ingest POST, split"):
        print(f"{name} group commit: {results[name]['group commit']}")
    ingest = results["ingest POST"]
    split = results["ingest POST, split"]
    print(f"\ningest statuses: {', '.join(f'{s}: {n}' for s, n in sorted(ingest['statuses'].items())) or 'none'}")
    print(f"submissions stored: {stored} for {ingest['sent'] + split['sent']} POSTs answered to wrk (both runs, "
          "warm-ups included; a few more may have been in flight when wrk stopped)")
    for sample in ingest["sample"]:
        print(f"  first non-201 answer: {sample}")
    trouble = [line for line in app_log if re.search(r"error|traceback|locked|warning", line, re.I)]
    print(f"app log: {len(trouble)} error/warning lines" + "".join(f"\n  {line}" for line in trouble[:5]))
    broken = failures(measured)
    for failure in broken:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if broken else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per scenario (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--engine", choices=ENGINES, default="sqlite")
    parser.add_argument("--demo-multiplier", type=int, help="raw records per demo request (citystat demo's default)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: run `apt-get install -y --no-install-recommends wrk` (Debian) and retry.",
              file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="citystat-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            urls = None
            if args.engine == "postgresql":
                urls = stack.enter_context(throwaway_postgres()).databases("bench")
            measured = measure(tmp, duration=args.duration, warmup=args.warmup, connections=args.connections,
                               threads=args.threads, urls=urls, demo_multiplier=args.demo_multiplier)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report(measured)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the finally in main() has already stopped the servers
        sys.exit("interrupted")
