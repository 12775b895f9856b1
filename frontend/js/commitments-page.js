// "commitments.html[?department=DPW&kind=direction&status=at_risk]": the commitments tracker. The Mayor's
// directions (a level for a metric by a deadline, tracked from the data: met, on track, at risk, missed) and the
// action items agreed at roundtables (open, done, or missed when past due). The performance office closes
// action items and records new ones.

import { api } from "./api.js";
import {
  COMMITMENT_KIND_LABELS, COMMITMENT_LABELS, COMMITMENT_STATUSES, commitmentBadge, field, figureLink, isOffice,
  problemBox, reporting,
} from "./briefings-api.js";
import { openDialog } from "./dialog.js";
import { formatDate, formatTolerance, formatValue } from "./format.js";
import { requireUser } from "./session.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const actionSlot = document.getElementById("action-slot");

const state = { user: null, departments: [], meetings: [], filters: {}, items: [] };

const deptName = (code) => state.departments.find((d) => d.code === code)?.name || code;
const hidden = (text) => h("span", { class: "visually-hidden" }, text);

function filterForm() {
  const { department, kind, status } = state.filters;
  return h("form", { class: "inline-fields filter-form", method: "get", action: "", id: "commitment-filters" },
    field("filter-department", "Department", h("select", { id: "filter-department", name: "department" },
      h("option", { value: "" }, "All departments"),
      state.departments.map((d) => h("option", { value: d.code, selected: d.code === department }, d.name)))),
    field("filter-kind", "Kind", h("select", { id: "filter-kind", name: "kind" },
      h("option", { value: "" }, "Directions and action items"),
      Object.entries(COMMITMENT_KIND_LABELS).map(([value, label]) => h("option", { value, selected: value === kind }, label)))),
    field("filter-status", "Status", h("select", { id: "filter-status", name: "status" },
      h("option", { value: "" }, "Any status"),
      COMMITMENT_STATUSES.map((s) => h("option", { value: s, selected: s === status }, COMMITMENT_LABELS[s])))),
    h("div", { class: "field" }, h("button", { type: "submit", class: "secondary" }, "Show")));
}

function madeIn(c) {
  const title = c.made_in || (c.briefing_id ? `Briefing ${c.briefing_id}` : c.meeting_id ? `Meeting ${c.meeting_id}` : null);
  if (!title) return "—";
  const label = [title, c.made_on ? h("span", { class: "metric-meta" }, formatDate(c.made_on)) : null];
  return c.briefing_id ? h("a", { href: pageHref("briefing.html", { id: String(c.briefing_id) }) }, ...label) : label;
}

function doneButton(c) {
  if (!isOffice(state.user) || c.kind !== "action") return null;
  const done = c.status === "done";
  const button = h("button", { type: "button", class: "secondary small", dataset: { action: done ? "reopen" : "done" } },
    done ? "Reopen" : "Mark done…", hidden(`: ${c.description}`));
  button.addEventListener("click", () => (done ? setDone(c, false, "", button) : markDone(c)));
  return button;
}

function commitmentRow(c) {
  return h("tr", { dataset: { id: String(c.id), kind: c.kind, status: c.status } },
    h("td", {}, deptName(c.department)),
    h("td", {}, c.metric
      ? h("a", { href: pageHref("metric.html", { key: c.metric }) }, c.metric_name || c.metric)
      : h("span", { class: "muted" }, COMMITMENT_KIND_LABELS[c.kind] || c.kind)),
    h("th", { scope: "row", class: "description" }, c.description,
      c.done_note ? h("span", { class: "metric-meta" }, `Done: ${c.done_note}`) : null),
    h("td", {}, c.level === null || c.level === undefined ? "—" : formatValue(c.level, c.unit),
      c.tolerance ? h("span", { class: "muted" }, ` ± ${formatTolerance(c.tolerance, c.unit)}`) : null),
    h("td", {}, c.deadline ? h("time", { datetime: c.deadline }, formatDate(c.deadline)) : "—"),
    h("td", {}, commitmentBadge(c.status), c.status_reason ? h("span", { class: "metric-meta" }, c.status_reason) : null),
    h("td", {}, c.latest ? figureLink(c.latest, c.unit) : "—"),
    h("td", {}, madeIn(c)),
    isOffice(state.user) ? h("td", {}, doneButton(c)) : null);
}

function table() {
  const { items } = state;
  if (!items.length) return h("p", { class: "empty", id: "no-commitments" }, "No commitments match.");
  const counts = COMMITMENT_STATUSES.filter((s) => items.some((c) => c.status === s))
    .map((s) => `${items.filter((c) => c.status === s).length} ${COMMITMENT_LABELS[s].toLowerCase()}`);
  const heads = ["Department", "Metric", "Commitment", "Level", "Deadline", "Status", "Latest value", "Made in",
    isOffice(state.user) ? "Action" : null].filter(Boolean);
  return h("div", { class: "table-wrap" }, h("table", { id: "commitment-table", class: "commitment-table" },
    h("caption", {}, `${items.length} ${items.length === 1 ? "commitment" : "commitments"}: ${counts.join(", ")}`),
    h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map(commitmentRow))));
}

