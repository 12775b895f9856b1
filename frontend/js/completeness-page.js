// "completeness.html[?start=2017-01&end=2017-06][&department=DPW]": departments × months, each cell on time, late,
// missing or still due (in words and a shape, not colour alone); a department's metrics month by month with the
// day each value arrived; and the metrics that have gone stale. A value counts in the month its period ends in.

import { formatDate } from "./format.js";
import { performanceApi } from "./performance-api.js";
import { formatPeriod } from "./periods.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const detail = document.getElementById("detail");
const stale = document.getElementById("stale");

const CELL_LABELS = { on_time: "On time", late: "Late", missing: "Missing", due: "Due", none: "Nothing due" };
const CELL_ICONS = { on_time: "✓", late: "!", missing: "✕", due: "…", none: "–" };

const state = { start: "", end: "", report: null };

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 of 4 on time", "1 of 4 missing": the count behind a cell's status. */
function cellCount(cell) {
  if (!cell.expected) return "no values expected";
  const n = cell[cell.status] ?? 0;
  if (cell.status === "due") return `${n} of ${cell.expected} not yet due`;
  return `${n} of ${cell.expected} ${CELL_LABELS[cell.status].toLowerCase()}`;
}

function cellBox(status, ...lines) {
  return h("div", { class: `cell cell-${status}`, dataset: { status } },
    h("span", { class: "cell-label" }, h("span", { "aria-hidden": "true" }, `${CELL_ICONS[status]} `), CELL_LABELS[status]),
    lines.filter(Boolean).map((line) => h("span", { class: "cell-count" }, line)));
}

function legend() {
  return h("ul", { class: "legend", "aria-label": "Cell colours" },
    Object.keys(CELL_LABELS).map((s) => h("li", {}, h("span", { class: `swatch cell-${s}`, "aria-hidden": "true" }), CELL_LABELS[s])),
    h("li", {}, "A month counts the values whose period ends in it; the worst value sets the cell."));
}

function board(report) {
  const rows = report.departments.map((d) => {
    const button = h("button", { type: "button", class: "link-like", "aria-controls": "detail", dataset: { department: d.department } },
      d.name);
    button.addEventListener("click", () => choose(d.department, { push: true }));
    const t = d.totals;
    return h("tr", { dataset: { department: d.department } },
      h("th", { scope: "row" }, button, h("span", { class: "code" }, d.department)),
      d.cells.map((c) => h("td", { dataset: { month: c.month } }, cellBox(c.status, cellCount(c)))),
      h("td", { class: "total" }, t.expected ? `${t.on_time} of ${t.expected}` : "—"));
  });
  return h("div", { class: "table-wrap" },
    h("table", { class: "board", id: "board" },
      h("caption", {}, `Values by department and month, ${formatPeriod(report.start)} to ${formatPeriod(report.end)}. `
        + "Choose a department to see each metric."),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Department"),
        report.months.map((m) => h("th", { scope: "col" }, formatPeriod(m, "short"))),
        h("th", { scope: "col" }, "On time"))),
      h("tbody", {}, rows)));
}

const shortDate = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" });

function day(iso) {
  return shortDate.format(new Date(`${iso}T00:00:00Z`));
}

function valueLines(value) {
  const arrived = value.arrived_on ? `arrived ${day(value.arrived_on)}` : "not arrived";
  const late = value.days_late ? `${plural(value.days_late, "day")} ${value.status === "missing" ? "overdue" : "late"}` : null;
  // A month's value needs no name in its month's column; a week's or a quarter's does.
  return [/^\d{4}-\d{2}$/.test(value.period) ? null : formatPeriod(value.period, "short"),
    value.status === "due" ? `due ${day(value.due_date)}` : arrived, late];
}

