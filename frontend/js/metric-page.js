// Page 3, "metric.html?key=dpw.service_requests_on_time[&period=2017-06]": the whole
// series charted against its target history, the current status and the methodology.

import { api } from "./api.js";
import { chartLayers, chartLegend, seriesChart } from "./chart.js";
import { changeVerdict, DIRECTION_LABELS, formatChange, formatDate, formatTolerance, formatValue, FREQUENCY_LABELS,
  targetRule, UNIT_LABELS } from "./format.js";
import { dataTable, targetTable } from "./metric-tables.js";
import { budgetSection } from "./metric-budget.js";
import { notesByPeriod, notesSection } from "./notes.js";
import { performanceApi } from "./performance-api.js";
import { groupedSignals, summarySentences } from "./performance-summary.js";
import { formatPeriod } from "./periods.js";
import { departmentSeries } from "./series.js";
import { h, pageHref, param, showContent, showError, showLoading, statusBadge } from "./ui.js";
import { openCorrection } from "./correction.js";
import { canWrite, currentUser } from "./session.js";

const content = document.getElementById("content");

/** Whether the period's value is approved: the performance's word, else the observation's; null if unknown. */
function approvalOf(perf, current) {
  if (perf.approved === true || perf.approved === false) return perf.approved;
  if (current && (current.approved === true || current.approved === false)) return current.approved;
  return null;
}

function statusPanel(metric, perf, approved) {
  const target = perf.target ?? null;
  const change = formatChange(perf.change, metric.unit);
  const verdict = changeVerdict({ ...perf, unit: metric.unit });
  const rule = target === null ? "" : targetRule({ value: target, tolerance: perf.tolerance, direction: perf.direction }, metric.unit);
  return h("section", { class: "status-panel", "aria-labelledby": "status-heading" },
    h("h2", { id: "status-heading" }, `Status for ${formatPeriod(perf.period)}`),
    h("dl", { class: "facts" },
      h("div", {}, h("dt", {}, "Value"), h("dd", { class: "big", id: "current-value" }, formatValue(perf.value, metric.unit))),
      h("div", {}, h("dt", {}, "Target"), h("dd", { class: "big", id: "current-target" },
        target === null ? "None set" : formatValue(target, metric.unit))),
      h("div", {}, h("dt", {}, "Status"), h("dd", {}, statusBadge(perf.status))),
      h("div", {}, h("dt", {}, "Change"), h("dd", {},
        change === null ? "—" : `${change} vs ${formatPeriod(perf.previous_period, "short")}`
          + (verdict === "same" ? "" : ` (${verdict === "better" ? "improving" : "worsening"})`))),
      perf.value === null || perf.value === undefined || approved === null ? null
        : h("div", {}, h("dt", {}, "Approval"), h("dd", { id: "value-state" }, approved
          ? "Approved by the department"
          : h("span", { class: "tag tag-provisional" }, "Provisional: not yet approved")))),
    rule ? h("p", { class: "rule" }, rule, perf.tolerance ? ` Tolerance ${formatTolerance(perf.tolerance, metric.unit)}.` : "") : null);
}

function signalList(perf) {
  const groups = groupedSignals(perf.limits?.signals);
  if (!groups.length) return null;
  return h("div", { class: "signal-list" },
    h("h3", {}, "Signals"),
    h("ul", { id: "signal-list" }, groups.map((g) => h("li", { dataset: { rule: g.rule } },
      h("span", { class: "key key-signal", "aria-hidden": "true" }), h("strong", {}, g.words), ": ",
      g.runs.map((run) => (run.length === 1 ? formatPeriod(run[0], "short")
        : `${formatPeriod(run[0], "short")} to ${formatPeriod(run.at(-1), "short")}`)).join(", ")))));
}

function limitsLine(perf, unit) {
  const l = perf.limits;
  if (!l || l.centre === null || l.centre === undefined) return null;
  const base = l.baseline_periods;
  const f = (v) => (v === null || v === undefined ? "none" : formatValue(v, unit));
  return h("p", { class: "muted", id: "limits-line" },
    `Process limits from the baseline ${formatPeriod(base[0], "short")} to ${formatPeriod(base.at(-1), "short")}: `
    + `centre ${f(l.centre)}, lower limit ${f(l.lower)}, upper limit ${f(l.upper)}. Values between the limits are routine variation.`);
}

