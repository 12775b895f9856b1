// "metric-editor.html?key=dpw.potholes_filled": one metric as the performance office and its department
// agree it. Its lifecycle (draft → proposed → active → retired, with the head's sign-off), the definition
// (every change a new version; once agreed, with a reason and perhaps a series break), its priorities and
// the outcomes it drives, the discussion with the department, its targets, and the version history.
// Controls mirror what the server allows each role; the server still decides, and its refusal is shown.

import { confirmDialog } from "./dialog.js";
import { parseEntry, toInput } from "./entry.js";
import { formatDate } from "./format.js";
import { requireUser } from "./session.js";
import { targetEditor } from "./target-editor.js";
import { h, param, showContent, showError, showLoading } from "./ui.js";
import {
  catalogueApi, DIRECTIONS, editorHref, field, flash, FREQUENCIES, headsDepartment, isDepartmentStaff,
  isOffice, KINDS, markInvalid, options, orDash, PERIOD_EXAMPLES, problemBox, ROLLUPS, simpleTable, stamp, stateBadge,
  STATE_HELP, STATE_LABELS, UNIT_SUGGESTIONS, whileBusy,
} from "./catalogue-common.js";

const content = document.getElementById("content");
const page = { user: null, metric: null, departments: [], priorities: [], others: null };

const ACTIONS = { created: "Created", adopted: "Adopted from the library", edited: "Edited", proposed: "Proposed",
  withdrawn: "Withdrawn to draft", signed_off: "Signed off", reinstated: "Reinstated", retired: "Retired" };
const FIELD_LABELS = { name: "Name", unit: "Unit", kind: "Kind", direction: "Direction", frequency: "Frequency",
  rollup: "Roll-up", methodology: "Methodology", data_source: "Data source", owner: "Owner", due_days: "Due days",
  first_period: "First period", min_value: "Lowest value", max_value: "Highest value", is_published: "Published",
  is_computed: "Computed", state: "State", key: "Key" };

const agreed = (metric) => metric.state === "active" || metric.state === "retired";
const departmentName = (code) => page.departments.find((d) => d.code === code)?.name || code;

/** May this person change the definition? The office always; the department's staff while it is being agreed. */
function mayEdit(metric, user) {
  return isOffice(user) || (!agreed(metric) && isDepartmentStaff(user, metric.department));
}

// ---- the page head ------------------------------------------------------------------------------

function renderHead() {
  const { metric } = page;
  document.title = `${metric.name} (editor) — CityStat`;
  document.getElementById("title").textContent = metric.name;
  document.getElementById("crumb-here").textContent = metric.name;
  const crumb = document.getElementById("crumb-dept");
  crumb.textContent = departmentName(metric.department);
  crumb.href = `catalogue.html?department=${encodeURIComponent(metric.department)}`;
  document.getElementById("crumb-dept-item").hidden = false;
  document.getElementById("subtitle").replaceChildren(...[
    stateBadge(metric.state), " ",
    h("span", { id: "metric-version" }, `Version ${metric.version}`), " · ",
    h("code", {}, metric.key), " · ", departmentName(metric.department),
    metric.is_key ? h("span", { class: "key-star", title: "Key metric" }, " ★",
      h("span", { class: "visually-hidden" }, " Key metric")) : null].filter(Boolean));
  document.getElementById("head-actions").replaceChildren(
    h("a", { href: `metric.html?key=${encodeURIComponent(metric.key)}`, class: "button-link" }, "Chart and values"));
}

// ---- lifecycle ------------------------------------------------------------------------------------

function transitionsFor(metric, user) {
  const office = isOffice(user);
  const staff = isDepartmentStaff(user, metric.department);
  const moves = [];
  if (metric.state === "draft" && (office || staff)) moves.push({ to: "proposed", label: "Propose to the department" });
  if (metric.state === "proposed") {
    if (headsDepartment(user, metric.department)) moves.push({ to: "active", label: "Sign off (as head)" });
    else if (office) moves.push({ to: "active", label: "Sign off on the head’s behalf" });
    if (office) moves.push({ to: "draft", label: "Withdraw to draft", style: "secondary" });
  }
  if (metric.state === "active" && office) moves.push({ to: "retired", label: "Retire…", style: "danger", confirm: true });
  if (metric.state === "retired" && office) moves.push({ to: "active", label: "Reinstate" });
  return moves;
}

