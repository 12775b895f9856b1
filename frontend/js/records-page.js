// "records.html[?job=ID]": a file of raw records (CSV or NDJSON, gzipped or not) sent to ingest, which stores it
// and answers with a job at once; the page then follows the job (GET /ingest/jobs/{id} every half second) with a
// progress bar until metrics has loaded it, and shows the import summary and every rejected row with its reason.
// The job's id goes into the address, so the page can be bookmarked and reloaded while the file loads.

import { api } from "./api.js";
import { recordsApi } from "./records-api.js";
import { requireUser } from "./session.js";
import { h, param, showContent, showError, showLoading } from "./ui.js";

const POLL_MS = 500;
const RETRY_MS = 2000; // after a failed poll: the job goes on loading whether or not we can see it
const REJECTIONS_PAGE = 25;
const ENDED = ["done", "failed"];
const OFFICE = ["admin", "analyst"];
const STATUS_WORDS = { spooled: "Waiting to load", loading: "Loading", done: "Loaded", failed: "Failed", uploading: "Uploading" };

const content = document.getElementById("content");
const form = document.getElementById("records-form");
const fileInput = document.getElementById("file");
const datasetSelect = document.getElementById("dataset");
const mappingSelect = document.getElementById("mapping");
const mappingHelp = document.getElementById("mapping-help");
const departmentSelect = document.getElementById("department");
const createBox = document.getElementById("create-departments");
const formError = document.getElementById("form-error");
const uploadButton = document.getElementById("upload");
const panel = document.getElementById("job-panel");
const jobsSection = document.getElementById("jobs-section");
const jobsSlot = document.getElementById("jobs");

const count = new Intl.NumberFormat("en-US");
const when = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });
const clock = new Intl.DateTimeFormat("en-US", { timeStyle: "short" });

let profiles = [];
let fixedDepartment = null; // a liaison's or head's own; the performance office chooses
let following = 0; // bumped whenever another job is shown, which ends the previous one's polling

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function size(bytes) {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let n = bytes;
  let unit = 0;
  while (n >= 1000 && unit < units.length - 1) {
    n /= 1000;
    unit += 1;
  }
  return `${unit ? n.toFixed(n < 10 ? 1 : 0) : n} ${units[unit]}`;
}

function share(done, total) {
  return total ? Math.min(100, Math.floor((100 * done) / total)) : 0;
}

function dateTime(iso) {
  return iso ? when.format(new Date(iso)) : "—";
}

function plural(n, one, many) {
  return `${count.format(n)} ${n === 1 ? one : many}`;
}

// ---- the form ------------------------------------------------------------------------------------------------

function fillMappings() {
  const dataset = datasetSelect.value;
  const chosen = mappingSelect.value;
  const fitting = profiles.filter((p) => p.dataset === dataset);
  const group = (label, items) => (items.length ? h("optgroup", { label },
    items.map((p) => h("option", { value: p.name, selected: p.name === chosen }, p.name))) : null);
  mappingSelect.replaceChildren(h("option", { value: "" }, "Choose a mapping profile…"),
    group("Built in", fitting.filter((p) => p.is_builtin)),
    group("The city's own", fitting.filter((p) => !p.is_builtin)));
  describeMapping();
}

function describeMapping() {
  const profile = profiles.find((p) => p.name === mappingSelect.value);
  if (!profile) {
    mappingHelp.textContent = "The mapping profile says which of the file's columns is which, and the feed's time zone.";
    return;
  }
  const d = profile.definition || {};
  const facts = [d.format ? `${String(d.format).toUpperCase()} file` : null, d.time_zone ? `times in ${d.time_zone}` : null]
    .filter(Boolean).join(", ");
  mappingHelp.textContent = [profile.description, facts].filter(Boolean).join(" — ");
}

