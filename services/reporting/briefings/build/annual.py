"""The annual performance report: for a year, each citywide priority with its key metrics, each with the year's
value (its months or quarters combined by the metric's own roll-up), the change on the year before, the year's
target and the status against it.

The year's target follows the roll-up too. A total (potholes repaired, crimes reported) is measured against the sum
of its periods' targets, each the one in force at the period's end: twelve monthly targets of 1,000 make a year's
12,000. A rate, an average or a latest value is measured against the target in force when the year closed.
"""

from __future__ import annotations

import asyncio

from services.common.periods import Frequency, Period
from services.reporting.briefings.build.common import (
    Reader,
    change_between,
    status_of,
    target_in_force,
    tolerance_in_units,
)
from services.reporting.briefings.snapshot import AnnualLine, AnnualPriority, Figure
from services.reporting.clients.metrics import Metric, Performance

# Months and quarters add up to calendar years; ISO weeks straddle them and fiscal years start elsewhere, so a
# metric of those frequencies has no calendar-year value here.
ROLLS_UP = {Frequency.month, Frequency.quarter}


async def annual_priorities(reader: Reader, year: Period, departments: list[str]) -> list[AnnualPriority]:
    metrics = reader.metrics
    reader.expect(2)
    priorities, definitions = await asyncio.gather(reader.one(metrics.priorities()), reader.one(metrics.metrics()))
    by_key = {m.key: m for m in definitions}
    # Each priority's key metrics, judged at the year's last period: its target in force when the year closed.
    lists = await reader.all(metrics.performance(str(year), priority=p.code, key="true") for p in priorities)
    wanted = set(departments)
    keyed = [[p for p in items if not wanted or p.department in wanted] for items in lists]
    unique = {p.metric: p for items in keyed for p in items}
    found = await asyncio.gather(*(_year(reader, p, by_key.get(p.metric), year) for p in unique.values()))
    lines = dict(zip(unique, found, strict=True))
    return [
        AnnualPriority(code=priority.code, name=priority.name, lines=[lines[p.metric] for p in items])
        for priority, items in zip(priorities, keyed, strict=True)
    ]


async def _year(reader: Reader, p: Performance, metric: Metric | None, year: Period) -> AnnualLine:
    this, last = await _values(reader, p, year)
    target, tolerance = p.target, p.tolerance
    frequency = Frequency(p.frequency)
    if metric is not None and metric.rollup == "sum" and frequency in ROLLS_UP:
        target, tolerance = await _summed_target(reader, p.metric, year, frequency)
    return AnnualLine(
        metric=p.metric,
        name=p.name,
        department=p.department,
        unit=p.unit,
        direction=p.direction,
        year=this,
        year_before=last,
        change=change_between(this.value, last.period, last.value, p.direction, target) if last else None,
        target=target,
        status=status_of(this.value, target, tolerance, p.direction),
    )


async def _summed_target(
    reader: Reader, key: str, year: Period, frequency: Frequency
) -> tuple[float | None, float | None]:
    """The sum of the targets in force at the end of each of the year's periods (None if one had none)."""
    reader.expect(1)
    targets = await reader.one(reader.metrics.targets(key))
    total = tolerance = 0.0
    for period in year.children(frequency):
        target = target_in_force(targets, period.end)
        if target is None:
            return None, None
        total += target.value
        tolerance += tolerance_in_units(target)
    return total, tolerance


async def _values(reader: Reader, p: Performance, year: Period) -> tuple[Figure, Figure | None]:
    """The year's value and the year before's, as figures."""
    before = year.previous()
    frequency = Frequency(p.frequency)
    if frequency is Frequency.year:
        reader.expect(1)
        points = await reader.one(reader.metrics.observations(p.metric, start=str(before), end=str(year)))
        found = {pt.period: pt for pt in points}

        def stored(period: Period) -> Figure:
            point = found.get(str(period))
            return Figure(
                metric=p.metric,
                period=str(period),
                value=point.value if point else None,
                revision=point.revision if point else None,
            )

        return stored(year), stored(before)
    if frequency not in ROLLS_UP:
        return Figure(metric=p.metric, period=str(year), value=None), None
    reader.expect(1)
    rolled = await reader.one(reader.metrics.rollups(p.metric, "year", start=str(before), end=str(year)))
    values = {r.period: r.value for r in rolled}
    # A value combined from twelve months (or four quarters) has no single revision behind it.
    return (
        Figure(metric=p.metric, period=str(year), value=values.get(str(year))),
        Figure(metric=p.metric, period=str(before), value=values.get(str(before))),
    )
