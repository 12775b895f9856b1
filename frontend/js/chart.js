// The metric's whole series, drawn with uPlot (vendored, MIT) on a UTC time axis with each value at the first day
// of its period: the target as a step line inside its tolerance band, the process-behaviour (XmR) centre line and
// natural process limits, rings on the values a signal flags, hollow points for provisional values, and, over the
// plot, a labelled line at each series break and a button per period that has notes.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { formatValue, UNIT_LABELS } from "./format.js";
import { formatPeriod, periodStartMs, shiftPeriod } from "./periods.js";
import { h } from "./ui.js";

export const COLOURS = {
  value: "#1f5fa8",
  target: "#3d4550",
  band: "rgba(26, 127, 55, 0.14)",
  bandEdge: "rgba(26, 127, 55, 0.45)",
  limits: "#6b3fa0",
  signal: "#c62828",
};

const DAY_MS = 86400000;

/** The last day of a period, "YYYY-MM-DD". */
function periodEnd(period) {
  return new Date(periodStartMs(shiftPeriod(period, 1)) - DAY_MS).toISOString().slice(0, 10);
}

function inUnits(target) {
  // A percent tolerance is a share of the target itself (services/metrics/definitions/models.py).
  const tolerance = target.tolerance || 0;
  return target.tolerance_kind === "percent" ? (Math.abs(target.value) * tolerance) / 100 : tolerance;
}

/**
 * The target in force at the end of each period, as the performance service judges it: the latest that started
 * on or before that day, unless it had ended by then. Each entry is {value, low, high} or null.
 */
export function targetBands(periods, targets) {
  const sorted = [...targets].sort((a, b) => a.effective_from.localeCompare(b.effective_from));
  return periods.map((p) => {
    const end = periodEnd(p);
    let current = null;
    for (const t of sorted) if (t.effective_from.slice(0, 10) <= end) current = t;
    if (!current || (current.effective_to && current.effective_to.slice(0, 10) < end)) return null;
    const tolerance = inUnits(current);
    return { value: current.value, low: current.value - tolerance, high: current.value + tolerance };
  });
}

/** The target value in force at each period (null where none). */
export function targetsAt(periods, targets) {
  return targetBands(periods, targets).map((b) => (b ? b.value : null));
}

export const SIGNAL_RULES = {
  beyond_limits: "Beyond the process limits",
  run_one_side: "Run of 8 or more on one side of the centre line",
  run_trend: "Run of 6 or more in one direction",
};

const SIGNAL_DIRECTIONS = { above: "above", below: "below", up: "rising", down: "falling" };

export function signalWords(signal) {
  const direction = SIGNAL_DIRECTIONS[signal.direction] || signal.direction;
  return `${SIGNAL_RULES[signal.rule] || signal.rule} (${direction})`;
}

/** Period → the signals that flag it. */
export function signalsByPeriod(signals) {
  const map = new Map();
  for (const s of signals || []) for (const p of s.periods) map.set(p, [...(map.get(p) || []), s]);
  return map;
}

function yRange(unit) {
  // Zero-based so that changes are not exaggerated, with headroom above the highest value, band or limit;
  // a percent axis never runs past 100% unless the data does.
  return (u, dataMin, dataMax) => {
    const lo = Math.min(0, dataMin ?? 0);
    const top = dataMax ?? 1;
    let hi = top === lo ? lo + 1 : top + (top - lo) * 0.12;
    if (unit === "percent" && top <= 1) hi = Math.min(1, hi);
    return [lo, hi];
  };
}

const noLine = () => null;

/**
 * The layers a chart of this data draws, in legend order: [{layer, label}]. The legend under the chart and the
 * tests read this, so a layer is listed exactly when it is drawn.
 */
