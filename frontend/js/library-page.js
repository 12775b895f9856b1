// "library.html[?q=potholes&jurisdiction=San Francisco&department=DPW&direction=...&id=12]": other
// jurisdictions' measures, to research before defining a metric (staff only). One measure's details show
// its source, unit, good direction, targets and actuals by fiscal year, and the import's notes; the
// performance office adopts it into a department as a draft metric, keeping where it came from.

import { formatValue } from "./format.js";
import { requireUser } from "./session.js";
import { h, showContent, showError, showLoading } from "./ui.js";
import {
  catalogueApi, departmentOptions, DIRECTIONS, editorHref, field, FREQUENCIES, isOffice, KINDS, markInvalid, options,
  problemBox, ROLLUPS, simpleTable, stamp, UNIT_SUGGESTIONS, UNITS_WITH_ROLLUP, whileBusy,
} from "./catalogue-common.js";

const PAGE_SIZE = 50;
const content = document.getElementById("content");
const slot = document.getElementById("measure-slot");
const form = document.getElementById("library-filters");
const count = document.getElementById("result-count");
const FILTERS = ["q", "jurisdiction", "department", "direction"];
const state = { user: null, departments: [], filters: {}, page: 1, selected: null };

function readAddress() {
  const query = new URLSearchParams(window.location.search);
  const filters = Object.fromEntries(FILTERS.map((name) => [name, (query.get(name) || "").trim()]));
  if (!DIRECTIONS[filters.direction]) filters.direction = "";
  const page = Number.parseInt(query.get("page") || "1", 10);
  const id = Number.parseInt(query.get("id") || "", 10);
  return { filters, page: page > 0 ? page : 1, id: id > 0 ? id : null };
}

function address({ filters = state.filters, page = state.page, id = state.selected } = {}) {
  const query = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) query.set(name, filters[name]);
  if (page > 1) query.set("page", String(page));
  if (id) query.set("id", String(id));
  const qs = query.toString();
  return qs ? `library.html?${qs}` : "library.html";
}

// San Francisco's "General" unit becomes "number": a figure with no unit word after it.
const valueIn = (value, unit) => formatValue(value, unit === "number" ? "" : unit);

// ---- the list ---------------------------------------------------------------------------------------

function measureRow(measure) {
  const open = h("button", { type: "button", class: "link-like", "aria-controls": "measure-slot",
    "aria-expanded": String(state.selected === measure.id) }, measure.name);
  open.addEventListener("click", () => selectMeasure(measure.id));
  return h("tr", { dataset: { id: String(measure.id) }, class: state.selected === measure.id ? "selected" : null },
    h("th", { scope: "row", class: "name-cell" }, open,
      h("span", { class: "metric-meta" }, `${measure.source_code}${measure.program ? ` · ${measure.program}` : ""}`)),
    h("td", {}, measure.jurisdiction),
    h("td", { title: measure.department_name }, measure.department_code),
    h("td", {}, measure.unit_text || measure.unit),
    h("td", {}, DIRECTIONS[measure.direction] || measure.direction),
    h("td", {}, measure.adopted_as.length ? h("span", { class: "tag" }, "Adopted") : ""));
}

function pager(total) {
  const pages = Math.ceil(total / PAGE_SIZE);
  if (pages <= 1) return null;
  return h("nav", { class: "pager", "aria-label": "Pages of results" },
    state.page > 1 ? h("a", { href: address({ page: state.page - 1, id: null }), rel: "prev" }, "← Previous") : null,
    h("span", {}, `Page ${state.page} of ${pages}`),
    state.page < pages ? h("a", { href: address({ page: state.page + 1, id: null }), rel: "next" }, "Next →") : null);
}

async function loadList() {
  showLoading(content, "Searching the library…");
  let result;
  try {
    result = await catalogueApi.measures({ ...state.filters, limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE });
  } catch (error) {
    count.textContent = "";
    showError(content, error, { back: false });
    return;
  }
  const searched = FILTERS.some((name) => state.filters[name]);
  count.textContent = result.total
    ? `${result.total} ${result.total === 1 ? "measure" : "measures"}${searched ? " match" : " in the library"}.`
    : "";
  if (!result.items.length) {
    showContent(content, h("p", { class: "empty", id: "library-empty" }, searched
      ? "No measure matches. Try fewer words, or another department code."
      : "The library is empty: the performance office imports other jurisdictions’ measures (citystat library import)."));
    return;
  }
  showContent(content, ...[simpleTable({
    id: "measures-table",
    caption: "Measures; choose one to see its details",
    headers: ["Measure", "Jurisdiction", "Their dept.", "Unit", "Good direction", "Adopted"],
    rows: result.items.map(measureRow),
  }), pager(result.total)].filter(Boolean));
}

