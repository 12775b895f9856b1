// "analytics.html[?dataset=service_requests&department=DPW&category=Streetlight outage&area=district|grid
// &grid_size=0.01&time=hour|weekday|none&start=2017-01&end=2017-06&sort=count|median_days|open&order=desc|asc]":
// requests of a category ranked by area (district or grid cell) and hour or weekday opened, with how many are still
// open and the median days to close, so that the performance office can see where and when crews are needed (the
// case study's bucket trucks for street lights). The ranking is the server's, over every group, not just the rows
// on screen; the busiest, slowest and fastest groups are named above the table.

import { ApiError, getAll, getJSON } from "./api.js";
import { formatPeriod } from "./periods.js";
import { requireUser } from "./session.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const LOCALE = "en-US";
const PAGE = 100;
const count = new Intl.NumberFormat(LOCALE);
const days = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
// A group whose median rounds to the overall one at one decimal is shown to two, so "1.9 ▲" never sits beside "1.9 ▼".
const finerDays = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const share = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 });
const enc = encodeURIComponent;

const AREAS = ["district", "grid"];
const TIMES = ["hour", "weekday", "none"];
const SORTS = ["count", "median_days", "open"];
const GRID_SIZES = ["0.005", "0.01", "0.02", "0.05"];

const form = document.getElementById("analytics-form");
const fields = Object.fromEntries(["dataset", "department", "category", "area", "grid_size", "time", "start", "end",
  "min_requests", "sort", "order"].map((name) => [name, document.getElementById(name)]));
const content = document.getElementById("content");
const summary = document.getElementById("summary");

const state = {
  user: null,
  departmentNames: new Map(),
  categories: [], // [{category, requests, departments, first_month, last_month}] of the chosen department
  query: null, // the parameters of the ranking on screen
  answer: null, // its first page, with every later page's items appended
};

const analyticsApi = {
  datasets: () => getAll("/metrics/datasets"),
  departments: () => getAll("/metrics/departments"),
  categories: (dataset, department) => getAll(`/metrics/datasets/${enc(dataset)}/categories`, { department }),
  rank: (dataset, query) => getJSON(`/metrics/datasets/${enc(dataset)}/analytics`, query),
};

function plural(n, one, many = `${one}s`) {
  return `${count.format(n)} ${n === 1 ? one : many}`;
}

