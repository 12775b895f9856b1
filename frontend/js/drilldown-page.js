// "drilldown.html?metric=dpw.service_requests_on_time&period=2017-06[&outcome=late][&org_unit=...][&page=2]": from a
// computed value down to the raw records behind it. A tab per outcome (opened, closed, on time, late, closed without
// a due time, open at the period's end), each with its count, so the value can be checked against its records: an
// on-time rate is the on-time tab's count over the on-time and late tabs' together. Staff only: raw records never
// appear on the public pages.

import { api } from "./api.js";
import { formatValue } from "./format.js";
import { formatPeriod, shiftPeriod } from "./periods.js";
import { recordsApi } from "./records-api.js";
import { requireUser } from "./session.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const PAGE_SIZE = 50;
const OUTCOMES = ["opened", "closed", "on_time", "late", "no_due", "open"];
const LABELS = { opened: "Opened", closed: "Closed", on_time: "Closed on time", late: "Closed late",
  no_due: "Closed, no due time", open: "Open at the end" };
const MEASURES = { opened: "Requests opened", closed: "Requests closed", backlog: "Backlog at the period's end",
  on_time_rate: "On-time rate", median_days_to_close: "Median days to close", p90_days_to_close: "90th percentile of days to close" };

const content = document.getElementById("content");
const count = new Intl.NumberFormat("en-US");
const days = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const when = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function dateTime(iso) {
  return iso ? when.format(new Date(iso)) : "—";
}

function describe(outcome, period) {
  const p = formatPeriod(period);
  return {
    opened: `Requests opened in ${p}.`,
    closed: `Requests closed in ${p}, with or without a due time.`,
    on_time: `Requests closed in ${p} on or before their due time: the on-time rate's numerator.`,
    late: `Requests closed in ${p} after their due time: with the on-time ones, the on-time rate's denominator.`,
    no_due: `Requests closed in ${p} without a due time (none in the feed, no service level for the category): counted apart from the on-time rate.`,
    open: `Requests opened by the end of ${p} and still open then: the backlog.`,
  }[outcome];
}

function href({ key, period, outcome, orgUnit, page }) {
  return pageHref("drilldown.html", { metric: key, period, outcome, org_unit: orgUnit, page: page > 1 ? String(page) : "" });
}

/** The value beside the counts of its records; a warning when the stored value no longer matches them. */
function valuePanel(metric, observation, counts, state) {
  const measure = metric.rule.measure;
  const hasRatio = observation && observation.numerator !== null && observation.denominator !== null;
  const facts = [
    ["Value", observation ? formatValue(observation.value, metric.unit) : "No value", "drill-value", true],
    ...(hasRatio ? [["Numerator", count.format(observation.numerator), "drill-numerator"],
      ["Denominator", count.format(observation.denominator), "drill-denominator"]] : []),
    ["Measure", MEASURES[measure] || measure, "drill-measure"],
  ];
  const lines = [];
  let expected = null; // what the stored value's counts should be, from the records now
  if (measure === "on_time_rate") {
    const withDue = counts.on_time + counts.late;
    lines.push(`${count.format(counts.on_time)} closed on time of ${count.format(withDue)} closed with a due time`
      + (withDue ? ` (${formatValue(counts.on_time / withDue, "percent")})` : "")
      + `; ${count.format(counts.no_due)} closed without a due time are counted apart.`);
    if (hasRatio) expected = [[observation.numerator, counts.on_time], [observation.denominator, withDue]];
  } else if (["opened", "closed", "backlog"].includes(measure)) {
    const outcome = measure === "backlog" ? "open" : measure;
    lines.push(`${count.format(counts[outcome])} records counted: the “${LABELS[outcome]}” tab.`);
    if (observation) expected = [[observation.value, counts[outcome]]];
  } else {
    lines.push(`Computed from the ${count.format(counts.closed)} requests closed in ${formatPeriod(state.period)}: the “Closed” tab.`);
  }
  const stale = expected && expected.some(([stored, now]) => Math.abs(stored - now) > 1e-9);
  return h("section", { class: "status-panel", "aria-labelledby": "value-heading" },
    h("h2", { id: "value-heading" }, `${formatPeriod(state.period)}${state.orgUnit ? `, ${state.orgUnit}` : ""}`),
    h("dl", { class: "facts value-facts" }, facts.map(([label, value, id, big]) => h("div", {},
      h("dt", {}, label), h("dd", { id, class: big ? "big" : null }, value)))),
    h("p", { class: "value-explained", id: "value-explained" }, lines),
    stale ? h("p", { class: "warning-box", id: "value-stale" }, "The stored value was computed from other counts than the "
      + "records give now: the period is probably locked (approved, or long past due), so new records did not change it. "
      + "The performance office can recompute it.") : null,
    !observation ? h("p", { class: "muted" }, "No value is stored for this period.") : null);
}

