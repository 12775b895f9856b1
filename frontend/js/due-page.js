// "due.html[?department=DPW]": the values a department owes for the period now due, as a grid to fill
// in and save as one submission. A liaison sees their own department; analysts and administrators
// choose one. The due period of each metric is its last complete period, as the performance list
// reports it without ?period.

import { api } from "./api.js";
import { openCorrection } from "./correction.js";
import { confirmDialog } from "./dialog.js";
import { HISTORY_WINDOW, inputSuffix, outlierReason, parseEntry, pastedRows } from "./entry.js";
import { formatValue, UNIT_LABELS } from "./format.js";
import { formatPeriod, shiftPeriod } from "./periods.js";
import { departmentSeries } from "./series.js";
import { canWrite, requireUser } from "./session.js";
import { h, pageHref, param, showContent, showError, showLoading, statusBadge } from "./ui.js";
import { chooseDepartment } from "./staff-common.js";

const content = document.getElementById("content");
const receiptSlot = document.getElementById("receipt-slot");

const state = {
  user: null,
  department: null, // {code, name}
  writable: false,
  rows: [], // {metric, perf, history, current, draft: {value, comment}, message: {kind, text}}
};

const rowId = (row) => row.metric.key.replace(/[^A-Za-z0-9_-]/g, "-");

async function loadRows(code) {
  const [{ items: metrics }, { items: performance }] = await Promise.all([
    api.departmentMetrics(code), api.departmentPerformance(code)]);
  const perfByKey = new Map(performance.map((p) => [p.metric, p]));
  const entered = metrics.filter((m) => !m.is_computed && perfByKey.has(m.key));
  return Promise.all(entered.map(async (metric) => {
    const perf = perfByKey.get(metric.key);
    const series = await departmentSeries(metric.key, { start: shiftPeriod(perf.period, -HISTORY_WINDOW), end: perf.period });
    return {
      metric,
      perf,
      history: series.filter((o) => o.period !== perf.period), // the series ends at the due period
      current: series.find((o) => o.period === perf.period) || null,
      draft: { value: "", comment: "" },
      message: null,
    };
  }));
}

// ---- rendering --------------------------------------------------------------------------------

function lastValues(row) {
  const last = row.history.slice(-3);
  if (!last.length) return h("span", { class: "muted" }, "None yet");
  return h("ol", { class: "last-values" }, last.map((o) => h("li", {},
    h("span", { class: "lv-period" }, formatPeriod(o.period, "short")), " ",
    h("span", { class: "lv-value" }, formatValue(o.value, row.metric.unit)))));
}

function metricCell(row) {
  const { metric } = row;
  return h("th", { scope: "row", class: "metric-cell" },
    h("a", { href: pageHref("metric.html", { key: metric.key }), id: `name-${rowId(row)}` }, metric.name),
    h("span", { class: "metric-meta" }, UNIT_LABELS[metric.unit] || metric.unit,
      metric.is_published ? "" : h("span", { class: "tag" }, "Not public")));
}

function valueCell(row, index) {
  const id = rowId(row);
  const unit = row.metric.unit;
  const message = row.message
    ? h("p", { class: `row-msg row-msg-${row.message.kind}`, id: `msg-${id}` }, row.message.text)
    : null;
  if (row.current) {
    const correct = h("button", { type: "button", class: "secondary small" },
      "Correct…", h("span", { class: "visually-hidden" }, ` ${row.metric.name}`));
    correct.addEventListener("click", () => startCorrection(row));
    return h("td", { class: "value-cell" },
      h("span", { class: "stored-value", id: `stored-${id}` }, formatValue(row.current.value, unit)), " ",
      state.writable && !row.metric.is_computed ? correct : null, message);
  }
  if (!state.writable) return h("td", { class: "value-cell muted" }, "Not reported", message);
  const describedBy = [`unit-${id}`, message ? `msg-${id}` : null].filter(Boolean).join(" ");
  const input = h("input", {
    type: "text", inputmode: "decimal", autocomplete: "off", id: `value-${id}`, name: `value-${id}`,
    class: "value-input", value: row.draft.value, "aria-describedby": describedBy,
    "aria-invalid": row.message && row.message.kind === "error" ? "true" : null,
    dataset: { row: String(index), col: "value" },
  });
  return h("td", { class: "value-cell" },
    h("label", { for: input.id, class: "visually-hidden" },
      `${row.metric.name}, value for ${formatPeriod(row.perf.period)}`),
    h("span", { class: "input-with-unit" }, input,
      h("span", { class: "unit", id: `unit-${id}` }, inputSuffix(unit) || h("span", { class: "visually-hidden" }, "count"))),
    message);
}

