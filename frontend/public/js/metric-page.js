// "metric.html?key=KEY": one published metric for the public: its status now, its whole history against the
// target (provisional values hollow), how it is measured, what each output costs when the budget is linked, and
// the data behind it as downloads.

import { chartLayers, chartLegend, seriesChart } from "../../js/chart.js";
import { changeVerdict, DIRECTION_LABELS, formatChange, formatDate, formatValue, FREQUENCY_LABELS, targetRule,
  UNIT_LABELS } from "../../js/format.js";
import { formatPeriod } from "../../js/periods.js";
import { departmentSeries } from "../../js/series.js";
import { h, param, showContent, statusBadge } from "../../js/ui.js";
import { ApiError, money, publicApi, run, showPublicError, trendLabel } from "./common.js";

const main = document.getElementById("main");
const enc = encodeURIComponent;

function stat(label, value, id) {
  return h("div", { class: "stat" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value", id }, value));
}

function statusSection(metric, perf) {
  const change = formatChange(perf.change, metric.unit);
  const verdict = changeVerdict({ ...perf, unit: metric.unit });
  const rule = perf.target === null ? "" : targetRule({ value: perf.target, tolerance: perf.tolerance, direction: perf.direction }, metric.unit);
  const yearAgo = perf.vs_year_ago?.absolute;
  return h("section", { class: "panel", "aria-labelledby": "status-heading" },
    h("h2", { id: "status-heading" }, `Latest: ${formatPeriod(perf.period)}`),
    h("div", { class: "status-panel" },
      stat("Value", formatValue(perf.value, metric.unit), "current-value"),
      stat("Target", perf.target === null ? "None set" : formatValue(perf.target, metric.unit), "current-target"),
      h("div", { class: "stat" }, h("span", { class: "stat-label" }, "Status"), h("span", { id: "current-status" }, statusBadge(perf.status))),
      h("div", { class: "stat" }, h("span", { class: "stat-label" }, "Trend"), h("span", { id: "current-trend" }, trendLabel(perf.trend)))),
    perf.approved === false && perf.value !== null
      ? h("p", { id: "provisional-note" }, h("span", { class: "provisional-tag" }, "Provisional"),
        " The department has not yet approved this value; it may still change.")
      : null,
    h("p", {},
      change === null ? "" : `${change} compared with ${formatPeriod(perf.previous_period)}`
        + (verdict === "same" ? ". " : ` (${verdict === "better" ? "an improvement" : "a decline"}). `),
      yearAgo === null || yearAgo === undefined ? ""
        : `${formatChange(yearAgo, metric.unit)} compared with ${formatPeriod(perf.vs_year_ago.base_period)}. `,
      rule));
}

function chartSection(metric, series, targets) {
  const container = h("div", { class: "chart-box", id: "chart" });
  const readout = h("p", { class: "chart-readout", id: "chart-readout", "aria-live": "polite" });
  const provisional = series.filter((o) => o.approved === false).length;
  const range = series.length ? `${formatPeriod(series[0].period)} to ${formatPeriod(series.at(-1).period)}` : "";
  const figure = h("figure", { class: "panel", style: { margin: "0 0 1.25rem" }, "aria-labelledby": "history-heading" },
    h("h2", { id: "history-heading" }, "History"),
    series.length
      ? h("p", { class: "muted", id: "chart-caption" }, `${series.length} values from ${range}, with the target in force at `
        + `each period (dashed line) and its tolerance band.${provisional ? ` ${provisional} provisional ${provisional === 1 ? "value is" : "values are"} drawn hollow.` : ""} `
        + "The table under the chart lists every value.")
      : h("p", { class: "empty" }, "No values have been published for this metric yet."),
    series.length ? [container, readout, chartLegend(chartLayers({ series, targets, limits: null }))] : null,
    series.length ? valuesTable(metric, series) : null);
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", series.length
    ? `Chart of ${metric.name}, ${range}: latest ${formatValue(series.at(-1).value, metric.unit)} in ${formatPeriod(series.at(-1).period)}.`
    : `No values for ${metric.name}`);
  const draw = () => series.length && seriesChart(container, { series, targets, unit: metric.unit, readout });
  return { figure, draw };
}

function valuesTable(metric, series) {
  return h("details", { class: "values-details" },
    h("summary", {}, "Show the values as a table"),
    h("table", { class: "table stack", id: "values-table" },
      h("caption", {}, `${metric.name}, every period`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Period"), h("th", { scope: "col", class: "num" }, "Value"),
        h("th", { scope: "col" }, "Approved"))),
      h("tbody", {}, [...series].reverse().map((o) => h("tr", { dataset: { period: o.period } },
        h("th", { scope: "row" }, formatPeriod(o.period)),
        h("td", { class: "num", "data-label": "Value" }, formatValue(o.value, metric.unit)),
        h("td", { "data-label": "Approved" }, o.approved === false ? h("span", { class: "provisional-tag" }, "Provisional") : "Yes"))))));
}