function showFormError(detail, field = null, errors = []) {
  formError.replaceChildren(h("div", { class: "error-box", role: "alert", id: "upload-error" },
    h("p", { class: "error-detail" }, detail),
    errors.length ? h("ul", { class: "error-list" }, errors.map((e) => h("li", {},
      `${e.field ? `${String(e.field).replace(/^query\./, "")}: ` : ""}${e.reason}`))) : null));
  if (field) field.focus();
}

async function submit(event) {
  event.preventDefault();
  formError.replaceChildren();
  const file = fileInput.files[0];
  if (!file) return showFormError("Choose the file of records to upload.", fileInput);
  if (!datasetSelect.value) return showFormError("Choose the dataset the records belong to.", datasetSelect);
  if (!mappingSelect.value) return showFormError("Choose the mapping profile that reads this file.", mappingSelect);
  const options = {
    dataset: datasetSelect.value,
    mapping: mappingSelect.value,
    department: fixedDepartment || departmentSelect.value || null,
    createDepartments: !fixedDepartment && createBox.checked,
  };
  uploadButton.disabled = true;
  form.setAttribute("aria-busy", "true");
  const view = jobView({ id: null, filename: file.name, dataset: options.dataset, mapping: options.mapping,
    department: options.department, status: "uploading", bytes_total: file.size, created_at: null, actor: null });
  following += 1; // a job shown before stops updating this panel
  view.progress(0, file.size, "uploading");
  try {
    const job = await recordsApi.upload(file, { ...options, onProgress: (sent, total) => {
      if (sent === null) view.note("Sent; waiting for the server to store it…");
      else view.progress(sent, total, "uploading");
    } });
    window.history.replaceState(null, "", `records.html?job=${encodeURIComponent(job.id)}`);
    follow(job.id, job);
    refreshJobs();
  } catch (error) {
    panel.hidden = true;
    const heading = error.status === 413 ? "The file is too large. " : error.status === 415 ? "That kind of file cannot be read. " : "";
    showFormError(`${heading}${error.detail || error.message}`, null, error.errors || []);
    formError.querySelector("[role=alert]")?.setAttribute("tabindex", "-1");
    formError.querySelector("[role=alert]")?.focus();
  } finally {
    form.removeAttribute("aria-busy");
    uploadButton.disabled = false;
  }
  return undefined;
}

// ---- one job: progress, then its summary -------------------------------------------------------------------

/** Builds the job panel once; its parts are updated in place, so focus and the rejection pager survive polls. */
function jobView(job) {
  const title = h("h2", { id: "job-title" }, job.filename || "Upload");
  const status = h("span", { class: "job-state", id: "job-status" });
  const meta = h("p", { class: "muted job-meta", id: "job-meta" });
  const bar = h("progress", { id: "job-progress", max: "1", "aria-describedby": "progress-text" });
  const text = h("span", { id: "progress-text" });
  const rows = h("span", { id: "rows-read", class: "rows-read" });
  // Polite announcements at milestones only (each status, each quarter): a number read out every half second
  // would drown everything else.
  const announcer = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite", id: "job-announce" });
  const result = h("div", { id: "job-result", "aria-live": "polite" });
  let lastSaid = "";
  const say = (words) => {
    if (words !== lastSaid) announcer.textContent = words;
    lastSaid = words;
  };
  panel.replaceChildren(
    h("div", { class: "job-head" }, title, status),
    meta,
    h("div", { class: "upload-progress job-progress" },
      h("label", { for: "job-progress", class: "visually-hidden" }, "Loading progress"),
      bar, h("span", {}, text, " ", rows)),
    announcer,
    result);
  panel.hidden = false;

  const view = {
    result,
    meta(j) {
      const parts = [`Dataset ${j.dataset}`, `mapping ${j.mapping}`,
        j.department ? `department ${j.department}` : "every department the file names"];
      if (j.create_departments) parts.push("creating missing departments");
      if (j.created_at) parts.push(`uploaded ${dateTime(j.created_at)}${j.actor ? ` by ${j.actor}` : ""}`);
      meta.textContent = `${parts.join(" · ")}.`;
      if (j.filename) title.textContent = j.filename;
    },
    status(s) {
      status.className = `job-state job-state-${s}`;
      status.textContent = STATUS_WORDS[s] || s;
    },
    progress(done, total, s, rowsRead = null) {
      view.status(s);
      if (s === "spooled") {
        bar.removeAttribute("value"); // indeterminate: stored, not started
        bar.max = 1;
      } else {
        bar.max = Math.max(total, 1);
        bar.value = Math.min(done, bar.max);
      }
      const pct = s === "done" ? 100 : share(done, total);
      const of = `${pct}% of ${size(total)}`;
      text.textContent = s === "uploading" ? `Uploading: ${of}` : s === "spooled" ? `Stored (${size(total)}); waiting to load`
        : s === "loading" ? `Loading: ${of}` : s === "done" ? `Loaded: ${of}` : `Stopped at ${of}`;
      rows.textContent = rowsRead === null ? "" : `· ${plural(rowsRead, "row", "rows")} read`;
      say(s === "loading" || s === "uploading" ? `${STATUS_WORDS[s]}: ${Math.floor(pct / 25) * 25}%` : STATUS_WORDS[s] || s);
    },
    note(words) {
      text.textContent = words;
    },
  };
  view.meta(job);
  return view;
}