function daysText(value) {
  if (value === null || value === undefined) return "—";
  return `${days.format(value)} ${value === 1 ? "day" : "days"}`;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

// ---- naming groups ------------------------------------------------------------------------------

function areaName(item) {
  if (typeof item.area === "string") return `district ${item.area}`;
  return `the cell at ${item.area.cell.replace(",", ", ")}`;
}

function areaLabel(item) {
  if (typeof item.area === "string") return `District ${item.area}`;
  return item.area.cell.replace(",", ", ");
}

function hourSpan(hour) {
  return `${pad(hour)}:00–${pad(hour)}:59`;
}

function timeName(item) {
  if (item.hour !== null && item.hour !== undefined) return `at ${hourSpan(item.hour)}`;
  if (item.weekday_name) return `on ${item.weekday_name}s`;
  return "";
}

function timeLabel(item) {
  if (item.hour !== null && item.hour !== undefined) return hourSpan(item.hour);
  return item.weekday_name || "";
}

function groupName(item) {
  return [areaName(item), timeName(item)].filter(Boolean).join(" ");
}

function what(answer) {
  return answer.category ? `${answer.category.toLowerCase()} requests` : "requests";
}

// ---- the sentence that says what the top row means ----------------------------------------------

function headline(answer) {
  const top = answer.items[0];
  if (!top) return `No ${what(answer)} match these choices.`;
  const group = groupName(top);
  const desc = answer.order === "desc";
  const median = top.median_days_to_close === null ? "none closed yet"
    : `median ${daysText(top.median_days_to_close)} to close`;
  if (answer.sort === "median_days") {
    const overall = answer.median_days_to_close === null ? "" : ` (${daysText(answer.median_days_to_close)} overall)`;
    if (top.median_days_to_close === null) return `No ${what(answer)} in these groups have closed yet.`;
    return `${desc ? "Slowest" : "Fastest"} to close: ${group}, a median of ${daysText(top.median_days_to_close)}`
      + `${overall} over ${plural(top.closed, "closed request")}.`;
  }
  if (answer.sort === "open") {
    return `${desc ? "Most" : "Fewest"} still open: ${group}, ${count.format(top.open)} of its `
      + `${plural(top.requests, "request")}.`;
  }
  const part = answer.requests ? ` (${share.format(top.requests / answer.requests)})` : "";
  return `${desc ? "Most" : "Fewest"} ${what(answer)}: ${group}, ${count.format(top.requests)} of `
    + `${count.format(answer.requests)}${part}, ${median}.`;
}

function extremes(answer) {
  const lines = [];
  if (answer.busiest && (answer.sort !== "count" || answer.order !== "desc")) {
    lines.push(h("li", { class: "extreme-busiest" }, h("strong", {}, "Most requests: "),
      `${groupName(answer.busiest)}, ${plural(answer.busiest.requests, "request")}.`));
  }
  if (answer.slowest) {
    lines.push(h("li", { class: "extreme-slowest" }, h("strong", {}, "Slowest: "),
      `${groupName(answer.slowest)}, median ${daysText(answer.slowest.median_days_to_close)}`
      + ` over ${plural(answer.slowest.closed, "closed request")}.`));
  }
  if (answer.fastest && answer.fastest.rank !== answer.slowest?.rank) {
    lines.push(h("li", { class: "extreme-fastest" }, h("strong", {}, "Fastest: "),
      `${groupName(answer.fastest)}, median ${daysText(answer.fastest.median_days_to_close)}`
      + ` over ${plural(answer.fastest.closed, "closed request")}.`));
  }
  const overall = answer.median_days_to_close === null ? "none closed yet"
    : `median ${daysText(answer.median_days_to_close)} to close`;
  lines.push(h("li", {}, `All ${plural(answer.requests, "request")}: ${count.format(answer.open)} still open, ${overall}.`));
  if (answer.left_out_groups) {
    lines.push(h("li", { id: "left-out" },
      `${plural(answer.left_out_groups, "group")} with fewer than ${plural(answer.min_requests, "request")} `
      + `(${plural(answer.left_out_requests, "request")} in all) ${answer.left_out_groups === 1 ? "is" : "are"} not ranked.`));
  }
  if (answer.without_area) {
    const where = answer.area === "grid" ? "coordinates" : "a district";
    lines.push(h("li", { id: "without-area" },
      `${plural(answer.without_area, "request")} without ${where} ${answer.without_area === 1 ? "is" : "are"} counted `
      + "in the total but in no row."));
  }
  return lines;
}

// ---- the table ----------------------------------------------------------------------------------

const COLUMNS = [
  { sort: "count", label: "Requests", first: "desc" },
  { sort: "median_days", label: "Median days to close", first: "desc" },
  { sort: "open", label: "Still open", first: "desc" },
];

function sortButton(column, query) {
  const active = query.sort === column.sort;
  const next = active && query.order === column.first ? (column.first === "desc" ? "asc" : "desc") : column.first;
  const arrow = active ? (query.order === "desc" ? " ▼" : " ▲") : "";
  // The button is named by its column alone; the header's aria-sort says how the table is ranked.
  const button = h("button", { type: "button", class: "sort-button", dataset: { sort: column.sort },
    title: `Rank by ${column.label.toLowerCase()}, ${next === "desc" ? "highest" : "lowest"} first` },
  column.label, h("span", { "aria-hidden": "true" }, arrow));
  button.addEventListener("click", () => {
    fields.sort.value = column.sort;
    fields.order.value = next;
    submit({ focusTable: true, sortedBy: column.sort });
  });
  return button;
}

function heading(column, query) {
  const active = query.sort === column.sort;
  return h("th", { scope: "col", class: "num", "aria-sort": active ? (query.order === "desc" ? "descending" : "ascending")
    : "none" }, sortButton(column, query));
}

function speedCell(item, answer) {
  const median = item.median_days_to_close;
  if (median === null) return h("td", { class: "num median none" }, "—", h("span", { class: "visually-hidden" }, " (none closed)"));
  const overall = answer.median_days_to_close ?? median;
  const slower = median > overall;
  const faster = median < overall;
  // Red above the overall median, green below, darkest at the slowest and fastest groups; the arrow and its words
  // say the same for anyone who cannot tell the colours apart.
  const end = slower ? answer.slowest?.median_days_to_close : answer.fastest?.median_days_to_close;
  const strength = end !== undefined && end !== overall ? Math.min(Math.abs((median - overall) / (end - overall)), 1) : 0;
  // At most 0.4, so the red and green inks keep a 4.5:1 contrast on the darkest shade.
  const alpha = (0.1 + 0.3 * strength).toFixed(2);
  const style = slower ? { backgroundColor: `rgba(198, 40, 40, ${alpha})` }
    : faster ? { backgroundColor: `rgba(26, 127, 55, ${alpha})` } : null;
  return h("td", { class: `num median${slower ? " slower" : faster ? " faster" : ""}`, style },
    (slower || faster) && days.format(median) === days.format(overall) ? finerDays.format(median) : days.format(median),
    slower ? h("span", { class: "speed" }, h("span", { "aria-hidden": "true" }, " ▲"), h("span", { class: "visually-hidden" }, " slower than overall")) : null,
    faster ? h("span", { class: "speed" }, h("span", { "aria-hidden": "true" }, " ▼"), h("span", { class: "visually-hidden" }, " faster than overall")) : null);
}

function mapLink(cell) {
  const lat = ((cell.south + cell.north) / 2).toFixed(5);
  const lon = ((cell.west + cell.east) / 2).toFixed(5);
  return h("a", { class: "map-link", href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`,
    rel: "noopener noreferrer" }, "map", h("span", { class: "visually-hidden" }, ` of ${cell.cell}`));
}

function marks(item, answer) {
  const tags = [];
  if (answer.busiest?.rank === item.rank) tags.push(h("span", { class: "tag tag-busiest" }, "Most requests"));
  if (answer.slowest?.rank === item.rank) tags.push(h("span", { class: "tag tag-slowest" }, "Slowest"));
  if (answer.fastest?.rank === item.rank && answer.slowest?.rank !== item.rank) {
    tags.push(h("span", { class: "tag tag-fastest" }, "Fastest"));
  }
  return tags;
}

function tableRow(item, answer, most) {
  const classes = [answer.busiest?.rank === item.rank ? "busiest" : "", answer.slowest?.rank === item.rank ? "slowest" : "",
    answer.fastest?.rank === item.rank ? "fastest" : ""].filter(Boolean).join(" ");
  const width = most ? `${Math.max(1, (100 * item.requests) / most).toFixed(1)}%` : "0";
  return h("tr", { class: classes || null, dataset: { rank: item.rank, area: typeof item.area === "string" ? item.area : item.area.cell,
    ...(item.hour !== null ? { hour: item.hour } : {}), ...(item.weekday !== null ? { weekday: item.weekday } : {}) } },
  h("td", { class: "num rank" }, String(item.rank)),
  h("th", { scope: "row", class: "area" }, areaLabel(item), typeof item.area === "string" ? null : [" ", mapLink(item.area)],
    marks(item, answer)),
  answer.time === "none" ? null : h("td", { class: "when" }, timeLabel(item)),
  h("td", { class: "num requests" },
    h("span", { class: "bar-track", "aria-hidden": "true" }, h("span", { class: "bar", style: { width } })),
    h("span", { class: "figure" }, count.format(item.requests))),
  speedCell(item, answer),
  h("td", { class: "num open" }, count.format(item.open)),
  h("td", { class: "num closed" }, count.format(item.closed)));
}

function caption(answer) {
  const by = [answer.area === "grid" ? `grid cell (${answer.grid_size}°)` : "district",
    answer.time === "hour" ? "hour opened" : answer.time === "weekday" ? "day of the week opened" : null]
    .filter(Boolean).join(" and ");
  const months = answer.start || answer.end
    ? `, opened ${answer.start ? `from ${formatPeriod(answer.start)}` : ""}${answer.start && answer.end ? " " : ""}${answer.end ? `to ${formatPeriod(answer.end)}` : ""}`
    : "";
  const who = answer.departments ? ` (${answer.departments.join(", ")})` : "";
  const ranked = { count: "requests", median_days: "median days to close", open: "requests still open" }[answer.sort];
  const smallest = answer.min_requests > 1 ? `, groups of at least ${plural(answer.min_requests, "request")}` : "";
  return `${answer.category || "All categories"}${who} by ${by}${months}${smallest}, ranked by ${ranked}, `
    + `${answer.order === "desc" ? "highest" : "lowest"} first. Hours and days are on the city's clock (${answer.time_zone}).`;
}

function table(answer) {
  const most = Math.max(0, ...answer.items.map((i) => i.requests), answer.busiest?.requests || 0);
  return h("div", { class: "table-wrap" },
    h("table", { class: "ranking", id: "ranking", tabindex: "-1" },
      h("caption", {}, caption(answer)),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", class: "num" }, "Rank"),
        h("th", { scope: "col" }, answer.area === "grid" ? "Grid cell (south-west corner)" : "District"),
        answer.time === "none" ? null : h("th", { scope: "col" }, answer.time === "hour" ? "Hour opened" : "Day opened"),
        COLUMNS.map((c) => heading(c, answer)),
        h("th", { scope: "col", class: "num" }, "Closed"))),
      h("tbody", {}, answer.items.map((item) => tableRow(item, answer, most)))));
}

function pager(answer) {
  const shown = answer.items.length;
  const line = h("p", { class: "shown", id: "shown" }, `Showing ${count.format(shown)} of ${plural(answer.total, "group")}.`);
  if (shown >= answer.total) return line;
  const more = h("button", { type: "button", class: "secondary", id: "show-more" }, `Show ${Math.min(PAGE, answer.total - shown)} more`);
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const next = await analyticsApi.rank(state.query.dataset, { ...state.query, dataset: undefined, limit: PAGE, offset: shown });
      state.answer = { ...state.answer, items: [...state.answer.items, ...next.items] };
      render();
      // The table was drawn anew: keep the keyboard where it was, or on the table once every row is shown.
      const again = document.getElementById("show-more");
      if (again) again.focus();
      else document.getElementById("ranking")?.focus();
    } catch (error) {
      more.disabled = false;
      showError(content, error, { back: false });
    }
  });
  return h("div", { class: "form-actions" }, line, more);
}

