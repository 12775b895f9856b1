"""Accessibility of every page (issue 8, section 4): axe-core finds no serious or critical violation at desktop
and phone widths, nothing scrolls sideways at 375 px, and every page works by keyboard alone.

The pages are those tools/screenshots.py photographs, with its query strings: every frontend/*.html and
frontend/public/*.html, a page added later included, each signed in as the role it is meant for, on the demo
city (`live_server`, read-only). The keyboard journeys that write (signing in, saving the due grid, the
correction dialog) run on staff_site.py's own server and department, so the demo city is left as it was.

axe-core is vendored in tests/frontend/vendor/axe-core/ (see its README) and injected into each page by the test;
the app never serves it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from services.common.db import Database
from services.ingest.accounts.models import StaffUser
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.frontend.staff_site import TIMEOUT_MS, expect, row, value_input
from tools.screenshots import DEPARTMENT, OVERFLOWING, WIDTHS, Shot, shots, with_unlisted_pages

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
MAX_TABS = 150
# The demo city's ingest database has no demo accounts: this module makes its own, one per role, with names
# no other test uses.
ACCOUNTS = {
    "analyst": ("a11y.analyst", "analyst", None),
    "admin": ("a11y.admin", "admin", None),
    "liaison": ("a11y.liaison", "liaison", DEPARTMENT),
    "head": ("a11y.head", "head", DEPARTMENT),
}
PAGES = with_unlisted_pages(shots(None))


def role_of(shot: Shot) -> str | None:
    """tools/screenshots.py names the demo accounts; this module's account of the same role stands in."""
    if shot.user is None:
        return None
    return shot.user.rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def states(browser, live_server, demo_database_set) -> dict[str | None, dict | None]:
    """One sign-in per role, its cookies reused by every page of that role (None: signed out)."""
    ingest = Database(demo_database_set.urls["ingest"])
    try:
        with ingest.session() as session:
            existing = set(session.exec(select(StaffUser.username)))
        for username, role, department in ACCOUNTS.values():
            if username not in existing:
                make_user(ingest, username, role, department)
    finally:
        ingest.dispose()
    found: dict[str | None, dict | None] = {None: None}
    for role, (username, _, _) in ACCOUNTS.items():
        context = browser.new_context()
        try:
            answer = context.request.post(
                f"{live_server}/api/ingest/auth/login", data={"username": username, "password": DEFAULT_PASSWORD}
            )
            assert answer.ok, f"{username}: {answer.status} {answer.text()}"
            found[role] = context.storage_state()
        finally:
            context.close()
    return found


@pytest.fixture(scope="module")
def briefing_query(browser, live_server, states) -> str:
    """briefing.html shows one briefing: the demo's first, if it has one."""
    context = browser.new_context(storage_state=states["analyst"])
    try:
        answer = context.request.get(f"{live_server}/api/reporting/briefings")
        items = answer.json().get("items", []) if answer.ok else []
    finally:
        context.close()
    return f"id={items[0]['id']}" if items else ""


# ---- settling, axe, width, keyboard -----------------------------------------------------------


class Network:
    """Requests in flight, to wait until a page has stopped fetching (cheaper than networkidle's 500 ms), and the
    script errors met: a page whose script failed shows axe nothing worth checking."""

    def __init__(self, page) -> None:
        self.pending = 0
        self.script_errors: list[str] = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, _request) -> None:
        self.pending += 1

    def _end(self, _request) -> None:
        self.pending -= 1


