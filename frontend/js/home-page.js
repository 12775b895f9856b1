// "./" (index.html): the signed-in person's board, from one request (GET /api/reporting/home). A liaison, a head
// or a department's viewer sees their department's: what is due, what is late, what changed, the analysts' open
// questions (a head also the scorecard and open commitments); analysts, administrators and citywide viewers see
// the city's: off target, statistical signals, missing data, meetings and briefings. Each section is a few lines
// with a link to the page that has them all. Kept small for P7 (first paint < 1 s, < 200 KB): no charts here.

import { CSRF_COOKIE, getJSON, readCookie } from "./api.js";
import { formatChange, formatDate, formatValue, isNegligible } from "./format.js";
import { formatPeriod } from "./periods.js";
import { periodLine } from "./page-common.js";
import { requireUser, ROLE_LABELS } from "./session.js";
import { h, pageHref, showContent, showError, showLoading, statusBadge } from "./ui.js";

const content = document.getElementById("content");

const metricLink = (key, name) => h("a", { href: pageHref("metric.html", { key }) }, name || key);
const meta = (...parts) => h("span", { class: "home-meta" }, parts.filter(Boolean).join(" · "));

/**
 * One section: a heading with the count, the first items (or a sentence when there are none), and a link to
 * the full page saying how many more it holds.
 */
function section(id, title, list, { empty, more, render, wrap = null, wide = false }) {
  const heading = h("h2", { id: `${id}-title` }, title, " ",
    h("span", { class: "home-count" }, `(${list.total})`));
  let body;
  if (!list.items.length) body = h("p", { class: "empty" }, empty);
  else body = wrap ? wrap(list.items) : h("ul", { class: "home-list" }, list.items.map((item) => h("li", {}, render(item))));
  const rest = list.total - list.items.length;
  const link = more ? h("p", { class: "home-more" },
    h("a", { href: more.href }, rest > 0 ? `${more.text} (${rest} more)` : more.text)) : null;
  return h("section", { class: `home-section panel${wide ? " home-wide" : ""}`, id, "aria-labelledby": `${id}-title` }, heading, body, link);
}

// ---- a department's board -------------------------------------------------------------------------------

function owed(item, late) {
  const when = late ? `${item.days_late} ${item.days_late === 1 ? "day" : "days"} late`
    : `due ${formatDate(item.due_date)}`;
  return [metricLink(item.metric, item.name), " ", meta(formatPeriod(item.period), when)];
}

function movement(item) {
  const way = isNegligible(item.change, item.unit) ? "same"
    : item.judgement === "improving" ? "better" : item.judgement === "worsening" ? "worse" : "same";
  return [
    metricLink(item.metric, item.name), " ",
    h("span", { class: "home-figure" }, `${formatValue(item.value, item.unit)} in ${formatPeriod(item.period, "short")}`),
    " ",
    h("span", { class: `change-${way}` }, `${formatChange(item.change, item.unit)} from ${formatPeriod(item.previous_period, "short")}`),
    item.judgement ? h("span", { class: "visually-hidden" }, ` (${item.judgement})`) : null,
    " ", meta(item.arrived_on ? `arrived ${formatDate(item.arrived_on)}` : null),
  ];
}

function question(item) {
  return [
    h("a", { href: item.url }, item.metric_name || item.metric), " ",
    meta(formatPeriod(item.period), `asked by ${item.asked_by} on ${formatDate(item.asked_at)}`),
    h("q", { class: "home-quote" }, item.body),
  ];
}

