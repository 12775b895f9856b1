// The Mayor's directions given in a Cabinet briefing: the form that records one for a metric the briefing
// reviewed (saving it also sets the metric's target in metrics), and the list of those already recorded,
// each with its status tracked from the data.

import { COMMITMENT_KIND_LABELS, commitmentBadge, figureLink, problemBox, reporting } from "./briefings-api.js";
import { inputSuffix, parseEntry } from "./entry.js";
import { formatDate, formatTolerance, formatValue } from "./format.js";
import { h, pageHref } from "./ui.js";

/** The commitments recorded in a briefing (or any list of them) as a table. */
export function commitmentTable(items, { id = "briefing-commitments", caption = null } = {}) {
  if (!items.length) return h("p", { class: "empty", id: `${id}-empty` }, "No commitments have been recorded here yet.");
  return h("div", { class: "table-wrap" }, h("table", { id },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, ["Metric", "Direction", "Level", "Deadline", "Status", "Latest value"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((c) => h("tr", { dataset: { id: String(c.id), metric: c.metric || "" } },
      h("th", { scope: "row" }, c.metric
        ? h("a", { href: pageHref("metric.html", { key: c.metric }) }, c.metric_name || c.metric)
        : COMMITMENT_KIND_LABELS[c.kind] || c.kind),
      h("td", { class: "description" }, c.description),
      h("td", {}, c.level === null || c.level === undefined ? "—" : formatValue(c.level, c.unit),
        c.tolerance ? h("span", { class: "muted" }, ` ± ${formatTolerance(c.tolerance, c.unit)}`) : null),
      h("td", {}, c.deadline ? h("time", { datetime: c.deadline }, formatDate(c.deadline)) : "—"),
      h("td", {}, commitmentBadge(c.status),
        c.status_reason ? h("span", { class: "metric-meta" }, c.status_reason) : null),
      h("td", {}, c.latest ? figureLink(c.latest, c.unit) : "—"))))));
}

/**
 * The form for a direction on one of the briefing's metrics. panels: the snapshot's metric panels
 * ({metric, name, department, unit, target, tolerance}); onSaved(commitment) once it is recorded.
 */
export function directionForm({ briefing, panels, onSaved }) {
  const byKey = new Map(panels.map((p) => [p.metric, p]));
  const metric = h("select", { id: "commit-metric", name: "metric", required: true },
    panels.map((p) => h("option", { value: p.metric }, p.name)));
  const description = h("textarea", { id: "commit-description", name: "description", rows: "3", maxlength: "5000",
    required: true, "aria-describedby": "commit-description-help" });
  const level = h("input", { id: "commit-level", name: "level", type: "text", inputmode: "decimal", autocomplete: "off",
    required: true, "aria-describedby": "commit-level-unit" });
  const levelUnit = h("span", { class: "unit", id: "commit-level-unit" });
  const tolerance = h("input", { id: "commit-tolerance", name: "tolerance", type: "text", inputmode: "decimal",
    autocomplete: "off", "aria-describedby": "commit-tolerance-unit" });
  const toleranceUnit = h("span", { class: "unit", id: "commit-tolerance-unit" });
  const deadline = h("input", { id: "commit-deadline", name: "deadline", type: "date", required: true });
  const errors = h("div", { class: "form-errors", id: "commit-errors" });
  const submit = h("button", { type: "submit", class: "primary", id: "record-commitment" }, "Record commitment");

  const showUnit = () => {
    const unit = byKey.get(metric.value)?.unit;
    const suffix = inputSuffix(unit);
    const words = unit === "percent" ? "% (type 95 for 95%)" : suffix;
    levelUnit.textContent = words;
    toleranceUnit.textContent = unit === "percent" ? "points" : suffix;
  };
  metric.addEventListener("change", showUnit);
  showUnit();

  const labelled = (id, text, control, after = null) => h("div", { class: "field" },
    h("label", { for: id }, text), after ? h("span", { class: "input-with-unit" }, control, after) : control);
  const form = h("form", { class: "stack-form", id: "direction-form", novalidate: true },
    h("div", { class: "inline-fields" },
      labelled("commit-metric", "Metric", metric),
      labelled("commit-level", "Level to reach", level, levelUnit),
      labelled("commit-tolerance", "Tolerance (optional)", tolerance, toleranceUnit),
      labelled("commit-deadline", "Deadline", deadline)),
    h("div", { class: "field" }, h("label", { for: "commit-description" }, "The Mayor's direction"), description,
      h("p", { class: "muted help", id: "commit-description-help" },
        "In the Mayor's words. Recording it sets the level as the metric's target, naming the Mayor and this briefing.")),
    errors, h("div", { class: "form-actions" }, submit));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const panel = byKey.get(metric.value);
    const unit = panel?.unit;
    const problems = [];
    const parsedLevel = parseEntry(level.value, unit);
    const parsedTolerance = parseEntry(tolerance.value, unit);
    for (const input of [level, tolerance, deadline, description]) input.removeAttribute("aria-invalid");
    if (parsedLevel.error || parsedLevel.value === null) {
      problems.push({ field: "level", reason: parsedLevel.error || "required" });
      level.setAttribute("aria-invalid", "true");
    }
    if (parsedTolerance.error || (parsedTolerance.value !== null && parsedTolerance.value < 0)) {
      problems.push({ field: "tolerance", reason: parsedTolerance.error || "cannot be negative" });
      tolerance.setAttribute("aria-invalid", "true");
    }
    if (!deadline.value) {
      problems.push({ field: "deadline", reason: "required" });
      deadline.setAttribute("aria-invalid", "true");
    }
    if (!description.value.trim()) {
      problems.push({ field: "description", reason: "required" });
      description.setAttribute("aria-invalid", "true");
    }
    if (problems.length) {
      errors.replaceChildren(problemBox({ detail: "Please correct the form.", errors: problems }));
      form.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    const body = { kind: "direction", department: panel.department, metric: panel.metric,
      description: description.value.trim(), level: parsedLevel.value, deadline: deadline.value, briefing_id: briefing.id };
    if (parsedTolerance.value !== null) body.tolerance = parsedTolerance.value;
    submit.disabled = true;
    try {
      const saved = await reporting.createCommitment(body);
      form.reset();
      showUnit();
      errors.replaceChildren(h("p", { class: "success-box", role: "status" },
        `Recorded the direction for ${panel.name}: ${formatValue(saved.level, unit)} by ${formatDate(saved.deadline)}.`));
      onSaved(saved);
    } catch (error) {
      errors.replaceChildren(problemBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
