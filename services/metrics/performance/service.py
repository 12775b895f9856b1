"""Performance of each metric for a period: status against the target in force (DESIGN.md's rule), change
against the period before and the same period a year ago, the trend, process-behaviour limits and signals,
and streaks on target, computed over the metric's recent series."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.pagination import PageParams
from services.common.periods import MAX_YEAR, MIN_YEAR, Frequency, Period, PeriodError, last_complete_period
from services.metrics.approvals.service import approved_months, is_approved
from services.metrics.definitions.lifecycle import series_breaks
from services.metrics.definitions.models import Direction, Metric, MetricState, Target
from services.metrics.definitions.service import (
    extras_of,
    get_visible_metric,
    target_in_force,
    targets_of,
    visible_metrics_query,
)
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.observations.models import Observation
from services.metrics.observations.service import newest_revisions
from services.metrics.performance import statistics
from services.metrics.performance.schemas import (
    ChangePublic,
    ImprovedPublic,
    LeftOutPublic,
    LimitsPublic,
    MostImproved,
    PerformancePublic,
    SignalPublic,
    Status,
    StreakPublic,
    TrendPublic,
)

# Values like 0.85 against 0.90 - 0.05 must not fall off the band through binary rounding.
_EPSILON = 1e-9
# The series a period is judged in: it and the periods before it. XmR limits come from the first BASELINE values of
# that window (or of the series since its latest break), so they follow the process as years go by.
HISTORY = 36
BASELINE = 12
TREND_WINDOW = 6


def status_of(value: float | None, target: float | None, tolerance: float, direction: Direction) -> Status:
    if value is None:
        return Status.missing
    if target is None:
        return Status.no_target
    if direction is Direction.closer_is_better:
        gap = abs(value - target)
        if gap <= tolerance + _EPSILON:
            return Status.on_target
        return Status.near if gap <= 2 * tolerance + _EPSILON else Status.off_target
    # Lower is better is higher is better seen in a mirror.
    sign = 1 if direction is Direction.higher_is_better else -1
    shortfall = sign * (target - value)
    if shortfall <= _EPSILON:
        return Status.on_target
    return Status.near if shortfall <= tolerance + _EPSILON else Status.off_target


def period_for(metric: Metric, requested: Period | None, as_of: dt.date) -> Period:
    frequency = Frequency(metric.frequency)
    if requested is None:
        return last_complete_period(as_of, frequency)
    if requested.frequency == frequency:
        return requested
    mapped = Period.containing(requested.end, frequency)
    if mapped.year > MAX_YEAR:
        # The end of 2199 falls in FY2200 or 2200-W01, which no period can be written as: the one before is the
        # latest a metric of that frequency can have by then.
        return mapped.previous()
    return mapped


@dataclass(frozen=True)
class _Value:
    value: float
    numerator: float | None
    denominator: float | None


def _load_series(session: Session, periods: dict[int, Period]) -> dict[int, dict[str, _Value]]:
    """Each metric's department-level values over its analysis window, in one query."""
    series: dict[int, dict[str, _Value]] = {metric_id: {} for metric_id in periods}
    if not periods:
        return series
    first = min(Period.parse(_window(p)[0][0]).start for p in periods.values())
    last = max(p.start for p in periods.values())
    rows = session.exec(
        select(
            Observation.metric_id, Observation.period, Observation.value, Observation.numerator, Observation.denominator
        ).where(
            Observation.metric_id.in_(list(periods)),
            Observation.org_unit == "",
            Observation.period_start >= first,
            Observation.period_start <= last,
        )
    )
    for metric_id, period, value, numerator, denominator in rows:
        series[metric_id][period] = _Value(value, numerator, denominator)
    return series


def _change(change: statistics.Change, base_period: str | None, values: dict[str, _Value]) -> ChangePublic:
    base = values.get(base_period) if base_period else None
    return ChangePublic(
        base_period=base_period,
        base_value=base.value if base else None,
        absolute=change.absolute,
        relative=change.relative,
        reason=change.reason,
    )


