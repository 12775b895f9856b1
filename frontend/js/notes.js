// The metric page's notes: each period's notes with their threads (opened from the chart's markers or the list),
// replies, and the "add a note" form for staff who may annotate the metric.

import { formatPeriod } from "./periods.js";
import { h } from "./ui.js";
import { performanceApi } from "./performance-api.js";
import { NOTE_ICONS } from "./chart.js";

export const NOTE_KINDS = {
  context: "Context",
  data_quality: "Data-quality issue",
  action: "Action taken",
  question: "Question to the department",
};

const stamp = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

function when(iso) {
  return h("time", { datetime: iso }, `${stamp.format(new Date(iso))} UTC`);
}

/** [{period, items}] oldest period first; the notes of a period in the order they were written. */
export function notesByPeriod(annotations) {
  const map = new Map();
  for (const a of annotations) map.set(a.period, [...(map.get(a.period) || []), a]);
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([period, items]) => ({ period, items }));
}

/** "Question to the department (2 replies)": one note in the list of periods. */
function noteSummary(note) {
  const n = note.replies.length;
  return `${NOTE_KINDS[note.kind] || note.kind}${n ? ` (${n} ${n === 1 ? "reply" : "replies"})` : ""}`;
}

function problemText(error) {
  return error.detail || error.message || "The note could not be saved.";
}

function replyForm(metric, note, onChanged) {
  const id = `reply-${note.id}`;
  const box = h("textarea", { id, name: "body", rows: "2", maxlength: "10000", required: true });
  const error = h("p", { class: "form-errors row-msg row-msg-error", role: "alert" });
  const button = h("button", { type: "submit", class: "secondary small" }, "Reply");
  const form = h("form", { class: "reply-form", novalidate: true },
    h("label", { for: id }, note.kind === "question" ? "Answer or reply" : "Reply"), box,
    h("div", { class: "form-actions" }, button), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!box.value.trim()) {
      error.textContent = "Write a reply first.";
      box.focus();
      return;
    }
    button.disabled = true;
    try {
      await performanceApi.reply(metric.key, note.id, box.value.trim());
    } catch (err) {
      error.textContent = problemText(err);
      button.disabled = false;
      return;
    }
    onChanged({ period: note.period, message: "Reply added." });
  });
  return form;
}

function noteArticle(metric, note, writable, onChanged) {
  const status = note.kind !== "question" ? null
    : h("span", { class: `tag ${note.answered_at ? "tag-answered" : "tag-open"}` }, note.answered_at ? "Answered" : "Awaiting an answer");
  return h("article", { class: `note note-kind-${note.kind}`, id: `note-${note.id}`, dataset: { kind: note.kind } },
    h("header", { class: "note-head" },
      h("span", { class: `note-icon note-${note.kind}`, "aria-hidden": "true" }, NOTE_ICONS[note.kind] || "i"),
      h("strong", {}, NOTE_KINDS[note.kind] || note.kind), status,
      h("span", { class: "muted" }, " · ", note.actor_name || note.actor, ", ", when(note.at))),
    h("p", { class: "note-body" }, note.body),
    note.replies.length
      ? h("ol", { class: "replies", "aria-label": `${note.replies.length} ${note.replies.length === 1 ? "reply" : "replies"}` },
        note.replies.map((r) => h("li", { class: "reply" },
          h("p", { class: "reply-meta muted" }, r.actor_name || r.actor, ", ", when(r.at)),
          h("p", { class: "note-body" }, r.body))))
      : null,
    writable ? replyForm(metric, note, onChanged) : null);
}

