// "upload.html": a CSV file of values for one department, checked first (dryRun=true: nothing is
// stored) and then submitted, with the import summary row by row. Rejected rows are numbered as the
// spreadsheet numbers them (the header is row 1).

import { api } from "./api.js";
import { canWrite, requireUser } from "./session.js";
import { chooseDepartment } from "./staff-common.js";
import { h, param, showContent, showError, showLoading } from "./ui.js";

const content = document.getElementById("content");
const form = document.getElementById("upload-form");
const fileInput = document.getElementById("file");
const select = document.getElementById("department");
const checkButton = document.getElementById("check");
const submitButton = document.getElementById("submit");
const progressBox = document.getElementById("progress-box");
const progress = document.getElementById("progress");
const progressText = document.getElementById("progress-text");
const result = document.getElementById("result");

const count = new Intl.NumberFormat("en-US");
let fixedDepartment = null; // a liaison's own; citywide staff use the select
let checked = null; // the file and department the last successful check was for

function department() {
  return fixedDepartment || select.value || null;
}

function reset() {
  checked = null;
  submitButton.disabled = true;
  result.replaceChildren();
}

function showProgress(sent, total) {
  progressBox.hidden = false;
  if (sent === null) {
    progress.removeAttribute("value"); // indeterminate: the server is reading the file
    progressText.textContent = "Uploaded; the server is checking the rows…";
    return;
  }
  const share = total ? Math.round((100 * sent) / total) : 0;
  progress.value = share;
  progressText.textContent = `Uploading… ${share}%`;
}

function summaryTable(summary, dryRun) {
  const verb = dryRun ? "would be" : "were";
  const rows = [
    ["accepted", dryRun ? "New values to store" : "New values stored", summary.accepted],
    ["updated", dryRun ? "Values to update" : "Values updated", summary.updated],
    ["unchanged", "Unchanged", summary.unchanged],
    ["ignored", "Ignored", summary.ignored],
    ["deleted", "Deleted", summary.deleted],
    ["rejected", `Rows that ${verb} refused`, summary.rejected.length],
  ].filter(([key, , n]) => n || ["accepted", "updated", "unchanged", "rejected"].includes(key));
  return h("table", { class: "import-counts" },
    h("caption", {}, "Import summary"),
    h("tbody", {}, rows.map(([key, label, n]) => h("tr", {}, h("th", { scope: "row" }, label),
      h("td", { dataset: { count: key } }, count.format(n))))));
}