@dataclass(frozen=True)
class _Band:
    """A target as the analysis reads it 36 times over: plain values, the tolerance in the metric's unit."""

    effective_from: dt.date
    effective_to: dt.date | None
    value: float
    tolerance: float


def _bands(targets: list[Target]) -> list[_Band]:
    return [_Band(t.effective_from, t.effective_to, t.value, t.tolerance_in_units()) for t in targets]


@functools.lru_cache(maxsize=4096)
def _window(period: Period) -> tuple[tuple[str, dt.date], ...]:
    """The periods a period is judged in, oldest first, with their last days; the same for every metric."""
    out = []
    for back in range(HISTORY - 1, -1, -1):
        try:
            here = period.shift(-back)
        except PeriodError:
            continue
        if here.year < MIN_YEAR:  # before the first year a period can be written in
            continue
        out.append((str(here), here.end))
    return tuple(out)


def _points(
    metric: Metric, period: Period, values: dict[str, _Value], bands: list[_Band], breaks: set[str]
) -> list[statistics.Point]:
    direction = Direction(metric.direction)
    points = []
    for text, end in _window(period):
        row = values.get(text)
        target = target_in_force(bands, end)
        value = row.value if row else None
        status = status_of(value, target.value if target else None, target.tolerance if target else 0.0, direction)
        points.append(statistics.Point(text, value, target.value if target else None, status, text in breaks))
    return points


def analyse(
    metric: Metric,
    department: Department,
    period: Period,
    values: dict[str, _Value],
    targets: list[Target],
    break_periods: list[str],
    is_key: bool = False,
    revision: int | None = None,
) -> PerformancePublic:
    direction = Direction(metric.direction)
    bands = _bands(targets)
    points = _points(metric, period, values, bands, set(break_periods))
    current = values.get(str(period))
    target = target_in_force(bands, period.end)
    previous = values.get(str(period.previous()))
    comparison = statistics.compare(points, str(period))
    trend = statistics.trend(points, direction, window=TREND_WINDOW)
    limits = statistics.xmr(points, baseline=BASELINE)
    streak = statistics.streaks(p.status for p in points)
    value = current.value if current else None
    return PerformancePublic(
        metric=metric.key,
        department=department.code,
        name=metric.name,
        unit=metric.unit,
        kind=metric.kind,
        direction=metric.direction,
        frequency=metric.frequency,
        period=str(period),
        value=value,
        numerator=current.numerator if current else None,
        denominator=current.denominator if current else None,
        target=target.value if target else None,
        tolerance=target.tolerance if target else None,
        status=points[-1].status,
        previous_period=str(period.previous()),
        previous_value=previous.value if previous else None,
        change=None if value is None or previous is None else value - previous.value,
        is_key=is_key,
        vs_previous=_change(comparison.vs_previous, comparison.previous_period, values),
        vs_year_ago=_change(comparison.vs_year_ago, comparison.year_ago_period, values),
        trend=TrendPublic(
            direction=trend.direction_word, slope=trend.slope, periods=trend.periods, reason=trend.reason
        ),
        limits=LimitsPublic(
            centre=limits.centre,
            lower=limits.lower,
            upper=limits.upper,
            moving_range=limits.mr_bar,
            baseline_periods=limits.baseline_periods,
            signals=[SignalPublic(rule=s.rule, direction=s.direction, periods=s.periods) for s in limits.signals],
            reason=limits.reason,
        ),
        streak=StreakPublic(current=streak.current, longest=streak.longest),
        series_breaks=[b for b in break_periods if b <= str(period)],
        revision=revision,
    )


