// "briefings.html[?kind=cabinet&state=published]": the briefings this user may see, newest period first,
// the next meetings on the calendar and, for the performance office, the form that starts a new draft.
// A new draft is built in the background; its page (briefing.html?id=N) shows the build's progress.

import { api } from "./api.js";
import {
  BUILD_LABELS, field, isOffice, KIND_LABELS, KIND_RULES, KINDS, MEETING_KIND_LABELS, MEETING_KIND_OF, monthBefore,
  problemBox, reporting, stamp, stateBadge,
} from "./briefings-api.js";
import { formatDate } from "./format.js";
import { formatPeriod } from "./periods.js";
import { requireUser } from "./session.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const newSlot = document.getElementById("new-slot");

const state = { user: null, departments: [], meetings: [] };

const PERIOD_INPUTS = {
  month: { type: "month", pattern: /^\d{4}-(0[1-9]|1[0-2])$/, help: "A month, e.g. 2017-06", placeholder: "2017-06" },
  week: { type: "week", pattern: /^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, help: "An ISO week, e.g. 2017-W23", placeholder: "2017-W23" },
  year: { type: "number", pattern: /^\d{4}$/, help: "A year, e.g. 2016", placeholder: "2016" },
};

const departmentName = (code) => state.departments.find((d) => d.code === code)?.name || code;

function departmentsText(codes) {
  return codes.length ? codes.map(departmentName).join(", ") : "Citywide";
}

// ---- the new-briefing form --------------------------------------------------------------------

/** The same period in the new kind's form, where there is one: 2017-06 becomes 2017 for a year. */
function carryPeriod(value, freq) {
  const year = /^(\d{4})/.exec(value || "")?.[1];
  if (freq === "year") return year || "";
  return PERIOD_INPUTS[freq].pattern.test(value || "") ? value : "";
}

function meetingOptions(kind) {
  const wanted = MEETING_KIND_OF[kind];
  // Newest first: a briefing is usually prepared for the next meeting, or one just held.
  const meetings = state.meetings.filter((m) => m.kind === wanted).sort((a, b) => b.held_on.localeCompare(a.held_on));
  return [h("option", { value: "" }, "None"),
    ...meetings.map((m) => h("option", { value: String(m.id) }, `${formatDate(m.held_on)}: ${m.title}`))];
}

