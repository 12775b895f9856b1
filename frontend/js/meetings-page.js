// "meetings.html[?department=DPW&past=1]": the calendar of roundtables and Cabinet meetings, by month, so that
// every department knows when its turn comes; the .ics feed to subscribe to; and, for the performance office,
// the form that puts a meeting on the calendar.

import { api } from "./api.js";
import {
  calendarHref, field, isOffice, KIND_LABELS, MEETING_KIND_LABELS, problemBox, reporting, STATE_LABELS,
} from "./briefings-api.js";
import { formatDate } from "./format.js";
import { formatPeriod } from "./periods.js";
import { requireUser } from "./session.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const addSlot = document.getElementById("add-slot");

const state = { user: null, departments: [], department: "", past: false, meetings: [] };

const deptName = (code) => state.departments.find((d) => d.code === code)?.name || code;

function filterForm() {
  return h("form", { class: "inline-fields filter-form", method: "get", action: "", id: "meeting-filters" },
    field("filter-department", "Department", h("select", { id: "filter-department", name: "department" },
      h("option", { value: "" }, "All departments"),
      state.departments.map((d) => h("option", { value: d.code, selected: d.code === state.department }, d.name))),
    "A department's meetings and every Cabinet meeting."),
    h("div", { class: "field" }, h("label", { class: "check" },
      h("input", { type: "checkbox", name: "past", value: "1", id: "filter-past", checked: state.past }),
      " Include past meetings")),
    h("div", { class: "field" }, h("button", { type: "submit", class: "secondary" }, "Show")));
}

function feedLinks() {
  const code = state.department;
  return h("p", { class: "feed-links" },
    h("a", { href: calendarHref(code || null), id: "ics-link", type: "text/calendar" },
      code ? `Subscribe to ${deptName(code)}'s calendar (.ics)` : "Subscribe to the calendar (.ics)"),
    h("span", { class: "muted" }, " — add it to Outlook or any calendar application; it lists upcoming meetings."));
}

/** "Public Works' next roundtable: July 20, 2017" for the department shown (or the user's own). */
function nextTurn(upcoming) {
  const code = state.department || (!state.user.citywide && state.user.department) || "";
  if (!code) return null;
  const next = upcoming.find((m) => m.kind === "roundtable" && m.departments.includes(code));
  return h("p", { class: "notice", id: "next-turn" }, next
    ? [h("strong", {}, `${deptName(code)}'s next roundtable: `),
      h("time", { datetime: next.held_on }, formatDate(next.held_on)), ` (${next.title})`]
    : `${deptName(code)} has no roundtable on the calendar yet.`);
}

function meetingItem(m) {
  const own = !state.user.citywide && m.departments.includes(state.user.department);
  return h("li", { class: `meeting meeting-${m.kind}`, dataset: { id: String(m.id), kind: m.kind } },
    h("div", { class: "meeting-date" }, h("time", { datetime: m.held_on }, formatDate(m.held_on))),
    h("div", { class: "meeting-body" },
      h("h3", {}, m.title, " ", h("span", { class: "tag" }, MEETING_KIND_LABELS[m.kind] || m.kind),
        own ? h("span", { class: "tag tag-own" }, "Your department") : null),
      h("p", { class: "meeting-departments" }, m.departments.length
        ? ["Departments: ", m.departments.map(deptName).join(", ")]
        : m.kind === "cabinet" ? "Whole Cabinet" : "No departments named"),
      m.attendees?.length ? h("p", { class: "muted" }, `Attending: ${m.attendees.join(", ")}`) : null,
      m.briefings?.length ? h("p", {}, "Prepared: ", m.briefings.map((b, i) => [i ? ", " : "",
        h("a", { href: pageHref("briefing.html", { id: String(b.id) }) }, b.title),
        ` (${KIND_LABELS[b.kind] || b.kind}, ${(STATE_LABELS[b.state] || b.state).toLowerCase()})`])) : null,
      m.commitments ? h("p", { class: "muted" }, h("a", { href: pageHref("commitments.html", {}) },
        `${m.commitments} ${m.commitments === 1 ? "commitment" : "commitments"} made`)) : null,
      m.notes ? h("details", {}, h("summary", {}, "Notes"), h("p", { class: "meeting-notes" }, m.notes)) : null));
}

