// What the public pages share: reads of the public API, money and change in words, the error box, and the trend
// word. Nothing here needs a session: the public site never signs in and never sends a cookie-bound write.

import { ApiError, getJSON as getWithSession } from "../../js/api.js";
import { h, showContent } from "../../js/ui.js";

export { ApiError };

// Without the staff cookie: a signed-in member of staff sees here what the public sees, never their unpublished
// metrics, so that nothing read off this site can be taken for public when it is not.
export const getJSON = (path, params) => getWithSession(path, params, { credentials: "omit" });

const enc = encodeURIComponent;
const LOCALE = "en-US";

export const publicApi = {
  priorities: () => getJSON("/metrics/priorities"),
  departments: () => getJSON("/metrics/departments", { limit: 500 }),
  keyPerformance: (priority) => getJSON("/metrics/performance", { key: "true", priority, limit: 500 }),
  metric: (key) => getJSON(`/metrics/metrics/${enc(key)}`),
  performance: (key) => getJSON(`/metrics/metrics/${enc(key)}/performance`),
  observations: (key, start) => getJSON(`/metrics/metrics/${enc(key)}/observations`, { start, limit: 500 }),
  targets: (key) => getJSON(`/metrics/metrics/${enc(key)}/targets`, { limit: 500 }),
  costPerOutput: (key) => getJSON(`/metrics/metrics/${enc(key)}/cost-per-output`),
  openDatasets: () => getJSON("/metrics/open-datasets"),
  budgetYears: () => getJSON("/metrics/budget/years"),
  budgetSummary: (year, by, kind = "expense") => getJSON("/metrics/budget/summary", { year, by, kind }),
  hearing: (code) => getJSON(`/metrics/budget/hearings/${enc(code)}`),
};

// Observations may run past one page; the public pages read at most a few hundred periods.
export async function allObservations(key, start) {
  const first = await publicApi.observations(key, start);
  const items = [...first.items];
  while (items.length < first.total) {
    const next = await getJSON(`/metrics/metrics/${enc(key)}/observations`, { start, limit: 500, offset: items.length });
    if (!next.items.length) break;
    items.push(...next.items);
  }
  return items;
}

export function metricHref(key) {
  return `metric.html?key=${enc(key)}`;
}

export function hearingHref(code) {
  return `hearing.html?department=${enc(code)}`;
}

const wholeDollars = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const centDollars = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const shortDollars = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 });
const share = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" });
const count = new Intl.NumberFormat(LOCALE);

/** "$1,234,567"; with `short`, "$1.2M" (chart labels). Unit costs keep their cents. */
export function money(value, { short = false } = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (short) return shortDollars.format(value);
  return Math.abs(value) < 1000 && !Number.isInteger(value) ? centDollars.format(value) : wholeDollars.format(value);
}

export function number(value) {
  return value === null || value === undefined ? "—" : count.format(value);
}

/** "up $1,200 (+5.1%) from FY2016", "down ...", or why there is no comparison. */
export function changeWords(change, fraction, priorYear) {
  if (change === null || change === undefined) return priorYear ? `No ${priorYear} figure to compare` : "";
  if (change === 0) return `No change from ${priorYear}`;
  const way = change > 0 ? "up" : "down";
  const pct = fraction === null || fraction === undefined ? "" : ` (${share.format(fraction)})`;
  return `${way} ${wholeDollars.format(Math.abs(change))}${pct} from ${priorYear}`;
}

const TRENDS = {
  improving: { icon: "↗", words: "Improving" },
  worsening: { icon: "↘", words: "Worsening" },
  flat: { icon: "→", words: "Steady" },
};

/** The trend in words with an arrow (the arrow is decoration; the word carries the meaning). */
export function trendLabel(trend) {
  const direction = typeof trend === "string" ? trend : trend?.direction;
  const known = TRENDS[direction];
  if (!known) {
    return h("span", { class: "trend trend-unknown" }, "Not enough data for a trend");
  }
  const periods = typeof trend === "object" && trend?.periods?.length ? ` over the last ${trend.periods.length} periods` : "";
  return h("span", { class: `trend trend-${direction}` },
    h("span", { "aria-hidden": "true" }, `${known.icon} `), `${known.words}${periods}`);
}

/** The error box, with a way back to the results. */
export function showPublicError(container, error, { notFound = "Page" } = {}) {
  const status = error?.status;
  const heading = status === 404 ? `${notFound} not found`
    : status === 429 ? "Too many requests"
      : status >= 500 ? "The server had a problem"
        : error?.title || "Something went wrong";
  const detail = error?.detail || error?.message || "An unexpected error occurred.";
  showContent(container, h("div", { class: "error-box", role: "alert" },
    h("h1", {}, heading),
    h("p", { class: "error-detail" }, detail),
    status ? h("p", { class: "error-meta" }, `HTTP ${status}`) : null,
    h("p", {}, h("a", { href: "./" }, "Back to the results"))));
  document.title = `${heading} — CityStat`;
}

/** Runs a page's loader, so that any failure becomes the error box and never a blank page. */
export async function run(container, load, options) {
  try {
    await load();
  } catch (error) {
    console.warn(error); // the box shows the words; the console keeps the stack for whoever debugs the page
    showPublicError(container, error instanceof ApiError ? error : new ApiError({ detail: String(error?.message || error) }), options);
  } finally {
    container.removeAttribute("aria-busy");
  }
}