// ---- one measure -----------------------------------------------------------------------------------

function figuresTable(measure) {
  const years = [...new Set([...Object.keys(measure.targets), ...Object.keys(measure.actuals)])].sort();
  if (!years.length) return h("p", { class: "muted" }, "The source gives no targets or actuals for this measure.");
  return simpleTable({ id: "measure-figures", caption: "By fiscal year, as the source counts them",
    headers: ["Fiscal year", "Target", "Actual"],
    rows: years.map((fy) => h("tr", {}, h("th", { scope: "row" }, fy),
      h("td", {}, fy in measure.targets ? valueIn(measure.targets[fy], measure.unit) : "—"),
      h("td", {}, fy in measure.actuals ? valueIn(measure.actuals[fy], measure.unit) : "—"))) });
}

function slug(text) {
  return text.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60)
    .replace(/_+$/, "");
}

function adoptForm(measure) {
  const outcome = h("div", { id: "adopt-result", role: "status" });
  const errors = h("div", { class: "form-errors", id: "adopt-errors" });
  const department = h("select", { name: "department" }, departmentOptions(state.departments, "", "Choose a department…"));
  const key = h("input", { name: "key", type: "text", autocomplete: "off", autocapitalize: "none", spellcheck: "false",
    maxlength: "80" });
  let suggested = "";
  department.addEventListener("change", () => {
    // Suggest "dpw.street_cleanliness" until the analyst types a key of their own.
    if (!department.value || (key.value && key.value !== suggested)) return;
    suggested = `${department.value.toLowerCase()}.${slug(measure.name) || "measure"}`.slice(0, 80);
    key.value = suggested;
  });
  const unit = h("input", { name: "unit", type: "text", list: "adopt-units", autocomplete: "off", value: measure.unit });
  const rollup = h("select", { name: "rollup" }, options(ROLLUPS, "", "The unit’s default"));
  const rollupField = field("a-rollup", "Roll-up", rollup, "How periods combine");
  const explainRollup = () => {
    const typed = unit.value.trim();
    rollupField.querySelector(".help").textContent = UNITS_WITH_ROLLUP[typed]
      ? `Default for ${typed}: ${ROLLUPS[UNITS_WITH_ROLLUP[typed]].toLowerCase()}.`
      : `Needed: “${typed || "this unit"}” does not say how periods combine.`;
  };
  unit.addEventListener("input", explainRollup);
  const adopt = h("button", { type: "submit", class: "primary", id: "adopt-button" }, "Adopt as draft");
  const node = h("form", { id: "adopt-form", class: "stack-form", novalidate: true },
    h("div", { class: "form-grid" },
      field("a-department", "Into department", department, null, { required: true }),
      field("a-key", "Key of the new metric", key, "Lower case: the department’s code, a dot, words joined by _",
        { required: true }),
      field("a-frequency", "Reported", h("select", { name: "frequency" }, options(FREQUENCIES, "month"))),
      field("a-kind", "Kind", h("select", { name: "kind" }, options(KINDS, "output"))),
      field("a-name", "Name", h("input", { name: "name", type: "text", maxlength: "200", value: measure.name.slice(0, 200) })),
      field("a-unit", "Unit", unit, `The source says “${measure.unit_text || measure.unit}”`),
      rollupField,
      field("a-reason", "Why adopt it", h("input", { name: "reason", type: "text", maxlength: "2000" }), "Optional; kept with the draft")),
    h("datalist", { id: "adopt-units" }, UNIT_SUGGESTIONS.map((u) => h("option", { value: u }))),
    errors,
    h("div", { class: "form-actions" }, adopt),
    outcome);
  explainRollup();

  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    outcome.replaceChildren();
    const f = node.elements;
    const missing = [["department", "the department"], ["key", "a key"]].filter(([name]) => !f[name].value.trim());
    if (missing.length) {
      markInvalid(node, { errors: missing.map(([name]) => ({ field: name })) })?.focus();
      errors.replaceChildren(problemBox({ status: 422, detail: `Choose ${missing.map(([, w]) => w).join(" and ")}.` }));
      return;
    }
    const body = { department: f.department.value, key: f.key.value.trim(), frequency: f.frequency.value, kind: f.kind.value };
    if (f.name.value.trim() && f.name.value.trim() !== measure.name.slice(0, 200)) body.name = f.name.value.trim();
    if (f.unit.value.trim() && f.unit.value.trim() !== measure.unit) body.unit = f.unit.value.trim();
    if (f.rollup.value) body.rollup = f.rollup.value;
    if (f.reason.value.trim()) body.reason = f.reason.value.trim();
    try {
      // The server's 409 (the key is taken) and 422 (no roll-up for this unit, say) are shown as they come.
      const metric = await whileBusy(adopt, "Adopting…", () => catalogueApi.adopt(measure.id, body), node);
      markInvalid(node, null);
      outcome.replaceChildren(h("p", { class: "success-box" }, `Adopted as the draft “${metric.name}” in ${metric.department}. `,
        h("a", { href: editorHref(metric.key), id: "adopted-link" }, "Open the draft in the editor")));
      outcome.querySelector("a").focus();
      const refreshed = await catalogueApi.measure(measure.id).catch(() => null);
      if (refreshed) document.getElementById("adopted-as")?.replaceWith(adoptedAs(refreshed));
    } catch (error) {
      markInvalid(node, error)?.focus();
      errors.replaceChildren(problemBox(error));
    }
  });
  return node;
}

