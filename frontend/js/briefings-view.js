// "briefing.html?id=N": one briefing. While it builds, its progress (done of total, polled); then the briefing
// as rendered (the server's own HTML in a sandboxed frame: no script of it runs here) with its PDF, and every
// number it shows with the revision it came from. The performance office also gets, on a draft, Rebuild,
// Publish and Delete and, on a Cabinet draft, the builder; on a Cabinet briefing, the form that records the
// Mayor's directions. A published briefing shows when and by whom it was published and its HTML's sha256.

import { api } from "./api.js";
import { cabinetBuilder } from "./briefings-builder.js";
import {
  actorName, BUILD_LABELS, briefingHtmlHref, briefingPdfHref, figureHref, isOffice, KIND_LABELS, MEETING_KIND_LABELS,
  problemBox, reporting, stamp, stateBadge,
} from "./briefings-api.js";
import { commitmentTable, directionForm } from "./briefings-commitment.js";
import { confirmDialog } from "./dialog.js";
import { formatDate, formatValue } from "./format.js";
import { formatPeriod } from "./periods.js";
import { requireUser } from "./session.js";
import { h, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const POLL_MS = 1000;

const state = {
  user: null,
  briefing: null,
  departments: [],
  catalogue: [],
  builder: null,
  pollTimer: null,
};

const slots = {
  build: h("div", { id: "build-status", "aria-live": "polite" }),
  publication: h("div", { id: "publication" }),
  actions: h("div", { id: "briefing-actions" }),
  outcome: h("div", { id: "action-outcome", "aria-live": "polite" }),
  builder: h("div", { id: "builder-slot" }),
  preview: h("div", { id: "preview" }),
  figures: h("div", { id: "figures" }),
  commitments: h("div", { id: "commitments" }),
};

const deptName = (code) => state.departments.find((d) => d.code === code)?.name || code;
const building = (b) => b.build.status === "queued" || b.build.status === "building";
const office = () => isOffice(state.user);
const isDraft = () => state.briefing.state === "draft";

// ---- header and build progress ----------------------------------------------------------------

function renderHead() {
  const b = state.briefing;
  document.title = `${b.title} — CityStat`;
  document.getElementById("title").textContent = b.title;
  document.getElementById("crumb-here").textContent = b.title;
  const meeting = b.snapshot?.meeting;
  document.getElementById("period-line").replaceChildren(...[
    KIND_LABELS[b.kind] || b.kind, sep(), formatPeriod(b.period), sep(),
    b.departments.length ? b.departments.map(deptName).join(", ") : "Citywide", sep(), stateBadge(b.state),
    meeting ? h("span", {}, sep(), `For the ${MEETING_KIND_LABELS[meeting.kind] || meeting.kind} of `,
      h("time", { datetime: meeting.held_on }, formatDate(meeting.held_on))) : null].filter(Boolean));
}

function sep() {
  return h("span", { class: "sep", "aria-hidden": "true" }, " · ");
}

function renderBuild() {
  const b = state.briefing;
  const { status, done, total, error } = b.build;
  if (b.state === "published" || status === "ready") {
    slots.build.replaceChildren();
    delete slots.build.dataset.shown;
    return;
  }
  if (status === "failed") {
    delete slots.build.dataset.shown;
    slots.build.replaceChildren(h("div", { class: "error-box", id: "build-failed" },
      h("h2", {}, "The build failed"),
      h("p", { class: "error-detail" }, error || "The numbers could not be read."),
      office() ? h("p", {}, "Rebuild to try again.") : null));
    return;
  }
  // Redrawn only when it moves, so that screen readers hear each step once, not every poll.
  const shown = `${status}/${done}/${total}`;
  if (slots.build.dataset.shown === shown && slots.build.firstChild) return;
  slots.build.dataset.shown = shown;
  // Indeterminate (no value) until the builder knows how many metrics it will read.
  const bar = h("progress", { id: "build-progress", max: String(Math.max(total, 1)),
    "aria-labelledby": "build-progress-label" });
  if (total) bar.value = done;
  slots.build.replaceChildren(h("div", { class: "build-progress panel" },
    h("p", { id: "build-progress-label" }, h("strong", {}, BUILD_LABELS[status]),
      total ? `: ${done} of ${total} read` : "…"),
    bar));
}

async function poll() {
  state.pollTimer = null;
  try {
    state.briefing = await reporting.briefing(state.briefing.id);
  } catch (error) {
    slots.build.replaceChildren(problemBox(error));
    return;
  }
  renderBuild();
  if (building(state.briefing)) {
    state.pollTimer = setTimeout(poll, POLL_MS);
    return;
  }
  renderHead();
  renderPublication();
  renderActions();
  renderPreview();
  renderFigures();
  renderCommitments();
}

function watchBuild() {
  renderBuild();
  if (building(state.briefing) && state.pollTimer === null) state.pollTimer = setTimeout(poll, POLL_MS);
}

// ---- publication, actions ---------------------------------------------------------------------

function renderPublication() {
  const b = state.briefing;
  const pdf = b.snapshot ? h("a", { class: "button-link", id: "download-pdf", href: briefingPdfHref(b.id),
    download: `citystat-${b.kind}-${b.period}-${b.id}.pdf` }, "Download PDF") : null;
  const page = b.snapshot ? h("a", { href: briefingHtmlHref(b.id), id: "open-html" }, "Open the briefing on its own page")
    : null;
  if (b.state === "published") {
    slots.publication.replaceChildren(h("section", { class: "panel publication", "aria-labelledby": "publication-heading" },
      h("h2", { id: "publication-heading" }, "Published"),
      h("dl", { class: "facts" },
        h("div", {}, h("dt", {}, "Published"), h("dd", { id: "published-at" },
          h("time", { datetime: b.published_at }, stamp(b.published_at)))),
        h("div", {}, h("dt", {}, "By"), h("dd", { id: "published-by" }, actorName(b.published_by, state.user))),
        h("div", { class: "wide" }, h("dt", {}, "SHA-256 of the published page"),
          h("dd", {}, h("code", { id: "html-sha256", class: "hash" }, b.html_sha256 || "—")))),
      h("p", { class: "muted help" }, "The numbers are frozen as they were read at publication, each with its "
        + "revision: later corrections do not change this briefing. The page and its PDF read the same ever after."),
      h("p", { class: "form-actions" }, pdf, page)));
    return;
  }
  const readAt = b.snapshot?.read_at;
  slots.publication.replaceChildren(h("section", { class: "panel publication", "aria-labelledby": "publication-heading" },
    h("h2", { id: "publication-heading" }, "Draft"),
    h("p", {}, readAt ? ["The numbers were read from the data at ", h("time", { datetime: readAt }, stamp(readAt)),
      ". Rebuild to read them again; publishing reads them a last time and freezes them."]
      : "Not built yet."),
    pdf || page ? h("p", { class: "form-actions" }, pdf, page) : null));
}

function setBusy(busy) {
  for (const button of slots.actions.querySelectorAll("button")) button.disabled = busy;
}

async function rebuild() {
  setBusy(true);
  try {
    state.briefing = await reporting.rebuildBriefing(state.briefing.id);
    slots.outcome.replaceChildren(h("p", { class: "notice" }, "Reading the numbers again…"));
    watchBuild();
  } catch (error) {
    slots.outcome.replaceChildren(problemBox(error));
  } finally {
    setBusy(false);
  }
}

async function publish() {
  if (state.builder?.isDirty()) {
    slots.outcome.replaceChildren(h("p", { class: "warning-box", role: "alert" },
      "Save your changes to the metrics before publishing."));
    state.builder.saveButton.focus();
    return;
  }
  const ok = await confirmDialog({
    title: "Publish this briefing?",
    message: h("div", {},
      h("p", {}, "Publishing reads the numbers a last time and freezes them, with the revision of each: later "
        + "corrections to the data will not change this briefing."),
      h("p", {}, "A published briefing cannot be edited or deleted.")),
    confirmLabel: "Publish",
  });
  if (!ok) return;
  setBusy(true);
  slots.outcome.replaceChildren(h("p", { class: "loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), "Publishing: reading the numbers and making the PDF…"));
  try {
    state.briefing = await reporting.publishBriefing(state.briefing.id);
  } catch (error) {
    slots.outcome.replaceChildren(problemBox(error));
    setBusy(false);
    return;
  }
  state.builder = null;
  slots.outcome.replaceChildren(h("p", { class: "success-box", role: "status", id: "published-message" },
    "Published. The numbers are frozen."));
  renderAll();
  document.getElementById("publication-heading")?.setAttribute("tabindex", "-1");
  document.getElementById("publication-heading")?.focus();
}

async function remove() {
  const ok = await confirmDialog({
    title: "Delete this draft?",
    message: h("p", {}, `“${state.briefing.title}” will be deleted. This cannot be undone.`),
    confirmLabel: "Delete draft",
    danger: true,
  });
  if (!ok) return;
  setBusy(true);
  try {
    await reporting.deleteBriefing(state.briefing.id);
    window.location.assign("briefings.html");
  } catch (error) {
    slots.outcome.replaceChildren(problemBox(error));
    setBusy(false);
  }
}

function renderActions() {
  if (!office() || !isDraft()) {
    slots.actions.replaceChildren();
    return;
  }
  const rebuildButton = h("button", { type: "button", class: "secondary", id: "rebuild" }, "Rebuild");
  const publishButton = h("button", { type: "button", class: "primary", id: "publish" }, "Publish…");
  const deleteButton = h("button", { type: "button", class: "danger-outline", id: "delete-draft" }, "Delete draft…");
  rebuildButton.addEventListener("click", rebuild);
  publishButton.addEventListener("click", publish);
  deleteButton.addEventListener("click", remove);
  slots.actions.replaceChildren(h("div", { class: "form-actions briefing-actions" },
    publishButton, rebuildButton, deleteButton));
}

// ---- the builder ------------------------------------------------------------------------------

function renderBuilder() {
  if (!office() || !isDraft() || state.briefing.kind !== "cabinet") {
    state.builder = null;
    slots.builder.replaceChildren();
    return;
  }
  state.builder = cabinetBuilder({
    briefing: state.briefing,
    catalogue: state.catalogue,
    departments: state.departments,
    onSaved: (updated, { rebuilt }) => {
      state.briefing = updated;
      slots.outcome.replaceChildren();
      if (rebuilt) watchBuild();
      else {
        renderPreview();
        renderFigures();
      }
    },
  });
  slots.builder.replaceChildren(state.builder.section);
}

// ---- the briefing itself: preview and figures -------------------------------------------------

function renderPreview() {
  const b = state.briefing;
  if (!b.snapshot) {
    slots.preview.replaceChildren();
    return;
  }
  // The briefing's HTML sends its own Content-Security-Policy; the sandbox keeps even that from running script
  // or reaching this page. The version in the address makes the frame load again after each build or save.
  const frame = h("iframe", {
    id: "briefing-frame",
    class: "briefing-frame",
    title: b.state === "published" ? `${b.title}, as published` : `${b.title}, draft as it will be printed`,
    sandbox: "allow-top-navigation-by-user-activation",
    referrerpolicy: "same-origin",
    src: `${briefingHtmlHref(b.id)}?v=${encodeURIComponent(`${b.updated_at}/${b.build.status}`)}`,
  });
  slots.preview.replaceChildren(h("section", { class: "preview", "aria-labelledby": "preview-heading" },
    h("h2", { id: "preview-heading" }, b.state === "published" ? "The briefing" : "Preview"), frame));
}

/** Every number the snapshot shows with where it came from: {metric, period, value, org_unit, revision}. */
function figuresOf(snapshot) {
  const found = new Map();
  const walk = (node) => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== "object") return;
    if (typeof node.metric === "string" && typeof node.period === "string" && "value" in node && "revision" in node) {
      const key = `${node.metric}|${node.period}|${node.org_unit || ""}|${node.revision ?? ""}`;
      if (!found.has(key)) found.set(key, node);
      return;
    }
    Object.values(node).forEach(walk);
  };
  walk(snapshot);
  return [...found.values()];
}

/** Names and units of the metrics a snapshot shows, from its own panels and lines, then the catalogue. */
function metricInfo(snapshot) {
  const info = new Map(state.catalogue.map((m) => [m.key, { name: m.name, unit: m.unit }]));
  const lines = [...(snapshot.panels || []), ...(snapshot.annual || []).flatMap((p) => p.lines),
    ...(snapshot.frontline || []).flatMap((u) => u.lines)];
  for (const line of lines) info.set(line.metric, { name: line.name, unit: line.unit });
  return info;
}

function renderFigures() {
  const snapshot = state.briefing.snapshot;
  if (!snapshot) {
    slots.figures.replaceChildren();
    return;
  }
  const figures = figuresOf(snapshot);
  const info = metricInfo(snapshot);
  figures.sort((a, b) => (info.get(a.metric)?.name || a.metric).localeCompare(info.get(b.metric)?.name || b.metric)
    || a.period.localeCompare(b.period) || (a.org_unit || "").localeCompare(b.org_unit || ""));
  slots.figures.replaceChildren(h("details", { class: "data-details", id: "figure-sources" },
    h("summary", {}, `Where each number comes from (${figures.length})`),
    h("p", { class: "muted help" }, "Each links to the metric's page for that period, which says whether the value "
      + "has been corrected since the briefing read it."),
    figures.length ? h("div", { class: "table-wrap" }, h("table", { id: "figure-table" },
      h("thead", {}, h("tr", {}, ["Metric", "Period", "Unit", "Value", "Revision"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, figures.map((f) => {
        const { name, unit } = info.get(f.metric) || { name: f.metric, unit: null };
        return h("tr", {},
          h("th", { scope: "row" }, h("a", { href: figureHref(f) }, name)),
          h("td", {}, formatPeriod(f.period)),
          h("td", {}, f.org_unit || "Whole department"),
          h("td", {}, formatValue(f.value, unit)),
          h("td", {}, f.revision === null || f.revision === undefined ? "—" : String(f.revision)));
      })))) : h("p", { class: "empty" }, "This briefing shows no figures.")));
}

// ---- commitments (Cabinet briefings) ----------------------------------------------------------

async function renderCommitments() {
  const b = state.briefing;
  if (b.kind !== "cabinet") {
    slots.commitments.replaceChildren();
    return;
  }
  const listSlot = h("div", { id: "commitment-list", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading…"));
  const reload = async () => {
    try {
      const { items } = await reporting.commitments({ briefing_id: b.id });
      listSlot.replaceChildren(commitmentTable(items, { caption: "Directions recorded in this briefing" }));
    } catch (error) {
      listSlot.replaceChildren(problemBox(error));
    }
  };
  const panels = b.snapshot?.panels || [];
  const form = office() && panels.length
    ? h("div", { class: "direction" }, h("h3", {}, "Record the Mayor's direction"),
      directionForm({ briefing: b, panels, onSaved: reload }))
    : null;
  slots.commitments.replaceChildren(h("section", { class: "panel", "aria-labelledby": "commitments-heading" },
    h("h2", { id: "commitments-heading" }, "Commitments"), listSlot, form));
  await reload();
}

// ---- the page ---------------------------------------------------------------------------------

function renderAll() {
  renderHead();
  renderBuild();
  renderPublication();
  renderActions();
  renderBuilder();
  renderPreview();
  renderFigures();
  renderCommitments();
  watchBuild();
}

async function main() {
  state.user = await requireUser();
  const id = param("id");
  if (!/^[1-9]\d{0,9}$/.test(id)) {
    showError(content, { status: 404, detail: "No briefing was named in the address (briefing.html?id=…)." },
      { notFound: "Briefing", back: false });
    return;
  }
  showLoading(content, "Loading the briefing…");
  try {
    const [briefing, departments, catalogue] = await Promise.all([
      reporting.briefing(id),
      api.departments(),
      // Names and units of metrics a snapshot does not describe itself (memo figures); not worth failing for.
      api.departmentMetrics().catch(() => ({ items: [] })),
    ]);
    state.briefing = briefing;
    state.departments = departments.items;
    state.catalogue = catalogue.items;
  } catch (error) {
    showError(content, error, { notFound: "Briefing", back: false });
    return;
  }
  showContent(content, slots.build, slots.outcome, slots.actions, slots.publication, slots.builder, slots.preview,
    slots.figures, slots.commitments);
  renderAll();
}

main();
