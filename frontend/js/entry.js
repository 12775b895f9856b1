// Numbers as people type them into the staff pages, and the sanity check before they are saved.
// Percent metrics are stored as fractions (0.95) but typed and shown as percentages (95).

import { formatValue } from "./format.js";

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// How far from its history a value may sit before we ask "are you sure?"
export const HISTORY_WINDOW = 24;
const SIGMAS = 4;
const MIN_HISTORY = 6; // fewer values than this say too little about what is usual

// Twelve significant digits drop binary noise (0.07 * 100 = 7.000000000000001) and nothing a person typed.
const tidy = (x) => Number(x.toPrecision(12));

/** The number in an input's units: 95 for a percent metric whose stored value is 0.95. */
export function toInput(value, unit) {
  if (value === null || value === undefined) return "";
  return String(unit === "percent" ? tidy(value * 100) : tidy(value));
}

/**
 * What the user typed, as the value to store: {value} (null when blank) or {error}.
 * Accepts "1,234", "$1,234.50", "95%", "95 %"; refuses anything that is not one plain decimal number.
 */
export function parseEntry(text, unit) {
  const cleaned = String(text ?? "").replace(/[\s\u00a0,$]/g, "").replace(/%$/, "");
  if (cleaned === "") return { value: null };
  if (!DECIMAL.test(cleaned)) return { error: `“${String(text).trim()}” is not a number` };
  const number = Number(cleaned);
  if (!Number.isFinite(number)) return { error: "the number is too large" };
  return { value: unit === "percent" ? tidy(number / 100) : number };
}

/** The unit as it follows a typed number: "%" for percent metrics, the unit's name otherwise. */
export function inputSuffix(unit) {
  if (unit === "percent") return "%";
  if (unit === "dollars") return "$";
  if (!unit || unit === "count") return "";
  return unit;
}

function meanAndSd(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(values.length - 1, 1);
  return { mean, sd: Math.sqrt(variance) };
}

/**
 * Why `value` looks wrong for this metric, or null when it looks plausible: outside the metric's
 * allowed range, or more than four standard deviations from the mean of its last 24 values.
 * history: [{period, value}] oldest first, periods before the one being entered.
 */
export function outlierReason(metric, history, value) {
  const unit = metric.unit;
  if (metric.min_value !== null && metric.min_value !== undefined && value < metric.min_value) {
    return `${formatValue(value, unit)} is below the lowest allowed value, ${formatValue(metric.min_value, unit)}`;
  }
  if (metric.max_value !== null && metric.max_value !== undefined && value > metric.max_value) {
    return `${formatValue(value, unit)} is above the highest allowed value, ${formatValue(metric.max_value, unit)}`;
  }
  const recent = history.slice(-HISTORY_WINDOW).map((o) => o.value).filter((v) => Number.isFinite(v));
  if (recent.length < MIN_HISTORY) return null;
  const { mean, sd } = meanAndSd(recent);
  // A flat history (sd 0) would flag every change however small; allow 1% of its level at least.
  const spread = Math.max(sd, Math.abs(mean) * 0.01, 1e-9);
  if (Math.abs(value - mean) <= SIGMAS * spread) return null;
  const lo = Math.min(...recent);
  const hi = Math.max(...recent);
  return `${formatValue(value, unit)} is far outside this metric's last ${recent.length} values `
    + `(${formatValue(lo, unit)} to ${formatValue(hi, unit)})`;
}

/**
 * Text pasted from a spreadsheet, as the rows it fills: one entry per line, each {value, comment}
 * from its first two cells. A single line of several numbers (a row copied across) fills one row each.
 * Returns null for a single cell, which the input takes as an ordinary paste.
 */
export function pastedRows(text) {
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  while (lines.length && lines.at(-1).trim() === "") lines.pop();
  const cells = lines.map((line) => line.split("\t").map((c) => c.trim()));
  if (cells.length === 1) {
    const row = cells[0];
    if (row.length === 1) return null;
    const numeric = row.filter((c) => c !== "").every((c) => !parseEntry(c, "count").error);
    if (numeric) return row.map((c) => ({ value: c, comment: null }));
  }
  return cells.map((row) => ({ value: row[0] ?? "", comment: row.length > 1 ? row[1] : null }));
}
