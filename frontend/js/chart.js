// The metric's whole series with its target as a step line, drawn with uPlot (vendored,
// MIT). Values are placed at the first day of their period on a UTC time axis.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { formatValue, UNIT_LABELS } from "./format.js";
import { formatPeriod, periodStartMs } from "./periods.js";

const VALUE_COLOUR = "#1f5fa8";
const TARGET_COLOUR = "#3d4550";

/** The target in force at each period: the last one whose effective_from is on or before its start. */
export function targetsAt(periods, targets) {
  const sorted = [...targets].sort((a, b) => a.effective_from.localeCompare(b.effective_from));
  return periods.map((p) => {
    const start = new Date(periodStartMs(p)).toISOString().slice(0, 10);
    let value = null;
    for (const t of sorted) if (t.effective_from.slice(0, 10) <= start) value = t.value;
    return value;
  });
}

function yRange(unit) {
  // Zero-based so that changes are not exaggerated, with headroom above the highest value
  // or target; a percent axis never runs past 100% unless the data does.
  return (u, dataMin, dataMax) => {
    const lo = Math.min(0, dataMin ?? 0);
    const top = dataMax ?? 1;
    let hi = top === lo ? lo + 1 : top + (top - lo) * 0.12;
    if (unit === "percent" && top <= 1) hi = Math.min(1, hi);
    return [lo, hi];
  };
}

/**
 * Draws into `container` and keeps the chart as wide as it is. Returns the uPlot instance.
 * series: [{period, value}] in period order; targets: the metric's target history.
 */
export function seriesChart(container, { series, targets, unit }) {
  const periods = series.map((o) => o.period);
  const xs = periods.map((p) => periodStartMs(p) / 1000);
  const byTime = new Map(xs.map((x, i) => [x, periods[i]]));
  const data = [xs, series.map((o) => o.value), targetsAt(periods, targets)];
  const height = () => (container.clientWidth < 560 ? 240 : 340);

  const opts = {
    width: Math.max(container.clientWidth, 280),
    height: height(),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    cursor: { points: { size: 8 } },
    // Without a hovered point the legend would read "—"; show the latest values instead.
    hooks: { setLegend: [(u) => { if (u.legend.idx == null && xs.length) u.setLegend({ idx: xs.length - 1 }, false); }] },
    scales: { x: { time: true }, y: { range: yRange(unit) } },
    axes: [
      { stroke: "#3d4550", grid: { stroke: "#e6e8eb" } },
      {
        label: UNIT_LABELS[unit] || unit || "",
        stroke: "#3d4550",
        grid: { stroke: "#e6e8eb" },
        size: 64,
        values: (u, ticks) => ticks.map((v) => formatValue(v, unit, { compact: true })),
      },
    ],
    series: [
      { label: "Period", value: (u, ts) => (ts === null ? "—" : formatPeriod(byTime.get(ts) ?? "", "short")) },
      {
        label: "Value",
        stroke: VALUE_COLOUR,
        width: 2,
        points: { show: series.length <= 60, size: 5, fill: VALUE_COLOUR },
        spanGaps: false,
        value: (u, v) => formatValue(v, unit),
      },
      {
        label: "Target",
        stroke: TARGET_COLOUR,
        width: 1.5,
        dash: [6, 4],
        points: { show: false },
        // align 1: a target holds from its period until the next one changes it.
        paths: uPlot.paths.stepped({ align: 1 }),
        value: (u, v) => formatValue(v, unit),
      },
    ],
  };
  const chart = new uPlot(opts, data, container);
  chart.setLegend({ idx: xs.length - 1 }, false);
  if ("ResizeObserver" in window) {
    // Follow the layout (window resize, rotation) without reflowing the whole page.
    new ResizeObserver(() => {
      const width = Math.max(container.clientWidth, 280);
      if (width !== chart.width) chart.setSize({ width, height: height() });
    }).observe(container);
  }
  return chart;
}
