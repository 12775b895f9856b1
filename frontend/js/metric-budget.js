// The metric page's "Budget and cost per output" section: the budget spending the performance office says produces
// this metric's output, and what one unit of output cost in each fiscal year. The performance office edits the links
// here, choosing from what the budget holds; the server still checks every link against the budget lines (422).

import { getAll, getJSON, sendJSON } from "./api.js";
import { isOffice, problemBox, simpleTable, stamp, whileBusy } from "./catalogue-common.js";
import { formatValue } from "./format.js";
import { h } from "./ui.js";

const enc = encodeURIComponent;

const budgetLinksApi = {
  links: (key) => getJSON(`/metrics/metrics/${enc(key)}/budget-links`),
  putLinks: (key, links) => sendJSON("PUT", `/metrics/metrics/${enc(key)}/budget-links`, { body: { links } }),
  costPerOutput: (key) => getJSON(`/metrics/metrics/${enc(key)}/cost-per-output`),
  departments: () => getAll("/metrics/budget/departments"),
  lines: (department) => getAll("/metrics/budget/lines", { department, kind: "expense" }),
};

const money = (amount) => formatValue(amount, "dollars");
// A unit cost reads best to the cent ($20.00, $1,234.50), whatever its size.
const unitCost = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2,
  maximumFractionDigits: 2 });

function linksTable(links) {
  if (!links.length) {
    return h("p", { class: "muted", id: "no-budget-links" },
      "This metric is not linked to the budget yet, so its cost per output is not known.");
  }
  return simpleTable({ id: "budget-links-table", caption: "The budget spending that produces this metric’s output",
    headers: ["Budget department", "Fund", "Category", "Why", "Linked by"],
    rows: links.map((l) => h("tr", { dataset: { department: l.department } },
      h("th", { scope: "row" }, l.department,
        l.department_code ? h("span", { class: "metric-meta" }, `CityStat: ${l.department_code}`) : null),
      h("td", {}, l.fund_code ?? "Every fund"), h("td", {}, l.category ?? "Every category"),
      h("td", {}, l.note || "—"), h("td", {}, `${l.linked_by}, ${stamp(l.linked_at)}`))) });
}

function costTable(cost, hasLinks) {
  if (cost.reason) return h("p", { class: "notice", id: "cost-reason" }, cost.reason);
  if (!cost.items.length) {
    return h("p", { class: "muted", id: "no-cost" }, hasLinks
      ? "No fiscal year has both linked expense lines and output above zero yet."
      : "Link the metric to the budget to see what one unit of its output costs.");
  }
  const unit = cost.output_unit === "count" ? "count" : cost.output_unit;
  return h("div", {},
    simpleTable({ id: "cost-per-output-table", caption: `Cost per output by fiscal year (output: ${cost.output_basis})`,
      headers: ["Fiscal year", "Linked spending", "Output", "Cost per output", "Periods counted"],
      rows: cost.items.map((i) => h("tr", { dataset: { year: i.fiscal_year } },
        h("th", { scope: "row" }, i.fiscal_year,
          i.provisional ? h("span", { class: "tag tag-provisional" }, "Provisional") : null),
        h("td", { class: "number" }, money(i.spending)),
        h("td", { class: "number" }, formatValue(i.output, unit)),
        h("td", { class: "number cost-cell", dataset: { value: String(i.cost_per_output) } },
          unitCost.format(i.cost_per_output)),
        h("td", { class: "number" }, `${i.periods} of ${i.expected_periods}`))) }),
    h("p", { class: "muted" }, "Spending is the linked expense lines of the fiscal year; a year with fewer periods "
      + "counted than expected has a higher cost per output than a whole year would."));
}

// ---- the editor (the performance office) ---------------------------------------------------------

let rowCount = 0;

function datalist(id, values) {
  return h("datalist", { id }, values.map((v) => h("option", { value: v })));
}

function editorRow(link, departments, linesOf) {
  const n = rowCount++;
  const department = h("select", { name: "department", "aria-label": "Budget department" },
    h("option", { value: "" }, "Choose…"),
    departments.map((d) => h("option", { value: d.name, selected: d.name === link.department },
      d.department_code ? `${d.name} (${d.department_code})` : d.name)));
  const fund = h("input", { name: "fund_code", type: "text", maxlength: "32", list: `link-funds-${n}`,
    value: link.fund_code ?? "", placeholder: "Every fund", "aria-label": "Fund code", autocomplete: "off" });
  const category = h("input", { name: "category", type: "text", maxlength: "200", list: `link-categories-${n}`,
    value: link.category ?? "", placeholder: "Every category", "aria-label": "Account category", autocomplete: "off" });
  const note = h("input", { name: "note", type: "text", maxlength: "2000", value: link.note ?? "",
    "aria-label": "Why this spending produces this output", autocomplete: "off" });
  const funds = datalist(`link-funds-${n}`, []);
  const categories = datalist(`link-categories-${n}`, []);
  const suggest = async () => {
    if (!department.value) return;
    try {
      const lines = await linesOf(department.value);
      funds.replaceChildren(...[...new Set(lines.map((l) => l.fund_code))].sort().map((v) => h("option", { value: v })));
      categories.replaceChildren(...[...new Set(lines.map((l) => l.category))].sort()
        .map((v) => h("option", { value: v })));
    } catch {
      /* suggestions only: the fields still take what is typed, and the server checks it */
    }
  };
  department.addEventListener("change", suggest);
  suggest();
  const remove = h("button", { type: "button", class: "secondary small remove-link" }, "Remove");
  const tr = h("tr", { class: "link-row" },
    h("td", {}, department), h("td", {}, fund, funds), h("td", {}, category, categories), h("td", {}, note),
    h("td", {}, remove));
  remove.addEventListener("click", () => tr.remove());
  return tr;
}

