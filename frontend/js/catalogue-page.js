// "catalogue.html[?department=DPW&priority=public_safety&state=active&key=true&page=2]": every metric the
// visitor may see, filtered by department, priority and state. The filters live in the address, so a
// filtered view can be bookmarked or sent. Staff open a metric in its editor; the public its chart page.
// The performance office starts new metrics here, as drafts.

import { openDialog } from "./dialog.js";
import { parseEntry } from "./entry.js";
import { currentUser } from "./session.js";
import { h, showContent, showError, showLoading } from "./ui.js";
import {
  catalogueApi, departmentOptions, DIRECTIONS, editorHref, field, FREQUENCIES, isOffice, KINDS, markInvalid, options,
  PERIOD_EXAMPLES, problemBox, ROLLUPS, stateBadge, STATE_LABELS, UNIT_SUGGESTIONS, UNITS_WITH_ROLLUP, whileBusy,
} from "./catalogue-common.js";

const PAGE_SIZE = 100;
const content = document.getElementById("content");
const form = document.getElementById("filters");
const count = document.getElementById("result-count");

const enc = encodeURIComponent;

/** The filters in the address; anything unusable is dropped rather than sent. */
function readFilters() {
  const query = new URLSearchParams(window.location.search);
  const page = Number.parseInt(query.get("page") || "1", 10);
  return {
    department: query.get("department") || "",
    priority: query.get("priority") || "",
    state: STATE_LABELS[query.get("state")] ? query.get("state") : "",
    key: ["true", "1", "on"].includes((query.get("key") || "").toLowerCase()),
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

function hrefFor(filters) {
  const query = new URLSearchParams();
  for (const name of ["department", "priority", "state"]) if (filters[name]) query.set(name, filters[name]);
  if (filters.key) query.set("key", "true");
  if (filters.page > 1) query.set("page", String(filters.page));
  const qs = query.toString();
  return qs ? `catalogue.html?${qs}` : "catalogue.html";
}

function fillFilterForm(filters, departments, priorities) {
  form.department.replaceChildren(...departmentOptions(departments, filters.department, "All departments"));
  form.priority.replaceChildren(...options(Object.fromEntries(priorities.map((p) => [p.code, p.name])),
    filters.priority, "All priorities"));
  form.state.value = filters.state;
  form.key.checked = filters.key;
  form.addEventListener("submit", (event) => {
    // Only the filters that are set go in the address, and a new filter starts again at page one.
    event.preventDefault();
    window.location.assign(hrefFor({ department: form.department.value, priority: form.priority.value,
      state: form.state.value, key: form.key.checked, page: 1 }));
  });
}

function describeFilters(filters, departments, priorities) {
  const parts = [];
  if (filters.state) parts.push(STATE_LABELS[filters.state].toLowerCase());
  if (filters.key) parts.push("key");
  let text = `${parts.length ? `${parts.join(" ")} ` : ""}metrics`;
  if (filters.department) {
    text += ` of ${departments.find((d) => d.code === filters.department)?.name || filters.department}`;
  }
  if (filters.priority) {
    text += ` aligned to ${priorities.find((p) => p.code === filters.priority)?.name || filters.priority}`;
  }
  return text;
}

function keyStar(metric) {
  if (!metric.is_key) return "";
  const where = metric.priorities.filter((p) => p.is_key).map((p) => p.name).join(", ");
  return h("span", { class: "key-star", title: `Key metric for ${where}` },
    h("span", { "aria-hidden": "true" }, "★"), h("span", { class: "visually-hidden" }, `Key metric for ${where}`));
}

function metricRow(metric, user, departmentNames) {
  const href = user ? editorHref(metric.key) : `metric.html?key=${enc(metric.key)}`;
  return h("tr", { dataset: { key: metric.key } },
    h("td", { class: "key-cell" }, keyStar(metric)),
    h("th", { scope: "row", class: "name-cell" },
      h("a", { href }, metric.name),
      h("span", { class: "metric-meta" }, metric.key,
        metric.priorities.length ? ` · ${metric.priorities.map((p) => p.name).join(", ")}` : "")),
    h("td", { class: "department-cell", title: departmentNames.get(metric.department) || null }, metric.department),
    h("td", { class: "state-cell" }, stateBadge(metric.state)),
    h("td", {}, KINDS[metric.kind] || metric.kind),
    h("td", {}, metric.unit),
    h("td", { class: "published-cell" }, metric.is_published ? "Published" : "Not published"),
    h("td", { class: "version-cell" }, `v${metric.version}`));
}

function pager(filters, total) {
  const pages = Math.ceil(total / PAGE_SIZE);
  if (pages <= 1) return null;
  return h("nav", { class: "pager", "aria-label": "Pages of the catalogue" },
    filters.page > 1 ? h("a", { href: hrefFor({ ...filters, page: filters.page - 1 }), rel: "prev" }, "← Previous") : null,
    h("span", {}, `Page ${filters.page} of ${pages}`),
    filters.page < pages ? h("a", { href: hrefFor({ ...filters, page: filters.page + 1 }), rel: "next" }, "Next →") : null);
}

function catalogueTable(items, total, filters, user, departments, priorities) {
  const described = describeFilters(filters, departments, priorities);
  const first = (filters.page - 1) * PAGE_SIZE;
  count.textContent = total
    ? `${total} ${described}${total > items.length ? `; showing ${first + 1}–${first + items.length}` : ""}.`
    : `No ${described}.`;
  if (!items.length) {
    return h("p", { class: "empty", id: "catalogue-empty" },
      filters.page > 1 && total ? "There is no such page: " : "No metrics match these filters. ",
      h("a", { href: "catalogue.html" }, "Show every metric"));
  }
  const names = new Map(departments.map((d) => [d.code, d.name]));
  return h("div", {},
    h("div", { class: "table-wrap" },
      h("table", { id: "catalogue-table", class: "catalogue" },
        h("caption", {}, `${described[0].toUpperCase()}${described.slice(1)}`,
          user ? "" : " (published metrics only)"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, h("span", { "aria-hidden": "true" }, "★"), h("span", { class: "visually-hidden" }, "Key metric")),
          ["Metric", "Department", "State", "Kind", "Unit", "Public", "Version"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, items.map((m) => metricRow(m, user, names))))),
    pager(filters, total));
}

// ---- a new draft --------------------------------------------------------------------------------

function newMetricForm(departments, preset, close) {
  const errors = h("div", { class: "form-errors", id: "new-metric-errors" });
  const unitList = h("datalist", { id: "unit-suggestions" }, UNIT_SUGGESTIONS.map((u) => h("option", { value: u })));
  const frequency = h("select", { name: "frequency" }, options(FREQUENCIES, "month"));
  const firstPeriod = h("input", { name: "first_period", type: "text", autocomplete: "off", placeholder: PERIOD_EXAMPLES.month });
  frequency.addEventListener("change", () => { firstPeriod.placeholder = PERIOD_EXAMPLES[frequency.value] || ""; });
  const department = h("select", { name: "department" }, departmentOptions(departments, preset, "Choose a department…"));
  const key = h("input", { name: "key", type: "text", autocomplete: "off", autocapitalize: "none", spellcheck: "false",
    maxlength: "80", placeholder: "dpw.potholes_filled" });
  department.addEventListener("change", () => {
    // Keys start with the department's code by convention; offer it while the key is still empty.
    if (department.value && (!key.value || /^[a-z0-9_]+\.$/.test(key.value))) key.value = `${department.value.toLowerCase()}.`;
  });
  const unit = h("input", { name: "unit", type: "text", list: "unit-suggestions", autocomplete: "off", autocapitalize: "none" });
  const save = h("button", { type: "submit", class: "primary", id: "create-metric" }, "Create draft");
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  cancel.addEventListener("click", () => close());
  const formNode = h("form", { class: "stack-form", id: "new-metric-form", novalidate: true },
    h("p", { class: "muted help" }, "A new metric starts as a draft. You can revise it, then propose it to its department."),
    h("div", { class: "form-grid" },
      field("nm-department", "Department", department, null, { required: true }),
      field("nm-key", "Key", key, "Lower case: the department's code, a dot, then words joined by _", { required: true }),
      field("nm-name", "Name", h("input", { name: "name", type: "text", maxlength: "200" }), null, { required: true }),
      field("nm-unit", "Unit", unit, "percent (typed as 95 for 95%), count, dollars, days, hours…", { required: true }),
      field("nm-kind", "Kind", h("select", { name: "kind" }, options(KINDS, "output")),
        "An output the department controls, or an outcome it drives"),
      field("nm-direction", "Good direction", h("select", { name: "direction" }, options(DIRECTIONS, "higher_is_better"))),
      field("nm-frequency", "Reported", frequency),
      field("nm-rollup", "Roll-up", h("select", { name: "rollup" }, options(ROLLUPS, "", "The unit's default")),
        "How periods and org units combine; needed when the unit has no default"),
      field("nm-due", "Due days", h("input", { name: "due_days", type: "number", min: "0", max: "366", step: "1", value: "10" }),
        "Days after a period ends when its value is due"),
      field("nm-first", "First period", firstPeriod, "Optional: the first period values are expected for"),
      field("nm-min", "Lowest allowed value", h("input", { name: "min_value", type: "text", inputmode: "decimal" }), "Optional"),
      field("nm-max", "Highest allowed value", h("input", { name: "max_value", type: "text", inputmode: "decimal" }), "Optional")),
    field("nm-methodology", "Methodology", h("textarea", { name: "methodology", rows: "4", maxlength: "20000" }),
      "How it is counted: what is included, what is not, and where the numbers come from"),
    h("div", { class: "form-grid" },
      field("nm-source", "Data source", h("input", { name: "data_source", type: "text", maxlength: "2000" })),
      field("nm-owner", "Owner", h("input", { name: "owner", type: "text", maxlength: "200" }))),
    unitList,
    errors,
    h("div", { class: "modal-actions" }, cancel, save));

  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const f = formNode.elements;
    const missing = [["department", "Department"], ["key", "Key"], ["name", "Name"], ["unit", "Unit"]]
      .filter(([name]) => !f[name].value.trim());
    if (missing.length) {
      markInvalid(formNode, { errors: missing.map(([name]) => ({ field: name })) })?.focus();
      errors.replaceChildren(problemBox({ status: 422, detail: `Fill in: ${missing.map(([, label]) => label).join(", ")}.` }));
      return;
    }
    const unitValue = f.unit.value.trim();
    const body = {
      department: f.department.value,
      key: f.key.value.trim(),
      name: f.name.value.trim(),
      unit: unitValue,
      kind: f.kind.value,
      direction: f.direction.value,
      frequency: f.frequency.value,
      methodology: f.methodology.value.trim(),
      data_source: f.data_source.value.trim(),
      owner: f.owner.value.trim(),
      due_days: f.due_days.value === "" ? 10 : Number(f.due_days.value),
    };
    if (f.rollup.value) body.rollup = f.rollup.value;
    else if (!UNITS_WITH_ROLLUP[unitValue]) {
      f.rollup.setAttribute("aria-invalid", "true");
      f.rollup.focus();
      errors.replaceChildren(problemBox({ status: 422,
        detail: `The unit “${unitValue}” has no usual roll-up: choose how its periods combine.` }));
      return;
    }
    if (f.first_period.value.trim()) body.first_period = f.first_period.value.trim();
    for (const name of ["min_value", "max_value"]) {
      const parsed = parseEntry(f[name].value, unitValue);
      if (parsed.error) {
        f[name].setAttribute("aria-invalid", "true");
        f[name].focus();
        const which = name === "min_value" ? "Lowest" : "Highest";
        errors.replaceChildren(problemBox({ status: 422, detail: `${which} value: ${parsed.error}.` }));
        return;
      }
      if (parsed.value !== null) body[name] = parsed.value;
    }
    try {
      const created = await whileBusy(save, "Creating…", () => catalogueApi.createMetric(body), formNode);
      close(created);
      window.location.assign(`${editorHref(created.key)}&created=1`);
    } catch (error) {
      markInvalid(formNode, error)?.focus();
      errors.replaceChildren(problemBox(error));
    }
  });
  return formNode;
}

