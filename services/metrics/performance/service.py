"""Status of each metric against the target in force for a period (DESIGN.md's rule)."""

import datetime as dt

from sqlalchemy import tuple_
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.pagination import PageParams
from services.common.periods import Frequency, Period, last_complete_period
from services.metrics.definitions.models import Direction, Metric
from services.metrics.definitions.service import (
    get_visible_metric,
    target_in_force,
    targets_of,
    visible_metrics_query,
)
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.observations.models import Observation
from services.metrics.performance.schemas import PerformancePublic, Status

# Values like 0.85 against 0.90 - 0.05 must not fall off the band through binary rounding.
_EPSILON = 1e-9


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
    return Period.containing(requested.end, frequency)


def _performance(
    rows: list[tuple[Metric, Department]], requested: Period | None, session: Session, as_of: dt.date
) -> list[PerformancePublic]:
    periods = {metric.id: period_for(metric, requested, as_of) for metric, _ in rows}
    wanted = [(mid, str(p)) for mid, p in periods.items()] + [(mid, str(p.previous())) for mid, p in periods.items()]
    values: dict[tuple[int, str], Observation] = {}
    for i in range(0, len(wanted), 400):
        chunk = wanted[i : i + 400]
        for obs in session.exec(
            select(Observation).where(
                tuple_(Observation.metric_id, Observation.period).in_(chunk), Observation.org_unit == ""
            )
        ):
            values[(obs.metric_id, obs.period)] = obs
    targets = targets_of(session, periods)
    items = []
    for metric, department in rows:
        period = periods[metric.id]
        current = values.get((metric.id, str(period)))
        previous = values.get((metric.id, str(period.previous())))
        target = target_in_force(targets[metric.id], period.end)
        value = current.value if current else None
        previous_value = previous.value if previous else None
        items.append(
            PerformancePublic(
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
                status=status_of(
                    value,
                    target.value if target else None,
                    target.tolerance if target else 0.0,
                    Direction(metric.direction),
                ),
                previous_period=str(period.previous()),
                previous_value=previous_value,
                change=None if value is None or previous_value is None else value - previous_value,
            )
        )
    return items


def metric_performance(
    session: Session, key: str, period: str | None, as_of: dt.date, viewer: Principal | None = None
) -> PerformancePublic:
    metric, department = get_visible_metric(session, key, viewer)
    requested = Period.parse(period) if period else None
    return _performance([(metric, department)], requested, session, as_of)[0]


def performance_list(
    session: Session,
    department_code: str | None,
    period: str | None,
    page: PageParams,
    as_of: dt.date,
    viewer: Principal | None = None,
) -> tuple[list[PerformancePublic], int]:
    if department_code is not None:
        get_department(session, department_code)
    query = visible_metrics_query(department_code, viewer)
    rows = session.exec(query.order_by(Department.code, Metric.key)).all()
    total = len(rows)
    window = list(rows[page.offset : page.offset + page.limit])
    requested = Period.parse(period) if period else None
    return _performance(window, requested, session, as_of), total
