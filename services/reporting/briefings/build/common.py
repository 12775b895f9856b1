"""What every briefing builder shares: the request, periods, the status rule, changes judged by direction, metric
panels with their charts, signals in words, and a reader that asks metrics several things at once and counts
progress."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from pydantic import BaseModel, Field

from services.common.errors import Unprocessable
from services.common.periods import Frequency, Period, PeriodError
from services.reporting.briefings.build.sentences import period_name, span, steps, value_text
from services.reporting.briefings.snapshot import (
    BriefingKind,
    Change,
    ChartPoint,
    Figure,
    MetricPanel,
    Status,
)
from services.reporting.clients.metrics import Change as MetricsChange
from services.reporting.clients.metrics import MetricsClient, Performance, SeriesPoint, Target

T = TypeVar("T")

# The period each kind is written for.
KIND_FREQUENCY: dict[BriefingKind, Frequency] = {
    BriefingKind.roundtable: Frequency.month,
    BriefingKind.cabinet: Frequency.month,
    BriefingKind.memo: Frequency.month,
    BriefingKind.annual: Frequency.year,
    BriefingKind.frontline: Frequency.week,
}
PERIOD_EXAMPLES = {Frequency.month: "2017-06", Frequency.year: "2016", Frequency.week: "2017-W23"}
ROUNDTABLE_MAX_DEPARTMENTS = 3
CHART_PERIODS = 24
# Metrics' XmR rules flag a run once it is this long (statistics.xmr: run_length=8, trend_run=6). A run that has
# just reached its length is news this period; a longer one was news earlier.
RUN_LENGTHS = {"run_one_side": 8, "run_trend": 6}
# Values within this of a target or of each other are the same (binary rounding), as metrics judges them.
EPSILON = 1e-9
CONCURRENT_CALLS = 8


class Selection(BaseModel):
    """One metric the analyst put in a Cabinet briefing, in order."""

    metric: str
    explanation: str | None = None
    reason: str | None = None  # off_target | mover | signal | chosen


class BuildRequest(BaseModel):
    kind: BriefingKind
    period: str
    departments: list[str] = Field(default_factory=list, description="Codes; empty means citywide")
    selection: list[Selection] = Field(default_factory=list)
    title: str | None = None


def refuse(field: str, reason: str) -> Unprocessable:
    return Unprocessable(f"The briefing cannot be built: {reason}.", errors=[{"field": field, "reason": reason}])


def briefing_period(kind: BriefingKind, text: str) -> Period:
    """The request's period, which must be of the kind's frequency: a month, a year or an ISO week."""
    frequency = KIND_FREQUENCY[kind]
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        raise refuse("period", str(exc)) from exc
    if period.frequency is not frequency:
        raise refuse("period", f"a {kind} briefing is for a {frequency}, written like {PERIOD_EXAMPLES[frequency]}")
    return period


def latest_within(day: dt.date, frequency: str) -> Period:
    """The latest period of a frequency that has ended by `day`: in June 2017, a quarterly metric's is 2017-Q2, a
    yearly one's 2016, a weekly one's the last ISO week ending in June."""
    period = Period.containing(day, Frequency(frequency))
    return period if period.end <= day else period.previous()


def ends_within(period: str, month: Period) -> bool:
    """Whether a period ends in the month: its value is that month's news."""
    return month.start <= Period.parse(period).end <= month.end


def status_of(value: float | None, target: float | None, tolerance: float | None, direction: str) -> Status:
    """DESIGN.md's status rule, for values metrics does not judge itself (a year's total, an org unit's week)."""
    if value is None:
        return Status.missing
    if target is None:
        return Status.no_target
    tolerance = tolerance or 0.0
    if direction == "closer_is_better":
        gap = abs(value - target)
        if gap <= tolerance + EPSILON:
            return Status.on_target
        return Status.near if gap <= 2 * tolerance + EPSILON else Status.off_target
    shortfall = (target - value) if direction == "higher_is_better" else (value - target)
    if shortfall <= EPSILON:
        return Status.on_target
    return Status.near if shortfall <= tolerance + EPSILON else Status.off_target


def target_in_force(targets: list[Target], on: dt.date) -> Target | None:
    """The latest target started by `on`, unless it had ended by then."""
    current = None
    for target in sorted(targets, key=lambda t: t.effective_from):
        if target.effective_from <= on:
            current = target
    if current is not None and current.effective_to is not None and current.effective_to < on:
        return None
    return current


