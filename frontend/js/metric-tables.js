// The metric page's tables: target history, and every value as text — the accessible
// alternative to the chart, and what people copy into a memo.

import { formatDate, formatTolerance, formatValue } from "./format.js";
import { formatPeriod } from "./periods.js";
import { targetsAt } from "./chart.js";
import { h } from "./ui.js";

const count = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

function table(caption, headers, rows) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c))))))));
}

export function targetTable(metric, targets) {
  if (!targets.length) {
    return h("section", { class: "targets" }, h("h2", {}, "Targets"), h("p", { class: "muted" }, "No target has been set for this metric."));
  }
  // Newest first: the target in force now is what people look for.
  const rows = [...targets].reverse().map((t) => [formatDate(t.effective_from), formatValue(t.value, metric.unit),
    formatTolerance(t.tolerance, metric.unit), t.set_by || "—", t.reason || "—"]);
  return h("section", { class: "targets" }, h("h2", {}, "Targets"),
    table("Target history, newest first", ["From", "Target", "Tolerance", "Set by", "Reason"], rows));
}

/** `action(observation)`, when given, adds a last column of controls (the "Correct…" buttons for staff), headed
 * `actionHeader`. */
export function dataTable(metric, series, targets, action = null, actionHeader = "Action") {
  if (!series.length) return null;
  const inForce = targetsAt(series.map((o) => o.period), targets);
  const hasRatio = series.some((o) => o.numerator !== null && o.numerator !== undefined);
  const headers = ["Period", "Value", "Target", ...(hasRatio ? ["Numerator", "Denominator"] : []), "Approval", "Comment",
    ...(action ? [actionHeader] : [])];
  const rows = series.map((o, i) => [formatPeriod(o.period, "short"), formatValue(o.value, metric.unit),
    formatValue(inForce[i], metric.unit),
    ...(hasRatio ? [o.numerator ?? "—", o.denominator ?? "—"].map((v) => (typeof v === "number" ? count.format(v) : v)) : []),
    o.approved === false ? h("span", { class: "tag tag-provisional" }, "Provisional") : o.approved ? "Approved" : "—",
    o.comment || "", ...(action ? [action(o)] : [])]).reverse();
  return h("details", { class: "data-details" },
    h("summary", {}, `Show all ${series.length} values as a table`),
    table(`${metric.name}, newest first`, headers, rows));
}
