"""A PNG of every page of the staff app and the public site, at desktop and phone widths (issue 8, section 6).

Loads the demo city into a throwaway SQLite data directory, serves it on a free port, and drives Debian's
Chromium with Playwright: each staff page signed in as the role it is meant for (the login page signed out),
each public page anonymously, at 1360x900 and 375x812, full page, into screenshots/<site>-<page>-<width>.png.
Prints the script errors, console errors and failed requests seen on each page, then how many PNGs it wrote.
It is for looking at, not a test: it exits non-zero only when it could not run.

    .venv/bin/python tools/screenshots.py [--out DIR] [--only PAGE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright import sync_api

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest_throughput import Servers, citystat, free_port  # noqa: E402

BIN = Path(sys.executable).parent
AS_OF = "2017-07-10"
PASSWORD = "citystat-demo"  # services/ingest/accounts/demo.py: the demo accounts' published password
CHROMIUM = os.environ.get("CITYSTAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WIDTHS = {1360: 900, 375: 812}
SETTLE_MS = 20_000
# A metric computed from raw records (so its page links to them and drilldown has rows) and its department.
METRIC = "dpw.service_requests_on_time"
DEPARTMENT = "DPW"
PERIOD = "2017-06"


@dataclass
class Shot:
    site: str  # "staff" or "public"
    page: str  # file name without .html
    query: str = ""
    user: str | None = None  # None: signed out
    name: str = ""  # the PNGs' name, site-page unless set (one page photographed as several users)

    @property
    def label(self) -> str:
        return self.name or f"{self.site}-{self.page}"


@dataclass
class Seen:
    problems: list[str] = field(default_factory=list)


def shots(briefing_id: int | None) -> list[Shot]:
    analyst, liaison, head = "analyst", f"{DEPARTMENT.lower()}.liaison", f"{DEPARTMENT.lower()}.head"
    staff = [
        Shot("staff", "login"),
        Shot("staff", "index", user=analyst, name="staff-home-analyst"),
        Shot("staff", "index", user=liaison, name="staff-home-liaison"),
        Shot("staff", "index", user=head, name="staff-home-head"),
        Shot("staff", "departments", user=analyst),
        Shot("staff", "department", f"code={DEPARTMENT}", analyst),
        Shot("staff", "metric", f"key={METRIC}", analyst),
        Shot("staff", "drilldown", f"metric={METRIC}&period={PERIOD}", analyst),
        Shot("staff", "catalogue", user=analyst),
        Shot("staff", "metric-editor", f"key={METRIC}", analyst),
        Shot("staff", "library", user=analyst),
        Shot("staff", "due", f"department={DEPARTMENT}", liaison),
        Shot("staff", "upload", f"department={DEPARTMENT}", liaison),
        Shot("staff", "records", user=analyst),
        Shot("staff", "analytics", user=analyst),
        Shot("staff", "completeness", user=analyst),
        Shot("staff", "approvals", f"department={DEPARTMENT}", head),
        Shot("staff", "briefings", user=analyst),
        Shot("staff", "briefing", f"id={briefing_id}" if briefing_id else "", analyst),
        Shot("staff", "commitments", user=analyst),
        Shot("staff", "meetings", user=analyst),
        Shot("staff", "budget", user=analyst),
        Shot("staff", "admin", user="admin"),
        Shot("staff", "audit", user="admin"),
    ]
    public = [
        Shot("public", "index"),
        Shot("public", "metric", f"key={METRIC}"),
        Shot("public", "catalogue"),
        Shot("public", "budget"),
        Shot("public", "hearing", f"department={DEPARTMENT}"),
    ]
    return staff + public


def with_unlisted_pages(listed: list[Shot]) -> list[Shot]:
    """A page added to frontend/ without a line in shots() is still photographed, as the analyst (staff) or
    signed out (public), with no query string."""
    extra = []
    for site, folder in (("staff", ROOT / "frontend"), ("public", ROOT / "frontend" / "public")):
        missing = sorted({p.stem for p in folder.glob("*.html")} - {s.page for s in listed if s.site == site})
        extra += [Shot(site, page, user="analyst" if site == "staff" else None) for page in missing]
    return listed + extra


def first_briefing(base: str) -> int | None:
    """The id of a demo briefing, read as the analyst; None when the demo has none."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login = urllib.request.Request(f"{base}/api/ingest/auth/login", method="POST",
                                   data=json.dumps({"username": "analyst", "password": PASSWORD}).encode(),
                                   headers={"Content-Type": "application/json"})
    opener.open(login, timeout=10).close()
    with opener.open(f"{base}/api/reporting/briefings", timeout=10) as answer:
        items = json.load(answer).get("items", [])
    return items[0]["id"] if items else None


def settle(page) -> None:
    """Waits until nothing says it is loading, then for the fonts and a frame, so the shot is of the settled page."""
    try:
        page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
    except sync_api.TimeoutError:
        pass
    page.wait_for_function("() => !document.querySelector('[aria-busy=true], .loading')", timeout=SETTLE_MS)
    # Scrolled through once, so that frames and images below the fold load as they would for a reader.
    page.evaluate("""async () => {
      for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight) {
        window.scrollTo(0, y);
        await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)));
      }
      window.scrollTo(0, 0);
    }""")
    # Headless Chromium leaves an iframe blank in a full-page shot unless it is on screen, and has been painted
    # there, when the shot is taken; so a page with frames is photographed scrolled to its last frame (the full-page
    # shot starts at the top of the document wherever the page is scrolled).
    for frame in page.locator("iframe").all():
        frame.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
    try:
        page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
    except sync_api.TimeoutError:
        pass
    page.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(150)


