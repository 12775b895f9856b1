// A tiny inline SVG trend line for a metric card. Drawn by hand: a chart library
// would be heavy for twenty little lines, and SVG scales crisply at any zoom.

import { formatPeriod } from "./periods.js";
import { formatValue } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
// Wide enough to fill a card at its usual size; on narrower cards it scales down evenly.
const W = 300;
const H = 44;
const PAD = 4;

function el(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/**
 * periods: every period in the window, oldest first (a missing value leaves a gap);
 * values: Map period -> number; target: the target now in force, drawn dashed.
 */
export function sparkline({ periods, values, target = null, unit, status = "no_target" }) {
  const known = periods.filter((p) => values.get(p) !== undefined && values.get(p) !== null);
  const numbers = known.map((p) => values.get(p));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "sparkline", role: "img", focusable: "false" });
  if (!numbers.length) {
    svg.setAttribute("aria-label", "No values in the last periods");
    return svg;
  }
  const first = known[0];
  const last = known[known.length - 1];
  const title = el("title", {});
  title.textContent = `Trend: ${formatValue(values.get(first), unit)} in ${formatPeriod(first)}, `
    + `${formatValue(values.get(last), unit)} in ${formatPeriod(last)}`;
  svg.append(title);
  svg.setAttribute("aria-label", title.textContent);

  // Scale to the data and the target together so the target line is always in view.
  const domain = target === null ? numbers : [...numbers, target];
  let lo = Math.min(...domain);
  let hi = Math.max(...domain);
  if (hi === lo) { hi += 1; lo -= 1; }
  const x = (i) => PAD + (periods.length === 1 ? (W - 2 * PAD) / 2 : (i * (W - 2 * PAD)) / (periods.length - 1));
  const y = (v) => H - PAD - ((v - lo) * (H - 2 * PAD)) / (hi - lo);

  if (target !== null) {
    svg.append(el("line", { x1: PAD, x2: W - PAD, y1: y(target), y2: y(target), class: "spark-target" }));
  }
  // One polyline per run of consecutive known values: a missing month is a visible gap.
  let run = [];
  const flush = () => {
    if (run.length > 1) svg.append(el("polyline", { points: run.map((xy) => xy.join(",")).join(" "), class: "spark-line" }));
    else if (run.length === 1) svg.append(el("circle", { cx: run[0][0], cy: run[0][1], r: 1.5, class: "spark-point" }));
    run = [];
  };
  periods.forEach((p, i) => {
    const v = values.get(p);
    if (v === undefined || v === null) flush();
    else run.push([x(i).toFixed(1), y(v).toFixed(1)]);
  });
  flush();
  const i = periods.indexOf(last);
  svg.append(el("circle", { cx: x(i), cy: y(values.get(last)), r: 3, class: `spark-dot status-${status}` }));
  return svg;
}