function detailTable(report, name) {
  if (!report.metrics?.length) return h("p", { class: "empty" }, "This department has no active metrics to report in these months.");
  const rows = report.metrics.map((m) => {
    const byMonth = new Map();
    for (const v of m.values) byMonth.set(v.month, [...(byMonth.get(v.month) || []), v]);
    return h("tr", { dataset: { metric: m.metric } },
      h("th", { scope: "row" }, h("a", { href: pageHref("metric.html", { key: m.metric }) }, m.name),
        h("span", { class: "metric-meta" }, `due ${plural(m.due_days, "day")} after each ${m.frequency} ends`)),
      report.months.map((month) => {
        const values = byMonth.get(month) || [];
        return h("td", { dataset: { month } }, values.length
          ? h("ul", { class: "detail-values" }, values.map((v) => h("li", {}, cellBox(v.status, ...valueLines(v)))))
          : cellBox("none"));
      }));
  });
  return h("div", { class: "table-wrap" },
    h("table", { class: "board", id: "detail-board" },
      h("caption", {}, `${name}: each metric's values by the month their period ends in`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Metric"),
        report.months.map((m) => h("th", { scope: "col" }, formatPeriod(m, "short"))))),
      h("tbody", {}, rows)));
}

async function choose(code, { push = false } = {}) {
  for (const tr of content.querySelectorAll("#board tbody tr")) {
    tr.classList.toggle("chosen", tr.dataset.department === code);
    tr.querySelector("button")?.setAttribute("aria-expanded", String(tr.dataset.department === code));
  }
  document.getElementById("range-department").value = code || "";
  if (push) history.pushState(null, "", pageHref("completeness.html", { start: state.start, end: state.end, department: code }));
  if (!code) {
    detail.hidden = true;
    return;
  }
  const name = state.report?.departments.find((d) => d.department === code)?.name || code;
  detail.hidden = false;
  showLoading(detail, `Loading ${name}…`);
  try {
    const report = await performanceApi.completeness({ department: code, start: state.start, end: state.end });
    showContent(detail, h("h2", { id: "detail-heading" }, name), detailTable(report, name));
  } catch (error) {
    showError(detail, error, { notFound: "Department", back: false });
  }
  if (push) detail.focus();
}

function staleSection(items) {
  const body = items.length
    ? h("div", { class: "table-wrap" }, h("table", { class: "stale-list", id: "stale-list" },
      h("caption", {}, "Active metrics that have missed two or more periods in a row, most missing first"),
      h("thead", {}, h("tr", {}, ["Metric", "Department", "Periods missing", "Missing since", "Overdue since", "Last value"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((s) => h("tr", { dataset: { metric: s.metric } },
        h("th", { scope: "row" }, h("a", { href: pageHref("metric.html", { key: s.metric }) }, s.name)),
        h("td", {}, s.department),
        h("td", {}, String(s.missing_periods)),
        h("td", {}, formatPeriod(s.missing_since)),
        h("td", {}, formatDate(s.overdue_since)),
        h("td", {}, s.last_received ? formatPeriod(s.last_received) : "None ever"))))))
    : h("p", { class: "empty", id: "stale-empty" }, "No metric has missed two periods in a row.");
  return [h("h2", { id: "stale-heading" }, "Stale metrics"), body];
}

async function main() {
  const start = param("start");
  const end = param("end");
  const department = param("department");
  document.getElementById("start").value = start;
  document.getElementById("end").value = end;
  showLoading(content, "Loading completeness…");
  let report;
  let staleItems;
  try {
    [report, { items: staleItems }] = await Promise.all([
      performanceApi.completeness({ start, end }), performanceApi.staleMetrics()]);
  } catch (error) {
    showError(content, error, { notFound: "Department" });
    return;
  }
  // The server clamps a long window and fills a missing end: show the months it actually used.
  state.start = report.start;
  state.end = report.end;
  state.report = report;
  document.getElementById("start").value = report.start;
  document.getElementById("end").value = report.end;
  document.getElementById("period-line").replaceChildren(
    `${formatPeriod(report.start)} to ${formatPeriod(report.end)}`,
    h("span", { class: "sep", "aria-hidden": "true" }, " · "),
    "as of ", h("time", { datetime: report.as_of }, formatDate(report.as_of)));
  showContent(content, legend(), report.departments.length ? board(report)
    : h("p", { class: "empty" }, "No department has metrics you can see."));
  stale.replaceChildren(...staleSection(staleItems));
  await choose(department);
}

window.addEventListener("popstate", () => choose(param("department")));

main();
