// "budget.html": the performance office's side of the budget and of open data. It imports the city's budget file
// (each row accepted as a budget line or rejected with its reason), matches the budget's department names to
// CityStat departments, and publishes raw-record datasets on the open-data portal. Other staff read it all here;
// the server refuses their writes anyway, so they are not offered any.

import { getAll, getJSON, sendJSON, uploadFile } from "./api.js";
import { departmentOptions, field, isOffice, problemBox, simpleTable, stamp, whileBusy } from "./catalogue-common.js";
import { formatValue } from "./format.js";
import { requireUser } from "./session.js";
import { h, showContent, showError, showLoading } from "./ui.js";

const enc = encodeURIComponent;
const content = document.getElementById("content");
const state = { user: null, office: false, departments: [] };

const budgetApi = {
  imports: () => getJSON("/metrics/budget/imports", { limit: 20 }),
  importCsv: (file, source) => uploadFile("/metrics/budget/imports", {
    params: { source, file_name: file.name }, file, contentType: "text/csv" }),
  departments: () => getAll("/metrics/budget/departments"),
  mapDepartment: (name, code) => sendJSON("PUT", `/metrics/budget/departments/${enc(name)}`,
    { body: { department: code || null } }),
  datasets: () => getJSON("/metrics/datasets"),
  publish: (key, published) => sendJSON("PATCH", `/metrics/datasets/${enc(key)}`, { body: { is_published: published } }),
  openDatasets: () => getJSON("/metrics/open-datasets"),
};

const money = (amount) => formatValue(amount, "dollars");
const KIND_LABELS = { expense: "Expense", revenue: "Revenue" };

function section(id, title, ...children) {
  return h("section", { class: "admin-section budget-section", id, "aria-labelledby": `${id}-heading` },
    h("h2", { id: `${id}-heading` }, title), ...children);
}

// ---- imports ------------------------------------------------------------------------------------

function receipt(result) {
  const rejected = result.rejected.length;
  return h("div", { class: `receipt${rejected ? " receipt-partial" : ""}`, id: "import-receipt", tabindex: "-1",
    "aria-labelledby": "import-receipt-heading" },
  h("h3", { id: "import-receipt-heading" }, rejected ? "Imported, with rows rejected" : "Imported"),
  h("dl", { class: "counts" },
    h("div", {}, h("dt", {}, "Rows"), h("dd", { dataset: { count: "rows" } }, String(result.rows))),
    h("div", {}, h("dt", {}, "Accepted"), h("dd", { dataset: { count: "accepted" } }, String(result.accepted))),
    h("div", {}, h("dt", {}, "Rejected"), h("dd", { dataset: { count: "rejected" } }, String(rejected)))),
  result.totals.length
    ? simpleTable({ id: "receipt-totals", caption: "Lines accepted, by fiscal year and kind",
      headers: ["Fiscal year", "Kind", "Lines", "Amount"],
      rows: result.totals.map((t) => h("tr", { dataset: { year: t.fiscal_year, kind: t.kind } },
        h("th", { scope: "row" }, t.fiscal_year), h("td", {}, KIND_LABELS[t.kind] || t.kind),
        h("td", { class: "number" }, String(t.lines)), h("td", { class: "number" }, money(t.amount)))) })
    : h("p", { class: "muted" }, "No line was accepted."),
  rejected
    ? simpleTable({ id: "receipt-rejected", caption: "Rejected rows (row 1 is the header)",
      headers: ["Row", "Column", "Reason"],
      rows: result.rejected.map((r) => h("tr", { dataset: { row: String(r.row) } },
        h("th", { scope: "row" }, String(r.row)), h("td", {}, r.field), h("td", {}, r.reason))) })
    : null,
  result.replaced.length
    ? h("p", { id: "receipt-replaced" }, "Replaced the lines earlier imports had stored for ",
      result.replaced.map((r) => `${r.fiscal_year} from “${r.source}” (${r.lines} lines, import ${r.import_id})`)
        .join("; "), ".")
    : null,
  h("p", { class: "receipt-id muted" }, `Import ${result.id} by ${result.actor}, ${stamp(result.at)}.`));
}

function importsTable(page) {
  if (!page.items.length) return h("p", { class: "empty", id: "no-imports" }, "No budget has been imported yet.");
  return simpleTable({ id: "imports-table",
    caption: page.total > page.items.length ? `The last ${page.items.length} of ${page.total} imports` : "Past imports",
    headers: ["When", "File", "Source", "By", "Fiscal years", "Rows", "Accepted", "Rejected"],
    rows: page.items.map((i) => h("tr", { dataset: { id: String(i.id) } },
      h("td", {}, stamp(i.at)), h("td", {}, i.file_name || "—"), h("td", {}, i.source), h("td", {}, i.actor),
      h("td", {}, i.fiscal_years.join(", ") || "—"), h("td", { class: "number" }, String(i.rows)),
      h("td", { class: "number" }, String(i.accepted)), h("td", { class: "number" }, String(i.rejected.length)))) });
}