function nobodyHere(metric) {
  const d = metric.department;
  return {
    draft: `The performance office or ${d}’s staff propose this draft to the department.`,
    proposed: `Waiting for ${d}’s head to sign it off (or an analyst on the head’s behalf).`,
    active: "Only the performance office retires an agreed metric.",
    retired: "Only the performance office reinstates a retired metric.",
  }[metric.state];
}

function lifecycleSection() {
  const { metric, user } = page;
  const status = h("div", { id: "lifecycle-result", role: "status" });
  const moves = transitionsFor(metric, user);
  const reason = h("textarea", { name: "reason", rows: "2", maxlength: "2000" });
  const signedOff = metric.signed_off_by
    ? h("p", { id: "signed-off" }, `Signed off by ${metric.signed_off_by}`,
      metric.signed_off_at ? ` on ${formatDate(metric.signed_off_at)}` : "",
      metric.signed_off_on_behalf ? ", on the department head’s behalf." : ".")
    : null;
  const buttons = moves.map((move) => {
    const button = h("button", { type: "button", class: move.style || "primary", dataset: { to: move.to } }, move.label);
    button.addEventListener("click", () => makeTransition(move, button, reason, status));
    return button;
  });
  return h("section", { class: "editor-section", id: "lifecycle-section", "aria-labelledby": "lifecycle-heading" },
    h("h2", { id: "lifecycle-heading" }, "State"),
    h("p", { id: "state-line" }, stateBadge(metric.state), " ", STATE_HELP[metric.state]),
    signedOff,
    moves.length
      ? h("div", { class: "lifecycle-form" },
        field("transition-reason", "Note for this step", reason,
          metric.state === "active" ? "Required to retire: say why it is no longer measured" : "Optional; kept in the history"),
        h("div", { class: "form-actions", id: "lifecycle-actions" }, buttons))
      : h("p", { class: "muted", id: "lifecycle-nobody" }, nobodyHere(metric)),
    status);
}

async function makeTransition(move, button, reason, status) {
  if (move.confirm) {
    const ok = await confirmDialog({
      title: `Retire “${page.metric.name}”?`,
      message: h("p", {}, "Values will no longer be expected. The metric keeps its history and can be reinstated."),
      confirmLabel: "Retire",
      danger: true,
    });
    if (!ok) return;
  }
  try {
    const updated = await whileBusy(button, "Saving…",
      () => catalogueApi.transition(page.metric.key, move.to, reason.value.trim()), status);
    page.metric = updated;
    await refresh(`Now ${STATE_LABELS[updated.state].toLowerCase()} (version ${updated.version}).`, "lifecycle");
  } catch (error) {
    const aboutReason = error.errors?.some((e) => String(e.field).endsWith("reason"));
    if (aboutReason) reason.setAttribute("aria-invalid", "true");
    else reason.removeAttribute("aria-invalid");
    status.replaceChildren(problemBox(error));
    if (aboutReason) reason.focus();
  }
}

// ---- definition -------------------------------------------------------------------------------------

function readOnlyNote(metric, user) {
  if (mayEdit(metric, user)) return null;
  const text = agreed(metric) ? "Only the performance office (analysts) may change an agreed metric."
    : `Only the performance office or ${metric.department}’s staff may edit this proposal.`;
  return h("p", { class: "notice", id: "definition-readonly" }, text);
}

function provenanceNote(metric) {
  const p = metric.provenance;
  if (!p) return null;
  return h("p", { class: "notice provenance", id: "provenance" }, "Adopted from ",
    h("strong", {}, `${p.jurisdiction || p.source}`), `’s measure ${p.source_code}`,
    p.department_name ? ` (${p.department_name})` : "", p.source_row ? `, row ${p.source_row} of “${p.source}”` : "", ".");
}