function adoptedAs(measure) {
  return h("div", { id: "adopted-as" }, measure.adopted_as.length
    ? h("p", {}, "Already adopted as ", measure.adopted_as.flatMap((key, i) => [i ? ", " : "",
      h("a", { href: editorHref(key) }, key)]), ".")
    : null);
}

function measurePanel(measure) {
  const facts = [
    ["Jurisdiction", measure.jurisdiction],
    ["Their department", `${measure.department_name} (${measure.department_code})`],
    ["Program", measure.program || "—"],
    ["Unit", measure.unit_text ? `${measure.unit_text} (${measure.unit})` : measure.unit],
    ["Good direction", DIRECTIONS[measure.direction] || measure.direction],
    ["Owner", measure.owner || "—"],
    ["Source", `${measure.source}, ${measure.source_code}, row ${measure.source_row}`],
    ["Imported", stamp(measure.imported_at)],
  ];
  const text = (label, value) => (value ? [h("h3", {}, label), h("p", { class: "prose" }, value)] : []);
  return h("section", { class: "editor-section measure-panel", id: "measure-detail", "aria-labelledby": "measure-title" },
    h("h2", { id: "measure-title", tabindex: "-1" }, measure.name),
    h("dl", { class: "definition-list" }, facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
    ...text("Goal", measure.goal),
    ...text("Description", measure.description),
    ...text("Methodology", measure.methodology),
    h("h3", {}, "Targets and actuals"),
    figuresTable(measure),
    measure.notes.length ? [h("h3", {}, "Notes from the import"),
      h("ul", { class: "notes", id: "measure-notes" }, measure.notes.map((n) => h("li", {}, n)))] : null,
    adoptedAs(measure),
    h("h3", {}, "Adopt as a draft metric"),
    isOffice(state.user) ? adoptForm(measure)
      : h("p", { class: "notice", id: "adopt-office-only" }, "The performance office (analysts) adopts measures as metrics."));
}

async function selectMeasure(id, { focus = true } = {}) {
  state.selected = id;
  window.history.replaceState(null, "", address());
  for (const row of document.querySelectorAll("#measures-table tbody tr")) {
    const chosen = row.dataset.id === String(id);
    row.classList.toggle("selected", chosen);
    row.querySelector("button")?.setAttribute("aria-expanded", String(chosen));
  }
  showLoading(slot, "Loading the measure…");
  try {
    const measure = await catalogueApi.measure(id);
    showContent(slot, measurePanel(measure));
    if (focus) document.getElementById("measure-title").focus();
  } catch (error) {
    showError(slot, error, { notFound: "Measure", back: false });
  }
}

async function main() {
  state.user = await requireUser();
  const { filters, page, id } = readAddress();
  Object.assign(state, { filters, page, selected: id });
  for (const name of FILTERS) form.elements[name].value = filters[name];
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value.trim()]));
    window.location.assign(address({ filters: chosen, page: 1, id: null }));
  });
  try {
    state.departments = await catalogueApi.departments();
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  await loadList();
  if (id) await selectMeasure(id, { focus: false });
}

main();