function commentCell(row, index) {
  const id = rowId(row);
  if (row.current || !state.writable) {
    return h("td", { class: "comment-cell" }, row.current?.comment || "");
  }
  const input = h("input", {
    type: "text", autocomplete: "off", id: `comment-${id}`, name: `comment-${id}`, maxlength: "2000",
    class: "comment-input", value: row.draft.comment, dataset: { row: String(index), col: "comment" },
  });
  return h("td", { class: "comment-cell" },
    h("label", { for: input.id, class: "visually-hidden" }, `${row.metric.name}, comment (optional)`), input);
}

function gridRow(row, index) {
  const target = row.perf.target ?? row.metric.target?.value ?? null;
  return h("tr", { id: `row-${rowId(row)}`, dataset: { key: row.metric.key }, class: row.message ? `has-${row.message.kind}` : null },
    metricCell(row),
    h("td", { class: "period-cell" }, formatPeriod(row.perf.period, "short")),
    h("td", { class: "target-cell" }, target === null ? "None" : formatValue(target, row.metric.unit)),
    h("td", {}, lastValues(row)),
    valueCell(row, index),
    commentCell(row, index),
    h("td", { class: "status-cell" }, statusBadge(row.perf.status)));
}

function periodsLine(rows) {
  const periods = [...new Set(rows.map((r) => r.perf.period))].sort();
  const names = periods.map((p) => formatPeriod(p));
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
  const line = document.getElementById("period-line");
  line.replaceChildren(h("strong", {}, state.department.name), h("span", { class: "sep", "aria-hidden": "true" }, " · "),
    rows.length ? `values for ${list}` : "nothing to enter");
}

function render() {
  const { rows } = state;
  periodsLine(rows);
  if (!rows.length) {
    showContent(content, h("p", { class: "empty" }, "This department has no metrics to report by hand."));
    return;
  }
  const missing = rows.filter((r) => !r.current).length;
  const table = h("table", { class: "entry-grid", id: "entry-grid" },
    h("caption", {}, `${state.department.name}: ${missing} of ${rows.length} values still to report`),
    h("thead", {}, h("tr", {}, ["Metric", "Period", "Target", "Last 3 values", "Value", "Comment", "Status"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map(gridRow)));
  table.addEventListener("keydown", onGridKey);
  table.addEventListener("paste", onGridPaste);
  table.addEventListener("input", onGridInput);

  const help = h("p", { class: "muted help", id: "grid-help" },
    "Enter or ↓ moves to the next row, Shift+Enter or ↑ to the previous one. Paste a column copied from a "
    + "spreadsheet into a value box to fill the rows below it (a second column becomes the comment). "
    + (rows.some((r) => r.metric.unit === "percent") ? "Type percentages as percentages: 95 for 95%. " : "")
    + "Ctrl+Enter saves.");
  const pasteNote = h("p", { class: "paste-note", id: "paste-note", role: "status" });
  if (!state.writable) {
    showContent(content, h("p", { class: "notice" }, "Your account can read this department's figures but not submit them."),
      h("div", { class: "table-wrap" }, table));
    return;
  }
  const save = h("button", { type: "submit", class: "primary", id: "save" }, "Save values");
  const form = h("form", { id: "entry-form", novalidate: true, "aria-describedby": "grid-help" },
    help, h("div", { class: "table-wrap" }, table), pasteNote,
    h("div", { class: "form-actions" }, missing ? save : null,
      h("span", { class: "muted" }, missing ? "Only filled-in rows are sent; empty ones stay missing."
        : "Every value for the period is in. Use “Correct…” to fix one.")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveGrid(save);
  });
  showContent(content, form);
}

// ---- keyboard, paste and typing ---------------------------------------------------------------

function editable(col) {
  return [...content.querySelectorAll(`input[data-col="${col}"]`)];
}

function move(input, step) {
  const column = editable(input.dataset.col);
  const next = column[column.indexOf(input) + step];
  if (next) {
    next.focus();
    next.select();
    return true;
  }
  return false;
}

function onGridKey(event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.col) return;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    document.getElementById("entry-form")?.requestSubmit();
  } else if (event.key === "Enter" || event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault(); // Enter would otherwise submit the form from any box
    const step = event.key === "ArrowUp" || (event.key === "Enter" && event.shiftKey) ? -1 : 1;
    if (!move(input, step) && step === 1 && event.key === "Enter") document.getElementById("save")?.focus();
  }
}

function rowOf(input) {
  return state.rows[Number(input.dataset.row)];
}

function onGridInput(event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.col) return;
  const row = rowOf(input);
  row.draft[input.dataset.col] = input.value;
  if (row.message && input.dataset.col === "value") clearMessage(row);
}