function definitionSection() {
  const { metric, user } = page;
  const office = isOffice(user);
  const status = h("div", { id: "definition-result", role: "status" });
  const errors = h("div", { class: "form-errors", id: "definition-errors" });
  const unit = h("input", { name: "unit", type: "text", list: "editor-units", value: metric.unit, autocomplete: "off" });
  const frequency = h("select", { name: "frequency" }, options(FREQUENCIES, metric.frequency));
  const seriesBreak = h("input", { type: "checkbox", name: "series_break", id: "d-series-break" });
  const breakPeriod = h("input", { name: "break_period", type: "text", autocomplete: "off", disabled: true,
    placeholder: PERIOD_EXAMPLES[metric.frequency] || "" });
  let breakTouched = false;
  seriesBreak.addEventListener("change", () => {
    breakTouched = true;
    breakPeriod.disabled = !seriesBreak.checked;
  });
  unit.addEventListener("input", () => {
    // A new unit measures something else: the server assumes a break, and so does the box, unless told.
    if (!breakTouched) {
      seriesBreak.checked = unit.value.trim() !== metric.unit;
      breakPeriod.disabled = !seriesBreak.checked;
    }
  });
  frequency.addEventListener("change", () => { breakPeriod.placeholder = PERIOD_EXAMPLES[frequency.value] || ""; });
  const published = h("input", { type: "checkbox", name: "is_published", id: "d-published", checked: metric.is_published,
    disabled: !office });
  const reasonRequired = agreed(metric);
  const save = h("button", { type: "submit", class: "primary", id: "save-definition" }, "Save changes");
  const fieldset = h("fieldset", { class: "plain-fieldset", disabled: !mayEdit(metric, user) },
    h("legend", { class: "visually-hidden" }, "Definition"),
    h("div", { class: "form-grid" },
      field("d-name", "Name", h("input", { name: "name", type: "text", maxlength: "200", value: metric.name }), null, { required: true }),
      field("d-unit", "Unit", unit, "percent, count, dollars, days…", { required: true }),
      field("d-kind", "Kind", h("select", { name: "kind" }, options(KINDS, metric.kind))),
      field("d-direction", "Good direction", h("select", { name: "direction" }, options(DIRECTIONS, metric.direction))),
      field("d-frequency", "Reported", frequency),
      field("d-rollup", "Roll-up", h("select", { name: "rollup" }, options(ROLLUPS, metric.rollup))),
      field("d-due", "Due days", h("input", { name: "due_days", type: "number", min: "0", max: "366", step: "1",
        value: String(metric.due_days) }), "Days after a period ends"),
      field("d-first", "First period", h("input", { name: "first_period", type: "text", autocomplete: "off",
        value: metric.first_period || "", placeholder: PERIOD_EXAMPLES[metric.frequency] || "" })),
      field("d-min", "Lowest allowed value", h("input", { name: "min_value", type: "text", inputmode: "decimal",
        value: toInput(metric.min_value, metric.unit) }), metric.unit === "percent" ? "In percent, e.g. 0" : "Optional"),
      field("d-max", "Highest allowed value", h("input", { name: "max_value", type: "text", inputmode: "decimal",
        value: toInput(metric.max_value, metric.unit) }), metric.unit === "percent" ? "In percent, e.g. 100" : "Optional")),
    field("d-methodology", "Methodology", h("textarea", { name: "methodology", rows: "5", maxlength: "20000" }, metric.methodology)),
    h("div", { class: "form-grid" },
      field("d-source", "Data source", h("input", { name: "data_source", type: "text", maxlength: "2000", value: metric.data_source })),
      field("d-owner", "Owner", h("input", { name: "owner", type: "text", maxlength: "200", value: metric.owner }))),
    h("div", { class: "field check-field" },
      h("label", { for: "d-published", class: "check-label" }, published, " Published on the public site"),
      h("p", { class: "muted help" }, office
        ? "Only an agreed (active or retired) metric can be published."
        : "The performance office publishes metrics.")),
    h("div", { class: "change-why" },
      field("d-reason", reasonRequired ? "Reason for the change" : "Reason for the change (optional while in discussion)",
        h("textarea", { name: "reason", rows: "2", maxlength: "2000" }),
        reasonRequired ? "Required: this metric is agreed, so every change says why" : "Kept with the version",
        { required: reasonRequired }),
      reasonRequired
        ? h("div", { class: "series-break" },
          h("div", { class: "field check-field" },
            h("label", { for: "d-series-break", class: "check-label" }, seriesBreak,
              " This change alters what is measured (series break)"),
            h("p", { class: "muted help", id: "d-series-break-help" }, "Method, unit or population changes: values before and "
              + "after the break are not one series, and charts and statistics treat them apart.")),
          field("d-break-period", "Break period", breakPeriod, "The first period measured the new way; blank: the current period"))
        : h("p", { class: "muted help" }, "A metric still in discussion has no series to break.")),
    errors,
    h("div", { class: "form-actions" }, save));
  seriesBreak.setAttribute("aria-describedby", "d-series-break-help");
  const form = h("form", { id: "definition-form", class: "stack-form", novalidate: true }, fieldset,
    h("datalist", { id: "editor-units" }, UNIT_SUGGESTIONS.map((u) => h("option", { value: u }))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveDefinition(form, save, errors, status);
  });
  return h("section", { class: "editor-section", id: "definition-section", "aria-labelledby": "definition-heading" },
    h("h2", { id: "definition-heading" }, "Definition"),
    provenanceNote(metric),
    readOnlyNote(metric, user),
    status,
    form);
}

