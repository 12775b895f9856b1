// Page 3, "metric.html?key=dpw.service_requests_on_time[&period=2017-06]": the whole
// series charted against its target history, the current status and the methodology.

import { api } from "./api.js";
import { seriesChart } from "./chart.js";
import { changeVerdict, DIRECTION_LABELS, FREQUENCY_LABELS, formatChange, formatTolerance, formatValue, targetRule,
  UNIT_LABELS } from "./format.js";
import { dataTable, targetTable } from "./metric-tables.js";
import { formatPeriod } from "./periods.js";
import { departmentSeries } from "./series.js";
import { h, pageHref, param, showContent, showError, showLoading, statusBadge } from "./ui.js";
import { openCorrection } from "./correction.js";
import { canWrite, currentUser } from "./session.js";

const content = document.getElementById("content");

function statusPanel(metric, perf) {
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
          + (verdict === "same" ? "" : ` (${verdict === "better" ? "improving" : "worsening"})`)))),
    rule ? h("p", { class: "rule" }, rule, perf.tolerance ? ` Tolerance ${formatTolerance(perf.tolerance, metric.unit)}.` : "") : null);
}

function chartSection(metric, series, targets) {
  const container = h("div", { class: "chart", id: "chart" });
  const range = series.length ? `${formatPeriod(series[0].period)} to ${formatPeriod(series.at(-1).period)}` : "";
  const figure = h("figure", { class: "chart-figure" },
    h("figcaption", {}, h("h2", {}, "History"),
      series.length
        ? h("p", { class: "muted" }, `${series.length} values, ${range}. The dashed line is the target in force at each period; `
          + "the table below gives the same figures.")
        : null),
    series.length ? container : h("p", { class: "empty" }, "No values have been reported for this metric yet."));
  return { figure, draw: () => series.length && seriesChart(container, { series, targets, unit: metric.unit }) };
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

async function load(key, period) {
  return Promise.all([api.metric(key), departmentSeries(key), api.targets(key).then((r) => r.items),
    api.performance(key, period), currentUser().catch(() => null)]);
}

function render([metric, series, targets, perf, user], reload) {
  const chart = chartSection(metric, series, targets);
  const correct = correctionControls(metric, series, user, reload);
  const panel = statusPanel(metric, perf);
  const current = series.find((o) => o.period === perf.period);
  if (correct && current) panel.append(h("p", { class: "form-actions" }, correct(current, "Correct this value…")));
  showContent(content,
    panel,
    chart.figure,
    definition(metric),
    targetTable(metric, targets),
    dataTable(metric, series, targets, correct));
  chart.draw();
}

async function main() {
  const key = param("key");
  const period = param("period");
  if (!key) {
    showError(content, { status: 404, detail: "No metric was named in the address (add ?key=..., for example)." }, { notFound: "Metric" });
    return;
  }
  showLoading(content, "Loading metric…");
  let data;
  try {
    data = await load(key, period);
  } catch (error) {
    document.getElementById("title").textContent = "Metric";
    showError(content, error, { notFound: "Metric" });
    return;
  }
  const [metric] = data;
  document.title = `${metric.name} — CityStat`;
  document.getElementById("title").textContent = metric.name;
  document.getElementById("crumb-here").textContent = metric.name;
  document.getElementById("period-line").textContent = `${metric.department} · key ${metric.key}`;
  // After a correction the page redraws with the stored figures; the dialog stays open over it.
  const reload = async () => {
    try {
      render(await load(key, period), reload);
    } catch {
      /* keep what is shown; the dialog reports the correction itself */
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