function newBriefingForm() {
  const kind = h("select", { id: "new-kind", name: "kind" },
    KINDS.map((k) => h("option", { value: k, selected: k === "cabinet" }, KIND_LABELS[k])));
  const period = h("input", { id: "new-period", name: "period", required: true, autocomplete: "off" });
  const periodHelp = h("p", { class: "muted help", id: "new-period-help" });
  period.setAttribute("aria-describedby", "new-period-help");
  const checks = state.departments.map((d) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "departments", value: d.code }), ` ${d.name} (${d.code})`));
  const deptHelp = h("p", { class: "muted help", id: "new-departments-help" });
  const departments = h("fieldset", { class: "plain-fieldset", id: "new-departments", "aria-describedby": "new-departments-help" },
    h("legend", {}, "Departments"), deptHelp, h("div", { class: "check-grid" }, checks));
  const meeting = h("select", { id: "new-meeting", name: "meeting" });
  const meetingField = field("new-meeting", "Meeting (optional)", meeting, "The meeting this briefing is prepared for.");
  const title = h("input", { id: "new-title", name: "title", type: "text", maxlength: "200", autocomplete: "off" });
  const cabinetNote = h("p", { class: "muted help", id: "cabinet-note" },
    "A new Cabinet briefing starts with the suggested metrics (off target, big changes, statistical signals); "
    + "you can change them, their order and the explanations before publishing.");
  const errors = h("div", { class: "form-errors", id: "new-errors" });
  const submit = h("button", { type: "submit", class: "primary", id: "create-briefing" }, "Create draft");
  const form = h("form", { class: "stack-form", id: "new-briefing", novalidate: true },
    h("div", { class: "inline-fields" },
      field("new-kind", "Kind", kind),
      h("div", { class: "field" }, h("label", { for: "new-period" }, "Period"), period, periodHelp),
      meetingField),
    departments,
    field("new-title", "Title (optional)", title, "Left empty, the title is made from the kind, period and departments."),
    cabinetNote, errors, h("div", { class: "form-actions" }, submit));

  let freq = null;
  const fit = () => {
    const rules = KIND_RULES[kind.value];
    const input = PERIOD_INPUTS[rules.period];
    if (freq !== rules.period) {
      const carried = carryPeriod(period.value, rules.period);
      period.type = input.type;
      if (rules.period === "year") Object.assign(period, { min: "2000", max: "2100", step: "1" });
      else for (const name of ["min", "max", "step"]) period.removeAttribute(name);
      period.placeholder = input.placeholder;
      period.value = carried;
      periodHelp.textContent = input.help;
      freq = rules.period;
    }
    departments.hidden = rules.most === 0;
    deptHelp.textContent = rules.departments;
    meetingField.hidden = !MEETING_KIND_OF[kind.value];
    meeting.replaceChildren(...meetingOptions(kind.value));
    cabinetNote.hidden = kind.value !== "cabinet";
  };
  kind.addEventListener("change", fit);
  meeting.addEventListener("change", () => {
    const chosen = state.meetings.find((m) => String(m.id) === meeting.value);
    if (!chosen) return;
    // A meeting reviews the month before it; its departments are the roundtable's.
    if (!period.value && freq === "month") period.value = monthBefore(chosen.held_on);
    if (kind.value === "roundtable" && chosen.departments.length) {
      for (const box of form.querySelectorAll('input[name="departments"]')) box.checked = chosen.departments.includes(box.value);
    }
  });
  fit();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rules = KIND_RULES[kind.value];
    const chosen = [...form.querySelectorAll('input[name="departments"]:checked')].map((box) => box.value);
    const body = { kind: kind.value, period: period.value.trim() };
    const problems = [];
    period.removeAttribute("aria-invalid");
    departments.removeAttribute("aria-invalid");
    if (!PERIOD_INPUTS[rules.period].pattern.test(body.period)) {
      problems.push({ field: "period", reason: `${PERIOD_INPUTS[rules.period].help.toLowerCase()}` });
      period.setAttribute("aria-invalid", "true");
    }
    if (rules.most > 0) {
      if (chosen.length < rules.fewest || chosen.length > rules.most) {
        problems.push({ field: "departments", reason: rules.departments.toLowerCase() });
        departments.setAttribute("aria-invalid", "true");
      }
      body.departments = chosen;
    }
    if (!meetingField.hidden && meeting.value) body.meeting_id = Number(meeting.value);
    if (title.value.trim()) body.title = title.value.trim();
    if (problems.length) {
      errors.replaceChildren(problemBox({ detail: "Please correct the form.", errors: problems }));
      (problems[0].field === "period" ? period : departments.querySelector("input"))?.focus();
      return;
    }
    submit.disabled = true;
    errors.replaceChildren(h("p", { class: "loading", role: "status" }, "Creating the draft…"));
    try {
      const briefing = await reporting.createBriefing(body);
      window.location.assign(pageHref("briefing.html", { id: String(briefing.id) }));
    } catch (error) {
      submit.disabled = false;
      errors.replaceChildren(problemBox(error));
    }
  });
  return h("section", { class: "panel", id: "new-briefing-panel", "aria-labelledby": "new-briefing-heading" },
    h("h2", { id: "new-briefing-heading" }, "New briefing"), form);
}

// ---- the list ---------------------------------------------------------------------------------

function filterForm(kind, briefingState) {
  const office = isOffice(state.user);
  return h("form", { class: "inline-fields filter-form", method: "get", action: "", id: "briefing-filters" },
    field("filter-kind", "Kind", h("select", { id: "filter-kind", name: "kind" },
      h("option", { value: "" }, "All kinds"),
      KINDS.map((k) => h("option", { value: k, selected: k === kind }, KIND_LABELS[k])))),
    office ? field("filter-state", "State", h("select", { id: "filter-state", name: "state" },
      h("option", { value: "" }, "Drafts and published"),
      h("option", { value: "draft", selected: briefingState === "draft" }, "Drafts"),
      h("option", { value: "published", selected: briefingState === "published" }, "Published"))) : null,
    h("div", { class: "field" }, h("button", { type: "submit", class: "secondary" }, "Show")));
}