/** Only the fields that differ from the stored definition; {error} when a number cannot be read. */
function definitionChanges(form, metric) {
  const f = form.elements;
  const changes = {};
  for (const name of ["name", "unit", "kind", "direction", "frequency", "rollup", "data_source", "owner"]) {
    const value = f[name].value.trim();
    if (value !== (metric[name] ?? "")) changes[name] = value;
  }
  if (f.methodology.value.trim() !== (metric.methodology || "").trim()) changes.methodology = f.methodology.value.trim();
  const due = f.due_days.value === "" ? metric.due_days : Number(f.due_days.value);
  if (due !== metric.due_days) changes.due_days = due;
  const first = f.first_period.value.trim() || null;
  if (first !== (metric.first_period ?? null)) changes.first_period = first;
  const unit = f.unit.value.trim();
  for (const name of ["min_value", "max_value"]) {
    const parsed = parseEntry(f[name].value, unit);
    if (parsed.error) return { error: { field: name, detail: `${FIELD_LABELS[name]}: ${parsed.error}.` } };
    // Read in the unit the form now says: a percent bound is typed as 95 and stored as 0.95.
    if (parsed.value !== (metric[name] ?? null)) changes[name] = parsed.value;
  }
  if (f.is_published.checked !== metric.is_published) changes.is_published = f.is_published.checked;
  return { changes };
}

async function saveDefinition(form, save, errors, status) {
  const { metric } = page;
  errors.replaceChildren();
  status.replaceChildren();
  markInvalid(form, null);
  const { changes, error } = definitionChanges(form, metric);
  if (error) {
    markInvalid(form, { errors: [{ field: error.field }] })?.focus();
    errors.replaceChildren(problemBox({ status: 422, detail: error.detail }));
    return;
  }
  if (!Object.keys(changes).length) {
    errors.replaceChildren(h("p", { class: "notice" }, "Nothing has changed: edit a field first."));
    return;
  }
  const f = form.elements;
  const body = { ...changes, reason: f.reason.value.trim() };
  if (agreed(metric)) {
    body.series_break = f.series_break.checked;
    if (f.series_break.checked && f.break_period.value.trim()) body.break_period = f.break_period.value.trim();
  }
  try {
    const updated = await whileBusy(save, "Saving…", () => catalogueApi.updateMetric(metric.key, body), form);
    page.metric = updated;
    const broke = body.series_break && updated.version > metric.version;
    await refresh(`Saved as version ${updated.version}${broke ? ", with a series break" : ""}.`, "definition");
  } catch (failure) {
    markInvalid(form, failure)?.focus();
    errors.replaceChildren(problemBox(failure));
  }
}

// ---- priorities, key metrics and drivers ----------------------------------------------------------