function rejectedTable(rejected) {
  if (!rejected.length) return null;
  const sorted = [...rejected].sort((a, b) => a.row - b.row);
  return h("div", { class: "table-wrap" },
    h("table", { class: "rejected-rows", id: "rejected-rows" },
      h("caption", {}, `Refused rows (${sorted.length}), numbered as in the spreadsheet`),
      h("thead", {}, h("tr", {}, ["Row", "Field", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, sorted.map((r) => h("tr", {},
        h("th", { scope: "row" }, String(r.row)), h("td", {}, r.field), h("td", {}, r.reason))))));
}

function showReceipt(receipt, dryRun, file) {
  const summary = receipt.summary;
  if (!summary) {
    result.replaceChildren(h("section", { class: "receipt receipt-ok", id: "upload-receipt", tabindex: "-1" },
      h("h2", {}, "Saved, will be applied shortly"),
      h("p", {}, `${file.name} is stored safely; the metrics service will apply it in a moment.`),
      h("p", { class: "muted receipt-id" }, `Receipt ${receipt.id || "—"}`)));
    result.firstChild.focus();
    return;
  }
  const refused = summary.rejected.length;
  const good = summary.accepted + summary.updated + summary.unchanged + summary.ignored + summary.deleted;
  const heading = dryRun
    ? `Checked ${file.name}: ${count.format(good)} ${good === 1 ? "row" : "rows"} usable, ${count.format(refused)} refused`
    : `Submitted ${file.name}: ${count.format(summary.accepted + summary.updated)} ${summary.accepted + summary.updated === 1 ? "value" : "values"} stored`;
  const advice = dryRun
    ? (refused ? "Nothing has been stored yet. Fix the refused rows and check again, or submit to store the usable rows now."
      : "Nothing has been stored yet. Submit to store these values.")
    : (refused ? "The refused rows were not stored; fix them and upload just those rows again." : "Every row was stored.");
  result.replaceChildren(h("section", { class: `receipt ${refused ? "receipt-partial" : "receipt-ok"}`, id: "upload-receipt",
    tabindex: "-1", "aria-labelledby": "upload-receipt-title" },
    h("h2", { id: "upload-receipt-title" }, heading),
    h("p", {}, advice),
    summaryTable(summary, dryRun),
    rejectedTable(summary.rejected),
    dryRun ? null : h("p", { class: "muted receipt-id" }, `Receipt ${receipt.id || "—"}`)));
  result.firstChild.focus();
}

function showProblem(error) {
  const heading = error.status === 413 ? "The file is too large"
    : error.status === 400 ? "The file cannot be read"
      : error.status === 403 ? "Not allowed" : "The upload failed";
  result.replaceChildren(h("div", { class: "error-box", role: "alert", id: "upload-error" },
    h("h2", {}, heading),
    h("p", { class: "error-detail" }, error.detail || error.message),
    error.errors?.length
      ? h("ul", { class: "error-list" }, error.errors.map((e) => h("li", {},
        [e.row ? `Row ${e.row}` : null, e.field].filter(Boolean).join(", ") + (e.row || e.field ? ": " : "") + e.reason)))
      : null));
}

async function send(dryRun) {
  const file = fileInput.files[0];
  const code = department();
  result.replaceChildren();
  if (!code) {
    showProblem({ detail: "Choose the department the file is for." });
    select.focus();
    return;
  }
  if (!file) {
    showProblem({ detail: "Choose a CSV file to upload." });
    fileInput.focus();
    return;
  }
  checkButton.disabled = true;
  submitButton.disabled = true;
  form.setAttribute("aria-busy", "true");
  showProgress(0, file.size);
  try {
    const receipt = await api.submitCsv(code, file, { dryRun, onProgress: showProgress });
    showReceipt(receipt, dryRun, file);
    checked = dryRun ? { file, code } : null;
  } catch (error) {
    checked = null;
    showProblem(error);
  } finally {
    progressBox.hidden = true;
    form.removeAttribute("aria-busy");
    checkButton.disabled = false;
    submitButton.disabled = !(checked && checked.file === fileInput.files[0] && checked.code === department());
  }
}

function csvCell(text) {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function downloadTemplate() {
  const code = department();
  if (!code) {
    showProblem({ detail: "Choose the department to make a template for." });
    select.focus();
    return;
  }
  try {
    const [{ items: metrics }, { items: performance }] = await Promise.all([
      api.departmentMetrics(code), api.departmentPerformance(code)]);
    const due = new Map(performance.map((p) => [p.metric, p]));
    const lines = ["metric,period,value,comment"];
    for (const m of metrics) {
      if (m.is_computed || !due.has(m.key)) continue;
      const p = due.get(m.key);
      const value = p.value === null || p.value === undefined ? "" : String(p.value);
      lines.push([m.key, p.period, value, ""].map(csvCell).join(","));
    }
    const blob = new Blob([`${lines.join("\n")}\n`], { type: "text/csv" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `citystat-${code}-values.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (error) {
    showProblem(error);
  }
}

async function main() {
  const user = await requireUser();
  showLoading(content, "Loading…");
  let chosen;
  try {
    chosen = await chooseDepartment(user, param("department"));
  } catch (error) {
    showError(content, error);
    return;
  }
  if (!user.citywide) {
    fixedDepartment = chosen.code;
    const fixed = document.getElementById("department-fixed");
    fixed.replaceChildren("Department: ", h("strong", {}, chosen.name));
    fixed.hidden = false;
  }
  if (user.role === "viewer" || (fixedDepartment && !canWrite(user, fixedDepartment))) {
    showContent(content, h("p", { class: "notice" }, "Your account can read figures but not submit them."));
    return;
  }
  showContent(content);
  form.hidden = false;
  fileInput.addEventListener("change", reset);
  select.addEventListener("change", reset);
  checkButton.addEventListener("click", () => send(true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
  document.getElementById("template").addEventListener("click", downloadTemplate);
}

main();