export function chartLayers({ series, targets, limits, breaks = [], notes = [] }) {
  const periods = series.map((o) => o.period);
  const bands = targetBands(periods, targets);
  const layers = [{ layer: "value", label: "Value" }];
  if (series.some((o) => o.approved === false)) layers.push({ layer: "provisional", label: "Provisional value (not yet approved)" });
  if (bands.some(Boolean)) layers.push({ layer: "target", label: "Target" });
  if (bands.some((b) => b && b.high > b.low)) layers.push({ layer: "band", label: "Target ± tolerance" });
  if (limits && limits.centre !== null && limits.centre !== undefined) {
    layers.push({ layer: "centre", label: "Centre line (average of the baseline)" });
    layers.push({ layer: "limits", label: "Natural process limits" });
  }
  if (limits?.signals?.length) layers.push({ layer: "signal", label: "Signal: not routine variation" });
  if (breaks.length) layers.push({ layer: "break", label: "Series break" });
  if (notes.length) layers.push({ layer: "note", label: "Note (select to read)" });
  return layers;
}

/** The legend of the chart's layers, each with a key drawn in CSS. */
export function chartLegend(layers) {
  return h("ul", { class: "chart-legend", id: "chart-legend", "aria-label": "Chart key" },
    layers.map(({ layer, label }) => h("li", { dataset: { layer } },
      h("span", { class: `key key-${layer}`, "aria-hidden": "true" }), label)));
}

/**
 * Draws into `container` and keeps the chart as wide as it is. Returns the uPlot instance.
 *
 * series: [{period, value, approved}] in period order; targets: the metric's target history;
 * limits: the performance's XmR limits ({centre, lower, upper, baseline_periods, signals}) for `limitsEnd`;
 * breaks: [{period, reason}]; notes: [{period, items: [annotation]}]; onNote(period, button) when a note marker
 * is chosen; readout: an element to describe the hovered period in.
 */