function calendar(meetings) {
  if (!meetings.length) {
    return h("p", { class: "empty", id: "no-meetings" }, state.past ? "No meetings are on the calendar."
      : "No upcoming meetings are on the calendar.");
  }
  const months = new Map();
  for (const m of meetings) {
    const month = m.held_on.slice(0, 7);
    if (!months.has(month)) months.set(month, []);
    months.get(month).push(m);
  }
  return h("div", { id: "calendar" }, [...months.entries()].map(([month, items]) =>
    h("section", { class: "month", "aria-labelledby": `month-${month}` },
      h("h2", { id: `month-${month}` }, formatPeriod(month)),
      h("ol", { class: "meeting-list" }, items.map(meetingItem)))));
}

function addMeetingForm() {
  const kind = h("select", { id: "meeting-kind", name: "kind" },
    Object.entries(MEETING_KIND_LABELS).map(([value, label]) => h("option", { value }, label)));
  const heldOn = h("input", { id: "meeting-date", name: "held_on", type: "date", required: true });
  const title = h("input", { id: "meeting-title", name: "title", type: "text", maxlength: "200", required: true });
  const help = h("p", { class: "muted help", id: "meeting-departments-help" });
  const departments = h("fieldset", { class: "plain-fieldset", id: "meeting-departments",
    "aria-describedby": "meeting-departments-help" },
  h("legend", {}, "Departments"), help,
  h("div", { class: "check-grid" }, state.departments.map((d) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "departments", value: d.code }), ` ${d.name} (${d.code})`))));
  const attendees = h("textarea", { id: "meeting-attendees", name: "attendees", rows: "3" });
  const notes = h("textarea", { id: "meeting-notes", name: "notes", rows: "3", maxlength: "50000" });
  const errors = h("div", { class: "form-errors", id: "meeting-errors" });
  const form = h("form", { class: "stack-form", id: "meeting-form", novalidate: true },
    h("div", { class: "inline-fields" },
      field("meeting-kind", "Kind", kind), field("meeting-date", "Date", heldOn), field("meeting-title", "Title", title)),
    departments,
    field("meeting-attendees", "Attendees (optional)", attendees, "One name a line."),
    field("meeting-notes", "Notes (optional)", notes, "Seen only by the performance office and the departments named."),
    errors, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Add meeting")));
  const fit = () => {
    help.textContent = kind.value === "roundtable" ? "A roundtable takes one to three departments."
      : "Optional: leave all unticked for the whole Cabinet.";
  };
  kind.addEventListener("change", fit);
  fit();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll('input[name="departments"]:checked')].map((box) => box.value);
    const problems = [];
    if (!heldOn.value) problems.push({ field: "held_on", reason: "choose a date" });
    if (!title.value.trim()) problems.push({ field: "title", reason: "required" });
    if (kind.value === "roundtable" && (chosen.length < 1 || chosen.length > 3)) {
      problems.push({ field: "departments", reason: "a roundtable takes one to three departments" });
    }
    if (problems.length) {
      errors.replaceChildren(problemBox({ detail: "Please correct the form.", errors: problems }));
      return;
    }
    const body = { kind: kind.value, held_on: heldOn.value, title: title.value.trim(), departments: chosen,
      attendees: attendees.value.split("\n").map((line) => line.trim()).filter(Boolean), notes: notes.value };
    try {
      const saved = await reporting.createMeeting(body);
      form.reset();
      fit();
      errors.replaceChildren(h("p", { class: "success-box", role: "status", id: "meeting-saved" },
        `Added “${saved.title}” on ${formatDate(saved.held_on)}.`));
      await load();
    } catch (error) {
      errors.replaceChildren(problemBox(error));
    }
  });
  return h("details", { class: "panel add-form", id: "meeting-panel" }, h("summary", {}, "Add a meeting"), form);
}

async function load() {
  const params = { department: state.department, upcoming: state.past ? "" : "true" };
  const [{ items }, upcoming] = await Promise.all([reporting.meetings(params),
    state.past ? reporting.meetings({ department: state.department, upcoming: "true" }) : null]);
  state.meetings = items;
  showContent(content, ...[filterForm(), feedLinks(), nextTurn(upcoming ? upcoming.items : items), calendar(items)]
    .filter(Boolean));
}

async function main() {
  state.user = await requireUser();
  state.past = param("past") === "1";
  showLoading(content, "Loading the calendar…");
  try {
    state.departments = (await api.departments()).items;
    const requested = param("department");
    // A department's staff start on their own calendar; "All departments" (department=) shows everyone's.
    state.department = state.departments.some((d) => d.code === requested) ? requested
      : new URLSearchParams(window.location.search).has("department") || state.user.citywide ? ""
        : state.user.department || "";
    await load();
  } catch (error) {
    showError(content, error, { notFound: "Calendar" });
    return;
  }
  if (isOffice(state.user)) addSlot.replaceChildren(addMeetingForm());
}

main();