function periodSteps(state) {
  const link = (period, text) => h("a", { href: href({ ...state, period, page: 1 }) }, text);
  const previous = shiftPeriod(state.period, -1);
  const next = shiftPeriod(state.period, 1);
  return h("nav", { class: "period-steps", "aria-label": "Other periods" },
    link(previous, `← ${formatPeriod(previous)}`), link(next, `${formatPeriod(next)} →`));
}

function recordRow(r) {
  const onTime = r.on_time === null || r.on_time === undefined ? h("span", { class: "muted" }, "—")
    : r.on_time ? h("span", { class: "on-time-yes" }, "Yes") : h("span", { class: "on-time-no" }, "Late");
  return h("tr", { dataset: { id: r.id } },
    h("th", { scope: "row" }, r.id),
    h("td", {}, r.category || "—"),
    h("td", { class: "when" }, dateTime(r.opened_at)),
    h("td", { class: "when" }, dateTime(r.closed_at)),
    h("td", { class: "when" }, dateTime(r.due_at), r.due_source === "sla" ? h("span", { class: "tag", title: "From the service-level table" }, "SLA") : null),
    h("td", { class: "num" }, r.days_to_close === null || r.days_to_close === undefined ? "—" : days.format(r.days_to_close)),
    h("td", {}, onTime),
    h("td", {}, r.org_unit || "—"),
    h("td", {}, r.district || "—"));
}

/** The tabs and the table of the chosen outcome's records; rebuilt in place, so focus stays where it was. */
function recordsPart(metric, counts, state, first) {
  const tabs = OUTCOMES.map((o) => h("button", { type: "button", role: "tab", id: `tab-${o}`, class: "outcome-tab",
    "aria-controls": "outcome-panel", dataset: { outcome: o } },
  h("span", {}, LABELS[o]), h("span", { class: "tab-count", dataset: { count: o } }, count.format(counts[o]))));
  const tablist = h("div", { role: "tablist", class: "outcome-tabs", "aria-label": "Which records" }, tabs);
  const about = h("p", { class: "muted help", id: "outcome-about" });
  const body = h("tbody");
  const caption = h("caption");
  const position = h("p", { class: "muted pager-position", id: "records-position", role: "status" });
  const previous = h("button", { type: "button", class: "secondary small", id: "records-previous" }, "Previous page");
  const next = h("button", { type: "button", class: "secondary small", id: "records-next" }, "Next page");
  const problem = h("div");
  const tablePanel = h("div", { role: "tabpanel", id: "outcome-panel", class: "outcome-panel", tabindex: "0" },
    about,
    h("div", { class: "table-wrap" }, h("table", { class: "records-table", id: "records-table" }, caption,
      h("thead", {}, h("tr", {}, ["Request", "Category", "Opened", "Closed", "Due", "Days to close", "On time", "Org unit",
        "District"].map((t) => h("th", { scope: "col" }, t)))),
      body)),
    h("div", { class: "pager", role: "group", "aria-label": "Pages of records" }, previous, position, next),
    problem);

  let busy = 0;
  function show(page) {
    for (const tab of tabs) {
      const selected = tab.dataset.outcome === state.outcome;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    tablePanel.setAttribute("aria-labelledby", `tab-${state.outcome}`);
    about.textContent = describe(state.outcome, state.period);
    const from = (state.page - 1) * PAGE_SIZE;
    body.replaceChildren(...page.items.map(recordRow));
    caption.textContent = `${LABELS[state.outcome]}: ${count.format(page.total)} ${page.total === 1 ? "record" : "records"}`
      + ` of ${metric.name}, ${formatPeriod(state.period)}. Times in ${zone}.`;
    position.textContent = page.items.length
      ? `Records ${count.format(from + 1)}–${count.format(from + page.items.length)} of ${count.format(page.total)}`
      : page.total ? "No records on this page." : "No records.";
    previous.disabled = state.page <= 1;
    next.disabled = from + page.items.length >= page.total;
    problem.replaceChildren();
  }

  async function go(outcome, pageNumber) {
    const ticket = ++busy;
    previous.disabled = true;
    next.disabled = true;
    try {
      const page = await recordsApi.recordsBehind(state.key, { period: state.period, outcome, orgUnit: state.orgUnit,
        limit: PAGE_SIZE, offset: (pageNumber - 1) * PAGE_SIZE });
      if (ticket !== busy) return; // a later click won
      Object.assign(state, { outcome, page: pageNumber });
      window.history.replaceState(null, "", href(state));
      show(page);
    } catch (error) {
      if (ticket !== busy) return;
      problem.replaceChildren(h("p", { class: "error-box", role: "alert" }, `The records could not be read: ${error.detail || error.message}`));
      previous.disabled = state.page <= 1;
      next.disabled = false;
    }
  }

  tablist.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (tab && tab.dataset.outcome !== state.outcome) go(tab.dataset.outcome, 1);
  });
  // The tabs pattern: arrows move between tabs (and show them), Home and End jump; Tab goes on to the table.
  tablist.addEventListener("keydown", (event) => {
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    tab.focus();
    go(tab.dataset.outcome, 1);
  });
  const turn = async (by, button) => {
    await go(state.outcome, state.page + by);
    if (button.disabled) tablePanel.focus(); // the last (or first) page: focus must not drop to the body
  };
  previous.addEventListener("click", () => turn(-1, previous));
  next.addEventListener("click", () => turn(1, next));
  show(first);
  return h("section", { class: "records-part", "aria-labelledby": "records-heading" },
    h("h2", { id: "records-heading" }, "The records"), tablist, tablePanel);
}