function addNoteForm({ metric, user, periods, defaultPeriod, onChanged }) {
  const office = user.role === "admin" || user.role === "analyst";
  const kinds = Object.entries(NOTE_KINDS).filter(([kind]) => office || kind !== "question");
  const period = h("select", { id: "note-period", name: "period" },
    [...periods].reverse().map((p) => h("option", { value: p, selected: p === defaultPeriod }, formatPeriod(p))));
  const kind = h("select", { id: "note-kind", name: "kind" }, kinds.map(([value, label]) => h("option", { value }, label)));
  const body = h("textarea", { id: "note-body", name: "body", rows: "3", maxlength: "10000", required: true });
  const error = h("div", { class: "form-errors", id: "note-error" });
  const button = h("button", { type: "submit", class: "primary" }, "Add note");
  const form = h("form", { class: "stack-form note-form", id: "note-form", novalidate: true, "aria-labelledby": "note-form-heading" },
    h("h3", { id: "note-form-heading" }, "Add a note"),
    h("div", { class: "inline-fields" },
      h("div", { class: "field" }, h("label", { for: "note-period" }, "Period"), period),
      h("div", { class: "field" }, h("label", { for: "note-kind" }, "Kind"), kind)),
    h("div", { class: "field" }, h("label", { for: "note-body" }, "Note"), body),
    error,
    h("div", { class: "form-actions" }, button,
      office ? null : h("span", { class: "muted" }, "Questions to the department are asked by the performance office.")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    if (!body.value.trim()) {
      error.append(h("p", { class: "row-msg row-msg-error", role: "alert" }, "Write the note first."));
      body.setAttribute("aria-invalid", "true");
      body.focus();
      return;
    }
    body.removeAttribute("aria-invalid");
    button.disabled = true;
    try {
      await performanceApi.addAnnotation(metric.key, { period: period.value, kind: kind.value, body: body.value.trim() });
    } catch (err) {
      error.append(h("div", { class: "error-box", role: "alert" }, h("p", { class: "error-detail" }, problemText(err))));
      button.disabled = false;
      return;
    }
    onChanged({ period: period.value, message: `Note added for ${formatPeriod(period.value)}.` });
  });
  return form;
}

/**
 * The notes section. `notes` from notesByPeriod, or null when they could not be loaded. Returns {section, show}:
 * show(period, {focus}) opens that period's thread.
 */
export function notesSection({ metric, notes, user, writable, periods, defaultPeriod, onChanged, failed = null }) {
  const thread = h("div", { class: "note-thread", id: "note-thread", tabindex: "-1" });
  const flash = h("p", { class: "success-box", id: "note-flash", role: "status", hidden: true });
  const byPeriod = new Map((notes || []).map((n) => [n.period, n.items]));

  function show(period, { focus = true, message = "" } = {}) {
    const items = byPeriod.get(period) || [];
    flash.hidden = !message;
    flash.textContent = message;
    thread.replaceChildren(
      h("h3", {}, `Notes on ${formatPeriod(period)}`),
      ...(items.length ? items.map((n) => noteArticle(metric, n, writable, onChanged)) : [h("p", { class: "muted" }, "No notes on this period.")]));
    for (const b of document.querySelectorAll(".note-index button, .note-marker")) {
      b.setAttribute("aria-expanded", String(b.dataset.period === period));
    }
    if (focus) thread.focus();
  }

  const index = failed
    ? h("p", { class: "error-box", role: "alert" }, `The notes could not be loaded: ${failed}`)
    : notes.length
      ? h("ul", { class: "note-index", id: "note-index" }, [...notes].reverse().map(({ period, items }) => {
        const button = h("button", { type: "button", class: "link-like", dataset: { period }, "aria-controls": "note-thread",
          "aria-expanded": "false" }, formatPeriod(period));
        button.addEventListener("click", () => show(period));
        return h("li", {}, button, ": ", items.map(noteSummary).join(", "));
      }))
      : h("p", { class: "muted", id: "note-index-empty" }, "No notes on this metric yet.");

  const section = h("section", { class: "notes-panel", "aria-labelledby": "notes-heading" },
    h("h2", { id: "notes-heading" }, "Notes"),
    h("p", { class: "muted help" }, "Context, data-quality issues, actions and questions on a period. "
      + "Choose a marker on the chart or a period below to read its thread."),
    index, flash, thread,
    user && writable ? addNoteForm({ metric, user, periods, defaultPeriod, onChanged }) : null);
  return { section, show };
}