function render() {
  const answer = state.answer;
  document.getElementById("headline").textContent = headline(answer);
  document.getElementById("extremes").replaceChildren(...extremes(answer));
  summary.hidden = false;
  if (!answer.items.length) {
    showContent(content, h("p", { class: "empty", id: "no-rows" }, "No records match these choices."));
    return;
  }
  showContent(content, legend(), table(answer), pager(answer));
}

function legend() {
  return h("ul", { class: "legend", "aria-label": "How to read the table" },
    h("li", {}, h("span", { class: "swatch bar-swatch", "aria-hidden": "true" }), "Bar: requests, against the most in any row"),
    h("li", {}, h("span", { class: "swatch slower-swatch", "aria-hidden": "true" }),
      "▲ median days to close above the overall median (darkest: the slowest group)"),
    h("li", {}, h("span", { class: "swatch faster-swatch", "aria-hidden": "true" }), "▼ below it (darkest: the fastest)"));
}

// ---- the form -----------------------------------------------------------------------------------

function option(value, text, selected) {
  return h("option", { value, selected: selected || null }, text);
}

function chosen(name, allowed, fallback) {
  const value = param(name);
  return allowed.includes(value) ? value : fallback;
}

async function fillDepartments(dataset, requested) {
  // The departments with records in the dataset that the user may read (the server answers only those).
  const { items } = await analyticsApi.categories(dataset);
  const codes = [...new Set(items.flatMap((c) => c.departments))].sort();
  const select = fields.department;
  const all = state.user.citywide ? [option("", "All departments", !requested)] : [];
  select.replaceChildren(...all, ...codes.map((code) => option(code,
    state.departmentNames.has(code) ? `${state.departmentNames.get(code)} (${code})` : code, code === requested)));
  if (!state.user.citywide && !codes.length && state.user.department) {
    select.replaceChildren(option(state.user.department, state.departmentNames.get(state.user.department) || state.user.department, true));
  }
  return items;
}