function readRows(tbody) {
  return [...tbody.querySelectorAll("tr.link-row")].map((tr) => {
    const value = (name) => tr.querySelector(`[name="${name}"]`).value.trim();
    return { department: value("department"), fund_code: value("fund_code") || null,
      category: value("category") || null, note: value("note") };
  });
}

function markRows(tbody, error) {
  const rows = [...tbody.querySelectorAll("tr.link-row")];
  for (const node of tbody.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  let first = null;
  for (const item of error?.errors || []) {
    const match = /links\[(\d+)\](?:\.(\w+))?/.exec(item.field || "");
    const control = match && rows[Number(match[1])]?.querySelector(`[name="${match[2] || "department"}"]`);
    if (control) {
      control.setAttribute("aria-invalid", "true");
      first = first || control;
    }
  }
  return first;
}

function linkEditor(metric, links, departments, onSaved) {
  const cache = new Map();
  const linesOf = (name) => {
    if (!cache.has(name)) cache.set(name, budgetLinksApi.lines(name).then((page) => page.items));
    return cache.get(name);
  };
  const tbody = h("tbody", {}, links.map((l) => editorRow(l, departments, linesOf)));
  const errors = h("div", { class: "form-errors", id: "budget-link-errors" });
  const add = h("button", { type: "button", class: "secondary", id: "add-budget-link" }, "Add a link");
  const save = h("button", { type: "submit", class: "primary", id: "save-budget-links" }, "Save links");
  add.addEventListener("click", () => {
    const tr = editorRow({}, departments, linesOf);
    tbody.append(tr);
    tr.querySelector("select").focus();
  });
  const form = h("form", { class: "link-editor", id: "budget-link-editor", novalidate: true,
    "aria-labelledby": "budget-editor-heading" },
  h("h3", { id: "budget-editor-heading" }, "Edit the links"),
  departments.length ? null : h("p", { class: "warning-box" }, "No budget has been imported yet: import one on the ",
    h("a", { href: "budget.html" }, "budget page"), " first."),
  h("p", { class: "muted" }, "Each link takes a budget department’s expense lines, or only one fund’s or one "
    + "category’s. Leave fund or category empty for all of them."),
  h("div", { class: "table-wrap" }, h("table", { "aria-labelledby": "budget-editor-heading" },
    h("thead", {}, h("tr", {}, ["Budget department", "Fund", "Category", "Why"].map((t) => h("th", { scope: "col" }, t)),
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Remove the link")))),
    tbody)),
  errors,
  h("div", { class: "form-actions" }, add, save));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const wanted = readRows(tbody);
    const blank = wanted.findIndex((l) => !l.department);
    if (blank >= 0) {
      const error = { status: 422, detail: "Choose a budget department for every link, or remove the link.",
        errors: [{ field: `links[${blank}].department`, reason: "choose a budget department" }] };
      markRows(tbody, error)?.focus();
      errors.replaceChildren(problemBox(error));
      return;
    }
    try {
      const saved = await whileBusy(save, "Saving…", () => budgetLinksApi.putLinks(metric.key, wanted), form);
      await onSaved(`Saved: ${saved.total} ${saved.total === 1 ? "link" : "links"} to the budget.`);
    } catch (error) {
      markRows(tbody, error)?.focus();
      errors.replaceChildren(problemBox(error));
    }
  });
  return form;
}

// ---- the section ----------------------------------------------------------------------------------

async function fill(section, metric, user, message = "") {
  const body = section.querySelector(".budget-body");
  const office = isOffice(user);
  let links;
  let cost;
  let departments = [];
  try {
    [links, cost, departments] = await Promise.all([budgetLinksApi.links(metric.key),
      budgetLinksApi.costPerOutput(metric.key), office ? budgetLinksApi.departments().then((p) => p.items) : []]);
  } catch (error) {
    section.removeAttribute("aria-busy");
    body.replaceChildren(problemBox(error));
    return;
  }
  const reload = (text) => fill(section, metric, user, text);
  section.removeAttribute("aria-busy");
  body.replaceChildren(
    h("div", { id: "budget-status", role: "status" }, message ? h("p", { class: "success-box" }, message) : null),
    h("h3", {}, "Cost per output"),
    costTable(cost, links.items.length > 0),
    h("h3", {}, "Linked spending"),
    linksTable(links.items),
    office ? linkEditor(metric, links.items, departments, reload)
      : user ? h("p", { class: "muted", id: "budget-office-only" },
        "The performance office (analysts) links metrics to the budget.") : null);
}

/** The section, filled in as its figures arrive; the rest of the page does not wait for the budget. */
export function budgetSection(metric, user) {
  const section = h("section", { class: "definition budget-section", id: "budget-section", "aria-busy": "true",
    "aria-labelledby": "budget-heading" },
  h("h2", { id: "budget-heading" }, "Budget and cost per output"),
  h("div", { class: "budget-body" }, h("p", { class: "loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), "Loading the budget…")));
  fill(section, metric, user);
  return section;
}
