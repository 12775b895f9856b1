// departments.html: every department with its share of metrics on target for one period.

import { api } from "./api.js";
import { formatPeriod } from "./periods.js";
import { h, pageHref, param, showContent, showError, showLoading, statusLegend, summaryBlock } from "./ui.js";
import { initPeriodForm, periodLine } from "./page-common.js";

const content = document.getElementById("content");

function departmentRow(item, period) {
  const { department, summary } = item;
  return h("li", { class: "dept-row" },
    h("div", { class: "dept-name" },
      h("a", { href: pageHref("department.html", { code: department.code, period }) }, department.name),
      h("span", { class: "code" }, department.code)),
    summaryBlock(summary));
}

function citywide(items) {
  // Add up every department's statuses for the one-line citywide picture.
  const sum = { total: 0, on_target: 0 };
  for (const { summary } of items) {
    sum.total += summary.total || 0;
    sum.on_target += summary.on_target || 0;
  }
  return sum;
}

async function main() {
  const period = param("period");
  initPeriodForm(period);
  showLoading(content, "Loading departments…");
  let data;
  try {
    data = await api.scorecards(period);
  } catch (error) {
    showError(content, error, { notFound: "Period", back: false });
    return;
  }
  periodLine(data);
  initPeriodForm(data.period, data.as_of);
  const items = data.items; // in the API's order, which already files "Department of X" under X
  if (!items.length) {
    showContent(content, h("p", { class: "empty" }, "No departments have been set up yet."));
    return;
  }
  const city = citywide(items);
  // Links carry the period only if the user chose one, so bookmarks keep following "latest".
  showContent(content,
    h("p", { class: "citywide" },
      h("strong", {}, `${city.on_target} of ${city.total}`),
      ` metrics on target across ${items.length} departments in ${formatPeriod(data.period)}.`),
    statusLegend(),
    h("ul", { class: "dept-list", id: "departments", "aria-label": "Departments" },
      items.map((item) => departmentRow(item, period))));
}

main();
