// The metrics service's calls that the metric chart, the completeness board and the approvals page make:
// notes and their threads, definition versions (series breaks), schedules and completeness, approvals and locks.

import { getAll, getJSON, sendJSON } from "./api.js";

const enc = encodeURIComponent;

export const performanceApi = {
  annotations: (key) => getAll(`/metrics/metrics/${enc(key)}/annotations`),
  addAnnotation: (key, body) => sendJSON("POST", `/metrics/metrics/${enc(key)}/annotations`, { body }),
  reply: (key, id, body) => sendJSON("POST", `/metrics/metrics/${enc(key)}/annotations/${enc(id)}/replies`, { body: { body } }),
  versions: (key) => getJSON(`/metrics/metrics/${enc(key)}/versions`),

  completeness: ({ department, start, end } = {}) => getJSON("/metrics/completeness", { department, start, end }),
  staleMetrics: (department) => getAll("/metrics/stale-metrics", { department }),

  approvals: (code) => getAll(`/metrics/departments/${enc(code)}/approvals`),
  approve: (code, period, note) => sendJSON("POST", `/metrics/departments/${enc(code)}/approvals`, { body: { period, note } }),
  periodLock: (code, period) => getJSON(`/metrics/departments/${enc(code)}/periods/${enc(period)}/lock`),
};
