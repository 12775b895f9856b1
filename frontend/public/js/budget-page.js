// "budget.html[?year=FY2017]", after Atlanta's "Budget Explorer": the city's spending for a fiscal year by
// department, fund and account category, each against the year before, and every fiscal year's totals side by side.
// A department mapped to a CityStat department links to its budget-hearing view beside its key results.

import { h, param, showContent } from "../../js/ui.js";
import { barList, columnChart, columnKey } from "./charts.js";
import { changeWords, hearingHref, money, number, publicApi, run } from "./common.js";

const main = document.getElementById("main");

const GROUPS = [
  { by: "department", title: "Spending by department", id: "by-department" },
  { by: "fund", title: "Spending by fund", id: "by-fund" },
  { by: "category", title: "Spending by category", id: "by-category" },
];

function yearPicker(years, chosen) {
  const select = h("select", { id: "year", name: "year" },
    years.map((y) => h("option", { value: y.fiscal_year, selected: y.fiscal_year === chosen },
      y.labels?.length && y.labels[0] !== y.fiscal_year ? `${y.fiscal_year} (${y.labels.join(", ")})` : y.fiscal_year)));
  select.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("year", select.value);
    window.history.pushState({}, "", url);
    render(years, select.value);
  });
  return h("div", { class: "controls" },
    h("label", { for: "year" }, "Fiscal year"), select);
}

function totalsBlock(year, expense) {
  return h("div", { class: "totals", id: "totals" },
    h("div", { class: "panel stat" }, h("span", { class: "stat-label" }, `Spending, ${year.fiscal_year}`),
      h("span", { class: "stat-value", id: "total-expense" }, money(year.expense)),
      h("span", { class: "muted" }, changeWords(expense.change, expense.change_fraction, expense.prior_loaded ? expense.prior_year : null))),
    h("div", { class: "panel stat" }, h("span", { class: "stat-label" }, `Revenue, ${year.fiscal_year}`),
      h("span", { class: "stat-value", id: "total-revenue" }, money(year.revenue))),
    h("div", { class: "panel stat" }, h("span", { class: "stat-label" }, "Budget lines"),
      h("span", { class: "stat-value" }, number(year.lines)),
      h("span", { class: "muted" }, `${number(year.departments)} departments`)));
}

function groupSection(group, summary) {
  const priorYear = summary.prior_loaded ? summary.prior_year : null;
  const items = summary.items.map((item) => ({
    ...item,
    name: group.by === "fund" && item.fund_name ? `${item.fund_name} (${item.name})` : item.name || "(not given)",
    href: group.by === "department" && item.department_code ? hearingHref(item.department_code) : null,
    note: group.by === "department" && item.department_code ? "Select for its budget hearing view" : null,
  }));
  return h("section", { class: "panel", id: group.id, "aria-labelledby": `${group.id}-heading` },
    h("h2", { id: `${group.id}-heading` }, group.title),
    h("p", { class: "muted" }, `${summary.fiscal_year}: ${money(summary.total)} in ${items.length} `
      + `${items.length === 1 ? "group" : "groups"}${priorYear ? `, compared with ${priorYear}` : ""}. Bars share one scale.`),
    items.length ? barList(items, { priorYear, label: `${group.title}, ${summary.fiscal_year}` })
      : h("p", { class: "empty" }, "No spending recorded."));
}

function yearsSection(years) {
  const box = h("div", { class: "column-box", id: "years-chart" });
  const series = [{ field: "expense", label: "Spending" }, { field: "revenue", label: "Revenue" }];
  const section = h("section", { class: "panel", id: "year-over-year", "aria-labelledby": "years-heading" },
    h("h2", { id: "years-heading" }, "Year over year"),
    columnKey(series),
    box,
    h("table", { class: "table stack", id: "years-table" },
      h("caption", {}, "Totals by fiscal year"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Fiscal year"), h("th", { scope: "col", class: "num" }, "Spending"),
        h("th", { scope: "col", class: "num" }, "Revenue"), h("th", { scope: "col", class: "num" }, "Departments"))),
      h("tbody", {}, years.map((y) => h("tr", {},
        h("th", { scope: "row" }, y.fiscal_year),
        h("td", { class: "num", "data-label": "Spending" }, money(y.expense)),
        h("td", { class: "num", "data-label": "Revenue" }, money(y.revenue)),
        h("td", { class: "num", "data-label": "Departments" }, number(y.departments)))))));
  return { section, draw: () => columnChart(box, years, series, { title: "Spending and revenue by fiscal year" }) };
}

let token = 0;

async function render(years, chosen) {
  const mine = ++token;
  const year = years.find((y) => y.fiscal_year === chosen) || years[0];
  main.setAttribute("aria-busy", "true");
  try {
    const summaries = await Promise.all(GROUPS.map((g) => publicApi.budgetSummary(year.fiscal_year, g.by)));
    if (mine !== token) return; // a later choice of year has taken over
    const chart = yearsSection(years);
    showContent(main,
      h("h1", {}, "Budget explorer"),
      h("p", { class: "lead" }, "Where the city's money goes. Choose a fiscal year to see its spending by department, "
        + "fund and category, and how each changed from the year before. Departments link to their budget hearing view, "
        + "which sets their spending beside their results."),
      yearPicker(years, year.fiscal_year),
      totalsBlock(year, summaries[0]),
      chart.section,
      h("div", { class: "budget-grid" }, GROUPS.map((g, i) => groupSection(g, summaries[i]))),
      h("p", { class: "muted" }, "The budget is open data: see the ", h("a", { href: "catalogue.html" }, "data catalogue"), "."));
    document.title = `Budget explorer, ${year.fiscal_year} — CityStat`;
    chart.draw();
  } finally {
    if (mine === token) main.removeAttribute("aria-busy");
  }
}

async function load() {
  const { items: years } = await publicApi.budgetYears();
  if (!years.length) {
    showContent(main, h("h1", {}, "Budget explorer"),
      h("p", { class: "empty", id: "no-budget" }, "The city has not published a budget here yet."));
    return;
  }
  const wanted = param("year");
  await render(years, years.some((y) => y.fiscal_year === wanted) ? wanted : years[0].fiscal_year);
  window.addEventListener("popstate", () => run(main, () => render(years, param("year") || years[0].fiscal_year)));
}

run(main, load);