def tolerance_in_units(target: Target) -> float:
    return abs(target.value) * target.tolerance / 100 if target.tolerance_kind == "percent" else target.tolerance


def judgement(value: float | None, base: float | None, direction: str, target: float | None = None) -> str | None:
    """improving | worsening | flat, with the metric's direction (closer is better: nearer the target)."""
    if value is None or base is None:
        return None
    if direction == "closer_is_better":
        if target is None:
            return None
        gain = abs(base - target) - abs(value - target)
    else:
        gain = (value - base) if direction == "higher_is_better" else (base - value)
    if abs(gain) <= EPSILON * max(1.0, abs(value), abs(base)):
        return "flat"
    return "improving" if gain > 0 else "worsening"


def change_between(
    value: float | None, base_period: str | None, base: float | None, direction: str, target: float | None
) -> Change | None:
    """A change computed here (a year against the year before)."""
    if base_period is None:
        return None
    absolute = None if value is None or base is None else value - base
    relative = None if absolute is None or not base else absolute / abs(base)
    return Change(
        base_period=base_period,
        base_value=base,
        absolute=absolute,
        relative=relative,
        judgement=judgement(value, base, direction, target),
    )


def change_of(change: MetricsChange | None, value: float | None, direction: str, target: float | None) -> Change | None:
    """Metrics' change, with its judgement."""
    if change is None or change.base_period is None:
        return None
    return Change(
        base_period=change.base_period,
        base_value=change.base_value,
        absolute=change.absolute,
        relative=change.relative,
        judgement=None if change.absolute is None else judgement(value, change.base_value, direction, target),
    )


def figure(p: Performance) -> Figure:
    return Figure(metric=p.metric, period=p.period, value=p.value, revision=p.revision, unit=p.unit)


def signal_sentences(p: Performance) -> list[str]:
    """The statistical signals the shown period takes part in, in words."""
    if p.limits is None:
        return []
    out = []
    for signal in p.limits.signals:
        if p.period not in signal.periods:
            continue
        out.append(signal_sentence(p, signal.rule, signal.direction, signal.periods))
    return out


def signal_sentence(p: Performance, rule: str, direction: str, periods: list[str]) -> str:
    limits = p.limits
    if rule == "beyond_limits" and limits is not None:
        limit = limits.upper if direction == "above" else limits.lower
        which = "upper" if direction == "above" else "lower"
        return (
            f"{period_name(periods[-1])} is {direction} the {which} process limit ({value_text(limit, p.unit)}): "
            "a real change, not routine variation"
        )
    between = span(periods[0], periods[-1])
    if rule == "run_one_side" and limits is not None:
        return (
            f"{steps(p.frequency, len(periods))} in a row {direction} the average "
            f"({value_text(limits.centre, p.unit)}), {between}: a shift, not routine variation"
        )
    moving = "rising" if direction == "up" else "falling"
    return f"{steps(p.frequency, len(periods))} in a row {moving}, {between}"


def new_signals(p: Performance) -> list[tuple[str, str, list[str]]]:
    """Signals first seen in the shown period: a value beyond the limits after one inside them (or beyond the other
    side), or a run that has just reached its length. A value beyond the limits month after month, or a run going
    on, was news when it began."""
    if p.limits is None:
        return []
    beyond_before = {
        s.direction for s in p.limits.signals if s.rule == "beyond_limits" and s.periods == [p.previous_period]
    }
    found = []
    for s in p.limits.signals:
        if not s.periods or s.periods[-1] != p.period:
            continue
        if s.rule == "beyond_limits" and s.direction not in beyond_before:
            found.append((s.rule, s.direction, s.periods))
        elif len(s.periods) == RUN_LENGTHS.get(s.rule):
            found.append((s.rule, s.direction, s.periods))
    return found


def chart(period: Period, points: list[SeriesPoint], targets: list[Target], periods: int) -> list[ChartPoint]:
    """The last `periods` periods up to `period`, oldest first, each with the target in force at its end; periods
    before the first value are left out, later gaps are kept (a chart shows them as gaps)."""
    by_period = {p.period: p for p in points}
    out: list[ChartPoint] = []
    for back in range(periods - 1, -1, -1):
        here = period.shift(-back)
        point = by_period.get(str(here))
        if point is None and not out:
            continue
        target = target_in_force(targets, here.end)
        out.append(
            ChartPoint(
                period=str(here),
                value=point.value if point else None,
                target=target.value if target else None,
                revision=point.revision if point else None,
            )
        )
    return out


