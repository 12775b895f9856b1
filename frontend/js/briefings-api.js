// The reporting service's briefings, commitments and meetings, and the words and badges the pages that
// show them share. The performance office (analysts and administrators) prepares briefings, records
// commitments and keeps the calendar; everyone else reads. The server decides; these only spare people
// buttons that would be refused.

import { getAll, getJSON, sendJSON } from "./api.js";
import { formatValue } from "./format.js";
import { formatPeriod } from "./periods.js";
import { h } from "./ui.js";

const enc = encodeURIComponent;
const R = "/reporting";

export const reporting = {
  briefings: (params = {}) => getAll(`${R}/briefings`, params),
  briefing: (id) => getJSON(`${R}/briefings/${enc(id)}`),
  createBriefing: (body) => sendJSON("POST", `${R}/briefings`, { body }),
  updateBriefing: (id, body) => sendJSON("PATCH", `${R}/briefings/${enc(id)}`, { body }),
  rebuildBriefing: (id) => sendJSON("POST", `${R}/briefings/${enc(id)}/rebuild`),
  publishBriefing: (id) => sendJSON("POST", `${R}/briefings/${enc(id)}/publish`),
  deleteBriefing: (id) => sendJSON("DELETE", `${R}/briefings/${enc(id)}`),
  // URLSearchParams repeats `department` for each code, as the route expects.
  suggestions: (period, departments = [], limit = 6) => {
    const query = new URLSearchParams({ period, limit: String(limit) });
    for (const code of departments) query.append("department", code);
    return getJSON(`${R}/briefings/suggestions?${query}`);
  },
  commitments: (params = {}) => getAll(`${R}/commitments`, params),
  createCommitment: (body) => sendJSON("POST", `${R}/commitments`, { body }),
  updateCommitment: (id, body) => sendJSON("PATCH", `${R}/commitments/${enc(id)}`, { body }),
  meetings: (params = {}) => getAll(`${R}/meetings`, params),
  createMeeting: (body) => sendJSON("POST", `${R}/meetings`, { body }),
};

/** Where a briefing's rendered page and PDF are, for links and the preview frame. */
export const briefingHtmlHref = (id) => `/api${R}/briefings/${enc(id)}/html`;
export const briefingPdfHref = (id) => `/api${R}/briefings/${enc(id)}/pdf`;
export const calendarHref = (department) => `/api${R}/meetings.ics${department ? `?department=${enc(department)}` : ""}`;

export function isOffice(user) {
  return Boolean(user) && (user.role === "analyst" || user.role === "admin");
}

// A Cabinet briefing reviews three to six metrics (services/reporting/briefings/schemas.py).
export const CABINET_MIN = 3;
export const CABINET_MAX = 6;

export const KINDS = ["cabinet", "roundtable", "memo", "annual", "frontline"];

export const KIND_LABELS = {
  cabinet: "Cabinet briefing",
  roundtable: "Roundtable pack",
  memo: "Monthly memo",
  annual: "Annual report",
  frontline: "Front-line scorecard",
};

/** For each kind: the period it is built for and how many departments it takes (mirrors the server's rules). */
export const KIND_RULES = {
  cabinet: { period: "month", fewest: 0, most: 20, departments: "Optional: only these departments' metrics are suggested." },
  roundtable: { period: "month", fewest: 1, most: 3, departments: "Choose one to three departments." },
  memo: { period: "month", fewest: 0, most: 0, departments: "The memo is citywide." },
  annual: { period: "year", fewest: 0, most: 0, departments: "The annual report is citywide." },
  frontline: { period: "week", fewest: 1, most: 1, departments: "Choose exactly one department." },
};

export const MEETING_KIND_OF = { cabinet: "cabinet", roundtable: "roundtable" };
export const MEETING_KIND_LABELS = { cabinet: "Cabinet meeting", roundtable: "Roundtable" };

