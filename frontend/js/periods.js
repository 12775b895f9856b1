// Periods as the API writes them: "2017-06" (month), "2017-W23" (ISO week),
// "2017-Q2" (quarter) and "2017" (year). The frontend needs to step back N periods
// (sparkline windows), place a period on a time axis, and name it for people.

const PATTERN = /^(\d{4})(?:-(\d{2})|-W(\d{2})|-Q([1-4]))?$/;
const DAY_MS = 86400000;

export function parsePeriod(text) {
  const m = PATTERN.exec(String(text));
  if (!m) throw new Error(`not a period: ${text}`);
  const year = Number(m[1]);
  if (m[2]) return { freq: "month", year, n: Number(m[2]) };
  if (m[3]) return { freq: "week", year, n: Number(m[3]) };
  if (m[4]) return { freq: "quarter", year, n: Number(m[4]) };
  return { freq: "year", year, n: 1 };
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function write({ freq, year, n }) {
  if (freq === "month") return `${year}-${pad(n)}`;
  if (freq === "week") return `${year}-W${pad(n)}`;
  if (freq === "quarter") return `${year}-Q${n}`;
  return String(year);
}

// Monday of ISO week 1 is the Monday on or before 4 January.
function isoWeekOneMonday(year) {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - weekday * DAY_MS;
}

function isoWeekOf(ms) {
  // The Thursday of a date's week decides which ISO year the week belongs to.
  const d = new Date(ms);
  const thursday = ms + (3 - ((d.getUTCDay() + 6) % 7)) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  return { freq: "week", year, n: 1 + Math.floor((thursday - isoWeekOneMonday(year)) / (7 * DAY_MS)) };
}

/** First day of the period, as a UTC timestamp in milliseconds. */
export function periodStartMs(text) {
  const p = parsePeriod(text);
  if (p.freq === "month") return Date.UTC(p.year, p.n - 1, 1);
  if (p.freq === "quarter") return Date.UTC(p.year, (p.n - 1) * 3, 1);
  if (p.freq === "week") return isoWeekOneMonday(p.year) + (p.n - 1) * 7 * DAY_MS;
  return Date.UTC(p.year, 0, 1);
}

/** The period `by` steps after (or before, if negative) `text`, same frequency. */
export function shiftPeriod(text, by) {
  const p = parsePeriod(text);
  if (p.freq === "week") return write(isoWeekOf(periodStartMs(text) + by * 7 * DAY_MS));
  if (p.freq === "year") return write({ ...p, year: p.year + by });
  const perYear = p.freq === "month" ? 12 : 4;
  const index = p.year * perYear + (p.n - 1) + by;
  return write({ freq: p.freq, year: Math.floor(index / perYear), n: (index % perYear) + 1 });
}

const MONTH = { long: new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" }),
  short: new Intl.DateTimeFormat("en-US", { month: "short", year: "numeric", timeZone: "UTC" }) };

/** "June 2017", "Q2 2017", "Week 23, 2017", "2017"; style "short" gives "Jun 2017". */
export function formatPeriod(text, style = "long") {
  let p;
  try {
    p = parsePeriod(text);
  } catch {
    return String(text); // show what the API sent rather than nothing
  }
  if (p.freq === "month") return MONTH[style].format(periodStartMs(text));
  if (p.freq === "quarter") return `Q${p.n} ${p.year}`;
  if (p.freq === "week") return style === "short" ? `W${p.n} ${p.year}` : `Week ${p.n}, ${p.year}`;
  return String(p.year);
}