function summaryTable(summary) {
  const recomputed = Object.entries(summary.recomputed || {});
  const rows = [
    ["rows_read", "Rows read", count.format(summary.rows_read)],
    ["accepted", "New records", count.format(summary.accepted)],
    ["updated", "Records updated", count.format(summary.updated)],
    ["unchanged", "Unchanged", count.format(summary.unchanged)],
    ["rejected", "Rows rejected", count.format(summary.rejected)],
    ["departments_created", "Departments created", count.format(summary.departments_created.length),
      summary.departments_created.length ? summary.departments_created.join(", ") : null],
    ["recomputed", "Computed metrics recomputed", count.format(recomputed.length),
      recomputed.length ? recomputed.map(([key, r]) => `${key} (${plural(r.periods ?? 0, "period", "periods")})`).join(", ") : null],
  ];
  return h("table", { class: "import-counts", id: "import-summary" },
    h("caption", {}, "Import summary"),
    h("tbody", {}, rows.map(([key, label, n, detail]) => h("tr", {},
      h("th", { scope: "row" }, label),
      h("td", { dataset: { count: key } }, n),
      h("td", { class: "muted count-detail" }, detail || "")))));
}

/** The rejected rows, a page at a time, in row order. */
function rejectionsSection(jobId, total) {
  const body = h("tbody");
  const position = h("p", { class: "muted pager-position", id: "rejections-position" });
  const previous = h("button", { type: "button", class: "secondary small", id: "rejections-previous" }, "Previous rows");
  const next = h("button", { type: "button", class: "secondary small", id: "rejections-next" }, "Next rows");
  const problem = h("div");
  let offset = 0;
  const show = async (at) => {
    previous.disabled = true;
    next.disabled = true;
    try {
      const page = await recordsApi.rejections(jobId, { limit: REJECTIONS_PAGE, offset: at });
      offset = at;
      body.replaceChildren(...page.items.map((r) => h("tr", {},
        h("th", { scope: "row" }, count.format(r.row)), h("td", {}, r.record_id || "—"), h("td", {}, r.field), h("td", {}, r.reason))));
      position.textContent = page.items.length
        ? `Rows ${count.format(at + 1)}–${count.format(at + page.items.length)} of ${count.format(page.total)} rejected`
        : "No rejected rows here.";
      problem.replaceChildren();
      previous.disabled = at === 0;
      next.disabled = at + page.items.length >= page.total;
    } catch (error) {
      problem.replaceChildren(h("p", { class: "error-box", role: "alert" }, `The rejected rows could not be read: ${error.detail || error.message}`));
      previous.disabled = offset === 0;
      next.disabled = false;
    }
  };
  previous.addEventListener("click", () => show(Math.max(0, offset - REJECTIONS_PAGE)));
  next.addEventListener("click", () => show(offset + REJECTIONS_PAGE));
  const section = h("section", { class: "rejections", "aria-labelledby": "rejections-title" },
    h("h3", { id: "rejections-title" }, `Rejected rows (${count.format(total)})`),
    h("p", { class: "muted help" }, "Rows are numbered as in a spreadsheet (the header is row 1), or by line in an NDJSON file. "
      + "Fix them and upload just those rows again: records are matched on their id, so nothing is doubled."),
    h("div", { class: "table-wrap" }, h("table", { class: "rejected-rows", id: "rejected-rows" },
      h("caption", { class: "visually-hidden" }, "Rejected rows with the field and the reason"),
      h("thead", {}, h("tr", {}, ["Row", "Record id", "Field", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
      body)),
    h("div", { class: "pager", role: "group", "aria-label": "Pages of rejected rows" }, previous, position, next),
    problem);
  return { section, ready: show(0) };
}

async function showResult(view, job) {
  const summary = job.summary;
  const parts = [];
  if (job.status === "failed") {
    parts.push(h("div", { class: "error-box", id: "job-error" },
      h("h3", {}, "The file was not loaded"),
      h("p", { class: "error-detail" }, job.error || "The import stopped."),
      h("p", {}, summary && summary.rows_read
        ? "The counts below are of the rows loaded before it stopped; sending the file again loads the rest (records are matched on their id)."
        : "Nothing was loaded. Check the mapping profile against the file's header and send it again.")));
  } else {
    const stored = summary ? summary.accepted + summary.updated : 0;
    parts.push(h("h3", { id: "result-title" }, summary
      ? `${plural(stored, "record", "records")} stored, ${plural(summary.rejected, "row", "rows")} rejected`
      : "Loaded"));
  }
  let rejections = null;
  if (summary) {
    parts.push(summaryTable(summary));
    if (summary.rejected) rejections = rejectionsSection(job.id, summary.rejected);
  }
  if (rejections) parts.push(rejections.section);
  view.result.replaceChildren(h("div", { class: `receipt ${job.status === "done" && !summary?.rejected ? "receipt-ok" : "receipt-partial"}` },
    ...parts));
  if (rejections) await rejections.ready;
}

/** Follows a job until it ends; another job shown meanwhile (a new upload) ends this one's loop. */
async function follow(id, first = null) {
  following += 1;
  const me = following;
  let job = first;
  let view = null;
  while (me === following) {
    if (!job) {
      try {
        job = await recordsApi.job(id);
      } catch (error) {
        if (me !== following) return;
        // Gone, not ours, or signed out: asking again will not help. Anything else (a network blip) may pass.
        if ([401, 403, 404, 422].includes(error.status) || !view) {
          panel.hidden = false;
          panel.replaceChildren(h("h2", { id: "job-title" }, "Upload job"), h("div", { class: "error-box", role: "alert", id: "job-error" },
            h("p", { class: "error-detail" }, error.status === 404 || error.status === 422
              ? `No upload job ${id} is visible to you.` : error.detail || error.message)));
          return;
        }
        view.note(`Could not read the progress just now (${error.detail || error.message}); trying again…`);
        await sleep(RETRY_MS);
        continue;
      }
      if (me !== following) return;
    }
    view = view || jobView(job);
    view.meta(job);
    view.progress(job.progress.done, job.progress.total, job.status, job.summary ? job.summary.rows_read : null);
    if (ENDED.includes(job.status)) {
      await showResult(view, job);
      refreshJobs();
      return;
    }
    job = null;
    await sleep(POLL_MS);
  }
}

// ---- recent uploads ------------------------------------------------------------------------------------------

async function refreshJobs() {
  let page;
  try {
    page = await recordsApi.jobs(10);
  } catch (error) {
    jobsSlot.replaceChildren(h("p", { class: "error-box" }, `The recent uploads could not be read: ${error.detail || error.message}`));
    jobsSection.hidden = false;
    return;
  }
  jobsSection.hidden = false;
  if (!page.items.length) {
    jobsSlot.replaceChildren(h("p", { class: "empty" }, "No uploads yet."));
    return;
  }
  const current = param("job");
  jobsSlot.replaceChildren(h("div", { class: "table-wrap" }, h("table", { id: "jobs-table" },
    h("caption", {}, page.total > page.items.length
      ? `The ${page.items.length} newest of ${count.format(page.total)} uploads` : "Uploads, newest first"),
    h("thead", {}, h("tr", {}, ["File", "Uploaded", "Mapping", "Department", "Status", "Rows read", "Rejected"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, page.items.map((j) => h("tr", { dataset: { job: j.id }, "aria-current": j.id === current ? "true" : null },
      h("th", { scope: "row" }, h("a", { href: `records.html?job=${encodeURIComponent(j.id)}` }, j.filename || `Upload ${j.id.slice(0, 8)}`)),
      h("td", {}, dateTime(j.created_at)),
      h("td", {}, j.mapping),
      h("td", {}, j.department || "Every department"),
      h("td", {}, h("span", { class: `job-state job-state-${j.status}` }, STATUS_WORDS[j.status] || j.status,
        j.status === "loading" ? ` ${share(j.progress.done, j.progress.total)}%` : "")),
      h("td", {}, j.summary ? count.format(j.summary.rows_read) : "—"),
      h("td", {}, j.summary ? count.format(j.summary.rejected) : "—")))))));
}

// ---- start ---------------------------------------------------------------------------------------------------

async function main() {
  const user = await requireUser();
  showLoading(content, "Loading…");
  const office = OFFICE.includes(user.role);
  const mayUpload = office || (["liaison", "head"].includes(user.role) && Boolean(user.department));
  const jobId = param("job");
  refreshJobs();
  if (jobId) follow(jobId);
  if (!mayUpload) {
    showContent(content, h("p", { class: "notice" }, "Your account can follow uploads but not send them."));
    return;
  }
  let datasets;
  let departments;
  try {
    [{ items: datasets }, { items: profiles }, { items: departments }] = await Promise.all([
      recordsApi.datasets(), recordsApi.profiles(), api.departments()]);
  } catch (error) {
    showError(content, error, { back: false });
    return;
  }
  const preferred = param("dataset") || "service_requests";
  datasetSelect.replaceChildren(...datasets.map((d) => h("option", { value: d.key, selected: d.key === preferred },
    `${d.title} (${plural(d.records, "record", "records")})`)));
  fillMappings();
  if (param("mapping")) {
    mappingSelect.value = param("mapping");
    describeMapping();
  }
  if (office) {
    departmentSelect.replaceChildren(h("option", { value: "" }, "Every department the file names"),
      ...departments.map((d) => h("option", { value: d.code, selected: d.code === param("department") }, `${d.name} (${d.code})`)));
    document.getElementById("department-field").hidden = false;
    document.getElementById("department-help").hidden = false;
    document.getElementById("create-field").hidden = false;
  } else {
    fixedDepartment = user.department;
    const fixed = document.getElementById("department-fixed");
    const own = departments.find((d) => d.code === user.department);
    fixed.replaceChildren("Department: ", h("strong", {}, own ? `${own.name} (${own.code})` : user.department),
      " — the records must be your department's own.");
    fixed.hidden = false;
  }
  showContent(content);
  form.hidden = false;
  datasetSelect.addEventListener("change", fillMappings);
  mappingSelect.addEventListener("change", describeMapping);
  form.addEventListener("submit", submit);
}

main();
