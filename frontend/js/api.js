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

const NETWORK_ERROR = { title: "Network error", detail: "Could not reach the CityStat server. Check your connection and reload." };

export async function getJSON(path, params, init = {}) {
  let response;
  try {
    response = await fetch(url(path, params), { ...init, headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError(NETWORK_ERROR);
  }
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}

/** A cookie's value, or "" when it is not set. */
export function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

// Signing in sets this readable cookie next to the HttpOnly session; every write made with the session
// must echo it as X-CSRF-Token or the services answer 403. Its presence also tells a page that someone
// is probably signed in, without asking the server (and logging a 401) on every public page view.
export const CSRF_COOKIE = "citystat_csrf";

function writeHeaders(extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  const csrf = readCookie(CSRF_COOKIE);
  if (csrf) headers["X-CSRF-Token"] = csrf;
  return headers;
}

/** A write (POST, PATCH, DELETE) with a JSON body; answers the parsed body, or null for 204. */
export async function sendJSON(method, path, { params, body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(url(path, params), {
      method,
      headers: writeHeaders(body === undefined ? headers : { "Content-Type": "application/json", ...headers }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(NETWORK_ERROR);
  }
  if (!response.ok) throw await problemFrom(response);
  // Read even an empty body to its end, so a page that navigates next (sign-out) does not abort the request.
  const text = await response.text();
  return response.status === 204 || !text ? null : JSON.parse(text);
}

/**
 * Sends a file as the raw request body, reporting upload progress as onProgress(sentBytes, totalBytes)
 * and onProgress(null) once the bytes are out and the server is working. fetch() cannot report
 * upload progress, hence XMLHttpRequest.
 */
export function uploadFile(path, { params, file, contentType, headers = {}, onProgress = () => {} }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url(path, params));
    for (const [name, value] of Object.entries(writeHeaders({ "Content-Type": contentType, ...headers }))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.upload.onload = () => onProgress(null);
    xhr.onerror = () => reject(new ApiError(NETWORK_ERROR));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: described from the status below */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      reject(new ApiError({
        status: xhr.status,
        title: body?.title || xhr.statusText || `HTTP ${xhr.status}`,
        detail: body?.detail || `The server answered ${xhr.status} ${xhr.statusText}`.trim(),
        type: body?.type || "",
        errors: Array.isArray(body?.errors) ? body.errors : [],
      }));
    };
    xhr.send(file);
  });
}

/** A fresh key per save, so a retried request is applied once and a new save is never taken for a replay. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** All pages of a list endpoint, concatenated; other fields (period, as_of) from page one. */
export async function getAll(path, params = {}) {
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
  departmentMetrics: (code) => getAll("/metrics/metrics", { department: code }),
  // Without a period, each metric's last complete period: the one now due.
  departmentPerformance: (code, period) => getAll("/metrics/performance", { department: code, period }),
  revisions: (key, period) => getAll(`/metrics/metrics/${enc(key)}/observations/${enc(period)}/revisions`),

  login: (username, password) => sendJSON("POST", "/ingest/auth/login", { body: { username, password } }),
  logout: () => sendJSON("POST", "/ingest/auth/logout"),
  /** Who is signed in, or null when nobody is (401). */
  me: () => getJSON("/ingest/auth/me").catch((error) => {
    if (error.status === 401) return null;
    throw error;
  }),
  submit: (department, observations) => sendJSON("POST", "/ingest/submissions", {
    params: { department }, body: { observations }, headers: { "Idempotency-Key": idempotencyKey() } }),
  submitCsv: (department, file, { dryRun, onProgress }) => uploadFile("/ingest/submissions/csv", {
    params: { department, dryRun: dryRun ? "true" : "false" }, file, contentType: "text/csv",
    headers: { "Idempotency-Key": idempotencyKey() }, onProgress }),

  users: () => getAll("/ingest/users"),
  createUser: (body) => sendJSON("POST", "/ingest/users", { body }),
  updateUser: (id, body) => sendJSON("PATCH", `/ingest/users/${enc(id)}`, { body }),
  tokens: (department) => getAll("/ingest/tokens", { department }),
  createToken: (body) => sendJSON("POST", "/ingest/tokens", { body }),
  revokeToken: (id) => sendJSON("DELETE", `/ingest/tokens/${enc(id)}`),
  audit: (department, limit = 50) => getJSON("/ingest/audit", { department, limit }),
  /** One service's audit trail, "ingest" or "metrics", newest first: {items, total}, filtered and paged by `params`. */
  auditEvents: (service, params) => getJSON(`/${enc(service)}/audit`, params),
};
