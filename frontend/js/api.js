// The only place that talks HTTP. Every error becomes an ApiError carrying the
// problem+json `detail`, so pages can show the server's own explanation.

const BASE = "/api";
const PAGE_SIZE = 500; // the API's hard maximum page size

export class ApiError extends Error {
  constructor({ status = 0, title = "Request failed", detail = "", type = "", errors = [] } = {}) {
    super(detail || title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
    this.errors = errors; // [{row, field, reason}] when the server lists what was wrong
  }
}

function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const qs = query.toString();
  return `${BASE}${path}${qs ? `?${qs}` : ""}`;
}

async function problemFrom(response) {
  // Not every failure is problem+json (a proxy's 502 page, say): fall back to the status.
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON; use the status line below */
  }
  return new ApiError({
    status: response.status,
    title: body?.title || response.statusText || `HTTP ${response.status}`,
    detail: body?.detail || `The server answered ${response.status} ${response.statusText}`.trim(),
    type: body?.type || "",
    errors: Array.isArray(body?.errors) ? body.errors : [],
  });
}

export async function getJSON(path, params) {
  let response;
  try {
    response = await fetch(url(path, params), { headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError({ title: "Network error", detail: "Could not reach the CityStat server. Check your connection and reload." });
  }
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}

/** All pages of a list endpoint, concatenated; other fields (period, as_of) from page one. */
async function getAll(path, params = {}) {
  const first = await getJSON(path, { ...params, limit: PAGE_SIZE, offset: 0 });
  const items = [...first.items];
  while (items.length < first.total) {
    const page = await getJSON(path, { ...params, limit: PAGE_SIZE, offset: items.length });
    if (!page.items.length) break; // the list shrank while we read it
    items.push(...page.items);
  }
  return { ...first, items };
}

const enc = encodeURIComponent;

export const api = {
  scorecards: (period) => getAll("/reporting/scorecards", { period }),
  departmentScorecard: (code, period) => getJSON(`/reporting/departments/${enc(code)}/scorecard`, { period })
    // Scorecard rows name their metric `metric`, as submission rows do; pages call it `key`.
    .then((card) => ({ ...card, metrics: card.metrics.map((m) => ({ ...m, key: m.metric })) })),
  departments: () => getAll("/metrics/departments"),
  metric: (key) => getJSON(`/metrics/metrics/${enc(key)}`),
  observations: (key, { start, end } = {}) => getAll(`/metrics/metrics/${enc(key)}/observations`, { start, end }),
  targets: (key) => getAll(`/metrics/metrics/${enc(key)}/targets`),
  performance: (key, period) => getJSON(`/metrics/metrics/${enc(key)}/performance`, { period }),
};
