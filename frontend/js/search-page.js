// "search.html?q=words": what the header's search box found, grouped by kind, closest match first within each.
// Anyone may search; signed-in staff also find their departments' unpublished metrics and the briefings they read.

import { getJSON } from "./api.js";
import { h, param, showContent, showError, showLoading } from "./ui.js";

const GROUPS = [
  ["metric", "Metrics"],
  ["department", "Departments"],
  ["dataset", "Datasets"],
  ["briefing", "Briefings"],
];
const LIMIT = 100;

function group(kind, label, items) {
  const id = `results-${kind}`;
  return h("section", { class: "search-group", "aria-labelledby": id },
    h("h2", { id }, `${label} (${items.length})`),
    h("ul", { class: "search-results" }, items.map((item) =>
      h("li", {},
        h("a", { href: item.url }, item.title),
        h("span", { class: "search-meta" }, item.subtitle ? `${item.subtitle} · ${item.key}` : item.key)))));
}

async function main() {
  const content = document.getElementById("content");
  const summary = document.getElementById("search-summary");
  const q = param("q").trim();
  const box = document.getElementById("site-search");
  if (box) box.value = q;
  if (!q) {
    showContent(content, h("p", { class: "empty" }, "Type a word or a key in the search box above."));
    box?.focus();
    return;
  }
  document.title = `Search: ${q} — CityStat`;
  showLoading(content, "Searching…");
  let answer;
  try {
    answer = await getJSON("/reporting/search", { q, limit: LIMIT });
  } catch (error) {
    summary.textContent = `Searching for “${q}” failed.`;
    showError(content, error, { notFound: "Search" });
    return;
  }
  const shown = answer.items.length;
  summary.textContent = answer.total > shown
    ? `The ${shown} closest of ${answer.total} matches for “${q}”.`
    : `${answer.total} ${answer.total === 1 ? "match" : "matches"} for “${q}”.`;
  if (!shown) {
    showContent(content, h("p", { class: "empty" },
      `Nothing matches “${q}”. Try fewer words, or part of a metric’s key (e.g. dpw).`));
    return;
  }
  const groups = GROUPS
    .map(([kind, label]) => [kind, label, answer.items.filter((item) => item.kind === kind)])
    .filter(([, , items]) => items.length)
    .map(([kind, label, items]) => group(kind, label, items));
  showContent(content, ...groups);
}

main();