function buildCell(b) {
  if (b.state === "published") return h("td", {}, "—");
  const { status, done, total } = b.build;
  const words = BUILD_LABELS[status] || status;
  return h("td", { class: `build-${status}` },
    status === "building" && total ? `${words}: ${done} of ${total}` : words);
}

function briefingRow(b) {
  return h("tr", { dataset: { id: String(b.id), state: b.state, kind: b.kind } },
    h("th", { scope: "row" }, h("a", { href: pageHref("briefing.html", { id: String(b.id) }) }, b.title)),
    h("td", {}, KIND_LABELS[b.kind] || b.kind),
    h("td", {}, formatPeriod(b.period)),
    h("td", {}, departmentsText(b.departments)),
    h("td", {}, stateBadge(b.state)),
    isOffice(state.user) ? buildCell(b) : null,
    h("td", {}, b.published_at ? stamp(b.published_at) : "—"));
}

function briefingTable(items) {
  if (!items.length) {
    return h("p", { class: "empty", id: "no-briefings" }, isOffice(state.user)
      ? "No briefings match. Start one with the form above."
      : "No published briefings concern your department yet.");
  }
  const heads = ["Title", "Kind", "Period", "Departments", "State", isOffice(state.user) ? "Build" : null, "Published"]
    .filter(Boolean);
  return h("div", { class: "table-wrap" }, h("table", { id: "briefing-list" },
    h("caption", {}, `${items.length} ${items.length === 1 ? "briefing" : "briefings"}`),
    h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map(briefingRow))));
}

function nextMeetings(upcoming) {
  const mine = state.user.citywide ? upcoming
    : upcoming.filter((m) => m.kind === "cabinet" || m.departments.includes(state.user.department));
  return h("section", { class: "panel next-meetings", "aria-labelledby": "next-meetings-heading" },
    h("h2", { id: "next-meetings-heading" }, "Next meetings"),
    mine.length
      ? h("ul", { class: "plain-list" }, mine.slice(0, 3).map((m) => h("li", {},
        h("time", { datetime: m.held_on }, formatDate(m.held_on)), ": ", h("strong", {}, m.title),
        ` (${MEETING_KIND_LABELS[m.kind] || m.kind}${m.departments.length ? `, ${departmentsText(m.departments)}` : ""})`)))
      : h("p", { class: "muted" }, "No meetings are on the calendar."),
    h("p", {}, h("a", { href: "meetings.html" }, "The whole calendar")));
}

async function main() {
  state.user = await requireUser();
  const kind = KINDS.includes(param("kind")) ? param("kind") : "";
  const briefingState = ["draft", "published"].includes(param("state")) ? param("state") : "";
  showLoading(content, "Loading briefings…");
  let briefings;
  let upcoming = [];
  try {
    const [depts, list, meetings, next] = await Promise.all([
      api.departments(),
      reporting.briefings({ kind, state: briefingState }),
      // The calendar helps but is not needed to read the list.
      reporting.meetings().catch(() => ({ items: [] })),
      reporting.meetings({ upcoming: true }).catch(() => ({ items: [] })),
    ]);
    state.departments = depts.items;
    state.meetings = meetings.items;
    briefings = list.items;
    upcoming = next.items;
  } catch (error) {
    showError(content, error, { notFound: "Briefings" });
    return;
  }
  if (isOffice(state.user)) newSlot.replaceChildren(newBriefingForm());
  showContent(content,
    nextMeetings(upcoming),
    h("section", { "aria-labelledby": "list-heading" },
      h("h2", { id: "list-heading" }, "All briefings"),
      filterForm(kind, briefingState),
      briefingTable(briefings)));
}

main();
