// The metric editor's targets: every target the metric has had (the one in force marked), a form to
// set a new one from a date, a "Correct…" dialog for one entered wrongly (a reason is required), and the
// history of who set and corrected what, before → after. Targets are the performance office's to set;
// for everyone else the controls stay disabled and the server would refuse them anyway.

import { openDialog } from "./dialog.js";
import { inputSuffix, parseEntry, toInput } from "./entry.js";
import { formatDate, formatTolerance, formatValue, targetRule } from "./format.js";
import { h } from "./ui.js";
import {
  catalogueApi, field, flash, isOffice, markInvalid, options, orDash, problemBox, simpleTable, stamp, whileBusy,
} from "./catalogue-common.js";

const TOLERANCE_KINDS = { absolute: "In the metric’s unit", percent: "Percent of the target" };

/** A tolerance as people read it: "5 pts" for a percent metric, "10% of the target" for a relative one. */
export function toleranceText(target, unit) {
  if (target.tolerance_kind === "percent") return `${formatValue(target.tolerance, "")}% of the target`;
  return formatTolerance(target.tolerance, unit);
}

// As services/metrics/definitions/models.py reads it: a relative tolerance is a share of the target.
const toleranceInUnits = (t) => (t.tolerance_kind === "percent" ? (Math.abs(t.value) * t.tolerance) / 100 : t.tolerance);

// A relative tolerance is typed as the percentage it is (10 for 10%); an absolute one in the metric's unit,
// so for a percent metric in percentage points (5 for 0.05).
const toleranceToInput = (tolerance, kind, unit) => (kind === "percent" ? toInput(tolerance, "") : toInput(tolerance, unit));
const toleranceFromInput = (text, kind, unit) => parseEntry(text, kind === "percent" ? "" : unit);

function toleranceHelp(kind, unit) {
  if (kind === "percent") return "Percent of the target value, e.g. 10 for within 10% of it";
  return unit === "percent" ? "In percentage points, e.g. 5 for ±5 points" : `In the metric’s unit (${unit})`;
}

/** A number input followed by its unit ("%", "$", "days"); returns {input, wrap} for `field`. */
function valueInput(name, unit, value = "") {
  const input = h("input", { name, type: "text", inputmode: "decimal", autocomplete: "off", value, class: "value-input" });
  const suffix = inputSuffix(unit);
  if (!suffix) return { input, wrap: null };
  return { input, wrap: h("span", { class: "input-with-unit" }, input, h("span", { class: "unit", "aria-hidden": "true" }, suffix)) };
}

function numberField(id, label, name, unit, value = "", help = null, opts = {}) {
  const { input, wrap } = valueInput(name, unit, value);
  return field(id, label, input, help, { ...opts, wrap });
}

function describeSnapshot(snapshot, unit) {
  if (!snapshot) return "—";
  const parts = [`${formatValue(snapshot.value, unit)}`, `tolerance ${toleranceText(snapshot, unit)}`,
    `from ${formatDate(snapshot.effective_from)}`];
  if (snapshot.effective_to) parts.push(`to ${formatDate(snapshot.effective_to)}`);
  if (snapshot.deadline) parts.push(`deadline ${formatDate(snapshot.deadline)}`);
  parts.push(`set by ${snapshot.set_by}`);
  return parts.join(", ");
}

const FIELD_NAMES = { value: "Target", tolerance: "Tolerance", tolerance_kind: "Tolerance kind", effective_to: "To",
  deadline: "Deadline", set_by: "Set by", effective_from: "From", reason: "Reason" };

function showField(name, value, snapshot, unit) {
  if (value === null || value === undefined || value === "") return "—";
  if (name === "value") return formatValue(value, unit);
  if (name === "tolerance") return toleranceText({ ...snapshot, tolerance: value }, unit);
  if (name === "tolerance_kind") return TOLERANCE_KINDS[value] || value;
  if (name === "effective_to" || name === "deadline" || name === "effective_from") return formatDate(value);
  return String(value);
}