function priorityRow(priority, status) {
  const { metric, user } = page;
  const office = isOffice(user);
  const link = metric.priorities.find((p) => p.code === priority.code);
  const aligned = h("input", { type: "checkbox", id: `align-${priority.code}`, checked: Boolean(link), disabled: !office });
  const key = h("input", { type: "checkbox", id: `key-${priority.code}`, checked: Boolean(link?.is_key), disabled: !office });
  const apply = async (input, work, done) => {
    const inputs = [aligned, key];
    for (const i of inputs) i.disabled = true;
    status.replaceChildren(h("p", { class: "muted" }, "Saving…"));
    try {
      await work();
      page.metric = await catalogueApi.metric(metric.key);
      renderHead();
      replaceSection("alignment-section", alignmentSection(done));
      document.getElementById(input.id)?.focus();
    } catch (error) {
      input.checked = !input.checked;
      for (const i of inputs) i.disabled = false;
      status.replaceChildren(problemBox(error));
    }
  };
  aligned.addEventListener("change", () => apply(aligned,
    () => (aligned.checked ? catalogueApi.align(priority.code, metric.key, false) : catalogueApi.unalign(priority.code, metric.key)),
    aligned.checked ? `Aligned to ${priority.name}.` : `No longer aligned to ${priority.name}.`));
  key.addEventListener("change", () => apply(key, () => catalogueApi.align(priority.code, metric.key, key.checked),
    key.checked ? `A key metric for ${priority.name}.` : `No longer a key metric for ${priority.name}.`));
  return h("tr", { dataset: { priority: priority.code } },
    h("th", { scope: "row" }, priority.name),
    h("td", {}, h("label", { for: aligned.id, class: "check-label" }, aligned,
      h("span", { class: "visually-hidden" }, `Aligned to ${priority.name}`))),
    h("td", {}, h("label", { for: key.id, class: "check-label" }, key,
      h("span", { class: "visually-hidden" }, `Key metric for ${priority.name}`))));
}

function driversBlock(status) {
  const { metric, user } = page;
  const office = isOffice(user);
  const isOutput = metric.kind === "output";
  const linked = isOutput ? metric.drives : metric.driven_by;
  const heading = isOutput ? "Outcomes this output drives" : "Outputs that drive this outcome";
  const name = (key) => page.others?.get(key)?.name || key;
  const pair = (other) => (isOutput ? [metric.key, other] : [other, metric.key]);
  const relink = async (button, work, done) => {
    try {
      await whileBusy(button, "Saving…", work);
      page.metric = await catalogueApi.metric(metric.key);
      replaceSection("alignment-section", alignmentSection(done));
    } catch (error) {
      status.replaceChildren(problemBox(error));
    }
  };
  const items = linked.map((other) => {
    const remove = office ? h("button", { type: "button", class: "danger-outline small" }, "Remove",
      h("span", { class: "visually-hidden" }, ` the link to ${name(other)}`)) : null;
    remove?.addEventListener("click", () => relink(remove, () => catalogueApi.unlink(...pair(other)),
      `Removed the link to ${name(other)}.`));
    return h("li", { dataset: { key: other } }, h("a", { href: editorHref(other) }, name(other)), " ",
      h("span", { class: "metric-meta inline" }, other), " ", remove);
  });
  let adder = null;
  if (office && page.others) {
    const wanted = isOutput ? "outcome" : "output";
    const candidates = [...page.others.values()].filter((m) => m.kind === wanted && m.key !== metric.key
      && !linked.includes(m.key));
    const select = h("select", { id: "link-metric" }, h("option", { value: "" }, `Choose an ${wanted}…`),
      candidates.map((m) => h("option", { value: m.key }, `${m.name} (${m.key})`)));
    const add = h("button", { type: "button", class: "secondary", id: "add-link" }, "Link");
    add.addEventListener("click", () => {
      if (!select.value) {
        status.replaceChildren(problemBox({ status: 422, detail: `Choose the ${wanted} to link first.` }));
        select.focus();
        return;
      }
      const other = select.value;
      relink(add, () => catalogueApi.link(...pair(other)), `Linked ${name(other)}.`);
    });
    adder = h("div", { class: "inline-fields" },
      field("link-metric", isOutput ? "Drives the outcome" : "Driven by the output", select), h("div", { class: "field" }, add));
  }
  return h("div", { class: "drivers", id: "drivers" },
    h("h3", {}, heading),
    items.length ? h("ul", { class: "link-list", id: "driver-list" }, items)
      : h("p", { class: "muted", id: "driver-empty" },
        isOutput ? "It is not linked to an outcome yet." : "No output is linked to it yet."),
    adder);
}

