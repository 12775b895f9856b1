// The raw-records calls: bulk upload jobs (ingest), datasets and mapping profiles, and the records behind a
// computed value (metrics).

import { getAll, getJSON, idempotencyKey, uploadFile } from "./api.js";

const enc = encodeURIComponent;

/** The Content-Type ingest reads the file as: gzip by its name or type, NDJSON by its name, else CSV. */
export function contentTypeOf(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".gz") || /gzip/.test(file.type)) return "application/gzip";
  if (/\.(ndjson|jsonl)$/.test(name) || /ndjson|jsonl/.test(file.type)) return "application/x-ndjson";
  return "text/csv";
}

export const recordsApi = {
  datasets: () => getAll("/metrics/datasets"),
  profiles: () => getAll("/metrics/mapping-profiles"),

  /** Sends the file as the raw body; answers the job at once (202), before metrics has loaded anything. */
  upload: (file, { dataset, mapping, department, createDepartments, onProgress }) => uploadFile("/ingest/records", {
    params: { dataset, mapping, department, create_departments: createDepartments ? "true" : "false", filename: file.name },
    file, contentType: contentTypeOf(file), headers: { "Idempotency-Key": idempotencyKey() }, onProgress }),
  job: (id) => getJSON(`/ingest/jobs/${enc(id)}`),
  jobs: (limit = 10) => getJSON("/ingest/jobs", { limit, offset: 0 }),
  rejections: (id, { limit, offset }) => getJSON(`/ingest/jobs/${enc(id)}/rejections`, { limit, offset }),

  /** The records behind a computed value; without an outcome, the server picks what the value counts. */
  recordsBehind: (key, { period, outcome, orgUnit, limit, offset }) => getJSON(`/metrics/metrics/${enc(key)}/records`,
    { period, outcome, org_unit: orgUnit, limit, offset }),
  observation: (key, period, orgUnit) => getJSON(`/metrics/metrics/${enc(key)}/observations`,
    { start: period, end: period, org_unit: orgUnit, limit: 1 }).then((page) => page.items[0] || null),
};
