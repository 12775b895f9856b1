// Correcting a value that has already been reported: a new value and the reason for it (required,
// as every correction is kept with its reason), sent as a one-row submission, then the value's
// revision history, newest first. Used by the due grid and the metric page.

import { api } from "./api.js";
import { openDialog } from "./dialog.js";
import { inputSuffix, outlierReason, parseEntry, toInput } from "./entry.js";
import { formatValue } from "./format.js";
import { formatPeriod } from "./periods.js";
import { h } from "./ui.js";

const when = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const KIND_LABELS = { created: "Reported", updated: "Corrected", deleted: "Deleted" };

function actorName(actor, user) {
  if (user && actor === `user:${user.id}`) return `${user.name} (you)`;
  return actor;
}

/** The revision history of one value as a table, newest first. */
export function revisionTable(revisions, metric, user) {
  if (!revisions.length) {
    return h("p", { class: "muted" }, "No changes have been recorded for this value since it was loaded.");
  }
  return h("div", { class: "table-wrap" },
    h("table", { class: "revisions" },
      h("caption", {}, "Changes to this value, newest first"),
      h("thead", {}, h("tr", {}, ["When (UTC)", "Change", "Value", "Previous", "Reason", "By"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, revisions.map((r) => h("tr", {},
        h("td", {}, r.changed_at ? when.format(new Date(r.changed_at)) : "—"),
        h("td", {}, KIND_LABELS[r.kind] || r.kind),
        h("td", {}, formatValue(r.value, metric.unit)),
        h("td", {}, formatValue(r.previous_value, metric.unit)),
        h("td", { class: "reason" }, r.reason || "—"),
        h("td", {}, actorName(r.actor, user)))))));
}

/**
 * Opens the correction dialog for `metric` (a metric definition: key, name, unit, department,
 * min_value, max_value) in `period`. current: the stored observation ({value, numerator, denominator});
 * history: earlier values [{period, value}] for the plausibility check; onSaved() runs after a change.
 */
export function openCorrection({ metric, period, current, history = [], user = null, onSaved = () => {} }) {
  const ids = { value: `correct-value-${metric.key}`, reason: `correct-reason-${metric.key}` };
  let warned = null; // the value the outlier warning was shown for; saving it again means "yes, really"

  return openDialog({
    title: `Correct ${metric.name}, ${formatPeriod(period)}`,
    className: "correction",
    build: (close) => {
      const valueInput = h("input", { id: ids.value, name: "value", type: "text", inputmode: "decimal",
        autocomplete: "off", required: true, value: toInput(current?.value, metric.unit), "aria-describedby": `${ids.value}-unit` });
      const reasonInput = h("textarea", { id: ids.reason, name: "reason", rows: "3", maxlength: "2000", required: true });
      const errors = h("div", { class: "form-errors", role: "alert" });
      const outcome = h("div", { class: "form-outcome", role: "status" });
      const historySlot = h("div", { class: "revision-history", "aria-busy": "true" },
        h("p", { class: "loading" }, "Loading the history of this value…"));
      const save = h("button", { type: "submit", class: "primary" }, "Save correction");
      const cancel = h("button", { type: "button", class: "secondary" }, "Close");
      cancel.addEventListener("click", () => close(false));

      const ratioNote = current && current.numerator !== null && current.numerator !== undefined
        ? h("p", { class: "muted" }, `It was reported as ${current.numerator} of ${current.denominator}; `
          + "the correction replaces that numerator and denominator with the value alone.")
        : null;

      async function loadHistory() {
        try {
          const { items } = await api.revisions(metric.key, period);
          historySlot.replaceChildren(h("h3", {}, "History of this value"), revisionTable(items, metric, user));
        } catch (error) {
          historySlot.replaceChildren(h("p", { class: "error-detail" }, `History unavailable: ${error.detail || error.message}`));
        } finally {
          historySlot.removeAttribute("aria-busy");
        }
      }

      function fail(text, input) {
        errors.replaceChildren(h("p", { class: "error-box" }, text));
        if (input) {
          input.setAttribute("aria-invalid", "true");
          input.focus();
        }
      }

      async function submit(event) {
        event.preventDefault();
        errors.replaceChildren();
        outcome.replaceChildren();
        valueInput.removeAttribute("aria-invalid");
        reasonInput.removeAttribute("aria-invalid");
        const parsed = parseEntry(valueInput.value, metric.unit);
        if (parsed.error) return fail(`The new value: ${parsed.error}.`, valueInput);
        if (parsed.value === null) return fail("Enter the corrected value.", valueInput);
        const reason = reasonInput.value.trim();
        if (!reason) return fail("Give the reason for the correction: it is kept with the value's history.", reasonInput);
        const doubt = outlierReason(metric, history, parsed.value);
        if (doubt && warned !== parsed.value) {
          warned = parsed.value;
          save.textContent = "Save anyway";
          errors.replaceChildren(h("p", { class: "warning-box" }, `Please check: ${doubt}. `
            + "Press “Save anyway” if it is right."));
          valueInput.focus();
          return undefined;
        }
        save.disabled = true;
        try {
          const receipt = await api.submit(metric.department, [{ metric: metric.key, period, value: parsed.value, reason }]);
          const summary = receipt.summary;
          if (!summary) {
            outcome.replaceChildren(h("p", { class: "success-box" }, "Saved; the correction will be applied shortly."));
          } else if (summary.rejected.length) {
            return fail(`Not saved: ${summary.rejected[0].reason}.`, valueInput);
          } else if (summary.unchanged) {
            outcome.replaceChildren(h("p", { class: "notice" }, "Nothing changed: that is already the stored value."));
          } else {
            outcome.replaceChildren(h("p", { class: "success-box" },
              `Corrected: ${formatValue(current?.value, metric.unit)} → ${formatValue(parsed.value, metric.unit)}.`));
            reasonInput.value = "";
            current = { ...current, value: parsed.value, numerator: null, denominator: null };
            onSaved(parsed.value);
          }
          await loadHistory();
        } catch (error) {
          fail(error.detail || error.message);
        } finally {
          save.disabled = false;
          save.textContent = "Save correction";
          warned = null;
        }
        return undefined;
      }

      valueInput.addEventListener("input", () => {
        if (warned !== null) {
          warned = null;
          save.textContent = "Save correction";
        }
      });
      const form = h("form", { class: "stack-form", novalidate: true },
        h("p", {}, "Stored value: ", h("strong", { class: "stored-value" }, formatValue(current?.value, metric.unit))),
        ratioNote,
        h("div", { class: "field" },
          h("label", { for: ids.value }, "Corrected value"),
          h("span", { class: "input-with-unit" }, valueInput,
            h("span", { class: "unit", id: `${ids.value}-unit` }, inputSuffix(metric.unit) || metric.unit || ""))),
        h("div", { class: "field" },
          h("label", { for: ids.reason }, "Reason for the correction (required)"),
          reasonInput),
        errors,
        outcome,
        h("div", { class: "modal-actions" }, cancel, save));
      form.addEventListener("submit", submit);
      loadHistory();
      queueMicrotask(() => valueInput.select());
      return h("div", {}, form, historySlot);
    },
  });
}