export function seriesChart(container, {
  series, targets, unit, limits = null, limitsEnd = null, breaks = [], notes = [], onNote = null, readout = null,
}) {
  const periods = series.map((o) => o.period);
  const xs = periods.map((p) => periodStartMs(p) / 1000);
  const byTime = new Map(xs.map((x, i) => [x, periods[i]]));
  const bands = targetBands(periods, targets);
  const flagged = signalsByPeriod(limits?.signals);

  // The limits hold for the current series: from the first baseline period to the period judged.
  const hasLimits = limits && limits.centre !== null && limits.centre !== undefined;
  const first = hasLimits ? limits.baseline_periods?.[0] ?? null : null;
  const last = limitsEnd || periods.at(-1);
  const within = (p) => hasLimits && first !== null && p >= first && p <= last;
  const limitLine = (v) => periods.map((p) => (within(p) && v !== null && v !== undefined ? v : null));

  const data = [
    xs,
    bands.map((b) => (b ? b.high : null)),
    bands.map((b) => (b ? b.low : null)),
    bands.map((b) => (b ? b.value : null)),
    limitLine(limits?.centre),
    limitLine(limits?.upper),
    limitLine(limits?.lower),
    series.map((o) => o.value),
    series.map((o) => (flagged.has(o.period) ? o.value : null)),
    series.map((o) => (o.approved === false ? o.value : null)),
  ];
  const VALUE = 7;
  const stepped = uPlot.paths.stepped({ align: 1 }); // a target holds from its period until the next one changes it
  const height = () => (container.clientWidth < 560 ? 260 : 360);
  const hidden = { show: false };
  const overlays = [];

  function describe(idx) {
    if (!readout) return;
    if (idx === null || idx === undefined) {
      readout.textContent = "Point at the chart to read a period's figures.";
      return;
    }
    const o = series[idx];
    const band = bands[idx];
    const parts = [`${formatPeriod(o.period)}: ${formatValue(o.value, unit)}${o.approved === false ? " (provisional)" : ""}`];
    if (band) {
      parts.push(band.high > band.low
        ? `target ${formatValue(band.value, unit)} (${formatValue(band.low, unit)} to ${formatValue(band.high, unit)})`
        : `target ${formatValue(band.value, unit)}`);
    }
    const signals = flagged.get(o.period);
    if (signals) parts.push(`signal: ${signals.map(signalWords).join("; ")}`);
    readout.textContent = parts.join(" · ");
  }

  function placeOverlays(u) {
    for (const { node, x } of overlays) {
      const left = u.valToPos(x, "x");
      node.hidden = !(left >= 0 && left <= u.over.clientWidth + 0.5);
      node.style.left = `${left}px`;
    }
  }

  const opts = {
    width: Math.max(container.clientWidth, 280),
    height: height(),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    legend: { show: false }, // the key is a list under the chart, and the hovered period reads out in words
    cursor: {
      // Only the value gets a hover dot; the band and limit lines would crowd it.
      points: { show: (u, si) => (si === VALUE ? document.createElement("div") : null), size: 9 },
    },
    hooks: {
      setCursor: [(u) => describe(u.cursor.idx)],
      draw: [placeOverlays],
    },
    bands: [{ series: [1, 2], fill: COLOURS.band }],
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
      { label: "Band top", stroke: COLOURS.bandEdge, width: 0.5, paths: stepped, points: hidden },
      { label: "Band bottom", stroke: COLOURS.bandEdge, width: 0.5, paths: stepped, points: hidden },
      { label: "Target", stroke: COLOURS.target, width: 1.5, dash: [6, 4], paths: stepped, points: hidden },
      { label: "Centre line", stroke: COLOURS.limits, width: 1.25, points: hidden, spanGaps: false },
      { label: "Upper limit", stroke: COLOURS.limits, width: 1.25, dash: [3, 4], points: hidden, spanGaps: false },
      { label: "Lower limit", stroke: COLOURS.limits, width: 1.25, dash: [3, 4], points: hidden, spanGaps: false },
      {
        label: "Value",
        stroke: COLOURS.value,
        width: 2,
        points: { show: series.length <= 60, size: 5, fill: COLOURS.value },
        spanGaps: false,
      },
      // Rings around flagged values, and hollow points over provisional ones: markers, not lines.
      { label: "Signal", stroke: COLOURS.signal, width: 2, paths: noLine,
        points: { show: true, size: 13, width: 2, fill: "rgba(0,0,0,0)", stroke: COLOURS.signal } },
      { label: "Provisional", stroke: COLOURS.value, width: 1.5, paths: noLine,
        points: { show: true, size: 7, width: 1.5, fill: "#ffffff", stroke: COLOURS.value } },
    ],
  };
  const chart = new uPlot(opts, data, container);

  for (const b of breaks) {
    const label = `Series break from ${formatPeriod(b.period)}`;
    const node = h("div", { class: "break-marker", dataset: { period: b.period }, title: b.reason ? `${label}: ${b.reason}` : label },
      h("span", { class: "break-label" }, `Break · ${formatPeriod(b.period, "short")}`));
    overlays.push({ node, x: periodStartMs(b.period) / 1000 });
    chart.over.append(node);
  }
  for (const { period, items } of notes) {
    const kinds = [...new Set(items.map((n) => n.kind))];
    const button = h("button", {
      type: "button", class: `note-marker note-${kinds.length === 1 ? kinds[0] : "several"}`, dataset: { period },
      "aria-label": `${items.length === 1 ? "Note" : `${items.length} notes`} on ${formatPeriod(period)}`,
      title: `${formatPeriod(period)}: ${items[0].body.slice(0, 80)}${items.length > 1 ? ` (+${items.length - 1} more)` : ""}`,
    }, items.length > 1 ? String(items.length) : NOTE_ICONS[items[0].kind] || "i");
    if (onNote) button.addEventListener("click", () => onNote(period, button));
    overlays.push({ node: button, x: periodStartMs(period) / 1000 });
    chart.over.append(button);
  }
  placeOverlays(chart);
  describe(null);

  if ("ResizeObserver" in window) {
    // Follow the layout (window resize, rotation) without reflowing the whole page.
    new ResizeObserver(() => {
      const width = Math.max(container.clientWidth, 280);
      if (width !== chart.width) chart.setSize({ width, height: height() });
    }).observe(container);
  }
  return chart;
}

// A letter per kind on the marker, so a note's kind does not rest on colour alone.
export const NOTE_ICONS = { context: "i", data_quality: "!", action: "✓", question: "?" };
