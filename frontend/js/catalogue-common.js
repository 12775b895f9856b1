// What the catalogue, the metric editor and the library pages share: their API calls, the words
// for states, kinds and roll-ups, and the form pieces (labelled fields, problem boxes, busy buttons).
// The server decides who may do what; the role checks here only spare people buttons it would refuse.

import { getJSON, sendJSON } from "./api.js";
import { h } from "./ui.js";

const enc = encodeURIComponent;
const PAGE_SIZE = 500; // the API's largest page

/** Every page of a list endpoint (a catalogue is a few hundred metrics, a library a thousand measures). */
async function all(path, params = {}) {
  const first = await getJSON(path, { ...params, limit: PAGE_SIZE, offset: 0 });
  const items = [...first.items];
  while (items.length < first.total) {
    const next = await getJSON(path, { ...params, limit: PAGE_SIZE, offset: items.length });
    if (!next.items.length) break;
    items.push(...next.items);
  }
  return items;
}

export const catalogueApi = {
  departments: () => all("/metrics/departments"),
  priorities: () => getJSON("/metrics/priorities").then((page) => page.items),
  metricsPage: (params) => getJSON("/metrics/metrics", params),
  allMetrics: (params) => all("/metrics/metrics", params),
  metric: (key) => getJSON(`/metrics/metrics/${enc(key)}`),
  createMetric: (body) => sendJSON("POST", "/metrics/metrics", { body }),
  updateMetric: (key, body) => sendJSON("PATCH", `/metrics/metrics/${enc(key)}`, { body }),
  transition: (key, to, reason) => sendJSON("POST", `/metrics/metrics/${enc(key)}/transitions`, { body: { to, reason } }),
  versions: (key) => getJSON(`/metrics/metrics/${enc(key)}/versions`).then((page) => page.items),
  comments: (key) => getJSON(`/metrics/metrics/${enc(key)}/comments`).then((page) => page.items),
  addComment: (key, body) => sendJSON("POST", `/metrics/metrics/${enc(key)}/comments`, { body: { body } }),
  align: (code, key, isKey) => sendJSON("PUT", `/metrics/priorities/${enc(code)}/metrics/${enc(key)}`,
    { body: { is_key: isKey } }),
  unalign: (code, key) => sendJSON("DELETE", `/metrics/priorities/${enc(code)}/metrics/${enc(key)}`),
  link: (output, outcome) => sendJSON("PUT", `/metrics/metrics/${enc(output)}/drives/${enc(outcome)}`),
  unlink: (output, outcome) => sendJSON("DELETE", `/metrics/metrics/${enc(output)}/drives/${enc(outcome)}`),
  targets: (key) => getJSON(`/metrics/metrics/${enc(key)}/targets`).then((page) => page.items),
  targetHistory: (key) => getJSON(`/metrics/metrics/${enc(key)}/targets/history`).then((page) => page.items),
  setTarget: (key, body) => sendJSON("POST", `/metrics/metrics/${enc(key)}/targets`, { body }),
  correctTarget: (key, id, body) => sendJSON("PATCH", `/metrics/metrics/${enc(key)}/targets/${enc(id)}`, { body }),
  measures: (params) => getJSON("/metrics/library/measures", params),
  measure: (id) => getJSON(`/metrics/library/measures/${enc(id)}`),
  adopt: (id, body) => sendJSON("POST", `/metrics/library/measures/${enc(id)}/adopt`, { body }),
};

export const editorHref = (key) => `metric-editor.html?key=${enc(key)}`;

export const STATE_LABELS = { draft: "Draft", proposed: "Proposed", active: "Active", retired: "Retired" };
export const STATE_HELP = {
  draft: "The performance office is still shaping this definition.",
  proposed: "Put to the department: discussed below until its head signs it off.",
  active: "Agreed with the department: values are expected on its schedule.",
  retired: "No longer expected; kept with its history.",
};
export const KINDS = { output: "Output", outcome: "Outcome" };
export const DIRECTIONS = {
  higher_is_better: "Higher is better",
  lower_is_better: "Lower is better",
  closer_is_better: "Closer to target is better",
};
export const FREQUENCIES = { week: "Weekly", month: "Monthly", quarter: "Quarterly", year: "Yearly",
  fiscal_year: "Fiscal year" };