function chartSection(metric, { series, targets, perf, breaks, notes, approved, onNote }) {
  const container = h("div", { class: "chart", id: "chart" });
  const readout = h("p", { class: "chart-readout", id: "chart-readout" });
  const range = series.length ? `${formatPeriod(series[0].period)} to ${formatPeriod(series.at(-1).period)}` : "";
  const layers = chartLayers({ series, targets, limits: perf.limits, breaks, notes: notes || [] });
  const figure = h("figure", { class: "chart-figure" },
    h("figcaption", {}, h("h2", {}, "History"),
      series.length
        ? h("p", { class: "muted" }, `${series.length} values, ${range}. The shaded band is the target in force at each `
          + "period with its tolerance; the purple lines are the average and natural process limits of the current series. "
          + "The table below gives the same figures.")
        : null),
    series.length ? [container, readout, chartLegend(layers)] : h("p", { class: "empty" }, "No values have been reported for this metric yet."),
    h("div", { class: "chart-summary", id: "chart-summary" },
      h("h3", {}, "In words"),
      summarySentences(perf, metric.unit, approved).map((text) => h("p", {}, text))),
    limitsLine(perf, metric.unit),
    signalList(perf),
    breaks.length
      ? h("div", { class: "break-list" }, h("h3", {}, "Series breaks"),
        h("ul", { id: "break-list" }, breaks.map((b) => h("li", {}, h("strong", {}, formatPeriod(b.period)),
          b.reason ? `: ${b.reason}` : ": the way it is measured changed."))))
      : null);
  const draw = () => series.length && seriesChart(container, {
    series, targets, unit: metric.unit, limits: perf.limits, limitsEnd: perf.period, breaks, notes: notes || [], onNote, readout,
  });
  return { figure, draw };
}

function definition(metric) {
  const rows = [
    ["Unit", UNIT_LABELS[metric.unit] || metric.unit],
    ["Kind", metric.kind === "outcome" ? "Outcome" : metric.kind === "output" ? "Output" : metric.kind],
    ["Direction", DIRECTION_LABELS[metric.direction] || metric.direction],
    ["Reported", FREQUENCY_LABELS[metric.frequency] || metric.frequency],
    ["Source", metric.is_computed ? "Computed from raw records" : "Reported by the department"],
    ["Public", metric.is_published ? "Yes" : "No (staff only)"],
  ];
  // Methodology is plain text; blank lines separate paragraphs.
  const paragraphs = (metric.methodology || "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  return h("section", { class: "definition", "aria-labelledby": "method-heading" },
    h("h2", { id: "method-heading" }, "Methodology"),
    paragraphs.length ? paragraphs.map((p) => h("p", {}, p)) : h("p", { class: "muted" }, "No methodology has been written yet."),
    h("dl", { class: "definition-list" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v ?? "—")))));
}

async function departmentName(code) {
  // Only for the breadcrumb: if the list is unavailable, the code will do.
  try {
    const { items } = await api.departments();
    return items.find((d) => d.code === code)?.name || code;
  } catch {
    return code;
  }
}

/** Staff who may write the department get a "Correct…" button on each reported value. */
function correctionControls(metric, series, user, reload) {
  if (!canWrite(user, metric.department) || metric.is_computed) return null;
  return (observation, label = "Correct…") => {
    const button = h("button", { type: "button", class: "secondary small" },
      label, h("span", { class: "visually-hidden" }, ` (${formatPeriod(observation.period)})`));
    button.addEventListener("click", () => openCorrection({
      metric, period: observation.period, current: observation, user, onSaved: reload,
      history: series.filter((o) => o.period < observation.period),
    }));
    return button;
  };
}

/** Staff reach the raw records behind each value of a computed metric (drilldown.html). */
function recordsLinks(metric, user) {
  if (!user || !metric.is_computed || !metric.rule) return null;
  return (observation, label = "Records") => h("a", { href: pageHref("drilldown.html", { metric: metric.key, period: observation.period }),
    class: "records-link" }, label, h("span", { class: "visually-hidden" }, ` behind ${formatPeriod(observation.period)}`));
}

/** The series breaks with their reasons, from the definition's versions; the performance's list if those fail. */
async function seriesBreaks(key, perf) {
  try {
    const { items } = await performanceApi.versions(key);
    const breaks = items.filter((v) => v.series_break && v.break_period)
      .map((v) => ({ period: v.break_period, reason: v.reason }));
    if (breaks.length) return breaks.sort((a, b) => a.period.localeCompare(b.period));
  } catch {
    /* the performance's own list below still places them */
  }
  return (perf.series_breaks || []).map((period) => ({ period, reason: "" }));
}

/**
 * "A briefing showed revision N of this value": that revision's value, and whether the value has changed since
 * (revisions come newest first). Shown when a briefing's link brought the reader here (&revision=N).
 */
