// Page 2, "department.html?code=DPW[&period=2017-06]": a card per metric with its
// latest value, target, status and an 18-period sparkline.

import { api } from "./api.js";
import { changeVerdict, formatChange, formatValue } from "./format.js";
import { formatPeriod, shiftPeriod } from "./periods.js";
import { sparkline } from "./sparkline.js";
import { h, pageHref, param, showContent, showError, showLoading, statusBadge, summaryBlock } from "./ui.js";
import { initPeriodForm, periodLine } from "./page-common.js";
import { departmentSeries } from "./series.js";

const SPARK_PERIODS = 18;
const content = document.getElementById("content");

function changeLine(metric) {
  const text = formatChange(metric.change, metric.unit);
  if (text === null || !metric.previous_period) return null;
  const verdict = changeVerdict(metric);
  const arrow = text === "No change" ? "▶" : metric.change > 0 ? "▲" : "▼";
  const words = { better: "improving", worse: "worsening", same: "" }[verdict];
  return h("p", { class: `change change-${verdict}` },
    h("span", { "aria-hidden": "true" }, `${arrow} `),
    `${text} vs ${formatPeriod(metric.previous_period, "short")}`,
    words ? h("span", { class: "verdict" }, ` (${words})`) : null);
}

function metricCard(metric, period) {
  const href = pageHref("metric.html", { key: metric.key, period: period || metric.period });
  const spark = h("div", { class: "spark-slot", "aria-busy": "true" });
  const card = h("article", { class: `metric-card status-edge-${metric.status}`, dataset: { key: metric.key } },
    h("h2", { class: "metric-name" }, h("a", { href }, metric.name)),
    h("div", { class: "metric-figures" },
      h("p", { class: "metric-value" }, formatValue(metric.value, metric.unit),
        h("span", { class: "metric-period" }, ` in ${formatPeriod(metric.period, "short")}`)),
      statusBadge(metric.status)),
    h("p", { class: "metric-target" },
      metric.target === null || metric.target === undefined ? "No target set"
        : `Target ${formatValue(metric.target, metric.unit)}`),
    changeLine(metric),
    spark);
  return { card, spark };
}

async function fillSparkline(slot, metric) {
  if (!metric.period) {
    slot.removeAttribute("aria-busy");
    return;
  }
  const start = shiftPeriod(metric.period, -(SPARK_PERIODS - 1));
  try {
    const values = await departmentSeries(metric.key, { start, end: metric.period });
    const periods = Array.from({ length: SPARK_PERIODS }, (_, i) => shiftPeriod(start, i));
    slot.replaceChildren(sparkline({ periods, values: new Map(values.map((o) => [o.period, o.value])),
      target: metric.target ?? null, unit: metric.unit, status: metric.status }));
  } catch (error) {
    // One broken trend should not hide the rest of the page.
    slot.replaceChildren(h("p", { class: "spark-error" }, `Trend unavailable: ${error.detail || error.message}`));
  } finally {
    slot.removeAttribute("aria-busy");
  }
}

async function main() {
  const code = param("code");
  const period = param("period");
  document.getElementById("code-field").value = code;
  initPeriodForm(period);
  if (!code) {
    showError(content, { status: 404, detail: "No department was named in the address (add ?code=DPW, for example)." }, { notFound: "Department" });
    return;
  }
  showLoading(content, "Loading scorecard…");
  let data;
  try {
    data = await api.departmentScorecard(code, period);
  } catch (error) {
    document.getElementById("title").textContent = `Department ${code}`;
    showError(content, error, { notFound: "Department" });
    return;
  }
  const { department, metrics } = data;
  document.title = `${department.name} — CityStat`;
  document.getElementById("title").textContent = department.name;
  document.getElementById("crumb-here").textContent = department.name;
  periodLine(data);
  initPeriodForm(data.period, data.as_of);
  if (!metrics.length) {
    showContent(content, h("p", { class: "empty" }, "This department has no published metrics yet."));
    return;
  }
  const cards = metrics.map((m) => ({ metric: m, ...metricCard(m, period) }));
  showContent(content,
    summaryBlock(data.summary),
    h("div", { class: "card-grid", role: "list", "aria-label": "Metrics" },
      cards.map(({ card }) => h("div", { role: "listitem" }, card))));
  // Cards show at once; each trend arrives on its own.
  await Promise.all(cards.map(({ spark, metric }) => fillSparkline(spark, metric)));
}

main();