function importForm(onImported) {
  const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv" });
  const source = h("input", { type: "text", name: "source", value: "budget", maxlength: "200", autocomplete: "off" });
  const button = h("button", { type: "submit", class: "primary", id: "import-button" }, "Import budget");
  const outcome = h("div", { id: "import-outcome", role: "status" });
  const form = h("form", { id: "import-form", class: "stack-form", novalidate: true },
    h("div", { class: "form-grid" },
      field("budget-file", "Budget file (CSV)", file,
        "A header row, then one line per row: budget_year, department, account_type (Expense or Revenue), fund_code, "
        + "account_category, amount.", { required: true }),
      field("budget-source", "Source", source,
        "Importing a fiscal year again from the same source replaces that year’s lines from it.")),
    h("div", { class: "form-actions" }, button), outcome);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    outcome.replaceChildren();
    const chosen = file.files[0];
    if (!chosen) {
      outcome.replaceChildren(problemBox({ status: 422, detail: "Choose the budget file to import." }));
      file.focus();
      return;
    }
    try {
      const result = await whileBusy(button, "Importing…",
        () => budgetApi.importCsv(chosen, source.value.trim() || "budget"), form);
      outcome.replaceChildren(receipt(result));
      outcome.querySelector("#import-receipt").focus();
      form.elements.file.value = "";
      await onImported();
    } catch (error) {
      outcome.replaceChildren(problemBox(error));
    }
  });
  return form;
}

async function importsSection() {
  const list = h("div", { id: "imports-list" });
  const refresh = async () => {
    try {
      list.replaceChildren(importsTable(await budgetApi.imports()));
    } catch (error) {
      list.replaceChildren(problemBox(error));
    }
  };
  await refresh();
  const refreshAll = async () => {
    await refresh();
    await refreshDepartments();
  };
  return section("budget-imports", "Budget imports",
    state.office ? importForm(refreshAll)
      : h("p", { class: "muted" }, "The performance office imports the budget; its past imports are listed here."),
    h("h3", {}, "Past imports"), list);
}

// ---- budget departments -------------------------------------------------------------------------

let refreshDepartments = async () => {};

function newestYear(dept) {
  const year = dept.years[0];
  return year ? `${year.fiscal_year}: ${money(year.expense)} spent, ${money(year.revenue)} revenue` : "—";
}

function mappedTo(dept) {
  if (!dept.department_code) return h("span", { class: "tag tag-unmapped" }, "Unmapped");
  return `${dept.department_name || dept.department_code} (${dept.department_code})`;
}

function departmentRow(dept, status) {
  const unmapped = !dept.department_code;
  let cell;
  if (state.office) {
    const select = h("select", { name: "department", "aria-label": `CityStat department for ${dept.name}` },
      departmentOptions(state.departments, dept.department_code || "", "Not mapped"));
    select.addEventListener("change", async () => {
      select.disabled = true;
      status.replaceChildren();
      try {
        const saved = await budgetApi.mapDepartment(dept.name, select.value);
        status.replaceChildren(h("p", { class: "success-box" }, saved.department_code
          ? `“${saved.name}” is now mapped to ${saved.department_name || saved.department_code}.`
          : `“${saved.name}” is no longer mapped.`));
        await refreshDepartments();
        document.querySelector(`#budget-departments-table tr[data-name="${CSS.escape(saved.name)}"] select`)?.focus();
      } catch (error) {
        select.disabled = false;
        select.value = dept.department_code || "";
        status.replaceChildren(problemBox(error));
      }
    });
    cell = h("td", {}, select, unmapped ? h("span", { class: "tag tag-unmapped" }, "Unmapped") : null);
  }
  else cell = h("td", {}, mappedTo(dept));
  return h("tr", { class: unmapped ? "unmapped" : null, dataset: { name: dept.name } },
    h("th", { scope: "row" }, dept.name), cell, h("td", {}, newestYear(dept)),
    h("td", {}, dept.mapped_by ? `${dept.mapped_by}, ${stamp(dept.mapped_at)}` : "—"));
}

