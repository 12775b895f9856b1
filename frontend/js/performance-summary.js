// The metric's performance in a few plain sentences: what the chart shows, for people who cannot see it and for
// everyone who would rather read it. Also the list of signals grouped by rule.

import { changeVerdict, formatChange, formatValue, STATUS_LABELS } from "./format.js";
import { formatPeriod } from "./periods.js";
import { signalWords } from "./chart.js";

const NOUNS = { week: ["week", "weeks"], month: ["month", "months"], quarter: ["quarter", "quarters"], year: ["year", "years"] };

function noun(frequency, n) {
  const [one, many] = NOUNS[frequency] || ["period", "periods"];
  return n === 1 ? one : many;
}

function span(periods) {
  return periods.length === 1 ? formatPeriod(periods[0]) : `${formatPeriod(periods[0])} to ${formatPeriod(periods.at(-1))}`;
}

function listWords(items) {
  return items.length > 1 ? `${items.slice(0, -1).join(", ")} and ${items.at(-1)}` : items[0] || "";
}

/** Signals grouped as the list under the chart shows them: one entry per rule and direction, newest last. */
export function groupedSignals(signals) {
  const groups = new Map();
  for (const s of signals || []) {
    const id = `${s.rule}:${s.direction}`;
    if (!groups.has(id)) groups.set(id, { rule: s.rule, direction: s.direction, words: signalWords(s), runs: [] });
    groups.get(id).runs.push(s.periods);
  }
  return [...groups.values()];
}

function signalSentence(limits) {
  if (!limits || limits.centre === null || limits.centre === undefined) {
    return `No process limits yet${limits?.reason ? `: ${limits.reason}` : ""}.`;
  }
  const groups = groupedSignals(limits.signals);
  if (!groups.length) return "No signals: every value is within routine variation.";
  const parts = groups.map((g) => {
    const latest = g.runs.at(-1);
    if (g.rule === "beyond_limits") {
      const n = g.runs.length;
      const side = g.direction === "above" ? "above the upper limit" : "below the lower limit";
      return `${n} ${n === 1 ? "value" : "values"} ${side} (latest ${formatPeriod(latest.at(-1))})`;
    }
    const what = g.rule === "run_one_side"
      ? `${g.direction === "above" ? "above" : "below"} the centre line`
      : g.direction === "up" ? "rising" : "falling";
    const runs = g.runs.length === 1 ? "a run" : `${g.runs.length} runs`;
    return `${runs} of values ${what} (${g.runs.length === 1 ? "" : "latest "}${span(latest)}, ${latest.length} values)`;
  });
  return `Signals: ${listWords(parts)}.`;
}

/** Sentences about the period judged: status, change on last year, trend, signals, streak and approval. */
export function summarySentences(perf, unit, approved) {
  const f = (v) => formatValue(v, unit);
  const out = [];
  const status = STATUS_LABELS[perf.status] || perf.status;
  if (perf.value === null || perf.value === undefined) {
    out.push(`${formatPeriod(perf.period)}: no value reported yet.`);
  } else {
    const target = perf.target === null || perf.target === undefined ? "" : ` against a target of ${f(perf.target)}`;
    out.push(`${formatPeriod(perf.period)}: ${f(perf.value)}, ${status.toLowerCase()}${target}.`);
  }
  const year = perf.vs_year_ago;
  if (year && year.absolute !== null && year.absolute !== undefined) {
    const verdict = changeVerdict({ change: year.absolute, value: perf.value, previous_value: year.base_value,
      target: perf.target, direction: perf.direction, unit });
    const word = verdict === "better" ? ", better" : verdict === "worse" ? ", worse" : "";
    out.push(`Change on a year earlier (${formatPeriod(year.base_period)}, ${f(year.base_value)}): ${formatChange(year.absolute, unit)}${word}.`);
  } else if (year) {
    out.push(`No comparison with a year earlier${year.reason ? `: ${year.reason}` : ""}.`);
  }
  const trend = perf.trend;
  if (trend?.direction) {
    const n = trend.periods.length;
    out.push(`Trend over the last ${n} ${noun(perf.frequency, n)}: ${trend.direction}.`);
  } else if (trend) {
    out.push(`No trend${trend.reason ? `: ${trend.reason}` : ""}.`);
  }
  out.push(signalSentence(perf.limits));
  const streak = perf.streak;
  if (streak) {
    out.push(streak.current
      ? `On target ${streak.current} ${noun(perf.frequency, streak.current)} in a row (longest ${streak.longest}).`
      : `Not on target this ${noun(perf.frequency, 1)}; longest run on target: `
        + `${streak.longest} ${noun(perf.frequency, streak.longest)}.`);
  }
  if (perf.series_breaks?.length) {
    const breaks = listWords(perf.series_breaks.map((p) => formatPeriod(p)));
    out.push(`The series breaks at ${breaks}: values before a break are not compared with those after it.`);
  }
  if (approved === false) {
    out.push(`This value is provisional: the department has not approved ${formatPeriod(perf.period)} yet.`);
  }
  return out;
}