function scorecardTable(items) {
  return h("div", { class: "table-wrap" }, h("table", { class: "home-table" },
    h("caption", { class: "visually-hidden" }, "Each metric's latest value against its target"),
    h("thead", {}, h("tr", {}, ["Metric", "Period", "Value", "Target", "Status"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((m) => h("tr", {},
      h("th", { scope: "row" }, metricLink(m.metric, m.name), m.is_key ? h("span", { class: "tag" }, "Key") : null),
      h("td", {}, formatPeriod(m.period, "short")),
      h("td", {}, formatValue(m.value, m.unit)),
      h("td", {}, formatValue(m.target, m.unit)),
      h("td", {}, statusBadge(m.status)))))));
}

const COMMITMENT_STATUS = { on_track: "On track", at_risk: "At risk", open: "Open" };

function commitment(item) {
  return [
    item.metric ? metricLink(item.metric, item.metric_name) : h("strong", {}, "Action"), " ",
    h("span", {}, item.description), " ",
    meta(COMMITMENT_STATUS[item.status] || item.status, item.deadline ? `by ${formatDate(item.deadline)}` : null),
  ];
}

function meeting(item) {
  return [
    h("a", { href: "meetings.html" }, item.title), " ",
    meta(formatDate(item.held_on), item.kind === "cabinet" ? "Cabinet" : "Roundtable", item.departments.join(", ")),
  ];
}

function departmentBoard(board) {
  const code = board.department.code;
  const due = pageHref("due.html", { department: code });
  const parts = [
    section("home-due", "Due", board.due, {
      empty: "Nothing is due: every value for the periods that have ended is in.",
      more: { href: due, text: "Enter this period's values" }, render: (item) => owed(item, false) }),
    section("home-late", "Late", board.late, {
      empty: "Nothing is late.", more: { href: pageHref("completeness.html", { department: code }), text: "Completeness" },
      render: (item) => owed(item, true) }),
    section("home-changed", "What changed", board.changed, {
      empty: "No metric moved since the period before.",
      more: { href: pageHref("department.html", { code }), text: "The department's metrics" }, render: movement }),
    section("home-questions", "Open questions", board.questions, {
      empty: "No question from the analysts is waiting for an answer.", render: question }),
  ];
  if (board.scorecard) {
    parts.push(section("home-scorecard", "Scorecard", board.scorecard, {
      empty: "The department has no active metrics yet.",
      more: { href: pageHref("department.html", { code }), text: "Department page" }, wrap: scorecardTable, wide: true }));
  }
  if (board.commitments) {
    parts.push(section("home-commitments", "Open commitments", board.commitments, {
      empty: "No open commitments.", more: { href: "commitments.html", text: "All commitments" }, render: commitment }));
  }
  parts.push(section("home-meetings", "Upcoming meetings", board.meetings, {
    empty: "No meeting is planned.", more: { href: "meetings.html", text: "Meetings" }, render: meeting }));
  return parts;
}

// ---- the citywide board ---------------------------------------------------------------------------------

function offTarget(item) {
  return [
    metricLink(item.metric, item.name), item.is_key ? h("span", { class: "tag" }, "Key") : null, " ",
    h("span", { class: "home-figure" }, `${formatValue(item.value, item.unit)} against ${formatValue(item.target, item.unit)}`),
    " ", meta(item.department, formatPeriod(item.period, "short")),
  ];
}

function signal(item) {
  return [
    metricLink(item.metric, item.name), item.new ? h("span", { class: "tag" }, "New") : null, " ",
    meta(item.department), h("span", { class: "home-sentence" }, `${item.text}.`),
  ];
}

function missing(item) {
  return [
    h("a", { href: pageHref("completeness.html", { department: item.department }) }, item.name), " ",
    meta(`${item.missing} missing of ${item.expected} expected`, item.late ? `${item.late} arrived late` : null),
  ];
}

function briefing(item) {
  return [
    h("a", { href: pageHref("briefing.html", { id: item.id }) }, item.title), " ",
    meta(item.state === "draft" ? "Draft" : "Published",
      item.meeting_on ? `for the meeting on ${formatDate(item.meeting_on)}` : null,
      item.build_status === "failed" ? "build failed" : null),
  ];
}

function citywideBoard(board) {
  const months = `${formatPeriod(board.missing.start, "short")} to ${formatPeriod(board.missing.end, "short")}`;
  return [
    section("home-off-target", "Off target", board.off_target, {
      empty: "Every metric with a target is on or near it.",
      more: { href: "departments.html", text: "All departments" }, render: offTarget }),
    section("home-signals", "Statistical signals", board.signals, {
      empty: "No metric shows a signal beyond routine variation.",
      more: { href: "analytics.html", text: "Analytics" }, render: signal }),
    section("home-missing", `Missing data, ${months}`, board.missing, {
      empty: "Every department's values are in.",
      more: { href: "completeness.html", text: "Completeness" }, render: missing }),
    section("home-meetings", "Upcoming meetings", board.meetings, {
      empty: "No meeting is planned.", more: { href: "meetings.html", text: "Meetings" }, render: meeting }),
    section("home-briefings", "Briefings in preparation", board.briefings, {
      empty: "No briefing is being prepared.", more: { href: "briefings.html", text: "Briefings" }, render: briefing }),
  ];
}

async function main() {
  // The board is asked for at once, beside the header's "who is signed in", not after it: the page waits for one
  // round trip instead of two. Signed out (no CSRF cookie) it is not asked at all: the sign-in page comes first.
  const early = readCookie(CSRF_COOKIE) ? getJSON("/reporting/home") : null;
  early?.catch(() => {}); // a refusal is shown below, once the user is known
  const user = await requireUser();
  showLoading(content, "Loading your board…");
  let board;
  try {
    board = await (early || getJSON("/reporting/home"));
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  periodLine(board);
  const role = ROLE_LABELS[board.role] || board.role;
  document.getElementById("home-title").after(h("p", { class: "home-role" },
    h("strong", {}, board.department ? board.department.name : "Citywide"), ` · ${user.name}, ${role}`));
  showContent(content, h("div", { class: "home-grid" },
    board.board === "citywide" ? citywideBoard(board) : departmentBoard(board)));
  // When the board is on screen, for the P7 measurements (tests/frontend/test_home_page.py, bench/frontend_home.py).
  performance.mark("home-board");
}

main();