function definitionSection(metric, target) {
  const paragraphs = (metric.methodology || "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const rows = [
    ["Department", metric.departmentName],
    ["Measured in", UNIT_LABELS[metric.unit] || metric.unit],
    ["Which way is better", DIRECTION_LABELS[metric.direction] || metric.direction],
    ["Reported", FREQUENCY_LABELS[metric.frequency] || metric.frequency],
    ["Kind", metric.kind === "outcome" ? "Outcome (what residents experience)" : "Output (work the department does)"],
    ["How the figure is made", metric.is_computed ? "Computed from the department's raw records" : "Reported by the department"],
    metric.data_source ? ["Data source", metric.data_source] : null,
    metric.priorities?.length ? ["Citywide priority", metric.priorities.map((p) => p.name).join(", ")] : null,
    target ? ["Target set by", `${target.set_by || "the city"}, from ${formatDate(target.effective_from)}${target.reason ? `: ${target.reason}` : ""}`] : null,
  ].filter(Boolean);
  return h("section", { class: "panel definition", "aria-labelledby": "method-heading" },
    h("h2", { id: "method-heading" }, "How it is measured"),
    h("div", { id: "methodology" },
      paragraphs.length ? paragraphs.map((p) => h("p", {}, p)) : h("p", { class: "muted" }, "No methodology has been published yet.")),
    h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")])));
}

const SINGULAR = { count: "output", tons: "ton", miles: "mile", days: "day", hours: "hour", minutes: "minute", dollars: "dollar" };

/** Cost per output by fiscal year; null (no section) when the metric has no budget linked or the route is absent. */
function costSection(metric, cost) {
  const items = (cost?.items || []).filter((i) => i && i.cost_per_output !== null && i.cost_per_output !== undefined);
  if (!items.length) return null;
  const unit = cost.output_unit || "count";
  const perWhat = SINGULAR[unit] || unit;
  const basis = cost.output_basis === "sum of numerators" ? "the number of cases it counted"
    : cost.output_basis === "sum of values" ? "the total of its values" : "its output";
  return h("section", { class: "panel", id: "cost-section", "aria-labelledby": "cost-heading" },
    h("h2", { id: "cost-heading" }, "Cost per output"),
    h("p", {}, `The spending the city links to this work in each fiscal year, divided by ${basis} in that year.`),
    h("table", { class: "table stack", id: "cost-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Fiscal year"), h("th", { scope: "col", class: "num" }, "Spending"),
        h("th", { scope: "col", class: "num" }, "Output"), h("th", { scope: "col", class: "num" }, `Cost per ${perWhat}`))),
      h("tbody", {}, items.map((i) => h("tr", { dataset: { year: i.fiscal_year } },
        h("th", { scope: "row" }, i.fiscal_year,
          i.periods < i.expected_periods ? h("span", { class: "muted" }, ` (${i.periods} of ${i.expected_periods} periods)`) : null,
          i.provisional ? [" ", h("span", { class: "provisional-tag" }, "Provisional")] : null),
        h("td", { class: "num", "data-label": "Spending" }, money(i.spending)),
        h("td", { class: "num", "data-label": "Output" }, formatValue(i.output, unit)),
        h("td", { class: "num", "data-label": `Cost per ${perWhat}` }, money(i.cost_per_output)))))));
}

function downloadsSection(metric, observations) {
  const key = enc(metric.key);
  const links = [
    ["Series as CSV", `/api/metrics/metrics/${key}/series.csv`, "this metric's values, one row per period"],
    ["Series as JSON", `/api/metrics/metrics/${key}/series.json`, "the same, for programs"],
  ];
  if (observations) {
    const soda = `/resource/${enc(observations.id)}`;
    links.push(["Open data API (JSON)", `${soda}.json?metric=${key}`, `SODA, from the "${observations.name}" dataset`]);
    links.push(["Open data API (CSV)", `${soda}.csv?metric=${key}`, "the same rows as CSV"]);
  }
  return h("section", { class: "panel downloads", "aria-labelledby": "downloads-heading" },
    h("h2", { id: "downloads-heading" }, "Download the data"),
    h("ul", { id: "downloads" }, links.map(([label, href, note]) => h("li", {},
      h("a", { href, dataset: { download: label } }, label), ` — ${note}`))),
    observations ? h("p", { class: "muted" }, "The open data API takes Socrata queries, for example ",
      h("code", {}, `$where=period >= '2017-01'`), ". Browse every dataset in the ", h("a", { href: "catalogue.html" }, "data catalogue"), ".") : null);
}

async function optional(promise) {
  // Parts a page can do without (the cost, the dataset links): a 404 hides them; other failures too, quietly.
  try {
    return await promise;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return null;
  }
}

async function load() {
  const key = param("key");
  if (!key) {
    showPublicError(main, new ApiError({ status: 404, title: "No metric chosen", detail: "Choose a result from the list of key results." }), { notFound: "Metric" });
    return;
  }
  let metric;
  try {
    metric = await publicApi.metric(key);
  } catch (error) {
    showPublicError(main, error, { notFound: "Metric" });
    return;
  }
  const [perf, series, targets, departments, datasets, cost] = await Promise.all([
    publicApi.performance(key),
    departmentSeries(key),
    publicApi.targets(key).then((t) => t.items),
    optional(publicApi.departments()),
    optional(publicApi.openDatasets()),
    optional(publicApi.costPerOutput(key)),
  ]);
  metric.departmentName = departments?.items.find((d) => d.code === metric.department)?.name || metric.department;
  const observations = datasets?.items.find((d) => d.key === "observations") || null;
  const chart = chartSection(metric, series, targets);

  showContent(main, ...[
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: "./" }, "Results")),
      h("li", { "aria-current": "page" }, metric.name))),
    h("h1", {}, metric.name),
    h("p", { class: "muted" }, metric.departmentName,
      metric.is_key ? " · Key result" : "", metric.priorities?.length ? ` · ${metric.priorities.map((p) => p.name).join(", ")}` : ""),
    statusSection(metric, perf),
    chart.figure,
    definitionSection(metric, metric.target),
    costSection(metric, cost),
    downloadsSection(metric, observations),
  ].filter(Boolean));
  document.title = `${metric.name} — CityStat results`;
  chart.draw();
}

run(main, load, { notFound: "Metric" });