def settle(page, network: Network) -> None:
    """Until nothing says it is loading and no request has been in flight for a moment."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(40)
        quiet = quiet + 1 if network.pending <= 0 else 0
    page.wait_for_function("() => !document.querySelector('[aria-busy=true], .loading')", timeout=TIMEOUT_MS)
    page.evaluate("() => document.fonts.ready")


# Started in the page and collected later, so that axe checks one width while the test loads or walks the other.
START_AXE = """(serious) => {
  window.__axe = axe.run(document, { resultTypes: ["violations"], iframes: false }).then((result) =>
    result.violations.filter((v) => serious.includes(v.impact)).map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
    })));
}"""


def start_axe(page) -> None:
    page.evaluate(START_AXE, list(SERIOUS))


def axe_violations(page, where: str) -> list[str]:
    found = page.evaluate("() => window.__axe")
    return [
        f"{where}: axe {v['id']} ({v['impact']}: {v['help']}) at "
        + ", ".join(v["targets"][:8])
        + (f" and {len(v['targets']) - 8} more" if len(v["targets"]) > 8 else "")
        for v in found
    ]


# Every focus the keyboard gives, as it happens: what, where, whether it can be seen, and how it is drawn.
WATCH_FOCUS = """() => {
  window.__stops = [];
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].slice(0, 2).map((c) => "." + c).join("")
    + ((e.textContent || e.value || "").trim() ? ` "${(e.textContent || e.value).trim().slice(0, 30)}"` : "");
  window.__describe = describe;
  document.addEventListener("focusin", (event) => {
    const e = event.target;
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    const shown = box.width > 1 && box.height > 1 && style.visibility !== "hidden"
      && box.right > 0 && box.bottom + window.scrollY > 0 && box.left < document.documentElement.scrollWidth;
    window.__stops.push({ e, name: describe(e), shown,
      ring: [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join(" ") });
  }, true);
}"""

# Where the keyboard walk went wrong: a stop out of document order, one not visible, one drawn the same focused
# as not; and whether the walk came back to a place it had been (a cycle short of the end: a trap).
CHECK_STOPS = """() => {
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  // Past the end, Tab comes back to the first stop: the walk ends there.
  const wrap = window.__stops.findIndex((stop, i) => i > 0 && stop.e === window.__stops[0].e);
  const stops = wrap > 0 ? window.__stops.slice(0, wrap) : window.__stops;
  const problems = [];
  const seen = new Set();
  let cycle = null;
  stops.forEach((stop, i) => {
    const style = getComputedStyle(stop.e);
    const plain = [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join(" ");
    if (!stop.shown) problems.push(`focus on ${stop.name}, which cannot be seen`);
    if (plain === stop.ring) problems.push(`no visible focus indicator on ${stop.name}`);
    const previous = stops[i - 1];
    if (previous && previous.e !== stop.e && seen.has(stop.e) && cycle === null) cycle = stop.name;
    if (previous && !seen.has(stop.e)
        && !(previous.e.compareDocumentPosition(stop.e) & Node.DOCUMENT_POSITION_FOLLOWING)) {
      problems.push(`focus went backwards from ${previous.name} to ${stop.name}`);
    }
    seen.add(stop.e);
  });
  return { problems: [...new Set(problems)], cycle, wrapped: wrap > 0, first: stops[0] ? stops[0].name : null,
           firstIsSkip: !!stops[0] && stops[0].e.matches("a.skip-link[href='#main']") };
}"""

# The last element the keyboard can reach, focused, to see that Tab then leaves the page.
FOCUS_LAST = """() => {
  const all = [...document.querySelectorAll(
    "a[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable='true']")];
  const reachable = all.filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length
    && getComputedStyle(e).visibility !== "hidden" && !e.closest("[inert], details:not([open]) > :not(summary)"));
  const last = reachable[reachable.length - 1];
  if (last) last.focus();
  return last ? window.__describe(last) : null;
}"""

# Tab from the last stop leaves the page for the browser's own controls: the document loses focus.
LEFT_PAGE = "() => !document.hasFocus() || !document.activeElement || document.activeElement === document.body"
# Back to the top: a page may have put focus on its first field (the sign-in form does); the next Tab starts
# from where focus last was, so the body takes it for a moment.
TO_TOP = """() => {
  document.body.tabIndex = -1;
  document.body.focus();
  document.body.removeAttribute("tabindex");
  window.scrollTo(0, 0);
}"""


def keyboard_walk(page, where: str) -> list[str]:
    """Tabs through the page from the top: the skip link first, every stop visible and visibly focused, in
    document order, and no trap (the walk leaves the page, or Tab from the last stop does)."""
    page.bring_to_front()  # the walk on the tab's previous page left it without focus
    page.evaluate(TO_TOP)
    page.evaluate(WATCH_FOCUS)
    left = False
    # Five presses between looks: a walk that left the page and came back in between is seen as the first stop
    # again.
    for _ in range(MAX_TABS // 5):
        for _ in range(5):
            page.keyboard.press("Tab")
        if page.evaluate(LEFT_PAGE):
            left = True
            break
    report = page.evaluate(CHECK_STOPS)
    problems = [f"{where}: keyboard: {p}" for p in report["problems"]]
    if not report["firstIsSkip"]:
        problems.append(f"{where}: keyboard: the first Tab stop is {report['first']}, not the skip link to #main")
    left = left or report["wrapped"]
    if report["cycle"]:
        problems.append(f"{where}: keyboard: focus came back to {report['cycle']} before leaving the page (a trap)")
    elif not left:
        last = page.evaluate(FOCUS_LAST)
        page.keyboard.press("Tab")
        if not page.evaluate(LEFT_PAGE):
            problems.append(f"{where}: keyboard: Tab from the last stop {last} does not leave the page (a trap)")
    return problems


def skip_link_works(page, where: str) -> list[str]:
    page.evaluate(TO_TOP)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    focused = page.evaluate("() => document.activeElement && document.activeElement.id")
    return [] if focused == "main" else [f"{where}: keyboard: the skip link moves focus to #{focused}, not #main"]


@pytest.fixture(scope="module")
def tabs(browser, states) -> Iterator[Callable[[str | None, int], tuple[object, Network]]]:
    """One browser tab per role and width, going from page to page (a new one per page costs more than the page)."""
    made: dict[tuple[str | None, int], tuple[object, Network]] = {}

    def tab(role: str | None, width: int) -> tuple[object, Network]:
        if (role, width) not in made:
            context = browser.new_context(
                viewport={"width": width, "height": WIDTHS[width]}, storage_state=states[role]
            )
            context.set_default_timeout(TIMEOUT_MS)
            # axe goes into every page the tab opens, registered once (sending its 650 KB to each page costs more
            # than the page); a script run as the document is created is not subject to the page's CSP.
            context.add_init_script(path=str(AXE))
            context.add_init_script(WATCH_POLICY)
            page = context.new_page()
            made[(role, width)] = (page, Network(page))
        return made[(role, width)]

    yield tab
    for page, _ in made.values():
        page.context.close()


# What the page's Content-Security-Policy refused (a script, style, frame or request the policy does not allow).
WATCH_POLICY = """window.__refused = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__refused.push(`${e.violatedDirective} ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));"""


def page_id(shot: Shot) -> str:
    """site-page, and the role where one page is walked as several (the home page)."""
    twice = sum(1 for s in PAGES if (s.site, s.page) == (shot.site, shot.page)) > 1
    return f"{shot.site}-{shot.page}" + (f"-as-{role_of(shot)}" if twice else "")


@pytest.mark.parametrize("shot", PAGES, ids=[page_id(s) for s in PAGES])
def test_page_is_accessible(shot, live_server, tabs, briefing_query):
    query = briefing_query if shot.site == "staff" and shot.page == "briefing" else shot.query
    folder = "/public/" if shot.site == "public" else "/"
    url = f"{live_server}{folder}{shot.page}.html" + (f"?{query}" if query else "")
    problems: list[str] = []
    where = {
        width: f"{shot.site}/{shot.page}.html" + (f" as {role_of(shot)}" if shot.user else "") + f" at {width}px"
        for width in WIDTHS
    }
    pages = {}
    for width in WIDTHS:
        page, network = pages[width] = tabs(role_of(shot), width)
        network.script_errors.clear()
        page.goto(url)
        settle(page, network)
        problems += [f"{where[width]}: script error: {error}" for error in network.script_errors]
        # Served under the app's Content-Security-Policy: whatever the page tried that the policy refused.
        problems += [f"{where[width]}: refused by the CSP: {v}" for v in page.evaluate("() => window.__refused")]
        start_axe(page)
    for width, (page, _) in pages.items():
        problems += axe_violations(page, where[width])
        if width < 600:
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > width:
                problems.append(
                    f"{where[width]}: scrolls sideways ({wide}px wide), past the edge: "
                    + ", ".join(page.evaluate(OVERFLOWING, width))
                )
            problems += skip_link_works(page, where[width])
        else:
            problems += keyboard_walk(page, where[width])
    assert problems == [], "\n".join(problems)


# ---- keyboard-only journeys, no mouse -------------------------------------------------------------


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Presses Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab")


def test_keyboard_only_sign_in_due_grid_and_dialog(browser, site, city):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=str(AXE))
    try:
        page = context.new_page()
        k = city.keys
        # Signing in: a staff page sends to the sign-in form, which comes back to it.
        page.goto(f"{site.base}/due.html")
        expect(page).to_have_url(re.compile(r"/login\.html\?next="))
        tab_to(page, "#username")
        page.keyboard.type(city.liaison)
        page.keyboard.press("Tab")
        expect(page.locator("#password")).to_be_focused()
        page.keyboard.type(DEFAULT_PASSWORD)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/due\.html$"))
        expect(value_input(page, k["on_time"])).to_be_visible()

        # The due grid: a value typed in, saved with Enter on the button.
        tab_to(page, f'#entry-grid tbody tr[data-key="{k["on_time"]}"] input.value-input')
        page.keyboard.type("95")
        tab_to(page, "#save")
        page.keyboard.press("Enter")
        receipt = page.locator("#receipt")
        expect(receipt).to_be_focused()
        expect(receipt.locator('[data-count="accepted"]')).to_have_text("1")
        expect(row(page, k["on_time"]).locator(".stored-value")).to_have_text("95%")
        start_axe(page)
        assert axe_violations(page, "due.html after saving") == []

        # A dialog: opened with Space on its button, closed with Escape, focus back on the button.
        opener = f'#entry-grid tbody tr[data-key="{k["graffiti"]}"] .value-cell button'
        tab_to(page, opener)
        page.keyboard.press("Space")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        assert page.evaluate("() => !!document.activeElement.closest('dialog')"), "focus is not in the dialog"
        start_axe(page)
        assert axe_violations(page, "due.html with the correction dialog open") == []
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(page.locator(opener)).to_be_focused()
    finally:
        context.close()