function alignmentSection(done = "") {
  const { user } = page;
  const status = h("div", { id: "alignment-result", role: "status" }, done ? h("p", { class: "success-box" }, done) : null);
  const table = page.priorities.length
    ? simpleTable({ id: "priorities-table", caption: "Citywide priorities", headers: ["Priority", "Aligned", "Key metric"],
      rows: page.priorities.map((p) => priorityRow(p, status)) })
    : h("p", { class: "muted" }, "No citywide priorities have been set up.");
  return h("section", { class: "editor-section", id: "alignment-section", "aria-labelledby": "alignment-heading" },
    h("h2", { id: "alignment-heading" }, "Priorities and links"),
    h("p", { class: "muted help" }, isOffice(user)
      ? "Align the metric to the priorities it serves and mark the few key metrics. "
        + "Link outputs the department controls to the outcomes they drive."
      : "The performance office aligns metrics to priorities, marks key metrics and links outputs to outcomes."),
    status, table, driversBlock(status));
}

// ---- discussion -------------------------------------------------------------------------------------

function commentItem(comment) {
  return h("li", { class: "comment", dataset: { id: String(comment.id) } },
    h("p", { class: "comment-meta" }, h("strong", {}, comment.actor_name || comment.actor), " · ",
      h("time", { datetime: comment.at }, stamp(comment.at))),
    h("p", { class: "comment-body" }, comment.body));
}

function discussionSection() {
  const { metric, user } = page;
  const list = h("ol", { class: "comments", id: "comments", "aria-busy": "true" });
  const status = h("div", { id: "discussion-result", role: "status" });
  const section = h("section", { class: "editor-section", id: "discussion-section", "aria-labelledby": "discussion-heading" },
    h("h2", { id: "discussion-heading" }, "Discussion with the department"), list, status);
  const empty = () => h("li", { class: "muted", id: "comments-empty" }, "No comments yet.");
  catalogueApi.comments(metric.key).then((items) => {
    list.replaceChildren(...(items.length ? items.map(commentItem) : [empty()]));
  }).catch((error) => {
    list.replaceChildren(h("li", { class: "muted" }, error.status === 404
      ? `The discussion is open to the performance office and ${metric.department}’s staff.`
      : `The discussion could not be loaded: ${error.detail || error.message}`));
  }).finally(() => list.removeAttribute("aria-busy"));

  if (!(isOffice(user) || isDepartmentStaff(user, metric.department))) return section;
  const text = h("textarea", { name: "body", rows: "3", maxlength: "10000" });
  const post = h("button", { type: "submit", class: "primary", id: "post-comment" }, "Post comment");
  const form = h("form", { id: "comment-form", class: "stack-form", novalidate: true },
    field("comment-body", "Add to the discussion", text, "Seen by the performance office and the department’s staff"),
    h("div", { class: "form-actions" }, post));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    if (!text.value.trim()) {
      text.setAttribute("aria-invalid", "true");
      text.focus();
      status.replaceChildren(problemBox({ status: 422, detail: "Write a comment first." }));
      return;
    }
    try {
      const comment = await whileBusy(post, "Posting…", () => catalogueApi.addComment(metric.key, text.value.trim()), form);
      document.getElementById("comments-empty")?.remove();
      list.append(commentItem(comment));
      text.value = "";
      text.removeAttribute("aria-invalid");
      flash(status, "Comment posted.");
    } catch (error) {
      status.replaceChildren(problemBox(error));
    }
  });
  section.append(form);
  return section;
}

// ---- version history -----------------------------------------------------------------------------

