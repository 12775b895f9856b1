// "audit.html[?service=&actor=&action=&department=&start=&end=&after=I.M|before=I.M]": the audit trails of ingest
// and metrics as one list, newest first, with filters. Administrators only; everyone else is told so and no audit
// data is requested.
//
// Paging through two lists as one: a position in the merged list is a pair of offsets, how many events of ingest's
// and of metrics' come before it. A page starting at (I, M) reads up to PAGE_SIZE events of each service from
// there and keeps the PAGE_SIZE newest; the page before it reads up to PAGE_SIZE of each just before (I, M) and
// keeps the PAGE_SIZE oldest. Both services order by time then id, so the pair always marks one place.

import { api } from "./api.js";
import { requireUser } from "./session.js";
import { h, showContent, showError, showLoading } from "./ui.js";

const PAGE_SIZE = 50;
const SERVICES = ["ingest", "metrics"];
const SERVICE_LABELS = { ingest: "Ingest", metrics: "Metrics" };
const FILTERS = ["service", "actor", "action", "department", "start", "end"];

const content = document.getElementById("content");
const form = document.getElementById("audit-filters");
const count = document.getElementById("result-count");
const when = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

const state = { filters: {}, cursor: { ingest: 0, metrics: 0 }, direction: "after" };

function parseCursor(text) {
  const [ingest, metrics] = (text || "").split(".").map((part) => Number.parseInt(part, 10));
  if (!(ingest >= 0) || !(metrics >= 0)) return null;
  return { ingest, metrics };
}

function readAddress() {
  const query = new URLSearchParams(window.location.search);
  const filters = Object.fromEntries(FILTERS.map((name) => [name, (query.get(name) || "").trim()]));
  if (!SERVICES.includes(filters.service)) filters.service = "";
  const before = parseCursor(query.get("before"));
  const after = parseCursor(query.get("after"));
  return before ? { filters, cursor: before, direction: "before" }
    : { filters, cursor: after || { ingest: 0, metrics: 0 }, direction: "after" };
}

function address(changes = {}, cursor = null) {
  const query = new URLSearchParams();
  const filters = { ...state.filters, ...changes };
  for (const name of FILTERS) if (filters[name]) query.set(name, filters[name]);
  if (cursor) query.set(cursor.direction, `${cursor.ingest}.${cursor.metrics}`);
  const qs = query.toString();
  return qs ? `audit.html?${qs}` : "audit.html";
}

const shown = () => (state.filters.service ? [state.filters.service] : SERVICES);

// Microseconds since 1970: the services keep them, and Date.parse would drop all but the milliseconds.
function micros(iso) {
  const parts = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!parts) return Date.parse(iso) * 1000;
  return Date.parse(parts[1] + parts[3]) * 1000 + Number((parts[2] || "").padEnd(6, "0").slice(0, 6));
}

// Newest first: the order each service lists its own in (time, then id), the service breaking a tie between them.
function newerFirst(a, b) {
  const at = micros(b.at) - micros(a.at);
  if (at) return at;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return b.id - a.id;
}

async function readWindow(service, offset, limit) {
  const { department, actor, action, start, end } = state.filters;
  const answer = await api.auditEvents(service, { department, actor, action, start, end, offset, limit: Math.max(limit, 1) });
  // limit 0 (nothing before the start of a list) still asks, for the total, and keeps no event.
  return { total: answer.total, items: limit > 0 ? answer.items.map((e) => ({ ...e, service })) : [] };
}

/** The page at state.cursor: its events, where it starts and ends, and the totals. */
async function loadPage() {
  const services = shown();
  const backwards = state.direction === "before";
  const windows = await Promise.all(services.map((service) => {
    const at = state.cursor[service];
    return backwards ? readWindow(service, Math.max(0, at - PAGE_SIZE), Math.min(PAGE_SIZE, at))
      : readWindow(service, at, PAGE_SIZE);
  }));
  const merged = windows.flatMap((w) => w.items).sort(newerFirst);
  const events = backwards ? merged.slice(-PAGE_SIZE) : merged.slice(0, PAGE_SIZE);
  const start = { ingest: 0, metrics: 0 };
  const end = { ingest: 0, metrics: 0 };
  services.forEach((service) => {
    const taken = events.filter((e) => e.service === service).length;
    start[service] = backwards ? state.cursor[service] - taken : state.cursor[service];
    end[service] = start[service] + taken;
  });
  const totals = Object.fromEntries(services.map((service, i) => [service, windows[i].total]));
  return { events, start, end, totals };
}

