// A metric's department-level time series. Observations may also carry rows for
// org units (a division, a plant); charts and sparklines show the department's own
// figure, i.e. the rows without an org unit. Should a metric only be reported per org
// unit, those rows are shown as they come rather than nothing.

import { api } from "./api.js";

export async function departmentSeries(key, range = {}) {
  const { items } = await api.observations(key, range);
  const own = items.filter((o) => !o.org_unit);
  const rows = own.length ? own : items;
  // One value per period, in period order (the API already sorts; this guards the chart).
  const byPeriod = new Map();
  for (const o of rows) if (!byPeriod.has(o.period)) byPeriod.set(o.period, o);
  return [...byPeriod.values()].sort((a, b) => a.period.localeCompare(b.period));
}