function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  const text = String(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function changeItems(changes) {
  return Object.entries(changes).map(([name, change]) => h("li", {},
    h("span", { class: "change-field" }, `${FIELD_LABELS[name] || name}: `),
    h("span", { class: "change-from" }, shown(change?.from)), " → ",
    h("span", { class: "change-to" }, shown(change?.to))));
}

function changesCell(version) {
  const items = changeItems(version.changes || {});
  if (!items.length) return h("span", { class: "muted" }, "—");
  // A creation lists every field from nothing: folded away, as it reads as the definition itself.
  if (version.action === "created" || version.action === "adopted") {
    return h("details", {}, h("summary", {}, `Defined ${items.length} fields`), h("ul", { class: "changes" }, items));
  }
  return h("ul", { class: "changes" }, items);
}

function historySection(versions) {
  const rows = [...versions].reverse().map((v) => h("tr", { dataset: { version: String(v.version) } },
    h("th", { scope: "row" }, `v${v.version}`),
    h("td", {}, h("time", { datetime: v.at }, stamp(v.at))),
    h("td", { class: "who" }, v.actor_name || v.actor),
    h("td", { class: "action" }, ACTIONS[v.action] || v.action),
    h("td", {}, changesCell(v)),
    h("td", { class: "reason" }, orDash(v.reason)),
    h("td", { class: "break" }, v.series_break ? `Yes, from ${v.break_period || "—"}` : "—")));
  return h("section", { class: "editor-section", id: "history-section", "aria-labelledby": "history-heading" },
    h("h2", { id: "history-heading" }, "Version history"),
    rows.length ? simpleTable({ id: "versions-table", caption: "Every version of the definition, newest first",
      headers: ["Version", "When (UTC)", "Who", "Action", "What changed", "Reason", "Series break"], rows, className: "versions" })
      : h("p", { class: "muted" }, "No versions recorded."));
}

// ---- the page -------------------------------------------------------------------------------------

function replaceSection(id, node) {
  document.getElementById(id)?.replaceWith(node);
}

/** Redraws everything the metric's new version touches, with `message` where the change was made. */
async function refresh(message, where) {
  let versions;
  try {
    [page.metric, versions] = await Promise.all([catalogueApi.metric(page.metric.key), catalogueApi.versions(page.metric.key)]);
  } catch (error) {
    // The change was saved; only the redraw failed. Say so rather than show a stale page as current.
    document.getElementById("page-notice").replaceChildren(problemBox({ ...error,
      detail: `${message} The page could not be brought up to date (${error.detail || error.message}): reload it.` }));
    return;
  }
  renderHead();
  replaceSection("lifecycle-section", lifecycleSection());
  replaceSection("definition-section", definitionSection());
  replaceSection("alignment-section", alignmentSection());
  replaceSection("history-section", historySection(versions));
  const slot = document.getElementById(where === "lifecycle" ? "lifecycle-result" : "definition-result");
  if (slot && message) {
    flash(slot, message);
    slot.firstChild.setAttribute("tabindex", "-1");
    slot.firstChild.focus();
  }
}

async function main() {
  const key = param("key");
  page.user = await requireUser();
  if (!key) {
    showError(content, { status: 404, detail: "No metric was named in the address (add ?key=...)." },
      { notFound: "Metric", back: false });
    return;
  }
  showLoading(content, "Loading the metric…");
  let versions;
  try {
    [page.metric, page.departments, page.priorities, versions] = await Promise.all([catalogueApi.metric(key),
      catalogueApi.departments(), catalogueApi.priorities(), catalogueApi.versions(key)]);
  } catch (error) {
    showError(content, error, { notFound: "Metric", back: false });
    content.append(h("p", {}, h("a", { href: "catalogue.html" }, "Back to the catalogue")));
    return;
  }
  renderHead();
  if (param("created")) {
    flash(document.getElementById("page-notice"), "Draft created. Revise it below, then propose it to the department.");
  }
  showContent(content, lifecycleSection(), definitionSection(), alignmentSection(), discussionSection(),
    targetEditor(page.metric, page.user), historySection(versions));
  // Names for the linked metrics, and the choices to link, arrive after the page is usable.
  try {
    page.others = new Map((await catalogueApi.allMetrics()).map((m) => [m.key, m]));
    replaceSection("alignment-section", alignmentSection());
  } catch {
    /* the links still show their keys */
  }
}

main();