def panel(
    p: Performance,
    points: list[SeriesPoint],
    targets: list[Target],
    *,
    explanation: str | None = None,
    reason: str | None = None,
) -> MetricPanel:
    return MetricPanel(
        metric=p.metric,
        name=p.name,
        department=p.department,
        unit=p.unit,
        direction=p.direction,
        frequency=p.frequency,
        is_key=p.is_key,
        period=p.period,
        figure=figure(p),
        target=p.target,
        tolerance=p.tolerance,
        status=Status(p.status.value),
        vs_previous=change_of(p.vs_previous, p.value, p.direction, p.target),
        vs_year_ago=change_of(p.vs_year_ago, p.value, p.direction, p.target),
        trend=p.trend.direction if p.trend else None,
        streak=p.streak.current if p.streak else None,
        signals=signal_sentences(p),
        series=chart(Period.parse(p.period), points, targets, CHART_PERIODS),
        explanation=explanation,
        reason=reason,
    )


class Reader:
    """Asks metrics on the builder's behalf: a few calls at once, each counted towards the build's progress."""

    def __init__(self, metrics: MetricsClient, progress: Callable[[int, int], None] | None) -> None:
        self.metrics = metrics
        self._progress = progress
        self._limit = asyncio.Semaphore(CONCURRENT_CALLS)
        self.done = 0
        self.total = 0
        self._names: dict[str, str] | None = None

    def expect(self, calls: int) -> None:
        """More work is known to lie ahead."""
        self.total += calls
        self._report()

    def finish(self) -> None:
        """Everything is read: done equals total."""
        self.total = max(self.total, self.done)
        self._report()

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self.done, max(self.total, self.done))

    async def one(self, call: Awaitable[T]) -> T:
        async with self._limit:
            result = await call
        self.done += 1
        self._report()
        return result

    async def all(self, calls: Iterable[Awaitable[T]]) -> list[T]:
        pending = list(calls)
        self.expect(len(pending))
        return list(await asyncio.gather(*(self.one(c) for c in pending)))

    async def department_names(self) -> dict[str, str]:
        if self._names is None:
            self.expect(1)
            self._names = {d.code: d.name for d in await self.one(self.metrics.departments())}
        return self._names

    async def month_performance(self, month: Period, department: str | None = None) -> list[Performance]:
        """Each active metric's performance for the latest of its periods that has ended by the month's end, in one
        call for the month and one more per metric measured at another frequency."""
        self.expect(1)
        listed = await self.one(self.metrics.performance(str(month), department))
        wanted = {p.metric: str(latest_within(month.end, p.frequency)) for p in listed}
        others = [p for p in listed if p.period != wanted[p.metric]]
        again = await self.all(self.metrics.metric_performance(p.metric, wanted[p.metric]) for p in others)
        replaced = {p.metric: p for p in again}
        return [replaced.get(p.metric, p) for p in listed]

    async def panel_inputs(
        self, p: Performance, periods: int = CHART_PERIODS
    ) -> tuple[list[SeriesPoint], list[Target]]:
        """A panel's chart: the series up to the shown period, and the metric's targets over time."""
        self.expect(2)
        period = Period.parse(p.period)
        start = str(period.shift(-(periods - 1)))
        points, targets = await asyncio.gather(
            self.one(self.metrics.observations(p.metric, start=start, end=p.period)),
            self.one(self.metrics.targets(p.metric)),
        )
        return points, targets

    async def panels(self, items: list[Performance], extras: list[dict] | None = None) -> list[MetricPanel]:
        inputs = await asyncio.gather(*(self.panel_inputs(p) for p in items))
        extras = extras or [{} for _ in items]
        together = zip(items, inputs, extras, strict=True)
        return [panel(p, points, targets, **extra) for p, (points, targets), extra in together]

    async def revision_of(self, metric: str, period: str, org_unit: str = "") -> int | None:
        """The newest revision behind one stored value (None when metrics kept none, or there is no value)."""
        self.expect(1)
        points = await self.one(self.metrics.observations(metric, start=period, end=period, org_unit=org_unit or None))
        return next((p.revision for p in points if p.period == period), None)


def department_order(codes: Iterable[str], names: dict[str, str]) -> dict[str, str]:
    """The departments a briefing names, code to name, in the order first met."""
    out: dict[str, str] = {}
    for code in codes:
        if code not in out:
            out[code] = names.get(code, code)
    return out
