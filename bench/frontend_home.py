"""P7 of the staff-experience issue: the staff home page reaches first paint in under 1 s on localhost in Chromium
and transfers under 200 KB.

Loads the demo city into a throwaway SQLite data folder (or reuses one with --data), serves it with `citystat serve`
on a free port, and opens the home page N times as the analyst, DPW's liaison and DPW's head, each time in a fresh
browser context (a cold cache: every script, stylesheet and the board's JSON fetched again), signed in beforehand.
From the page's own Performance API it reads first contentful paint, when the board was on screen (the page's
"home-board" mark, after its one JSON request) and the bytes transferred (the document plus every resource).

The baseline is the floor of the same server and browser: a one-line HTML page with no stylesheet or script, served
by the same static mount from a copy of frontend/ (so that nothing is added to the real one). The lightest real staff
page, login.html (header, stylesheets, a form, no data), is measured as a second reference. Prints medians and the
home page's ratio to the baseline; figures only, no pass or fail (see bench/README.md).

    .venv/bin/python bench/frontend_home.py [--loads N] [--data DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from playwright import sync_api

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import ENGINES, record, throwaway_postgres  # noqa: E402
from bench.ingest_throughput import Servers, citystat, free_port  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "citystat-demo"  # services/ingest/accounts/demo.py
CHROMIUM = os.environ.get("CITYSTAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
BASELINE = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Baseline</title></head>\n" \
           "<body><p>CityStat baseline page.</p></body></html>\n"
MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const paint = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint");
  const board = performance.getEntriesByName("home-board")[0];
  return { fcp: paint ? paint.startTime : null, board: board ? board.startTime : null,
           bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
           requests: 1 + resources.length };
}"""
# (label, path, user or None, wait for): what is loaded and when it counts as done.
PAGES = [
    ("baseline (1-line HTML)", "/baseline.html", None, "p"),
    ("login.html (lightest staff page)", "/login.html", None, "#login-form"),
    ("home as analyst", "/", "analyst", "#content .home-grid"),
    ("home as dpw.liaison", "/", "dpw.liaison", "#content .home-grid"),
    ("home as dpw.head", "/", "dpw.head", "#content .home-grid"),
]


def sessions_for(browser, base: str, users: set[str]) -> dict[str, dict]:
    """One sign-in per user, its cookies reused by every cold load (sign-ins are rate limited and not what P7 times)."""
    states = {}
    for user in sorted(users):
        context = browser.new_context()
        answer = context.request.post(f"{base}/api/ingest/auth/login", data={"username": user, "password": PASSWORD})
        if not answer.ok:
            sys.exit(f"could not sign in as {user}: {answer.status} {answer.text()}")
        states[user] = context.storage_state()
        context.close()
    return states


def load(browser, base: str, path: str, state: dict | None, ready: str) -> dict:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, storage_state=state)
    try:
        page = context.new_page()
        page.goto(base + path)
        page.wait_for_selector(ready, timeout=30_000)
        page.wait_for_load_state("networkidle")
        return page.evaluate(MEASURE)
    finally:
        context.close()


def measure(tmp: Path, loads: int, *, data: Path | None = None, urls: dict[str, str] | None = None,
            demo_multiplier: int | None = None) -> dict[str, list[dict]]:
    """Every page's loads (label -> one dict per load), the demo city served from `data`, or loaded into `tmp`'s
    SQLite files or into the fresh databases `urls`."""
    if not os.path.exists(CHROMIUM):
        sys.exit(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CITYSTAT_CHROMIUM)")
    frontend = tmp / "frontend"
    shutil.copytree(ROOT / "frontend", frontend)
    (frontend / "baseline.html").write_text(BASELINE)
    env = {**os.environ, "CITYSTAT_DATA_DIR": str(data or tmp / "var"), "CITYSTAT_AS_OF": "2017-07-10",
           "CITYSTAT_FRONTEND_DIR": str(frontend),
           "CITYSTAT_RATE_LIMIT_PER_MINUTE": "100000", "CITYSTAT_RATE_LIMIT_BURST": "100000"}
    for name in ("metrics", "ingest", "reporting"):
        env.pop(f"CITYSTAT_{name.upper()}_DATABASE_URL", None)  # the demo's SQLite files, never a configured database
        if urls:
            env[f"CITYSTAT_{name.upper()}_DATABASE_URL"] = urls[name]
    servers = Servers(tmp, env)
    results: dict[str, list[dict]] = {}
    try:
        if data is None:
            print("loading the demo city into a temporary data folder...", flush=True)
            citystat(env, "migrate")
            citystat(env, "demo", *(["--records-multiplier", str(demo_multiplier)] if demo_multiplier else []))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        servers.start("app", [str(BIN / "citystat"), "serve", "--no-access-log", "--host", "127.0.0.1",
                              "--port", str(port)], f"{base}/api/metrics/health")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                states = sessions_for(browser, base, {user for _, _, user, _ in PAGES if user})
                for _label, path, user, ready in PAGES:
                    load(browser, base, path, states.get(user), ready)  # one unmeasured load: the server's warm-up
                for _ in range(loads):
                    # Interleaved, so that a slow moment of the machine falls on every page alike.
                    for label, path, user, ready in PAGES:
                        results.setdefault(label, []).append(load(browser, base, path, states.get(user), ready))
            finally:
                browser.close()
    finally:
        servers.stop_all()
    return results