# The outermost elements that reach past the viewport's right edge, as tag#id.class, to say what to fix.
OVERFLOWING = """(width) => {
  const past = (e) => e.getBoundingClientRect().right > width + 1;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].map((c) => "." + c).join("");
  const found = [...document.body.querySelectorAll("*")].filter((e) => past(e) && !past(e.parentElement));
  return [...new Set(found.map(name))].slice(0, 6);
}"""


def watch(page, seen: Seen) -> None:
    page.on("pageerror", lambda e: seen.problems.append(f"script error: {e}"))
    page.on("console", lambda m: m.type == "error" and seen.problems.append(f"console: {m.text}"))
    page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
            and seen.problems.append(f"failed: {r.method} {r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and seen.problems.append(f"HTTP {r.status} {r.url}"))


def signed_in(browser, base: str, user: str, sessions: dict[str, dict]) -> dict:
    """The cookies of one sign-in per user, reused by every page: sign-ins per user are rate limited."""
    if user not in sessions:
        context = browser.new_context()
        try:
            answer = context.request.post(f"{base}/api/ingest/auth/login",
                                          data={"username": user, "password": PASSWORD})
            if not answer.ok:
                raise RuntimeError(f"could not sign in as {user}: {answer.status} {answer.text()}")
            sessions[user] = context.storage_state()
        finally:
            context.close()
    return sessions[user]


def capture(browser, base: str, shot: Shot, out: Path, sessions: dict[str, dict]) -> tuple[list[Path], list[str]]:
    written, problems = [], []
    state = signed_in(browser, base, shot.user, sessions) if shot.user else None
    for width, height in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height}, storage_state=state)
        try:
            page = context.new_page()
            seen = Seen()
            watch(page, seen)
            prefix = "/public/" if shot.site == "public" else "/"
            url = f"{base}{prefix}{shot.page}.html" + (f"?{shot.query}" if shot.query else "")
            page.goto(url)
            try:
                settle(page)
            except sync_api.TimeoutError:
                seen.problems.append(f"still loading after {SETTLE_MS // 1000} s")
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > width:
                seen.problems.append(f"scrolls sideways: {wide}px wide at {width}px, past the edge: "
                                     + ", ".join(page.evaluate(OVERFLOWING, width)))
            path = out / f"{shot.label}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(path)
            problems += [f"{width}px {p}" for p in dict.fromkeys(seen.problems)]
        finally:
            context.close()
    return written, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the PNGs")
    parser.add_argument("--only", nargs="*", default=[],
                        help="only these pages: site-page (staff-metric) or a shot name (staff-home-head)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CITYSTAT_CHROMIUM)"
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="citystat-screenshots-"))
    env = {**os.environ, "CITYSTAT_DATA_DIR": str(tmp / "var"), "CITYSTAT_AS_OF": AS_OF,
           # One browser signs in dozens of times from one address; the login limit is for people.
           "CITYSTAT_RATE_LIMIT_PER_MINUTE": "100000", "CITYSTAT_RATE_LIMIT_BURST": "100000",
           "CITYSTAT_PUBLIC_RATE_LIMIT_PER_MINUTE": "100000", "CITYSTAT_PUBLIC_RATE_LIMIT_BURST": "100000"}
    for name in ("CITYSTAT_METRICS_DATABASE_URL", "CITYSTAT_INGEST_DATABASE_URL", "CITYSTAT_REPORTING_DATABASE_URL"):
        env.pop(name, None)  # the demo goes to SQLite in the temporary folder, never a configured database
    servers = Servers(tmp, env)
    written: list[Path] = []
    report: dict[str, list[str]] = {}
    try:
        print("loading the demo city into a temporary SQLite data folder...", flush=True)
        citystat(env, "migrate")
        citystat(env, "demo")
        citystat(env, "notify")  # as make run does: the demo's reminders, overdue notices and digests, in the app
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        servers.start("app", [str(BIN / "citystat"), "serve", "--no-access-log", "--host", "127.0.0.1",
                              "--port", str(port)], f"{base}/api/metrics/health")
        listed = with_unlisted_pages(shots(first_briefing(base)))
        if args.only:
            listed = [s for s in listed if f"{s.site}-{s.page}" in args.only or s.label in args.only]
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            sessions: dict[str, dict] = {}
            try:
                for shot in listed:
                    name = shot.label
                    try:
                        files, problems = capture(browser, base, shot, args.out, sessions)
                    except Exception as error:  # one broken page should not cost the others their pictures
                        files, problems = [], [f"not captured: {type(error).__name__}: {error}"]
                    written += files
                    report[name] = problems
                    print(f"  {name}: {len(files)} PNG{'s' if len(files) != 1 else ''}"
                          + (f", {len(problems)} problem(s)" if problems else ""), flush=True)
            finally:
                browser.close()
    finally:
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nProblems seen per page:")
    for name, problems in report.items():
        if problems:
            print(f"  {name}:")
            for problem in problems:
                print(f"    {problem}")
    if not any(report.values()):
        print("  none")
    print(f"\n{len(written)} PNGs written to {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
