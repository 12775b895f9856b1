// Numbers, dates and statuses as people read them. Locale is fixed to en-US so that
// every browser (and the tests) sees the same "95%", whatever its own settings.

const LOCALE = "en-US";

const percent = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 });
const plain = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumFractionDigits: 1 });
const points = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1, signDisplay: "exceptZero" });
const signed = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1, signDisplay: "exceptZero" });

// Units counted in whole things read better with a word after the number.
const NOUNS = { days: ["day", "days"], hours: ["hour", "hours"], minutes: ["minute", "minutes"],
  tons: ["ton", "tons"], miles: ["mile", "miles"] };

function dollars(value, { compact: short = false, sign = false } = {}) {
  // Cents matter for unit costs ($54.32 per ton), not for budgets ($1,234,567).
  const cents = !short && !Number.isInteger(value) && Math.abs(value) < 1000;
  return new Intl.NumberFormat(LOCALE, {
    style: "currency", currency: "USD", notation: short ? "compact" : "standard",
    minimumFractionDigits: cents ? 2 : 0, maximumFractionDigits: cents ? 2 : short ? 1 : 0,
    signDisplay: sign ? "exceptZero" : "auto",
  }).format(value);
}

/** A value in its unit: percent fractions as "95%", "3.5 days", "$1,200", "1,234". */
export function formatValue(value, unit, { compact: short = false } = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (unit === "percent") return percent.format(value);
  if (unit === "dollars") return dollars(value, { compact: short });
  const number = short ? compact.format(value) : plain.format(value);
  if (unit === "count" || !unit) return number;
  const noun = NOUNS[unit];
  if (!noun) return `${number} ${unit}`;
  if (short) return number; // axis ticks: the unit is in the axis label
  return `${number} ${Math.abs(value) === 1 ? noun[0] : noun[1]}`;
}

/** True when a change would print as zero (0.0004 is "0 pts", not "up"). */
export function isNegligible(change, unit) {
  const shown = unit === "percent" ? change * 100 : change;
  return Math.abs(shown) < (unit === "dollars" ? 0.005 : 0.05);
}

/** A change between periods; for percent metrics, in percentage points ("+1 pt"). */
export function formatChange(change, unit) {
  if (change === null || change === undefined) return null;
  if (isNegligible(change, unit)) return "No change";
  if (unit === "percent") {
    const pts = change * 100;
    return `${points.format(pts)} ${Math.abs(pts) === 1 ? "pt" : "pts"}`;
  }
  if (unit === "dollars") return dollars(change, { sign: true });
  const noun = NOUNS[unit];
  const number = signed.format(change);
  return noun ? `${number} ${Math.abs(change) === 1 ? noun[0] : noun[1]}` : number;
}

/** Whether a change moved the metric the right way, given its direction and target. */
export function changeVerdict({ change, value, previous_value: previous, target, direction, unit }) {
  if (change === null || change === undefined || isNegligible(change, unit)) return "same";
  if (direction === "higher_is_better") return change > 0 ? "better" : "worse";
  if (direction === "lower_is_better") return change < 0 ? "better" : "worse";
  if (direction === "closer_is_better" && target !== null && target !== undefined
      && value !== null && previous !== null && previous !== undefined) {
    return Math.abs(value - target) < Math.abs(previous - target) ? "better" : "worse";
  }
  return "same";
}

const longDate = new Intl.DateTimeFormat(LOCALE, { dateStyle: "long", timeZone: "UTC" });

/** "2017-07-10" as "July 10, 2017". */
export function formatDate(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return longDate.format(Date.UTC(y, m - 1, d));
}

export const STATUSES = ["on_target", "near", "off_target", "no_target", "missing"];

export const STATUS_LABELS = {
  on_target: "On target",
  near: "Near target",
  off_target: "Off target",
  no_target: "No target",
  missing: "Missing",
};

// A shape per status as well as a colour, so status never rests on colour alone.
export const STATUS_ICONS = { on_target: "✓", near: "!", off_target: "✕", no_target: "–", missing: "?" };

export const DIRECTION_LABELS = {
  higher_is_better: "Higher is better",
  lower_is_better: "Lower is better",
  closer_is_better: "Closer to target is better",
};

export const FREQUENCY_LABELS = { week: "Weekly", month: "Monthly", quarter: "Quarterly", year: "Yearly" };

export const UNIT_LABELS = { percent: "Percent", count: "Count", days: "Days", hours: "Hours",
  minutes: "Minutes", dollars: "Dollars", tons: "Tons", miles: "Miles" };

/** A tolerance is a distance, not a level: for percent metrics it reads "5 pts", not "5%". */
export function formatTolerance(tolerance, unit) {
  if (tolerance === null || tolerance === undefined) return "—";
  if (unit === "percent") {
    const pts = tolerance * 100;
    return `${plain.format(pts)} ${pts === 1 ? "pt" : "pts"}`;
  }
  return formatValue(tolerance, unit);
}

/** The status rule in words, e.g. "On target at 90% or more; near target from 85%." */
export function targetRule({ value: target, tolerance, direction }, unit) {
  if (target === null || target === undefined) return "";
  const t = tolerance || 0;
  const f = (v) => formatValue(v, unit);
  if (direction === "lower_is_better") {
    return `On target at ${f(target)} or less${t ? `; near target up to ${f(target + t)}` : ""}.`;
  }
  if (direction === "closer_is_better") {
    return `On target within ${formatTolerance(t, unit)} of ${f(target)}; near target within ${formatTolerance(2 * t, unit)}.`;
  }
  return `On target at ${f(target)} or more${t ? `; near target from ${f(target - t)}` : ""}.`;
}