def _performance(
    rows: list[tuple[Metric, Department]],
    requested: Period | None,
    session: Session,
    as_of: dt.date,
    viewer: Principal | None,
) -> list[PerformancePublic]:
    periods = {metric.id: period_for(metric, requested, as_of) for metric, _ in rows}
    series = _load_series(session, periods)
    targets = targets_of(session, periods)
    breaks = series_breaks(session, list(periods))
    extras = extras_of(session, list(periods), viewer)
    months = approved_months(session, {metric.department_id for metric, _ in rows})
    # Only a value read has a revision behind it; a missing one has none to cite.
    revisions = newest_revisions(
        session, {(m.id, str(periods[m.id])) for m, _ in rows if str(periods[m.id]) in series[m.id]}
    )
    return [
        _with_approval(
            analyse(
                metric,
                department,
                periods[metric.id],
                series[metric.id],
                targets[metric.id],
                [b.period for b in breaks[metric.id] if b.period],
                any(p.is_key for p in extras.priorities.get(metric.id, [])),
                revision=revisions.get((metric.id, str(periods[metric.id]))),
            ),
            periods[metric.id],
            months.get(metric.department_id, {}),
        )
        for metric, department in rows
    ]


def _with_approval(item: PerformancePublic, period: Period, months) -> PerformancePublic:
    # Only a value can be provisional: with none there is nothing to approve.
    item.approved = None if item.value is None else is_approved(period, months)
    return item


def metric_performance(
    session: Session, key: str, period: str | None, as_of: dt.date, viewer: Principal | None = None
) -> PerformancePublic:
    metric, department = get_visible_metric(session, key, viewer)
    requested = Period.parse(period) if period else None
    return _performance([(metric, department)], requested, session, as_of, viewer)[0]


def performance_list(
    session: Session,
    department_code: str | None,
    period: str | None,
    page: PageParams,
    as_of: dt.date,
    viewer: Principal | None = None,
    *,
    priority: str | None = None,
    key_only: bool = False,
) -> tuple[list[PerformancePublic], int]:
    if department_code is not None:
        get_department(session, department_code)
    query = visible_metrics_query(department_code, viewer, priority=priority, key_only=key_only)
    # Drafts and proposals have no agreed series yet; retired metrics are no longer expected.
    query = query.where(Metric.state == MetricState.active)
    rows = session.exec(query.order_by(Department.code, Metric.key)).all()
    total = len(rows)
    window = list(rows[page.offset : page.offset + page.limit])
    requested = Period.parse(period) if period else None
    return _performance(window, requested, session, as_of, viewer), total


def most_improved(
    session: Session,
    department_code: str | None,
    period: str | None,
    limit: int,
    as_of: dt.date,
    viewer: Principal | None = None,
) -> MostImproved:
    """Active metrics ranked by how much of the gap to their target they closed since the same period a year ago."""
    if department_code is not None:
        get_department(session, department_code)
    query = visible_metrics_query(department_code, viewer).where(Metric.state == MetricState.active)
    rows = session.exec(query.order_by(Department.code, Metric.key)).all()
    requested = Period.parse(period) if period else None
    periods = {metric.id: period_for(metric, requested, as_of) for metric, _ in rows}
    series = _load_series(session, periods)
    targets = targets_of(session, periods)
    entries, by_key = [], {}
    for metric, department in rows:
        here = periods[metric.id]
        year_ago = here.same_period_last_year()
        now, before = series[metric.id].get(str(here)), series[metric.id].get(str(year_ago))
        target = target_in_force(targets[metric.id], here.end)
        entries.append(
            statistics.ImprovementEntry(
                metric=metric.key,
                direction=metric.direction,
                value=now.value if now else None,
                value_year_ago=before.value if before else None,
                target=target.value if target else None,
            )
        )
        by_key[metric.key] = (metric, department)
    ranking = statistics.most_improved(entries)
    values = {e.metric: e for e in entries}
    items = [
        ImprovedPublic(
            rank=r.rank,
            metric=r.metric,
            department=by_key[r.metric][1].code,
            name=by_key[r.metric][0].name,
            improvement=r.improvement,
            value=values[r.metric].value,
            value_year_ago=values[r.metric].value_year_ago,
            target=values[r.metric].target,
        )
        for r in ranking.ranked
    ]
    return MostImproved(
        period=str(requested) if requested else None,
        items=items[:limit],
        total=len(items),
        left_out=[LeftOutPublic(metric=e.metric, reason=e.reason) for e in ranking.excluded],
    )
