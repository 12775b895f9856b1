// "approvals.html[?department=DPW]": a department's last months with the state of their values: approved (by whom,
// when, with what note), or provisional, and whether they have locked by themselves since they were due. The
// department's head (or an analyst, on its behalf) approves the latest month not yet approved; everyone else who may
// read the department sees the same table without the button. The server decides; this only spares refused clicks.

import { confirmDialog } from "./dialog.js";
import { formatDate } from "./format.js";
import { performanceApi } from "./performance-api.js";
import { formatPeriod, shiftPeriod } from "./periods.js";
import { requireUser } from "./session.js";
import { chooseDepartment } from "./staff-common.js";
import { h, pageHref, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const resultSlot = document.getElementById("result-slot");
const MONTHS = 12;

const state = { user: null, department: null, months: [], asOf: null };

const stamp = new Intl.DateTimeFormat("en-US", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" });

function mayApprove(user, code) {
  if (user.role === "admin" || user.role === "analyst") return true;
  return user.role === "head" && user.department === code;
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

async function loadMonths(code) {
  // The default window ends with the last month that has ended: the newest a department can approve.
  const latest = await performanceApi.completeness({ department: code });
  const end = latest.end;
  const months = Array.from({ length: MONTHS }, (_, i) => shiftPeriod(end, -i)); // newest first
  const [report, { items: approvals }, locks] = await Promise.all([
    performanceApi.completeness({ department: code, start: months.at(-1), end }),
    performanceApi.approvals(code),
    Promise.all(months.map((m) => performanceApi.periodLock(code, m))),
  ]);
  const row = report.departments.find((d) => d.department === code);
  const cells = new Map((row?.cells || []).map((c) => [c.month, c]));
  const approved = new Map(approvals.map((a) => [a.period, a]));
  state.asOf = report.as_of;
  return months.map((month, i) => ({ month, approval: approved.get(month) || null, lock: locks[i], cell: cells.get(month) || null }));
}

function latestOf(dates) {
  return dates.reduce((a, b) => (b > a ? b : a));
}

/** {key, label, detail}: what a month's values are now, in words. */
function monthState({ approval, lock }) {
  if (approval) {
    const who = approval.actor_name || approval.actor;
    return {
      key: "approved", icon: "✓", label: "Approved",
      detail: `Approved by ${who}${approval.on_behalf ? " on the department's behalf" : ""} on ${stamp.format(new Date(approval.at))} UTC.`,
    };
  }
  const metrics = lock.metrics;
  if (!metrics.length) return { key: "open", icon: "–", label: "Provisional", detail: "No values are expected for this month." };
  const locked = metrics.filter((m) => m.locked);
  if (locked.length === metrics.length) {
    return {
      key: "locked", icon: "■", label: "Provisional, locked",
      detail: `Not approved; locked automatically since ${formatDate(latestOf(metrics.map((m) => m.locks_on)))}, `
        + "a set time after the values were due. Corrections now need an analyst and a reason.",
    };
  }
  const next = metrics.filter((m) => !m.locked).map((m) => m.locks_on).reduce((a, b) => (b < a ? b : a));
  return {
    key: "provisional", icon: "…", label: "Provisional",
    detail: (locked.length ? `${locked.length} of ${metrics.length} values locked automatically. ` : "")
      + `Not yet approved; the values may still be corrected until they lock by themselves on ${formatDate(next)}.`,
  };
}

function receivedWords(cell) {
  if (!cell || !cell.expected) return "None expected";
  const arrived = cell.on_time + cell.late;
  const extra = [cell.missing ? `${cell.missing} missing` : "", cell.due ? `${cell.due} not yet due` : ""].filter(Boolean);
  return `${arrived} of ${cell.expected} in${extra.length ? ` (${extra.join(", ")})` : ""}`;
}

function monthsTable(months) {
  return h("div", { class: "table-wrap" },
    h("table", { class: "months", id: "months" },
      h("caption", {}, `${state.department.name}: the last ${MONTHS} months that have ended, newest first`),
      h("thead", {}, h("tr", {}, ["Month", "Values", "State", "Details"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, months.map((m) => {
        const s = monthState(m);
        return h("tr", { dataset: { month: m.month, state: s.key } },
          h("th", { scope: "row" }, formatPeriod(m.month)),
          h("td", {}, receivedWords(m.cell)),
          h("td", { class: "state-cell" },
            h("span", { class: `state state-${s.key}` }, h("span", { "aria-hidden": "true" }, s.icon), s.label)),
          h("td", { class: "detail" }, s.detail,
            m.approval?.note ? h("span", { class: "approval-note" }, ` Note: “${m.approval.note}”`) : null));
      }))));
}

function showProblem(error, heading) {
  resultSlot.replaceChildren(h("div", { class: "error-box", role: "alert", id: "approve-error", tabindex: "-1" },
    h("h2", {}, heading), h("p", { class: "error-detail" }, error.detail || error.message),
    error.status ? h("p", { class: "error-meta" }, `HTTP ${error.status}`) : null));
}

function approvePanel(months) {
  const target = months.find((m) => !m.approval);
  if (!target) {
    return h("p", { class: "notice", id: "all-approved" }, "Every month shown is approved. The next one can be approved once it has ended.");
  }
  const name = formatPeriod(target.month);
  const office = state.user.role === "admin" || state.user.role === "analyst";
  const cell = target.cell;
  const outstanding = cell ? cell.missing + cell.due : 0;
  const note = h("textarea", { id: "approve-note", name: "note", rows: "2", maxlength: "2000" });
  const button = h("button", { type: "submit", class: "primary", id: "approve-button" }, `Approve ${name}`);
  const form = h("form", { class: "stack-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "approve-note" }, "Note (optional)"), note),
    h("div", { class: "form-actions" }, button));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    approve(target.month, note.value.trim(), button);
  });
  return h("section", { class: "approve-panel", "aria-labelledby": "approve-heading" },
    h("h2", { id: "approve-heading" }, `Approve ${name}`),
    h("p", {}, `Approving confirms ${state.department.name}'s values for ${name} and locks them: a later correction needs `
      + "an analyst and a reason, and is audited. Values not yet approved are published as provisional."),
    outstanding
      ? h("p", { class: "warning-box" }, `${plural(outstanding, "value")} of ${name} ${outstanding === 1 ? "has" : "have"} not arrived yet.`)
      : null,
    office
      ? h("p", { class: "muted" }, "You approve on the department's behalf; the approval records that the performance office gave it.")
      : null,
    form);
}

async function approve(month, note, button) {
  const name = formatPeriod(month);
  const ok = await confirmDialog({
    title: `Approve ${name}?`,
    message: h("p", {}, `Every value of ${state.department.name} whose period ends in ${name} will be approved and locked.`),
    confirmLabel: `Approve ${name}`,
    cancelLabel: "Not now",
  });
  if (!ok) return;
  button.disabled = true;
  button.textContent = "Approving…";
  resultSlot.replaceChildren();
  let approval;
  try {
    approval = await performanceApi.approve(state.department.code, month, note);
  } catch (error) {
    showProblem(error, error.status === 409 ? `${name} is already approved` : `${name} was not approved`);
    button.disabled = false;
    button.textContent = `Approve ${name}`;
    // Someone else approved it meanwhile: show the months as they now stand.
    if (error.status === 409) await refresh();
    resultSlot.querySelector("[role=alert]")?.focus();
    return;
  }
  const box = h("div", { class: "success-box", id: "approve-result", role: "status", tabindex: "-1" },
    h("strong", {}, `${formatPeriod(approval.period)} approved`),
    ` by ${approval.actor_name || approval.actor}${approval.on_behalf ? " for the department" : ""} on `
    + `${stamp.format(new Date(approval.at))} UTC. Its values are locked and no longer provisional.`);
  await refresh();
  resultSlot.replaceChildren(box);
  box.focus();
}

function render() {
  const { months, user, department } = state;
  document.getElementById("period-line").replaceChildren(h("strong", {}, department.name),
    h("span", { class: "sep", "aria-hidden": "true" }, " · "),
    ...(state.asOf ? ["as of ", h("time", { datetime: state.asOf }, formatDate(state.asOf))] : []));
  const action = mayApprove(user, department.code)
    ? approvePanel(months)
    : h("p", { class: "notice", id: "read-only" }, `${department.name}'s head approves its values (or an analyst on its `
      + "behalf). Your account can see their state but not approve them.");
  showContent(content, action, monthsTable(months),
    h("p", { class: "muted" }, "See also ", h("a", { href: pageHref("completeness.html", { department: department.code }) },
      "which values arrived on time"), "."));
}

async function refresh() {
  try {
    state.months = await loadMonths(state.department.code);
  } catch (error) {
    showError(content, error, { notFound: "Department" });
    return false;
  }
  render();
  return true;
}

async function main() {
  state.user = await requireUser();
  showLoading(content, "Loading approvals…");
  let department;
  try {
    department = await chooseDepartment(state.user, param("department"));
  } catch (error) {
    showError(content, error, { notFound: "Department" });
    return;
  }
  if (!department) {
    showContent(content, h("p", { class: "empty" }, "Choose a department to see its months and approve them."));
    document.getElementById("department")?.focus();
    return;
  }
  state.department = department;
  document.title = `Approvals: ${department.name} — CityStat`;
  await refresh();
}

main();
