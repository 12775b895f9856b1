// Small DOM helpers shared by the pages. Everything from the API goes in through
// textContent (never innerHTML), so a metric name can never inject markup.

import { STATUSES, STATUS_ICONS, STATUS_LABELS } from "./format.js";

/** h("a", {href: "x", class: "y"}, "text", child) — attributes, then children. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    // Styles go through the CSSOM, which a strict Content-Security-Policy still allows.
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "style") Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A query-string parameter of the current page, or "" if absent. */
export function param(name) {
  return new URLSearchParams(window.location.search).get(name) || "";
}

/** A link to another page, carrying the chosen period along when there is one. */
export function pageHref(page, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const qs = query.toString();
  return qs ? `${page}?${qs}` : page;
}

export function showLoading(container, text) {
  container.setAttribute("aria-busy", "true");
  container.replaceChildren(h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text));
}

export function showContent(container, ...children) {
  container.removeAttribute("aria-busy");
  // A part that has nothing to show is passed as null; replaceChildren would print it as the text "null".
  container.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
}

/**
 * The error box: a heading for the kind of failure and the server's `detail` beneath it.
 * `notFound` names the thing that was looked up, for a friendlier 404 heading.
 */
export function showError(container, error, { notFound = "Page", back = true } = {}) {
  const heading = error.status === 404 ? `${notFound} not found`
    : error.status >= 500 ? "The server had a problem"
      : error.title || "Something went wrong";
  const detail = error.detail || error.message || "An unexpected error occurred.";
  showContent(container, h("div", { class: "error-box", role: "alert" },
    h("h2", {}, heading),
    h("p", { class: "error-detail" }, detail),
    error.errors?.length ? h("ul", { class: "error-list" }, error.errors.map((e) =>
      h("li", {}, e.field ? `${e.field.replace(/^query\./, "")}: ${e.reason}` : e.reason))) : null,
    error.status ? h("p", { class: "error-meta" }, `HTTP ${error.status}`) : null,
    back ? h("p", {}, h("a", { href: "departments.html" }, "Back to all departments")) : null));
  document.title = `${heading} — CityStat`;
}

export function statusBadge(status) {
  const key = STATUS_LABELS[status] ? status : "missing";
  return h("span", { class: `badge status-${key}` },
    h("span", { class: "badge-icon", "aria-hidden": "true" }, STATUS_ICONS[key]),
    STATUS_LABELS[key]);
}

/** "4 of 6 on target" with a stacked bar of every status; the bar's label repeats it in words. */
export function summaryBlock(summary) {
  const total = summary.total || 0;
  const words = STATUSES.filter((s) => summary[s]).map((s) => `${summary[s]} ${STATUS_LABELS[s].toLowerCase()}`);
  const bar = h("div", { class: "status-bar", role: "img",
    "aria-label": total ? words.join(", ") : "No metrics" });
  for (const status of STATUSES) {
    const count = summary[status] || 0;
    if (!count) continue;
    bar.append(h("span", { class: `seg status-${status}`, style: { flexGrow: String(count) },
      title: `${count} ${STATUS_LABELS[status].toLowerCase()}` }));
  }
  const text = total ? `${summary.on_target || 0} of ${total} on target` : "No metrics";
  return h("div", { class: "summary" }, h("span", { class: "share" }, text), bar);
}

/** A legend for the status colours, shown once per page. */
export function statusLegend() {
  return h("ul", { class: "legend", "aria-label": "Status colours" },
    STATUSES.map((s) => h("li", {}, h("span", { class: `swatch status-${s}`, "aria-hidden": "true" }), STATUS_LABELS[s])));
}

// A table wider than its .table-wrap frame (on a phone) scrolls sideways inside it. A mouse or finger can scroll
// it, a keyboard only once the frame takes focus; a screen reader then announces it as a region named after the
// table (WCAG 2.1.1). Only frames that do scroll become Tab stops, and they stop being one when they no longer do.
const sideways = typeof ResizeObserver === "function" ? new ResizeObserver((entries) => {
  for (const { target } of entries) {
    const wrap = target.closest(".table-wrap");
    if (wrap) markScrollable(wrap);
  }
}) : null;

function markScrollable(wrap) {
  const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
  if (scrolls && !wrap.hasAttribute("tabindex")) {
    const table = wrap.querySelector("table");
    const by = table?.getAttribute("aria-labelledby");
    const named = table?.getAttribute("aria-label") || (by && document.getElementById(by)?.textContent.trim())
      || table?.caption?.textContent.trim();
    wrap.dataset.scrollFrame = "";
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", named ? `${named.slice(0, 80)} (scrolls sideways)` : "Table (scrolls sideways)");
  } else if (!scrolls && wrap.hasAttribute("data-scroll-frame")) {
    for (const name of ["data-scroll-frame", "tabindex", "role", "aria-label"]) wrap.removeAttribute(name);
  }
}

function watchFrames(root) {
  // A frame added, or a table redrawn inside a frame that stays.
  const around = root.closest?.(".table-wrap");
  const frames = new Set([...(around ? [around] : []), ...(root.querySelectorAll?.(".table-wrap") || [])]);
  for (const wrap of frames) {
    sideways.observe(wrap);
    for (const table of wrap.querySelectorAll(":scope > table")) sideways.observe(table);
  }
}

if (sideways) {
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) if (node.nodeType === 1) watchFrames(node);
  }).observe(document.documentElement, { childList: true, subtree: true });
  watchFrames(document);
}