async function departmentName(code) {
  try {
    const { items } = await api.departments();
    return items.find((d) => d.code === code)?.name || code;
  } catch {
    return code; // only for the breadcrumb
  }
}

async function latestPeriod(key, orgUnit) {
  const { items } = await api.observations(key);
  const own = items.filter((o) => (o.org_unit || "") === (orgUnit || ""));
  return own.length ? own.at(-1).period : null;
}

async function main() {
  await requireUser();
  const key = param("metric");
  if (!key) {
    showError(content, { status: 404, detail: "No metric was named in the address (add ?metric=KEY&period=2017-06)." }, { notFound: "Metric" });
    return;
  }
  showLoading(content, "Loading the records…");
  const state = { key, period: param("period"), orgUnit: param("org_unit"), outcome: param("outcome"),
    page: Math.max(1, Number.parseInt(param("page"), 10) || 1) };
  try {
    const metric = await api.metric(key);
    document.getElementById("title").textContent = `Records behind ${metric.name}`;
    document.title = `Records: ${metric.name} — CityStat`;
    const crumb = document.getElementById("crumb-metric");
    crumb.textContent = metric.name;
    crumb.href = pageHref("metric.html", { key, period: /^\d{4}-\d{2}$/.test(state.period) ? state.period : "" });
    document.getElementById("crumb-metric-item").hidden = false;
    if (!metric.is_computed || !metric.rule) {
      showError(content, { title: "Not computed from records", detail: `${metric.name} is reported by its department, `
        + "not computed from raw records: no records lie behind its values." }, { back: false });
      content.append(h("p", {}, h("a", { href: crumb.href }, `Back to ${metric.name}`)));
      return;
    }
    if (!state.period) state.period = await latestPeriod(key, state.orgUnit);
    if (!state.period) {
      showContent(content, h("p", { class: "empty" }, "This metric has no values yet, so no period to show records for."));
      return;
    }
    const [first, counts, observation, name] = await Promise.all([
      recordsApi.recordsBehind(key, { period: state.period, outcome: state.outcome || undefined, orgUnit: state.orgUnit,
        limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE }),
      Promise.all(OUTCOMES.map((o) => recordsApi.recordsBehind(key, { period: state.period, outcome: o, orgUnit: state.orgUnit,
        limit: 1, offset: 0 }).then((page) => [o, page.total]))).then(Object.fromEntries),
      recordsApi.observation(key, state.period, state.orgUnit),
      departmentName(metric.department),
    ]);
    state.outcome = first.outcome; // the server's choice when the address named none: what the value counts
    state.period = first.period;
    const dept = document.getElementById("crumb-dept");
    dept.textContent = name;
    dept.href = pageHref("department.html", { code: metric.department });
    document.getElementById("crumb-dept-item").hidden = false;
    document.getElementById("crumb-here").textContent = `Records, ${formatPeriod(state.period)}`;
    document.getElementById("period-line").textContent = `${name} · ${formatPeriod(state.period)}`
      + `${state.orgUnit ? ` · ${state.orgUnit}` : ""} · key ${metric.key}`;
    window.history.replaceState(null, "", href(state));
    showContent(content, valuePanel(metric, observation, counts, state), periodSteps(state),
      recordsPart(metric, counts, state, first));
  } catch (error) {
    showError(content, error, { notFound: "Metric" });
  }
}

main();
