// "hearing.html?department=CODE": what a council budget hearing puts on the table for one department, its spending
// by fiscal year beside its published metrics' status and trends, and what each output costs where the budget is
// linked to it.

import { formatValue } from "../../js/format.js";
import { formatPeriod } from "../../js/periods.js";
import { sparkline } from "../../js/sparkline.js";
import { h, param, showContent, statusBadge } from "../../js/ui.js";
import { columnChart, columnKey } from "./charts.js";
import { ApiError, metricHref, money, publicApi, run, showPublicError, trendLabel } from "./common.js";

const main = document.getElementById("main");

/** The newest fiscal year's cost per output, as the hearing sends it (an item of GET .../cost-per-output). */
function costWords(cost) {
  if (!cost || cost.cost_per_output === null || cost.cost_per_output === undefined) return null;
  return `${money(cost.cost_per_output)} in ${cost.fiscal_year}${cost.provisional ? " (provisional)" : ""}`;
}

function metricCard(m) {
  const series = (m.series || []).filter((o) => o.value !== null && o.value !== undefined);
  const periods = (m.series || []).map((o) => o.period);
  const cost = costWords(m.cost_per_output);
  return h("article", { class: `metric-card edge-${m.status}`, dataset: { key: m.metric } },
    h("h3", {}, h("a", { href: metricHref(m.metric) }, m.name)),
    m.is_key ? h("p", { class: "metric-dept" }, "Key result") : null,
    h("div", { class: "metric-figure" },
      h("span", { class: "metric-value" }, formatValue(m.value, m.unit)),
      statusBadge(m.status)),
    h("dl", { class: "metric-facts" },
      h("dt", {}, "Period"), h("dd", {}, m.period ? formatPeriod(m.period) : "—"),
      h("dt", {}, "Target"), h("dd", {}, m.target === null || m.target === undefined ? "None set" : formatValue(m.target, m.unit)),
      h("dt", {}, "Trend"), h("dd", {}, trendLabel(m.trend)),
      cost ? [h("dt", {}, "Cost per output"), h("dd", { class: "metric-cost" }, cost)] : null),
    periods.length
      ? sparkline({ periods, values: new Map(series.map((o) => [o.period, o.value])), target: m.target ?? null, unit: m.unit, status: m.status })
      : null);
}

function spendingSection(hearing) {
  const years = hearing.years || [];
  const box = h("div", { class: "column-box", id: "hearing-chart" });
  const series = [{ field: "expense", label: "Spending" }, { field: "revenue", label: "Revenue" }];
  const section = h("section", { class: "panel", id: "spending", "aria-labelledby": "spending-heading" },
    h("h2", { id: "spending-heading" }, "Spending by year"),
    hearing.budget_departments?.length
      ? h("p", { class: "muted" }, `From the budget lines of: ${hearing.budget_departments.map((d) => (typeof d === "string" ? d : d.name)).join(", ")}.`)
      : null,
    years.length ? [columnKey(series), box,
      h("table", { class: "table stack", id: "hearing-years" },
        h("caption", {}, "Spending and revenue by fiscal year"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Fiscal year"), h("th", { scope: "col", class: "num" }, "Spending"),
          h("th", { scope: "col", class: "num" }, "Revenue"))),
        h("tbody", {}, [...years].sort((a, b) => b.fiscal_year.localeCompare(a.fiscal_year)).map((y) => h("tr", {},
          h("th", { scope: "row" }, y.fiscal_year),
          h("td", { class: "num", "data-label": "Spending" }, money(y.expense)),
          h("td", { class: "num", "data-label": "Revenue" }, money(y.revenue))))))]
      : h("p", { class: "empty" }, "No budget lines are mapped to this department yet."));
  const draw = () => years.length && columnChart(box, years, series, { title: `${hearing.department.name}: spending and revenue by fiscal year` });
  return { section, draw };
}

async function load() {
  const code = param("department");
  if (!code) {
    showPublicError(main, new ApiError({ status: 404, title: "No department chosen", detail: "Choose a department in the budget explorer." }), { notFound: "Department" });
    return;
  }
  let hearing;
  try {
    hearing = await publicApi.hearing(code);
  } catch (error) {
    showPublicError(main, error, { notFound: "Department" });
    return;
  }
  const spending = spendingSection(hearing);
  const metrics = [...(hearing.metrics || [])].sort((a, b) => Number(b.is_key) - Number(a.is_key) || a.name.localeCompare(b.name));
  showContent(main,
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: "budget.html" }, "Budget")),
      h("li", { "aria-current": "page" }, hearing.department.name))),
    h("h1", {}, `${hearing.department.name}: budget hearing`),
    h("p", { class: "lead" }, "The department's spending year by year, beside how its published results are doing against their targets."),
    spending.section,
    h("section", { class: "panel", id: "hearing-metrics", "aria-labelledby": "results-heading" },
      h("h2", { id: "results-heading" }, "Results"),
      metrics.length ? h("ul", { class: "metric-grid" }, metrics.map((m) => h("li", {}, metricCard(m))))
        : h("p", { class: "empty" }, "This department publishes no metrics yet.")));
  document.title = `${hearing.department.name} budget hearing — CityStat`;
  spending.draw();
}

run(main, load, { notFound: "Department" });
