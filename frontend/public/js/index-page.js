// The public front page, after Atlanta's "Focus on Results": each citywide priority with its key metrics, each
// metric's latest value against its target, its status in words and colour, its trend and a small chart.

import { formatValue, STATUSES, STATUS_LABELS } from "../../js/format.js";
import { formatPeriod, shiftPeriod } from "../../js/periods.js";
import { sparkline } from "../../js/sparkline.js";
import { h, showContent, statusBadge } from "../../js/ui.js";
import { allObservations, metricHref, publicApi, run, trendLabel } from "./common.js";

const main = document.getElementById("main");
const SPARK_PERIODS = 12;

function metricCard(item, departments) {
  const deptName = departments.get(item.department) || item.department;
  const trendSlot = h("div", { class: "spark-slot", "aria-busy": "true" });
  const card = h("article", { class: `metric-card edge-${item.status}`, dataset: { key: item.metric } },
    h("h3", {}, h("a", { href: metricHref(item.metric) }, item.name)),
    h("p", { class: "metric-dept" }, deptName),
    h("div", { class: "metric-figure" },
      h("span", { class: "metric-value" }, formatValue(item.value, item.unit)),
      statusBadge(item.status),
      item.approved === false ? h("span", { class: "provisional-tag", title: "Not yet approved by the department" }, "Provisional") : null),
    h("dl", { class: "metric-facts" },
      h("dt", {}, "Period"), h("dd", {}, formatPeriod(item.period)),
      h("dt", {}, "Target"), h("dd", { class: "metric-target" }, item.target === null ? "None set" : formatValue(item.target, item.unit)),
      h("dt", {}, "Trend"), h("dd", { class: "metric-trend" }, trendLabel(item.trend))),
    trendSlot);
  return { card, trendSlot };
}

async function drawSpark(item, slot) {
  const periods = Array.from({ length: SPARK_PERIODS }, (_, i) => shiftPeriod(item.period, i - SPARK_PERIODS + 1));
  try {
    const observations = await allObservations(item.metric, periods[0]);
    const values = new Map(observations.filter((o) => !o.org_unit).map((o) => [o.period, o.value]));
    slot.replaceChildren(sparkline({ periods, values, target: item.target, unit: item.unit, status: item.status }));
  } catch {
    slot.replaceChildren(h("p", { class: "muted" }, "The trend chart could not be loaded."));
  } finally {
    slot.removeAttribute("aria-busy");
  }
}

function statusCounts(items) {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const i of items) counts[i.status] = (counts[i.status] || 0) + 1;
  return h("ul", { class: "status-counts", "aria-label": "Key metrics by status" },
    STATUSES.filter((s) => counts[s]).map((s) => h("li", {}, h("span", { class: `badge status-${s}` }, `${counts[s]} ${STATUS_LABELS[s].toLowerCase()}`))));
}

async function load() {
  const [priorities, departments] = await Promise.all([publicApi.priorities(), publicApi.departments()]);
  const names = new Map(departments.items.map((d) => [d.code, d.name]));
  const ordered = [...priorities.items].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  const pages = await Promise.all(ordered.map((p) => publicApi.keyPerformance(p.code)));

  const all = pages.flatMap((p) => p.items);
  const latest = all.map((i) => i.period).sort().at(-1);
  const sections = [];
  const sparks = [];
  ordered.forEach((priority, index) => {
    const items = pages[index].items;
    const headingId = `priority-${priority.code}`;
    const cards = items.map((item) => {
      const { card, trendSlot } = metricCard(item, names);
      sparks.push([item, trendSlot]);
      return h("li", {}, card);
    });
    sections.push(h("section", { class: "priority", "aria-labelledby": headingId, dataset: { priority: priority.code } },
      h("div", { class: "priority-head" },
        h("h2", { id: headingId }, priority.name),
        priority.description ? h("p", {}, priority.description) : null),
      cards.length ? h("ul", { class: "metric-grid" }, cards)
        : h("p", { class: "empty" }, "No key metrics are published for this priority yet.")));
  });

  const onTarget = all.filter((i) => i.status === "on_target").length;
  showContent(main, ...[
    h("h1", {}, "How the city is doing"),
    h("p", { class: "lead" }, "The few results that matter most to each of the city's priorities, measured every period "
      + "against the targets the city has set. Select a result to see its history, how it is measured and its data."),
    all.length ? h("div", { class: "overview" },
      h("p", { id: "overview-line", style: { margin: "0" } },
        `${onTarget} of ${all.length} key results on target`, latest ? ` (latest period ${formatPeriod(latest)})` : "", "."),
      statusCounts(all)) : null,
    ...(sections.length ? sections : [h("p", { class: "empty" }, "The city has not published its priorities yet.")]),
  ].filter(Boolean));
  document.title = "Results for residents — CityStat";
  await Promise.all(sparks.map(([item, slot]) => drawSpark(item, slot)));
}

run(main, load);