function revisionNotice(cited, metric, period) {
  if (!cited) return null;
  const { revision, items, error } = cited;
  const shown = items?.find((r) => String(r.id) === revision);
  const newest = items?.[0];
  let body;
  if (error) {
    body = `A briefing showed revision ${revision} of this value; its history could not be read `
      + `(${error.detail || error.message}).`;
  }
  else if (!shown) {
    body = `A briefing showed revision ${revision} of this value, but it is not among the changes to the department's `
      + "value for this period (it may be an org unit's).";
  }
  else {
    const when = shown.changed_at ? ` (recorded ${formatDate(shown.changed_at)})` : "";
    const same = newest.id === shown.id;
    body = [h("strong", {}, `A briefing showed revision ${revision} of this value: `),
      h("span", { id: "cited-value" }, formatValue(shown.value, metric.unit)), `${when}. `,
      h("span", { id: "cited-state" }, same ? "It has not changed since."
        : `It has changed since: now ${formatValue(newest.value, metric.unit)} (revision ${newest.id}`
          + `${newest.reason ? `, “${newest.reason}”` : ""}).`)];
  }
  return h("div", { class: "notice revision-notice", id: "revision-notice", role: "note",
    "aria-label": `Revision cited for ${formatPeriod(period)}` }, h("p", {}, body));
}

async function citedRevision(key, period, revision) {
  if (!revision || !period) return null;
  try {
    return { revision, items: (await api.revisions(key, period)).items };
  } catch (error) {
    return { revision, error };
  }
}

async function load(key, period, revision = "") {
  const [metric, series, targets, perf, user, notes, cited] = await Promise.all([api.metric(key), departmentSeries(key),
    api.targets(key).then((r) => r.items), api.performance(key, period), currentUser().catch(() => null),
    // The chart is worth showing without its notes: a failure is reported in the notes section instead.
    performanceApi.annotations(key).then((r) => ({ items: r.items }), (error) => ({ error })),
    citedRevision(key, period, revision)]);
  const breaks = await seriesBreaks(key, perf);
  return { metric, series, targets, perf, user, notes, breaks, cited };
}

function render({ metric, series, targets, perf, user, notes, breaks, cited }, reload, { notePeriod = null, message = "" } = {}) {
  const current = series.find((o) => o.period === perf.period);
  const approved = approvalOf(perf, current);
  const grouped = notes.items ? notesByPeriod(notes.items) : null;
  const writable = canWrite(user, metric.department);
  const notesPart = notesSection({
    metric, notes: grouped, user, writable, failed: notes.error ? notes.error.detail || notes.error.message : null,
    periods: series.map((o) => o.period).includes(perf.period) ? series.map((o) => o.period)
      : [...series.map((o) => o.period), perf.period],
    defaultPeriod: perf.period,
    onChanged: ({ period: changed, message: text }) => reload({ notePeriod: changed, message: text }),
  });
  const chart = chartSection(metric, { series, targets, perf, breaks, notes: grouped, approved,
    onNote: (p) => notesPart.show(p) });
  const correct = correctionControls(metric, series, user, () => reload());
  const panel = statusPanel(metric, perf, approved);
  if (correct && current) panel.append(h("p", { class: "form-actions" }, correct(current, "Correct this value…")));
  const records = recordsLinks(metric, user);
  if (records && current) panel.append(h("p", {}, records(current, "See the records behind this value")));
  showContent(content,
    revisionNotice(cited, metric, perf.period),
    panel,
    chart.figure,
    notesPart.section,
    definition(metric),
    budgetSection(metric, user),
    targetTable(metric, targets),
    dataTable(metric, series, targets, correct || records, correct ? "Action" : "Records"));
  chart.draw();
  if (notePeriod) notesPart.show(notePeriod, { message });
}

async function main() {
  const key = param("key");
  const period = param("period");
  const revision = /^\d+$/.test(param("revision")) ? param("revision") : "";
  if (!key) {
    showError(content, { status: 404, detail: "No metric was named in the address (add ?key=..., for example)." }, { notFound: "Metric" });
    return;
  }
  showLoading(content, "Loading metric…");
  let data;
  try {
    data = await load(key, period, revision);
  } catch (error) {
    document.getElementById("title").textContent = "Metric";
    showError(content, error, { notFound: "Metric" });
    return;
  }
  const { metric } = data;
  document.title = `${metric.name} — CityStat`;
  document.getElementById("title").textContent = metric.name;
  document.getElementById("crumb-here").textContent = metric.name;
  document.getElementById("period-line").textContent = `${metric.department} · key ${metric.key}`;
  // After a correction the page redraws with the stored figures; the dialog stays open over it.
  const reload = async (after = {}) => {
    try {
      render(await load(key, period, revision), reload, after);
    } catch {
      /* keep what is shown; the dialog (or the note form) has reported its own outcome */
    }
  };
  render(data, reload);

  const name = await departmentName(metric.department);
  const crumb = document.getElementById("crumb-dept");
  crumb.textContent = name;
  crumb.href = pageHref("department.html", { code: metric.department, period });
  document.getElementById("crumb-dept-item").hidden = false;
  document.getElementById("period-line").textContent = `${name} · key ${metric.key}`;
}

main();
