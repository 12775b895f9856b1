// The budget charts, drawn by hand: horizontal bars as an HTML list (they wrap and stack at any width, and a
// screen reader reads them as a list of names and amounts), and fiscal years as SVG columns that scale with their
// box through the viewBox. Every chart has a text equivalent: the list itself, or a label and a table.

import { h } from "../../js/ui.js";
import { changeWords, money } from "./common.js";

/**
 * items: [{name, amount, change, change_fraction, href?, note?}] largest first. The bars share one scale, the
 * largest amount; negative amounts (refunds, transfers) draw no bar but keep their figure.
 */
export function barList(items, { priorYear = null, label }) {
  const top = Math.max(0, ...items.map((i) => i.amount));
  return h("ol", { class: "bars", "aria-label": label },
    items.map((item) => {
      const width = top > 0 && item.amount > 0 ? (item.amount / top) * 100 : 0;
      return h("li", { dataset: { name: item.name } },
        h("div", { class: "bar-head" },
          h("span", { class: "bar-name" }, item.href ? h("a", { href: item.href }, item.name) : item.name),
          h("span", { class: "bar-amount" }, money(item.amount))),
        h("div", { class: "bar-track", "aria-hidden": "true" },
          h("div", { class: "bar-fill", style: { width: `${width.toFixed(2)}%` } })),
        h("div", { class: "bar-note" },
          priorYear ? h("span", {}, changeWords(item.change, item.change_fraction, priorYear)) : null,
          item.note ? h("span", {}, item.note) : null));
    }));
}

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/**
 * Columns per fiscal year, oldest on the left, drawn into `container` at its own width in real pixels (so labels
 * stay readable on a phone) and redrawn when that width changes: years [{fiscal_year, expense, revenue}], series
 * the fields drawn side by side ([{field, label}]). The <svg role="img"> has a label that reads every figure.
 */
/** The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `rough`. */
export function roundStep(rough) {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1e-9)));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough);
}

export function columnChart(container, years, series, { title }) {
  const ordered = [...years].sort((a, b) => a.fiscal_year.localeCompare(b.fiscal_year));
  const words = ordered.map((yr) => `${yr.fiscal_year}: ${series.map((s) => `${s.label.toLowerCase()} ${money(yr[s.field])}`).join(", ")}`);
  const label = `${title}. ${words.join("; ")}.`;
  const highest = Math.max(1, ...ordered.flatMap((yr) => series.map((s) => yr[s.field] || 0)));
  // Gridlines at round amounts ($500M, $1.0B...), not at fractions of the largest column ($908M).
  const step = roundStep(highest / 4);
  const max = Math.ceil(highest / step) * step;
  const ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
  let drawnWidth = 0;

  function draw() {
    const W = Math.max(Math.floor(container.clientWidth), 240);
    drawnWidth = W;
    const H = W < 480 ? 220 : 280;
    const left = 68;
    const bottom = 26;
    const topPad = 22;
    const plotW = W - left - 6;
    const plotH = H - bottom - topPad;
    const slot = plotW / Math.max(ordered.length, 1);
    const colW = Math.min(64, (slot * 0.72) / series.length);
    const y = (v) => topPad + plotH - (Math.max(v, 0) / max) * plotH;
    // Value labels over the columns only when they fit side by side.
    const labelled = colW >= 40;
    // On a phone "FY2013FY2014..." would run together: shorten to "FY13", and label every other year if still tight.
    const yearText = (fy) => (slot < 60 ? fy.replace(/^FY20(\d\d)$/, "FY$1") : fy);
    const every = Math.max(1, Math.ceil(34 / slot));

    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "column-chart", role: "img", "aria-label": label });
    svg.append(el("title", {}, title));
    for (const v of ticks) {
      svg.append(el("line", { x1: left, x2: W - 6, y1: y(v), y2: y(v), class: "axis", "stroke-opacity": v ? 0.35 : 1 }));
      svg.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, money(v, { short: true })));
    }
    ordered.forEach((yr, i) => {
      const centre = left + slot * i + slot / 2;
      const start = centre - (colW * series.length) / 2;
      series.forEach((s, j) => {
        const v = yr[s.field] || 0;
        const x = start + j * colW;
        const rect = el("rect", { x: x + 1, y: y(v), width: Math.max(colW - 2, 1), height: Math.max(topPad + plotH - y(v), 0), class: `col-${s.field}` });
        rect.append(el("title", {}, `${yr.fiscal_year} ${s.label.toLowerCase()}: ${money(v)}`));
        svg.append(rect);
        if (labelled) svg.append(el("text", { x: x + colW / 2, y: y(v) - 5, "text-anchor": "middle" }, money(v, { short: true })));
      });
      if ((ordered.length - 1 - i) % every === 0) {
        svg.append(el("text", { x: centre, y: H - 8, "text-anchor": "middle" }, yearText(yr.fiscal_year)));
      }
    });
    container.replaceChildren(svg);
  }

  draw();
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => {
      if (Math.max(Math.floor(container.clientWidth), 240) !== drawnWidth) draw();
    }).observe(container);
  }
}

/** The key under a column chart. */
export function columnKey(series) {
  return h("ul", { class: "chart-key", "aria-hidden": "true" },
    series.map((s) => h("li", {}, h("span", { class: `swatch swatch-${s.field}` }), s.label)));
}