async function reload(message = null) {
  const { items } = await reporting.commitments(state.filters);
  state.items = items;
  showContent(content, ...[filterForm(), message, table()].filter(Boolean));
}

async function setDone(c, done, note, button) {
  if (button) button.disabled = true;
  try {
    const body = { done };
    if (note) body.done_note = note;
    await reporting.updateCommitment(c.id, body);
    await reload(h("p", { class: "success-box", role: "status", id: "commitment-outcome" },
      done ? `Marked done: ${c.description}` : `Reopened: ${c.description}`));
    return null;
  } catch (error) {
    if (button) button.disabled = false;
    return error;
  }
}

function markDone(c) {
  openDialog({
    title: "Mark this action item done",
    build: (close) => {
      const note = h("textarea", { id: "done-note", name: "done_note", rows: "3", maxlength: "5000" });
      const errors = h("div", { class: "form-errors" });
      const form = h("form", { class: "stack-form" },
        h("p", {}, c.description),
        field("done-note", "What was done (optional)", note),
        errors,
        h("div", { class: "modal-actions" },
          h("button", { type: "button", class: "secondary", dataset: { close: "" } }, "Cancel"),
          h("button", { type: "submit", class: "primary" }, "Mark done")));
      form.querySelector("[data-close]").addEventListener("click", () => close());
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const error = await setDone(c, true, note.value.trim(), form.querySelector("[type=submit]"));
        if (error) errors.replaceChildren(problemBox(error));
        else close(true);
      });
      return form;
    },
  });
}

function actionItemForm() {
  const meetings = [...state.meetings].sort((a, b) => b.held_on.localeCompare(a.held_on));
  const department = h("select", { id: "action-department", name: "department", required: true },
    h("option", { value: "" }, "Choose…"), state.departments.map((d) => h("option", { value: d.code }, d.name)));
  const meeting = h("select", { id: "action-meeting", name: "meeting", required: true },
    h("option", { value: "" }, meetings.length ? "Choose…" : "No meetings on the calendar"),
    meetings.map((m) => h("option", { value: String(m.id) }, `${formatDate(m.held_on)}: ${m.title}`)));
  const description = h("textarea", { id: "action-description", name: "description", rows: "2", maxlength: "5000", required: true });
  const deadline = h("input", { id: "action-deadline", name: "deadline", type: "date" });
  const errors = h("div", { class: "form-errors" });
  const form = h("form", { class: "stack-form", id: "action-form", novalidate: true },
    h("div", { class: "inline-fields" },
      field("action-meeting", "Agreed at", meeting),
      field("action-department", "Department", department),
      field("action-deadline", "Deadline (optional)", deadline)),
    field("action-description", "What the department will do", description),
    errors,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Add action item")));
  // A meeting's action items are for the departments that were at it.
  meeting.addEventListener("change", () => {
    const chosen = state.meetings.find((m) => String(m.id) === meeting.value);
    const codes = chosen?.departments.length ? chosen.departments : state.departments.map((d) => d.code);
    department.replaceChildren(h("option", { value: "" }, "Choose…"),
      ...codes.map((code) => h("option", { value: code, selected: codes.length === 1 }, deptName(code))));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problems = [];
    if (!meeting.value) problems.push({ field: "meeting", reason: "choose the meeting it was agreed in" });
    if (!department.value) problems.push({ field: "department", reason: "required" });
    if (!description.value.trim()) problems.push({ field: "description", reason: "required" });
    if (problems.length) {
      errors.replaceChildren(problemBox({ detail: "Please correct the form.", errors: problems }));
      return;
    }
    const body = { kind: "action", department: department.value, description: description.value.trim() };
    if (deadline.value) body.deadline = deadline.value;
    body.meeting_id = Number(meeting.value);
    try {
      const saved = await reporting.createCommitment(body);
      form.reset();
      errors.replaceChildren(h("p", { class: "success-box", role: "status" },
        `Added the action item for ${deptName(saved.department)}.`));
      await reload();
    } catch (error) {
      errors.replaceChildren(problemBox(error));
    }
  });
  return h("details", { class: "panel add-form", id: "action-panel" },
    h("summary", {}, "Record an action item from a roundtable"), form);
}

async function main() {
  state.user = await requireUser();
  const status = param("status");
  const kind = param("kind");
  state.filters = {
    department: param("department") || (state.user.citywide ? "" : state.user.department || ""),
    kind: COMMITMENT_KIND_LABELS[kind] ? kind : "",
    status: COMMITMENT_LABELS[status] ? status : "",
  };
  showLoading(content, "Loading commitments…");
  try {
    const [departments, meetings] = await Promise.all([api.departments(),
      isOffice(state.user) ? reporting.meetings().catch(() => ({ items: [] })) : { items: [] }]);
    state.departments = departments.items;
    state.meetings = meetings.items;
    await reload();
  } catch (error) {
    showError(content, error, { notFound: "Commitments" });
    return;
  }
  if (isOffice(state.user)) actionSlot.replaceChildren(actionItemForm());
}

main();