def medians(rows: list[dict]) -> dict:
    boards = [r["board"] for r in rows if r["board"] is not None]
    return {"fcp": statistics.median(r["fcp"] for r in rows), "board": statistics.median(boards) if boards else None,
            "kb": statistics.median(r["bytes"] for r in rows) / 1024,
            "requests": statistics.median(r["requests"] for r in rows)}  # fmt: skip


def figures(results: dict[str, list[dict]], engine: str) -> list[dict]:
    """The goal holds for the home page of every user: the worst user's median is the figure."""
    base = medians(results[PAGES[0][0]])
    homes = {label: medians(results[label]) for label, path, *_ in PAGES if path == "/"}
    slowest = max(homes, key=lambda label: homes[label]["fcp"])
    heaviest = max(homes, key=lambda label: homes[label]["kb"])
    loads = len(results[PAGES[0][0]])
    every = ", ".join(f"{label.removeprefix('home as ')} {m['fcp']:.0f} ms" for label, m in homes.items())
    browser_only = "the browser's work on static files; the database feeds only the board's JSON, after first paint"
    return [
        record("P7 first paint", engine, homes[slowest]["fcp"], "ms", baseline=base["fcp"],
               what=f"staff home first contentful paint, median of {loads} cold loads, slowest user",
               baseline_what="1-line HTML page, same server and browser", goal={"max": 1000.0, "unit": "ms"},
               note=f"{every}; board shown {homes[slowest]['board']:.0f} ms ({slowest.removeprefix('home as ')})",
               engine_note=browser_only),
        record("P7 weight", engine, homes[heaviest]["kb"], "KB",
               what="staff home bytes transferred, cold cache, heaviest user", goal={"max": 200.0, "unit": "KB"},
               note=f"{homes[heaviest]['requests']:.0f} requests ({heaviest.removeprefix('home as ')})",
               engine_note=browser_only),
    ]  # fmt: skip


def report(results: dict[str, list[dict]], loads: int) -> None:
    base_fcp = medians(results[PAGES[0][0]])["fcp"]
    print(f"\nP7: {loads} cold loads per page, Chromium headless, localhost, demo city as of 2017-07-10 "
          "(medians; P7 asks first paint < 1000 ms and < 200 KB for the home page)")
    print(f"{'page':34} {'first paint':>12} {'x baseline':>11} {'board shown':>12} {'KB':>8} {'requests':>9}")
    for label, *_ in PAGES:
        m = medians(results[label])
        board = f"{m['board']:9.0f} ms" if m["board"] is not None else f"{'-':>12}"
        print(f"{label:34} {m['fcp']:9.0f} ms {m['fcp'] / base_fcp:10.2f}x {board} {m['kb']:8.1f} {m['requests']:9.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=15, help="cold loads per page (default 15)")
    parser.add_argument("--data", type=Path, help="a data folder the demo is already loaded into (else a new one)")
    parser.add_argument("--engine", choices=ENGINES, default="sqlite", help="where a new demo is loaded")
    parser.add_argument("--demo-multiplier", type=int, help="raw records per demo request (citystat demo's default)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CITYSTAT_CHROMIUM)"
    tmp = Path(tempfile.mkdtemp(prefix="citystat-p7-"))
    try:
        with contextlib.ExitStack() as stack:
            urls = None
            if args.engine == "postgresql" and args.data is None:
                urls = stack.enter_context(throwaway_postgres()).databases("bench")
            results = measure(tmp, args.loads, data=args.data, urls=urls, demo_multiplier=args.demo_multiplier)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, args.loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