function actorText(event) {
  return event.actor_name && event.actor_name !== event.actor ? `${event.actor_name} (${event.actor})` : event.actor;
}

function eventRow(event) {
  const filterBy = h("a", { href: address({ actor: event.actor }), title: `Only what ${event.actor} did` },
    actorText(event));
  return h("tr", { dataset: { service: event.service, action: event.action } },
    h("td", { class: "when" }, when.format(new Date(event.at))),
    h("td", { class: "service" }, SERVICE_LABELS[event.service]),
    h("td", { class: "actor" }, event.actor === "user:?" ? actorText(event) : filterBy),
    h("td", { class: "action" }, event.action),
    h("td", {}, event.department || "—"),
    h("td", { class: "description" }, event.subject || "—"),
    h("td", { class: event.outcome === "ok" ? "" : "state-revoked" }, event.outcome),
    h("td", { class: "audit-detail" }, event.detail ? JSON.stringify(event.detail) : ""));
}

function pager({ start, end, totals }) {
  const services = shown();
  const hasNewer = services.some((s) => start[s] > 0);
  const hasOlder = services.some((s) => end[s] < totals[s]);
  if (!hasNewer && !hasOlder) return null;
  return h("nav", { class: "pager", "aria-label": "Pages of the audit log" },
    hasNewer ? h("a", { href: address({}, { direction: "before", ...start }), rel: "prev", id: "newer" }, "← Newer") : null,
    hasOlder ? h("a", { href: address({}, { direction: "after", ...end }), rel: "next", id: "older" }, "Older →") : null);
}

async function showPage() {
  showLoading(content, "Loading the audit log…");
  count.textContent = "";
  let page;
  try {
    page = await loadPage();
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  const services = shown();
  const total = services.reduce((sum, s) => sum + page.totals[s], 0);
  const first = services.reduce((sum, s) => sum + page.start[s], 0);
  const filtered = FILTERS.some((name) => state.filters[name]);
  if (!page.events.length) {
    count.textContent = total ? `No events on this page; ${total} in all.` : "";
    showContent(content, h("p", { class: "empty", id: "audit-empty" },
      filtered ? "No event matches these filters." : "No events recorded yet."), pager(page));
    return;
  }
  count.textContent = `Events ${first + 1}–${first + page.events.length} of ${total}${filtered ? " matching" : ""}, newest first.`;
  showContent(content,
    h("div", { class: "table-wrap" }, h("table", { id: "audit-table" },
      h("caption", {}, "Audit events, newest first; times in UTC"),
      h("thead", {}, h("tr", {}, ["When (UTC)", "Service", "Who", "Action", "Department", "Subject", "Outcome", "Detail"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.events.map(eventRow)))),
    pager(page));
}

function fillOptions(select, options, chosen) {
  select.append(...options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)));
  // A filter from a link (an actor no longer listed, say) is still shown as chosen.
  if (chosen && !options.some(([value]) => value === chosen)) {
    select.append(h("option", { value: chosen, selected: true }, chosen));
  }
}

async function fillForm() {
  const [departments, users, tokens] = await Promise.all([api.departments(), api.users(), api.tokens()]);
  fillOptions(form.elements.department, departments.items.map((d) => [d.code, `${d.code} — ${d.name}`]),
    state.filters.department);
  fillOptions(form.elements.actor, [
    ...users.items.map((u) => [`user:${u.id}`, `${u.display_name} (${u.username})`]),
    ...tokens.items.map((t) => [`token:${t.id}`, `Token “${t.name}” (${t.department})`]),
    ["operator", "The local operator (command line)"],
  ], state.filters.actor);
  for (const name of ["service", "action", "start", "end"]) form.elements[name].value = state.filters[name];
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value.trim()]));
    window.location.assign(address(chosen));
  });
  form.hidden = false;
}

async function main() {
  const me = await requireUser();
  if (me.role !== "admin") {
    showContent(content, h("div", { class: "notice", id: "admins-only", role: "alert" },
      h("h2", {}, "Only administrators can open this page"),
      h("p", {}, "The audit log is kept for the performance office's administrators. Ask one of them if you need to "
        + "know who changed something."),
      h("p", {}, h("a", { href: "departments.html" }, "Back to all departments"))));
    return;
  }
  Object.assign(state, readAddress());
  showLoading(content, "Loading the audit log…");
  try {
    await fillForm();
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  await showPage();
}

main();