export const PERIOD_EXAMPLES = { week: "2017-W23", month: "2017-06", quarter: "2017-Q2", year: "2017",
  fiscal_year: "FY2017" };
export const ROLLUPS = { sum: "Sum", mean: "Mean", ratio: "Ratio (sum of numerators ÷ sum of denominators)",
  last: "Last value" };
// Units with a known roll-up (services/metrics/observations/rollup.py); any other needs one chosen.
export const UNITS_WITH_ROLLUP = { count: "sum", dollars: "sum", tons: "sum", percent: "ratio", days: "mean",
  minutes: "mean", hours: "mean" };
export const UNIT_SUGGESTIONS = ["percent", "count", "dollars", "days", "hours", "minutes", "tons", "miles", "number"];

/** The performance office: analysts and administrators. */
export const isOffice = (user) => Boolean(user) && (user.role === "analyst" || user.role === "admin");
/** A department's own staff who take part in agreeing its metrics. */
export const isDepartmentStaff = (user, department) => Boolean(user)
  && (user.role === "liaison" || user.role === "head") && user.department === department;
export const headsDepartment = (user, department) => Boolean(user) && user.role === "head" && user.department === department;

const stampFormat = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
export const stamp = (iso) => (iso ? stampFormat.format(new Date(iso)) : "—");

export function stateBadge(state) {
  return h("span", { class: `badge state-badge state-${state}` }, STATE_LABELS[state] || state);
}

export function departmentOptions(departments, selected, none = null) {
  return [
    none === null ? null : h("option", { value: "", selected: !selected }, none),
    ...departments.map((d) => h("option", { value: d.code, selected: d.code === selected }, `${d.name} (${d.code})`)),
  ];
}

export function options(labels, selected, none = null) {
  return [
    none === null ? null : h("option", { value: "", selected: !selected }, none),
    ...Object.entries(labels).map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  ];
}

/** A labelled control, with help text the control is described by; `wrap`, when given, holds the control. */
export function field(id, label, control, help = null, { required = false, wrap = null } = {}) {
  control.id = id;
  if (help) control.setAttribute("aria-describedby", `${id}-help`);
  if (required) control.required = true;
  return h("div", { class: "field" },
    h("label", { for: id }, label, required ? h("span", { class: "required-mark", "aria-hidden": "true" }, " *") : null),
    wrap || control,
    help ? h("p", { class: "muted help", id: `${id}-help` }, help) : null);
}

const fieldName = (path) => String(path || "").replace(/^(body|query|path)\./, "");

/** The server's explanation: its detail, and each field's reason when it lists them. */
export function problemBox(error) {
  const heading = error.status === 403 ? "Not allowed" : error.status === 409 ? "Already exists"
    : error.status === 422 || error.status === 400 ? "Please check the form" : error.title || "Something went wrong";
  return h("div", { class: "error-box problem", role: "alert" },
    h("p", { class: "problem-title" }, h("strong", {}, heading)),
    h("p", { class: "error-detail" }, error.detail || error.message),
    error.errors?.length
      ? h("ul", { class: "error-list" }, error.errors.map((e) => h("li", {},
        e.field ? `${fieldName(e.field)}: ${e.reason || "invalid"}` : e.reason || "invalid")))
      : null);
}

/** Marks the inputs the server named in errors[] (and clears earlier marks); focuses the first. */
export function markInvalid(form, error) {
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  let first = null;
  for (const item of error?.errors || []) {
    const control = form.elements.namedItem(fieldName(item.field).split(".")[0]);
    if (control && control.setAttribute) {
      control.setAttribute("aria-invalid", "true");
      first = first || control;
    }
  }
  return first;
}

/**
 * Runs `work` with `button` disabled and saying `busyText`, then gives the button back as it was.
 * Also marks `region` busy for assistive technology.
 */
export async function whileBusy(button, busyText, work, region = null) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyText;
  region?.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = label;
    region?.removeAttribute("aria-busy");
  }
}

export function flash(slot, text) {
  slot.replaceChildren(h("p", { class: "success-box" }, text));
}

/** A "none" value in a table cell. */
export const orDash = (value) => (value === null || value === undefined || value === "" ? "—" : value);

export function simpleTable({ id, caption, headers, rows, className = "" }) {
  return h("div", { class: "table-wrap" },
    h("table", { id, class: className || null },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows)));
}
