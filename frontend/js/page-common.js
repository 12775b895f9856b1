// Pieces every page shares: the "period · as of" line and the period picker.

import { formatDate } from "./format.js";
import { formatPeriod } from "./periods.js";
import { h } from "./ui.js";

/** Fills #period-line with "Results for June 2017 · data as of July 10, 2017". */
export function periodLine({ period, as_of: asOf }) {
  const line = document.getElementById("period-line");
  if (!line) return;
  line.replaceChildren(
    "Results for ", h("strong", {}, formatPeriod(period)),
    h("span", { class: "sep", "aria-hidden": "true" }, " · "),
    "data as of ", h("time", { datetime: asOf }, formatDate(asOf)));
}

/**
 * Shows the current month in the picker; the form submits ?period=YYYY-MM by plain GET.
 * Months after "today" (as_of) have no data yet, so the picker stops there.
 */
export function initPeriodForm(period, asOf) {
  const input = document.getElementById("period");
  if (!input) return;
  if (/^\d{4}-\d{2}$/.test(period || "")) input.value = period;
  if (asOf) input.max = asOf.slice(0, 7);
}