function changeList(before, after, unit) {
  const names = Object.keys(FIELD_NAMES).filter((n) => n !== "reason" && n in after && before[n] !== after[n]);
  if (!names.length) return h("span", { class: "muted" }, "No field changed");
  return h("ul", { class: "changes" }, names.map((n) => h("li", {},
    h("span", { class: "change-field" }, `${FIELD_NAMES[n]}: `),
    h("span", { class: "change-from" }, showField(n, before[n], before, unit)), " → ",
    h("span", { class: "change-to" }, showField(n, after[n], after, unit)))));
}

export function targetEditor(metric, user) {
  const office = isOffice(user);
  const status = h("div", { id: "targets-result", role: "status" });
  const tableSlot = h("div", { id: "targets-slot", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading targets…"));
  const historySlot = h("div", { id: "target-history-slot", "aria-busy": "true" });
  const section = h("section", { class: "editor-section", id: "targets-section", "aria-labelledby": "targets-heading" },
    h("h2", { id: "targets-heading" }, "Targets"),
    h("p", { class: "muted help" }, "Performance in each period is judged against the target in force then. "
      + "A new level is a new target from a date; a target entered wrongly is corrected, with a reason, and the "
      + "old values stay in its history."),
    status, tableSlot, newTargetForm(), h("h3", {}, "Who set and corrected what"), historySlot);
  let targets = [];

  function targetRow(target) {
    const inForce = metric.target && metric.target.id === target.id;
    const correct = office ? h("button", { type: "button", class: "secondary small" }, "Correct…",
      h("span", { class: "visually-hidden" }, ` the target from ${formatDate(target.effective_from)}`)) : null;
    correct?.addEventListener("click", () => openCorrection(target));
    return h("tr", { dataset: { targetId: String(target.id), from: target.effective_from } },
      h("th", { scope: "row" }, formatDate(target.effective_from), inForce ? h("span", { class: "tag in-force" }, "in force") : null),
      h("td", {}, target.effective_to ? formatDate(target.effective_to) : "Until replaced"),
      h("td", { class: "target-value" }, formatValue(target.value, metric.unit)),
      h("td", { class: "target-tolerance" }, toleranceText(target, metric.unit)),
      h("td", {}, target.deadline ? formatDate(target.deadline) : "—"),
      h("td", {}, orDash(target.set_by)),
      h("td", { class: "reason" }, orDash(target.reason)),
      office ? h("td", {}, correct) : null);
  }

  function renderTable() {
    if (!targets.length) {
      tableSlot.replaceChildren(h("p", { class: "empty", id: "targets-empty" }, "No target has been set for this metric."));
      return;
    }
    const newest = [...targets].sort((a, b) => b.effective_from.localeCompare(a.effective_from));
    const current = metric.target
      ? h("p", { class: "rule", id: "target-rule" }, "In force now: ", targetRule({ ...metric.target,
        direction: metric.direction, tolerance: toleranceInUnits(metric.target) }, metric.unit)) : null;
    tableSlot.replaceChildren(...[current, simpleTable({
      id: "targets-table",
      caption: "Current and past targets, newest first",
      headers: ["From", "To", "Target", "Tolerance", "Deadline", "Set by", "Reason", ...(office ? ["Action"] : [])],
      rows: newest.map(targetRow),
    })].filter(Boolean));
  }

  function renderHistory(changes) {
    if (!changes.length) {
      historySlot.replaceChildren(h("p", { class: "empty", id: "target-history-empty" }, targets.length
        ? "No target has been set or corrected here; those above came with the catalogue when it was loaded."
        : "No target has been set or corrected yet."));
      return;
    }
    const rows = [...changes].reverse().map((c) => {
      const detail = c.detail || {};
      const corrected = c.action === "target.corrected";
      const subject = corrected ? detail.after : detail;
      return h("tr", {},
        h("td", {}, stamp(c.at)),
        h("td", {}, c.actor_name || c.actor),
        h("td", { class: "target-action" }, corrected ? "Corrected" : "Set",
          subject?.effective_from ? ` the target from ${formatDate(subject.effective_from)}` : ""),
        h("td", {}, corrected ? changeList(detail.before || {}, detail.after || {}, metric.unit)
          : describeSnapshot(detail, metric.unit)),
        h("td", { class: "reason" }, orDash(detail.reason)));
    });
    historySlot.replaceChildren(simpleTable({ id: "target-history", caption: "Newest first",
      headers: ["When (UTC)", "Who", "What", "Before → after", "Reason"], rows }));
  }

  async function reload() {
    tableSlot.setAttribute("aria-busy", "true");
    historySlot.setAttribute("aria-busy", "true");
    try {
      const [list, changes, fresh] = await Promise.all([catalogueApi.targets(metric.key),
        catalogueApi.targetHistory(metric.key), catalogueApi.metric(metric.key)]);
      targets = list;
      metric = { ...metric, target: fresh.target };
      renderTable();
      renderHistory(changes);
    } catch (error) {
      tableSlot.replaceChildren(problemBox(error));
    } finally {
      tableSlot.removeAttribute("aria-busy");
      historySlot.removeAttribute("aria-busy");
    }
  }

  function newTargetForm() {
    const errors = h("div", { class: "form-errors" });
    const kind = h("select", { name: "tolerance_kind" }, options(TOLERANCE_KINDS, "absolute"));
    const toleranceField = numberField("t-tolerance", "Tolerance", "tolerance", metric.unit, "0",
      toleranceHelp("absolute", metric.unit));
    kind.addEventListener("change", () => {
      toleranceField.querySelector(".help").textContent = toleranceHelp(kind.value, metric.unit);
      const unitMark = toleranceField.querySelector(".unit");
      if (unitMark) unitMark.hidden = kind.value === "percent" && metric.unit !== "percent";
    });
    const save = h("button", { type: "submit", class: "primary", id: "set-target" }, "Set target");
    const fieldset = h("fieldset", { class: "plain-fieldset", disabled: !office },
      h("legend", {}, "Set a new target"),
      office ? null : h("p", { class: "notice", id: "targets-office-only" }, "Targets are set by the performance office (analysts)."),
      h("div", { class: "form-grid" },
        numberField("t-value", "Target", "value", metric.unit, "", null, { required: true }),
        toleranceField,
        field("t-kind", "Tolerance is", kind),
        field("t-from", "In force from", h("input", { name: "effective_from", type: "date" }), null, { required: true }),
        field("t-to", "Until", h("input", { name: "effective_to", type: "date" }), "Optional: blank until a later target starts"),
        field("t-deadline", "Deadline", h("input", { name: "deadline", type: "date" }), "Optional: by when it should be reached"),
        field("t-set-by", "Set by", h("input", { name: "set_by", type: "text", maxlength: "200", value: user?.name || "" }),
          "Who decided it, e.g. “Mayor, Cabinet briefing June 2016”", { required: true })),
      field("t-reason", "Reason", h("textarea", { name: "reason", rows: "2", maxlength: "2000" }), null, { required: true }),
      errors,
      h("div", { class: "form-actions" }, save));
    const form = h("form", { id: "target-form", class: "stack-form target-form", novalidate: true }, fieldset);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.replaceChildren();
      const f = form.elements;
      const value = parseEntry(f.value.value, metric.unit);
      const tol = toleranceFromInput(f.tolerance.value, f.tolerance_kind.value, metric.unit);
      const problem = value.error ? ["value", `Target: ${value.error}.`]
        : value.value === null ? ["value", "Enter the target."]
          : tol.error ? ["tolerance", `Tolerance: ${tol.error}.`]
            : !f.effective_from.value ? ["effective_from", "Say from which day the target is in force."] : null;
      if (problem) {
        markInvalid(form, { errors: [{ field: problem[0] }] })?.focus();
        errors.replaceChildren(problemBox({ status: 422, detail: problem[1] }));
        return;
      }
      const body = {
        value: value.value,
        tolerance: tol.value ?? 0,
        tolerance_kind: f.tolerance_kind.value,
        effective_from: f.effective_from.value,
        set_by: f.set_by.value.trim(),
        reason: f.reason.value.trim(),
      };
      if (f.effective_to.value) body.effective_to = f.effective_to.value;
      if (f.deadline.value) body.deadline = f.deadline.value;
      try {
        const created = await whileBusy(save, "Saving…", () => catalogueApi.setTarget(metric.key, body), form);
        markInvalid(form, null);
        form.reset();
        f.set_by.value = user?.name || "";
        flash(status, `Set a target of ${formatValue(created.value, metric.unit)} from ${formatDate(created.effective_from)}.`);
        await reload();
      } catch (error) {
        markInvalid(form, error)?.focus();
        errors.replaceChildren(problemBox(error));
      }
    });
    return form;
  }

  function openCorrection(target) {
    openDialog({
      title: `Correct the target from ${formatDate(target.effective_from)}`,
      build: (close) => {
        const errors = h("div", { class: "form-errors" });
        const kind = h("select", { name: "tolerance_kind" }, options(TOLERANCE_KINDS, target.tolerance_kind));
        kind.addEventListener("change", () => {
          const help = kind.closest("form")?.querySelector("#c-tolerance-help");
          if (help) help.textContent = toleranceHelp(kind.value, metric.unit);
        });
        const save = h("button", { type: "submit", class: "primary" }, "Save correction");
        const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
        cancel.addEventListener("click", () => close());
        const form = h("form", { class: "stack-form", id: "correct-target-form", novalidate: true },
          h("p", { class: "muted help" }, "For a target entered wrongly. To change the level from a date on, set a new "
            + "target instead. The old values are kept in the history."),
          h("div", { class: "form-grid" },
            numberField("c-value", "Target", "value", metric.unit, toInput(target.value, metric.unit)),
            numberField("c-tolerance", "Tolerance", "tolerance", target.tolerance_kind === "percent" ? "" : metric.unit,
              toleranceToInput(target.tolerance, target.tolerance_kind, metric.unit),
              toleranceHelp(target.tolerance_kind, metric.unit)),
            field("c-kind", "Tolerance is", kind),
            field("c-to", "Until", h("input", { name: "effective_to", type: "date", value: target.effective_to || "" })),
            field("c-deadline", "Deadline", h("input", { name: "deadline", type: "date", value: target.deadline || "" })),
            field("c-set-by", "Set by", h("input", { name: "set_by", type: "text", maxlength: "200", value: target.set_by || "" }))),
          field("c-reason", "Reason for the correction", h("textarea", { name: "reason", rows: "2", maxlength: "2000" }),
            "Required: why the target as entered was wrong", { required: true }),
          errors,
          h("div", { class: "modal-actions" }, cancel, save));
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          errors.replaceChildren();
          const f = form.elements;
          const value = parseEntry(f.value.value, metric.unit);
          const tol = toleranceFromInput(f.tolerance.value, f.tolerance_kind.value, metric.unit);
          const problem = !f.reason.value.trim() ? ["reason", "Say why the target is corrected."]
            : value.error || value.value === null ? ["value", `Target: ${value.error || "enter a number"}.`]
              : tol.error || tol.value === null ? ["tolerance", `Tolerance: ${tol.error || "enter a number (0 for none)"}.`]
                : !f.set_by.value.trim() ? ["set_by", "Say who set the target."] : null;
          if (problem) {
            markInvalid(form, { errors: [{ field: problem[0] }] })?.focus();
            errors.replaceChildren(problemBox({ status: 422, detail: problem[1] }));
            return;
          }
          const wanted = { value: value.value, tolerance: tol.value, tolerance_kind: f.tolerance_kind.value,
            effective_to: f.effective_to.value || null, deadline: f.deadline.value || null, set_by: f.set_by.value.trim() };
          const body = { reason: f.reason.value.trim() };
          for (const [name, v] of Object.entries(wanted)) if (v !== (target[name] ?? null)) body[name] = v;
          if (Object.keys(body).length === 1) {
            errors.replaceChildren(problemBox({ status: 422, detail: "Nothing has changed: correct a field, or cancel." }));
            return;
          }
          try {
            await whileBusy(save, "Saving…", () => catalogueApi.correctTarget(metric.key, target.id, body), form);
            close(true);
            flash(status, `Corrected the target from ${formatDate(target.effective_from)}.`);
            await reload();
          } catch (error) {
            markInvalid(form, error)?.focus();
            errors.replaceChildren(problemBox(error));
          }
        });
        return form;
      },
    });
  }

  reload();
  return section;
}