async function fillCategories(dataset, department, requested, everyCategory) {
  const { items } = department ? await analyticsApi.categories(dataset, department) : { items: everyCategory };
  state.categories = items;
  const select = fields.category;
  if (!items.length) {
    select.replaceChildren(option("", "No categories", true));
    return;
  }
  // Ranked for one category at a time (the busiest, until one is chosen): mixing potholes with street lights
  // would say little about where either crew should be.
  const pick = items.some((c) => c.category === requested) ? requested : items[0].category;
  select.replaceChildren(...items.map((c) => option(c.category, `${c.category} (${count.format(c.requests)})`, c.category === pick)));
  monthBounds();
}

function monthBounds() {
  const category = state.categories.find((c) => c.category === fields.category.value);
  const first = category ? category.first_month : state.categories.map((c) => c.first_month).sort()[0];
  const last = category ? category.last_month : state.categories.map((c) => c.last_month).sort().at(-1);
  for (const input of [fields.start, fields.end]) {
    input.min = first || "";
    input.max = last || "";
  }
}

function toggleGridSize() {
  document.getElementById("grid-size-field").hidden = fields.area.value !== "grid";
}

function queryFromForm() {
  const grid = fields.area.value === "grid";
  return {
    dataset: fields.dataset.value,
    department: fields.department.value || undefined,
    category: fields.category.value || undefined,
    area: fields.area.value,
    grid_size: grid ? fields.grid_size.value : undefined,
    time: fields.time.value,
    start: fields.start.value || undefined,
    end: fields.end.value || undefined,
    min_requests: Number(fields.min_requests.value) > 1 ? String(Math.floor(Number(fields.min_requests.value))) : undefined,
    sort: fields.sort.value,
    order: fields.order.value,
  };
}