export const STATE_LABELS = { draft: "Draft", published: "Published" };
export const BUILD_LABELS = { queued: "Waiting to build", building: "Building", ready: "Built", failed: "Build failed" };

export const REASON_LABELS = {
  off_target: "Off target",
  mover: "Big change",
  signal: "Statistical signal",
  chosen: "Chosen by the analyst",
};

export const COMMITMENT_KIND_LABELS = { direction: "Mayor's direction", action: "Action item" };

export const COMMITMENT_STATUSES = ["met", "on_track", "at_risk", "missed", "open", "done"];
export const COMMITMENT_LABELS = {
  met: "Met",
  on_track: "On track",
  at_risk: "At risk",
  missed: "Missed",
  open: "Open",
  done: "Done",
};
// A shape for each status as well as a colour, so status never rests on colour alone.
const COMMITMENT_ICONS = { met: "✓", on_track: "→", at_risk: "!", missed: "✕", open: "○", done: "✓" };

export function commitmentBadge(status) {
  const key = COMMITMENT_LABELS[status] ? status : "open";
  return h("span", { class: `badge commit-${key}`, dataset: { status: key } },
    h("span", { class: "badge-icon", "aria-hidden": "true" }, COMMITMENT_ICONS[key]),
    COMMITMENT_LABELS[key]);
}

export function stateBadge(state) {
  return h("span", { class: `badge state-${state}`, dataset: { state } },
    h("span", { class: "badge-icon", "aria-hidden": "true" }, state === "published" ? "■" : "✎"),
    STATE_LABELS[state] || state);
}

/** The metric page for a figure, with the revision the briefing showed (so that page can say if it changed). */
export function figureHref({ metric, period, revision }) {
  const query = new URLSearchParams({ key: metric });
  if (period) query.set("period", period);
  if (revision !== null && revision !== undefined) query.set("revision", String(revision));
  return `metric.html?${query}`;
}

/** A figure as a link to where it came from: "95% (June 2017)". */
export function figureLink(figure, unit) {
  if (!figure) return h("span", { class: "muted" }, "—");
  return h("a", { href: figureHref(figure), dataset: { metric: figure.metric, period: figure.period,
    revision: figure.revision ?? "" } }, formatValue(figure.value, unit), " ",
  h("span", { class: "muted" }, `(${formatPeriod(figure.period, "short")})`));
}

const stampFormat = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** A server timestamp as "Jul 10, 2017, 2:05 PM UTC". */
export function stamp(iso) {
  return iso ? `${stampFormat.format(new Date(iso))} UTC` : "—";
}

/** Who did something, as the services record it ("user:12"), with "you" for the signed-in user. */
/** "user:3", or "Ana Ruiz (user:3)" as publications are signed; the signed-in user is "(you)". */
export function actorName(actor, user) {
  if (!actor) return "—";
  if (!user) return actor;
  const id = `user:${user.id}`;
  if (actor === id) return `${user.name} (you)`;
  return actor.endsWith(`(${id})`) ? `${actor.slice(0, -id.length - 2)}(you)` : actor;
}

export function field(id, label, control, help = null) {
  if (help) control.setAttribute("aria-describedby", `${id}-help`);
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
    help ? h("p", { class: "muted help", id: `${id}-help` }, help) : null);
}

/** The server's refusal in a form: its `detail`, then what was wrong field by field. */
export function problemBox(error) {
  return h("div", { class: "error-box", role: "alert" },
    h("p", { class: "error-detail" }, error.detail || error.message),
    error.errors?.length
      ? h("ul", { class: "error-list" }, error.errors.map((e) => h("li", {},
        e.field ? `${String(e.field).replace(/^(body|query)\./, "")}: ${e.reason}` : e.reason)))
      : null);
}

/** The previous month of a date ("2017-07-20" gives "2017-06"): the month a meeting reviews. */
export function monthBefore(isoDate) {
  const [y, m] = isoDate.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}
