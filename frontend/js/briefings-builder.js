// The Cabinet briefing builder: the metrics the briefing reviews, in order, each with the department's
// explanation; the suggested metrics (off target, big changes, statistical signals) with their reasons; and
// any other monthly metric. Changes stay in the page until "Save changes": a new list or order rebuilds the
// draft, new explanations alone do not. Every control is a real button or form field, so the list can be
// reordered from the keyboard; each move is announced.

import { CABINET_MAX, CABINET_MIN, problemBox, REASON_LABELS, reporting } from "./briefings-api.js";
import { formatPeriod } from "./periods.js";
import { h, pageHref } from "./ui.js";

const hidden = (text) => h("span", { class: "visually-hidden" }, text);

/**
 * The builder for a Cabinet draft. briefing: the briefing as the API gives it; catalogue: every metric
 * ({key, name, department, frequency, state}); departments: [{code, name}]; onSaved(briefing) after a save.
 * Returns {section, isDirty(), saveButton}.
 */
export function cabinetBuilder({ briefing, catalogue, departments, onSaved }) {
  const byKey = new Map(catalogue.map((m) => [m.key, m]));
  for (const panel of briefing.snapshot?.panels || []) {
    if (!byKey.has(panel.metric)) byKey.set(panel.metric, { key: panel.metric, name: panel.name, department: panel.department });
  }
  const deptName = (code) => departments.find((d) => d.code === code)?.name || code;
  const nameOf = (key) => byKey.get(key)?.name || key;

  let selection = briefing.selection.map((row) => ({ metric: row.metric, explanation: row.explanation || "",
    reason: row.reason || null }));
  let saved = JSON.stringify(selection);
  let suggestions = null; // null while loading; {items} or {error}

  const announcer = h("p", { class: "visually-hidden", "aria-live": "polite", id: "builder-announce" });
  const countLine = h("p", { id: "selection-count" });
  const list = h("ol", { class: "selection-list", id: "selection" });
  const saveButton = h("button", { type: "button", class: "primary", id: "save-selection" }, "Save changes");
  const saveState = h("span", { class: "muted", id: "save-state", role: "status" });
  const saveResult = h("div", { id: "save-result" });
  const suggestionList = h("div", { id: "suggestions", "aria-busy": "true" },
    h("p", { class: "loading" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Finding suggestions…"));
  const otherSlot = h("div", { id: "add-other" });

  const dirty = () => JSON.stringify(selection) !== saved;
  const announce = (text) => { announcer.textContent = text; };

  function updateSaveState() {
    const changed = dirty();
    saveButton.disabled = !changed;
    saveState.textContent = changed ? "Unsaved changes" : "All changes saved";
  }

  function move(index, by) {
    const to = index + by;
    if (to < 0 || to >= selection.length) return;
    const [row] = selection.splice(index, 1);
    selection.splice(to, 0, row);
    renderList();
    // Keep the keyboard where it was: on the moved metric's button, or its other one at the end of the list.
    const item = list.children[to];
    const same = item.querySelector(by < 0 ? "[data-move=up]" : "[data-move=down]");
    const other = item.querySelector(by < 0 ? "[data-move=down]" : "[data-move=up]");
    (same.disabled ? other : same).focus();
    announce(`Moved ${nameOf(row.metric)} to position ${to + 1} of ${selection.length}.`);
    changed();
  }

  function remove(index) {
    const [row] = selection.splice(index, 1);
    renderList();
    const next = list.children[Math.min(index, selection.length - 1)];
    (next?.querySelector("[data-move=remove]") || saveButton).focus();
    announce(`Removed ${nameOf(row.metric)}. ${selection.length} metrics selected.`);
    changed();
  }

  function add(key, reason) {
    if (selection.some((row) => row.metric === key) || selection.length >= CABINET_MAX) return;
    selection.push({ metric: key, explanation: "", reason });
    renderList();
    announce(`Added ${nameOf(key)} at position ${selection.length}.`);
    changed();
  }

  function changed() {
    renderCount();
    renderSuggestions();
    renderOther();
    updateSaveState();
  }

  function renderCount() {
    const n = selection.length;
    const fits = n >= CABINET_MIN && n <= CABINET_MAX;
    countLine.className = fits ? "muted" : "warning-box";
    countLine.textContent = `${n} ${n === 1 ? "metric" : "metrics"} selected. A Cabinet briefing reviews `
      + `${CABINET_MIN} to ${CABINET_MAX}${fits ? "." : n < CABINET_MIN ? `: add ${CABINET_MIN - n} more to publish.`
        : `: remove ${n - CABINET_MAX}.`}`;
  }

  function selectedItem(row, index) {
    const name = nameOf(row.metric);
    const metric = byKey.get(row.metric);
    const id = `explain-${index}`;
    const up = h("button", { type: "button", class: "secondary small", dataset: { move: "up" }, disabled: index === 0 },
      "Move up", hidden(`: ${name}`));
    const down = h("button", { type: "button", class: "secondary small", dataset: { move: "down" },
      disabled: index === selection.length - 1 }, "Move down", hidden(`: ${name}`));
    const drop = h("button", { type: "button", class: "danger-outline small", dataset: { move: "remove" } },
      "Remove", hidden(`: ${name}`));
    up.addEventListener("click", () => move(index, -1));
    down.addEventListener("click", () => move(index, 1));
    drop.addEventListener("click", () => remove(index));
    const text = h("textarea", { id, name: "explanation", rows: "3", maxlength: "5000", "aria-describedby": `${id}-help` });
    text.value = row.explanation;
    text.addEventListener("input", () => {
      row.explanation = text.value;
      updateSaveState();
    });
    return h("li", { class: "selection-item", dataset: { metric: row.metric } },
      h("div", { class: "selection-head" },
        h("span", { class: "position", "aria-hidden": "true" }, String(index + 1)),
        h("div", { class: "selection-name" },
          h("a", { href: pageHref("metric.html", { key: row.metric, period: briefing.period }) }, name),
          h("span", { class: "metric-meta" }, deptName(metric?.department || ""),
            row.reason ? h("span", { class: "tag" }, REASON_LABELS[row.reason] || row.reason) : null)),
        h("div", { class: "selection-buttons" }, up, down, drop)),
      h("div", { class: "field" },
        h("label", { for: id }, "Explanation", hidden(` for ${name}`)), text,
        h("p", { class: "muted help", id: `${id}-help` }, "The department's account of this result, shown beside it.")));
  }

  function renderList() {
    list.replaceChildren(...selection.map(selectedItem));
    list.hidden = !selection.length;
  }

  function renderSuggestions() {
    if (!suggestions) return;
    suggestionList.removeAttribute("aria-busy");
    if (suggestions.error) {
      suggestionList.replaceChildren(problemBox(suggestions.error));
      return;
    }
    if (!suggestions.items.length) {
      suggestionList.replaceChildren(h("p", { class: "empty" }, "No metric stands out this month."));
      return;
    }
    const full = selection.length >= CABINET_MAX;
    suggestionList.replaceChildren(h("ul", { class: "suggestion-list" }, suggestions.items.map((s) => {
      const chosen = selection.some((row) => row.metric === s.metric);
      const button = h("button", { type: "button", class: "secondary small", disabled: chosen || full,
        dataset: { add: s.metric } }, chosen ? "Added" : "Add", hidden(`: ${s.name}`));
      button.addEventListener("click", () => {
        add(s.metric, s.reason);
        // The button is now disabled ("Added"): the keyboard goes to the new item in the list.
        list.lastElementChild?.querySelector("textarea")?.focus();
      });
      return h("li", { class: "suggestion", dataset: { metric: s.metric, reason: s.reason } },
        h("div", {},
          h("strong", {}, s.name), " ", h("span", { class: "metric-meta-inline" }, deptName(s.department)),
          " ", h("span", { class: "tag" }, REASON_LABELS[s.reason] || s.reason),
          h("p", { class: "suggestion-sentence" }, s.sentence)),
        button);
    })), full ? h("p", { class: "muted" }, `The briefing has ${CABINET_MAX} metrics, the most it takes.`) : null);
  }

  function renderOther() {
    const chosen = new Set(selection.map((row) => row.metric));
    const wanted = briefing.departments.length ? new Set(briefing.departments) : null;
    const candidates = catalogue.filter((m) => m.frequency === "month" && (m.state || "active") === "active"
      && !chosen.has(m.key) && (!wanted || wanted.has(m.department)));
    const groups = new Map();
    for (const m of candidates) {
      if (!groups.has(m.department)) groups.set(m.department, []);
      groups.get(m.department).push(m);
    }
    const select = h("select", { id: "add-metric", name: "metric" }, h("option", { value: "" }, "Choose a metric…"),
      [...groups.entries()].sort(([a], [b]) => deptName(a).localeCompare(deptName(b))).map(([code, metrics]) =>
        h("optgroup", { label: deptName(code) }, metrics.sort((a, b) => a.name.localeCompare(b.name))
          .map((m) => h("option", { value: m.key }, m.name)))));
    const button = h("button", { type: "submit", class: "secondary", disabled: selection.length >= CABINET_MAX },
      "Add metric");
    const form = h("form", { class: "inline-fields", id: "add-metric-form" },
      h("div", { class: "field" }, h("label", { for: "add-metric" }, "Another metric"), select),
      h("div", { class: "field" }, button));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!select.value) {
        select.focus();
        return;
      }
      add(select.value, "chosen");
      document.getElementById("add-metric")?.focus();
    });
    otherSlot.replaceChildren(form);
  }

  saveButton.addEventListener("click", async () => {
    const body = { selection: selection.map((row) => ({ metric: row.metric,
      explanation: row.explanation.trim() ? row.explanation : null, reason: row.reason })) };
    saveButton.disabled = true;
    saveState.textContent = "Saving…";
    saveResult.replaceChildren();
    try {
      const updated = await reporting.updateBriefing(briefing.id, body);
      saved = JSON.stringify(selection);
      const rebuilt = updated.build.status === "queued" || updated.build.status === "building";
      saveResult.replaceChildren(h("p", { class: "success-box", role: "status" }, rebuilt
        ? "Saved. The metrics changed, so the briefing is being rebuilt."
        : "Saved the explanations."));
      briefing = updated;
      updateSaveState();
      onSaved(updated, { rebuilt });
    } catch (error) {
      saveResult.replaceChildren(problemBox(error));
      updateSaveState();
    }
  });

  reporting.suggestions(briefing.period, briefing.departments, 10)
    .then((answer) => { suggestions = { items: answer.items }; }, (error) => { suggestions = { error }; })
    .then(renderSuggestions);

  renderList();
  renderCount();
  renderOther();
  updateSaveState();

  const section = h("section", { class: "panel builder", id: "builder", "aria-labelledby": "builder-heading" },
    h("h2", { id: "builder-heading" }, "Metrics in this briefing"),
    h("p", { class: "muted help" }, "In the order the Cabinet will take them. Move them with the buttons; write each "
      + "department's explanation; then save. A new list or order rebuilds the draft."),
    countLine, list, announcer,
    h("div", { class: "form-actions" }, saveButton, saveState), saveResult,
    h("div", { class: "builder-columns" },
      h("section", { "aria-labelledby": "suggestions-heading" },
        h("h3", { id: "suggestions-heading" }, `Suggested for ${formatPeriod(briefing.period)}`), suggestionList),
      h("section", { "aria-labelledby": "other-heading" },
        h("h3", { id: "other-heading" }, "Add another metric"), otherSlot)));
  return { section, isDirty: dirty, saveButton };
}