function onGridPaste(event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.dataset.col !== "value") return;
  const rows = pastedRows(event.clipboardData?.getData("text/plain") ?? "");
  if (!rows) return; // one cell: an ordinary paste
  event.preventDefault();
  const values = editable("value");
  const start = values.indexOf(input);
  let filled = 0;
  rows.forEach((pasted, i) => {
    const target = values[start + i];
    if (!target) return;
    target.value = pasted.value;
    target.dispatchEvent(new Event("input", { bubbles: true }));
    if (pasted.comment !== null) {
      const comment = document.getElementById(target.id.replace(/^value-/, "comment-"));
      if (comment) {
        comment.value = pasted.comment;
        comment.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }
    filled += 1;
  });
  const left = rows.length - filled;
  document.getElementById("paste-note").textContent = `Pasted ${filled} ${filled === 1 ? "value" : "values"}`
    + (left ? `; ${left} more than there were rows left to fill ${left === 1 ? "was" : "were"} left out.` : ".");
  values[start + filled - 1]?.focus();
}

function setMessage(row, kind, text) {
  row.message = { kind, text };
  const id = rowId(row);
  const tr = document.getElementById(`row-${id}`);
  if (!tr) return;
  tr.className = `has-${kind}`;
  const cell = tr.querySelector(".value-cell");
  cell.querySelector(".row-msg")?.remove();
  cell.append(h("p", { class: `row-msg row-msg-${kind}`, id: `msg-${id}` }, text));
  const input = cell.querySelector("input");
  if (input) {
    input.setAttribute("aria-describedby", `unit-${id} msg-${id}`);
    if (kind === "error") input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

function clearMessage(row) {
  row.message = null;
  const id = rowId(row);
  const tr = document.getElementById(`row-${id}`);
  if (!tr) return;
  tr.className = "";
  tr.querySelector(".row-msg")?.remove();
  const input = tr.querySelector(".value-cell input");
  input?.removeAttribute("aria-invalid");
  input?.setAttribute("aria-describedby", `unit-${id}`);
}

// ---- saving -----------------------------------------------------------------------------------

/** The filled-in rows as submission rows, or null (with the problems marked) if some cannot be read. */
function collect() {
  const sending = [];
  let firstBad = null;
  for (const row of state.rows) {
    if (row.current) continue;
    const parsed = parseEntry(row.draft.value, row.metric.unit);
    const comment = row.draft.comment.trim();
    if (parsed.error || (parsed.value === null && comment)) {
      setMessage(row, "error", parsed.error ? `${parsed.error}.` : "Add the value this comment explains.");
      firstBad = firstBad || row;
      continue;
    }
    if (row.message?.kind === "error") clearMessage(row);
    if (parsed.value === null) continue;
    sending.push({ row, observation: { metric: row.metric.key, period: row.perf.period, value: parsed.value,
      ...(comment ? { comment } : {}) } });
  }
  if (firstBad) {
    document.getElementById(`value-${rowId(firstBad)}`)?.focus();
    return null;
  }
  return sending;
}

async function confirmOutliers(sending) {
  const doubtful = [];
  for (const { row, observation } of sending) {
    const reason = outlierReason(row.metric, row.history, observation.value);
    if (reason) {
      setMessage(row, "warning", `Please check: ${reason}.`);
      doubtful.push({ row, reason });
    } else if (row.message?.kind === "warning") {
      clearMessage(row);
    }
  }
  if (!doubtful.length) return true;
  const ok = await confirmDialog({
    title: doubtful.length === 1 ? "One value looks unusual" : `${doubtful.length} values look unusual`,
    message: h("div", {},
      h("p", {}, "These values are far from what the metrics usually report. Save them only if they are right."),
      h("ul", { class: "doubt-list" }, doubtful.map(({ row, reason }) => h("li", {}, h("strong", {}, row.metric.name), `: ${reason}.`)))),
    confirmLabel: "Save anyway",
    cancelLabel: "Review the values",
  });
  if (!ok) document.getElementById(`value-${rowId(doubtful[0].row)}`)?.focus();
  return ok;
}

/** The server's reason for a refused row; for percent metrics it speaks in stored fractions, so say so. */
function reasonFor(rejected, sending) {
  const metric = sending[rejected.row]?.row.metric;
  if (metric?.unit === "percent" && rejected.field === "value") return `${rejected.reason} (stored as a fraction: 1 is 100%)`;
  return rejected.reason;
}

function showReceipt(receipt, sending) {
  const summary = receipt.summary;
  const rejected = summary ? summary.rejected : [];
  const counts = summary ? [
    ["accepted", "New values", summary.accepted],
    ["updated", "Updated", summary.updated],
    ["unchanged", "Unchanged", summary.unchanged],
    ["rejected", "Rejected", rejected.length],
  ] : [];
  const heading = !summary ? "Saved, will be applied shortly"
    : rejected.length ? `Saved with ${rejected.length} ${rejected.length === 1 ? "row" : "rows"} refused` : "Saved";
  const box = h("section", { class: `receipt ${rejected.length ? "receipt-partial" : "receipt-ok"}`, id: "receipt",
    tabindex: "-1", "aria-labelledby": "receipt-title" },
    h("h2", { id: "receipt-title" }, heading),
    summary
      ? h("dl", { class: "counts" }, counts.map(([key, label, n]) => h("div", {}, h("dt", {}, label),
        h("dd", { dataset: { count: key } }, String(n)))))
      : h("p", {}, "The values are stored safely; the metrics service is busy and will apply them in a moment. "
        + "Reload this page shortly to see their status."),
    rejected.length
      ? h("ul", { class: "rejected-list" }, rejected.map((r) => {
        const sent = sending[r.row];
        return h("li", {}, h("strong", {}, sent ? sent.row.metric.name : `Row ${r.row + 1}`), `: ${reasonFor(r, sending)}`);
      }))
      : null,
    h("p", { class: "muted receipt-id" }, `Receipt ${receipt.id || "—"}`));
  receiptSlot.replaceChildren(box);
  box.focus();
}

async function saveGrid(button) {
  receiptSlot.replaceChildren();
  const sending = collect();
  if (!sending) return;
  if (!sending.length) {
    receiptSlot.replaceChildren(h("p", { class: "notice", role: "status" }, "Nothing to save: fill in at least one value."));
    return;
  }
  if (!(await confirmOutliers(sending))) return;
  button.disabled = true;
  button.textContent = "Saving…";
  let receipt;
  try {
    receipt = await api.submit(state.department.code, sending.map((s) => s.observation));
  } catch (error) {
    receiptSlot.replaceChildren(h("div", { class: "error-box", role: "alert" },
      h("h2", {}, "Not saved"), h("p", { class: "error-detail" }, error.detail || error.message),
      error.errors?.length ? h("ul", {}, error.errors.map((e) => h("li", {}, e.reason))) : null));
    button.disabled = false;
    button.textContent = "Save values";
    return;
  }
  // Refused rows keep what was typed, with the reason next to them; stored ones reload with their status.
  const refused = new Map((receipt.summary?.rejected || []).map((r) => [sending[r.row]?.row.metric.key, reasonFor(r, sending)]));
  try {
    await refresh();
  } catch (error) {
    // Saved, but the new statuses could not be read: say so rather than show stale ones as current.
    showReceipt(receipt, sending);
    receiptSlot.append(h("p", { class: "error-box", role: "alert" },
      `The statuses could not be refreshed (${error.detail || error.message}); reload the page to see them.`));
    button.disabled = false;
    button.textContent = "Save values";
    return;
  }
  for (const row of state.rows) {
    if (refused.has(row.metric.key)) row.message = { kind: "error", text: `Refused: ${refused.get(row.metric.key)}.` };
  }
  render();
  showReceipt(receipt, sending);
}

/** Reloads values and statuses; rows still missing keep what was typed in them and any note beside it. */
async function refresh() {
  const before = new Map(state.rows.map((r) => [r.metric.key, r]));
  state.rows = await loadRows(state.department.code);
  for (const row of state.rows) {
    const old = before.get(row.metric.key);
    if (old && !row.current) {
      row.draft = old.draft;
      row.message = old.message;
    }
  }
}

function startCorrection(row) {
  const { closed } = openCorrection({
    metric: row.metric,
    period: row.perf.period,
    current: row.current,
    history: row.history,
    user: state.user,
    onSaved: async () => {
      try {
        await refresh();
        render();
      } catch {
        /* the dialog has reported the correction; the grid shows the old figure until a reload */
      }
    },
  });
  // The row was redrawn behind the dialog: give focus back to its button, not to the page's top.
  closed.then(() => document.querySelector(`#row-${rowId(row)} .value-cell button`)?.focus());
}

// ---- page -------------------------------------------------------------------------------------

async function main() {
  state.user = await requireUser();
  showLoading(content, "Loading what is due…");
  let department;
  try {
    department = await chooseDepartment(state.user, param("department"));
  } catch (error) {
    showError(content, error, { notFound: "Department" });
    return;
  }
  if (!department) {
    showContent(content, h("p", { class: "empty" }, "Choose a department to see the values it owes."));
    document.getElementById("department")?.focus();
    return;
  }
  state.department = department;
  state.writable = canWrite(state.user, department.code);
  document.title = `Due this period: ${department.name} — CityStat`;
  try {
    await refresh();
  } catch (error) {
    showError(content, error, { notFound: "Department" });
    return;
  }
  render();
}

main();