async function departmentsSection() {
  const status = h("div", { id: "department-status", role: "status" });
  const body = h("div", { id: "budget-departments-list" });
  refreshDepartments = async () => {
    let items;
    try {
      ({ items } = await budgetApi.departments());
    } catch (error) {
      body.replaceChildren(problemBox(error));
      return;
    }
    if (!items.length) {
      body.replaceChildren(h("p", { class: "empty" }, "No budget department yet: import a budget first."));
      return;
    }
    const unmapped = items.filter((d) => !d.department_code).length;
    body.replaceChildren(
      h("p", { id: "unmapped-count", class: unmapped ? "warning-box" : "muted" }, unmapped
        ? `${unmapped} of ${items.length} budget departments are not mapped to a CityStat department. Their lines `
          + "still count in the budget’s totals, but not in a department’s budget-hearing view."
        : `All ${items.length} budget departments are mapped.`),
      simpleTable({ id: "budget-departments-table", caption: "Departments as the budget names them",
        headers: ["Budget department", "CityStat department", "Newest year", "Mapped by"],
        rows: items.map((d) => departmentRow(d, status)) }));
  };
  await refreshDepartments();
  return section("budget-departments", "Budget departments",
    h("p", { class: "muted" }, "The budget names departments its own way. Mapping one to a CityStat department puts "
      + "its spending beside that department’s metrics."), status, body);
}

// ---- open datasets ------------------------------------------------------------------------------

function publicLinks(dataset, openIds) {
  const id = openIds.get(`records.${dataset.key}`);
  if (!dataset.is_published) return h("span", { class: "muted" }, "Not public");
  if (!id) return h("span", { class: "muted" }, "Published; the portal lists it shortly.");
  return h("span", { class: "public-links" },
    h("a", { href: `/resource/${id}.json`, class: "soda-link", dataset: { id } }, `/resource/${id}.json`),
    " · ", h("a", { href: "/public/catalogue.html" }, "public catalogue"));
}

function datasetRow(dataset, openIds, status, reload) {
  let control;
  if (state.office) {
    control = h("input", { type: "checkbox", role: "switch", class: "publish-switch", checked: dataset.is_published,
      "aria-label": `Publish ${dataset.title} as open data` });
    control.addEventListener("change", async () => {
      const wanted = control.checked;
      control.disabled = true;
      status.replaceChildren();
      try {
        const saved = await budgetApi.publish(dataset.key, wanted);
        status.replaceChildren(h("p", { class: "success-box" }, saved.is_published
          ? `“${saved.title}” is published: its records, without their personal attributes, are on the portal.`
          : `“${saved.title}” is withdrawn from the portal.`));
        await reload(dataset.key);
      } catch (error) {
        control.checked = !wanted;
        control.disabled = false;
        status.replaceChildren(problemBox(error));
      }
    });
  }
  else control = h("span", {}, dataset.is_published ? "Published" : "Not published");
  return h("tr", { dataset: { key: dataset.key, published: String(dataset.is_published) } },
    h("th", { scope: "row" }, dataset.title, h("span", { class: "metric-meta" }, dataset.key)),
    h("td", { class: "number" }, String(dataset.records)),
    h("td", {}, control),
    h("td", {}, publicLinks(dataset, openIds)));
}

async function datasetsSection() {
  const status = h("div", { id: "dataset-status", role: "status" });
  const body = h("div", { id: "open-datasets-list" });
  const load = async (focusKey = null) => {
    let datasets;
    let open;
    try {
      [datasets, open] = await Promise.all([budgetApi.datasets(), budgetApi.openDatasets()]);
    } catch (error) {
      body.replaceChildren(problemBox(error));
      return;
    }
    const openIds = new Map(open.items.map((d) => [d.key, d.id]));
    const budget = open.items.find((d) => d.key === "budget");
    body.replaceChildren(
      simpleTable({ id: "open-datasets-table", caption: "Raw-record datasets",
        headers: ["Dataset", "Records", "Published", "Public address"],
        rows: datasets.items.map((d) => datasetRow(d, openIds, status, load)) }),
      budget ? h("p", { id: "budget-open-dataset" }, "The budget itself is public as ",
        h("a", { href: `/resource/${budget.id}.json` }, `/resource/${budget.id}.json`), ".") : null);
    if (focusKey) body.querySelector(`tr[data-key="${CSS.escape(focusKey)}"] input`)?.focus();
  };
  await load();
  return section("open-datasets", "Open datasets",
    h("p", { id: "publish-explained" }, "Publishing a dataset puts its records on the public open-data portal, "
      + "readable by anyone without signing in: each record’s category, status, dates, district, location and "
      + "timings. Never their personal attributes: names, addresses and the other extra fields a record came with "
      + "stay inside CityStat. Withdrawing a dataset takes it off the portal at once."),
    status, body);
}

// ---- the page -----------------------------------------------------------------------------------

async function main() {
  state.user = await requireUser();
  state.office = isOffice(state.user);
  showLoading(content, "Loading the budget and open data…");
  try {
    if (state.office) state.departments = (await getAll("/metrics/departments")).items;
    const [imports, departments, datasets] = await Promise.all([importsSection(), departmentsSection(),
      datasetsSection()]);
    const notice = h("p", { class: "notice", id: "office-only", role: "note" },
      "The performance office (analysts) manages the budget and open data. You can read them here.");
    showContent(content, ...(state.office ? [] : [notice]), imports, departments, datasets);
  } catch (error) {
    showError(content, error, { back: false });
  }
}

main();