function newMetricButton(departments, filters) {
  const button = h("button", { type: "button", class: "primary", id: "new-metric" }, "New metric…");
  button.addEventListener("click", () => openDialog({
    title: "New metric",
    className: "wide",
    build: (close) => newMetricForm(departments, filters.department, close),
  }));
  return button;
}

async function main() {
  const filters = readFilters();
  showLoading(content, "Loading the catalogue…");
  let user;
  let departments;
  let priorities;
  try {
    [user, departments, priorities] = await Promise.all([currentUser().catch(() => null),
      catalogueApi.departments(), catalogueApi.priorities()]);
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  fillFilterForm(filters, departments, priorities);
  const actions = document.getElementById("head-actions");
  if (user) actions.append(h("a", { href: "library.html", class: "button-link", id: "library-link" }, "Other cities’ measures"));
  if (isOffice(user)) actions.append(newMetricButton(departments, filters));
  if (!user) {
    document.getElementById("intro").textContent = "Every published metric, with its department, priorities and state.";
  }
  let page;
  try {
    page = await catalogueApi.metricsPage({
      department: filters.department, priority: filters.priority, state: filters.state,
      key: filters.key ? "true" : undefined, limit: PAGE_SIZE, offset: (filters.page - 1) * PAGE_SIZE,
    });
  } catch (error) {
    count.textContent = "";
    showError(content, error, { notFound: "Filter", back: false });
    return;
  }
  showContent(content, catalogueTable(page.items, page.total, filters, user, departments, priorities));
}

main();
