"""The weekly front-line scorecard: a page per org unit (a yard, a plant) with the metrics it reports itself, each
at its latest period ended by the week's last day, with a short chart.

A unit is judged against its department's target only when the metric combines its units as a rate, a mean or a
latest value: a count that adds up across yards has a citywide target no single yard is meant to reach.
"""

from __future__ import annotations

import asyncio

from services.common.periods import Period
from services.reporting.briefings.build.common import (
    Reader,
    chart,
    latest_within,
    status_of,
    target_in_force,
    tolerance_in_units,
)
from services.reporting.briefings.snapshot import Figure, FrontlineLine, FrontlineUnit
from services.reporting.clients.metrics import Metric, OrgUnit, Target

UNIT_CHART_PERIODS = 12
ADDS_UP = "sum"


async def frontline_units(reader: Reader, week: Period, departments: list[str]) -> list[FrontlineUnit]:
    metrics = reader.metrics
    if not departments:
        departments = sorted(await reader.department_names())
    units = await reader.all(metrics.org_units(code) for code in departments)
    pages = await asyncio.gather(
        *(_department(reader, week, code, found) for code, found in zip(departments, units, strict=True) if found)
    )
    return [page for pages_of in pages for page in pages_of]


async def _department(reader: Reader, week: Period, code: str, units: list[OrgUnit]) -> list[FrontlineUnit]:
    reader.expect(1)
    active = await reader.one(reader.metrics.metrics(department=code, state="active"))
    periods = {m.key: latest_within(week.end, m.frequency) for m in active}
    rollups = await reader.all(reader.metrics.units_rollup(m.key, str(periods[m.key])) for m in active)
    reported = [
        (m, rollup) for m, rollup in zip(active, rollups, strict=True) if any(u.value is not None for u in rollup.units)
    ]
    targets = await reader.all(reader.metrics.targets(m.key) for m, _ in reported)
    wanted = [
        (m, rollup.rollup, t, u.org_unit)
        for (m, rollup), t in zip(reported, targets, strict=True)
        for u in rollup.units
        if u.value is not None
    ]
    lines = await asyncio.gather(*(_line(reader, m, periods[m.key], how, t, unit) for m, how, t, unit in wanted))
    by_unit: dict[str, list[FrontlineLine]] = {}
    for (_, _, _, unit), line in zip(wanted, lines, strict=True):
        by_unit.setdefault(unit, []).append(line)
    return [
        FrontlineUnit(department=code, org_unit=u.code, org_unit_name=u.name, lines=by_unit[u.code])
        for u in units
        if u.code in by_unit
    ]


async def _line(
    reader: Reader, m: Metric, period: Period, rollup: str, targets: list[Target], unit: str
) -> FrontlineLine:
    reader.expect(1)
    start = str(period.shift(-(UNIT_CHART_PERIODS - 1)))
    points = await reader.one(reader.metrics.observations(m.key, start=start, end=str(period), org_unit=unit))
    applying = targets if rollup != ADDS_UP else []
    current = next((p for p in points if p.period == str(period)), None)
    target = target_in_force(applying, period.end)
    value = current.value if current else None
    tolerance = tolerance_in_units(target) if target else None
    return FrontlineLine(
        metric=m.key,
        name=m.name,
        unit=m.unit,
        direction=m.direction,
        figure=Figure(
            metric=m.key,
            period=str(period),
            value=value,
            org_unit=unit,
            revision=current.revision if current else None,
        ),
        target=target.value if target else None,
        status=status_of(value, target.value if target else None, tolerance, m.direction),
        series=chart(period, points, applying, UNIT_CHART_PERIODS),
    )