async function rank(query, { focusTable = false, sortedBy = null } = {}) {
  state.query = query;
  showLoading(content, "Ranking…");
  try {
    const answer = await analyticsApi.rank(query.dataset, { ...query, dataset: undefined, limit: PAGE });
    if (state.query !== query) return; // a later choice has been made meanwhile
    state.answer = answer;
    render();
  } catch (error) {
    summary.hidden = true;
    showError(content, error, { notFound: error.status === 404 ? "Dataset or department" : "Page", back: false });
    return;
  }
  if (sortedBy) content.querySelector(`.sort-button[data-sort="${sortedBy}"]`)?.focus();
  else if (focusTable) document.getElementById("ranking")?.focus();
}

function submit(options = {}) {
  const query = queryFromForm();
  history.pushState(null, "", pageHref("analytics.html", query));
  return rank(query, options);
}

async function loadChoices({ dataset, department, category }) {
  const every = await fillDepartments(dataset, department);
  const picked = fields.department.value;
  await fillCategories(dataset, picked, category, picked ? null : every);
}

function readParams() {
  fields.area.value = chosen("area", AREAS, "district");
  fields.grid_size.value = chosen("grid_size", GRID_SIZES, "0.01");
  fields.time.value = chosen("time", TIMES, "hour");
  fields.sort.value = chosen("sort", SORTS, "count");
  fields.order.value = chosen("order", ["desc", "asc"], "desc");
  fields.start.value = /^\d{4}-\d{2}$/.test(param("start")) ? param("start") : "";
  fields.end.value = /^\d{4}-\d{2}$/.test(param("end")) ? param("end") : "";
  fields.min_requests.value = /^[1-9]\d{0,6}$/.test(param("min_requests")) ? param("min_requests") : "1";
  toggleGridSize();
}

async function main() {
  state.user = await requireUser();
  showLoading(content, "Loading the records you can see…");
  let datasets;
  try {
    const [{ items }, { items: departments }] = await Promise.all([analyticsApi.datasets(), analyticsApi.departments()]);
    datasets = items;
    state.departmentNames = new Map(departments.map((d) => [d.code, d.name]));
    const wanted = datasets.some((d) => d.key === param("dataset")) ? param("dataset") : "service_requests";
    fields.dataset.replaceChildren(...datasets.map((d) => option(d.key, `${d.title} (${count.format(d.records)})`, d.key === wanted)));
    readParams();
    await loadChoices({ dataset: fields.dataset.value, department: param("department"), category: param("category") });
  } catch (error) {
    showError(content, error instanceof ApiError ? error : new ApiError({ detail: String(error) }), { back: false });
    return;
  }
  await rank(queryFromForm());
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
fields.area.addEventListener("change", toggleGridSize);
fields.category.addEventListener("change", monthBounds);
fields.dataset.addEventListener("change", async () => {
  try {
    await loadChoices({ dataset: fields.dataset.value, department: fields.department.value, category: "" });
  } catch (error) {
    showError(content, error, { back: false });
  }
});
fields.department.addEventListener("change", async () => {
  try {
    await loadChoices({ dataset: fields.dataset.value, department: fields.department.value, category: fields.category.value });
  } catch (error) {
    showError(content, error, { back: false });
  }
});
window.addEventListener("popstate", async () => {
  readParams();
  try {
    await loadChoices({ dataset: param("dataset") || fields.dataset.value, department: param("department"), category: param("category") });
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  rank(queryFromForm());
});

main();
