"""Schedules: which periods each active metric expects and by when; from them, completeness per department and
month, and the metrics that have gone stale.

A value is due `due_days` after its period ends. It counts in the month its period ENDS in: a quarterly value for
2017-Q2 sits in June, a yearly one in December, an ISO week in the month of its Sunday. Counting by the month of the
due date instead would put May's monthly values in June's column and shift every column with due_days; by period end,
a month's column is about that month's data.

Everything is computed in Python from one query for the metrics, one for the arrivals in the window, and, where
needed, one for each metric's first and last period with a value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Unprocessable
from services.common.pagination import PageParams
from services.common.periods import MAX_YEAR, MIN_YEAR, Frequency, Period, PeriodError, last_complete_period
from services.metrics.definitions.models import Metric, MetricState
from services.metrics.definitions.service import get_visible_metric, visible_metrics_query
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.observations.models import Observation
from services.metrics.schedules.schemas import (
    CellStatus,
    CompletenessCell,
    CompletenessReport,
    Counts,
    DepartmentCompleteness,
    MetricCompleteness,
    MetricSchedule,
    ScheduleEntry,
    StaleMetric,
    Timeliness,
)

DEFAULT_MONTHS = 6
# A longer window keeps its latest months, as a page size above the maximum is clamped rather than refused.
MAX_MONTHS = 36
DEFAULT_MIN_MISSING = 2


# ----------------------------------------------------------------------------------------------------------------
# One expected value
# ----------------------------------------------------------------------------------------------------------------


def due_date(period: Period, due_days: int) -> dt.date:
    return period.end + dt.timedelta(days=due_days)


def arrival_day(created_at: dt.datetime, as_of: dt.date) -> dt.date:
    """The day a value arrived, on the platform's clock."""
    if created_at.tzinfo is not None:
        created_at = created_at.astimezone(dt.UTC)
    # "Today" is as_of (DESIGN.md). A value stamped later by the real clock (the demo city lives in July 2017, and a
    # server's UTC date runs ahead of a western city's) arrived today, not in the future.
    return min(created_at.date(), as_of)


@dataclass(frozen=True)
class Slot:
    """An expected period and what every metric of its frequency shares: its written form, month and last day."""

    period: Period
    text: str
    month: str
    end: dt.date

    @classmethod
    def of(cls, period: Period) -> Slot:
        return cls(period, str(period), str(Period.containing(period.end, Frequency.month)), period.end)


def slots_between(first: Period, last: Period) -> list[Slot]:
    return [Slot.of(first.shift(step)) for step in range(first.steps_to(last) + 1)]


def timeliness(due: dt.date, arrived_on: dt.date | None, as_of: dt.date) -> tuple[Timeliness, int]:
    """The status of a value due on `due`, and how many days past due it arrived or has been missing."""
    if arrived_on is not None:
        days = max((arrived_on - due).days, 0)
        return (Timeliness.late if days else Timeliness.on_time), days
    if as_of > due:
        # On the due date itself the value can still arrive on time.
        return Timeliness.missing, (as_of - due).days
    return Timeliness.due, 0


def _entry(slot: Slot, due_days: int, arrived_on: dt.date | None, as_of: dt.date) -> ScheduleEntry:
    due = slot.end + dt.timedelta(days=due_days)
    status, days = timeliness(due, arrived_on, as_of)
    return ScheduleEntry(
        period=slot.text, month=slot.month, due_date=due, arrived_on=arrived_on, status=status, days_late=days
    )


def judge(period: Period, due_days: int, arrived_on: dt.date | None, as_of: dt.date) -> ScheduleEntry:
    return _entry(Slot.of(period), due_days, arrived_on, as_of)


def first_expected(metric: Metric, first_seen: str | None, fiscal_start: int) -> Period | None:
    """The first period an active metric expects: its first_period, else the period of its first value, else none."""
    if metric.state != MetricState.active:
        return None
    frequency = Frequency(metric.frequency)
    for text in (metric.first_period, first_seen):
        if not text:
            continue
        try:
            period = Period.parse(text, fiscal_start)
        except PeriodError:
            continue
        # first_period is not checked against the frequency when it is set: "2013-01" starts a quarterly metric
        # with 2013-Q1.
        return Period.containing(period.start, frequency, fiscal_start)
    return None


def cell_status(counts: Counts) -> CellStatus:
    if counts.missing:
        return CellStatus.missing
    if counts.late:
        return CellStatus.late
    if counts.due:
        return CellStatus.due
    return CellStatus.on_time if counts.on_time else CellStatus.none


def _counts(tally: dict[Timeliness, int]) -> Counts:
    return Counts(expected=sum(tally.values()), **{status.value: n for status, n in tally.items()})


# ----------------------------------------------------------------------------------------------------------------
# Queries
# ----------------------------------------------------------------------------------------------------------------


def _active_metrics(
    session: Session, department_code: str | None, viewer: Principal | None
) -> Sequence[tuple[Metric, Department]]:
    query = visible_metrics_query(department_code, viewer, state=MetricState.active)
    return session.exec(query.order_by(Department.code, Metric.key)).all()


def _seen_periods(session: Session, metric_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The first and last period with a department value, per metric. A metric's periods are all of one frequency,
    whose written forms sort in time order, so the (metric, period, org unit) key's index answers this."""
    ids = sorted(set(metric_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Observation.metric_id, func.min(Observation.period), func.max(Observation.period))
        .where(Observation.org_unit == "", Observation.metric_id.in_(ids))
        .group_by(Observation.metric_id)
    ).all()
    return {metric_id: (first, last) for metric_id, first, last in rows}


def _arrivals(
    session: Session, groups: Iterable[tuple[list[int], Period, Period]]
) -> dict[tuple[int, str], dt.datetime]:
    """When each department value of the given metrics arrived, for periods from the first to the last of each group
    (one group per frequency, so a yearly metric's range does not widen a monthly one's)."""
    conditions = [
        and_(Observation.metric_id.in_(ids), Observation.period_start.between(first.start, last.start))
        for ids, first, last in groups
        if ids
    ]
    if not conditions:
        return {}
    rows = session.exec(
        select(Observation.metric_id, Observation.period, Observation.created_at).where(
            Observation.org_unit == "", or_(*conditions)
        )
    ).all()
    return {(metric_id, period): created_at for metric_id, period, created_at in rows}


def _arrived_on(
    arrivals: dict[tuple[int, str], dt.datetime], metric_id: int, slot: Slot, as_of: dt.date
) -> dt.date | None:
    created_at = arrivals.get((metric_id, slot.text))
    return arrival_day(created_at, as_of) if created_at is not None else None


# ----------------------------------------------------------------------------------------------------------------
# One metric's schedule
# ----------------------------------------------------------------------------------------------------------------


def metric_schedule(
    session: Session,
    key: str,
    start: str | None,
    end: str | None,
    page: PageParams,
    as_of: dt.date,
    fiscal_start: int,
    viewer: Principal | None = None,
) -> MetricSchedule:
    """The metric's expected periods that have ended, newest first; `start`/`end` keep those whose last day falls
    between the first day of `start` and the last day of `end` (periods of any frequency)."""
    metric, department = get_visible_metric(session, key, viewer)
    low = Period.parse(start, fiscal_start).start if start else None
    high = Period.parse(end, fiscal_start).end if end else None
    if low is not None and high is not None and low > high:
        raise Unprocessable(
            f"start ({start}) comes after end ({end}).", errors=[{"field": "start", "reason": "after end"}]
        )
    frequency = Frequency(metric.frequency)
    seen = _seen_periods(session, [metric.id]) if metric.first_period is None else {}
    first = first_expected(metric, seen.get(metric.id, (None, None))[0], fiscal_start)
    schedule = MetricSchedule(
        metric=metric.key,
        department=department.code,
        name=metric.name,
        frequency=frequency,
        due_days=metric.due_days,
        state=metric.state,
        expected=first is not None,
        first_period=str(first) if first else None,
        as_of=as_of,
        items=[],
        total=0,
    )
    if first is None:
        return schedule
    last = last_complete_period(as_of, frequency, fiscal_start)
    if high is not None:
        ends_by = Period.containing(high, frequency, fiscal_start)
        if ends_by.end > high:
            ends_by = ends_by.previous()
        last = min(last, ends_by, key=lambda p: p.index)
    if low is not None:
        # The period containing `low` is the first to end on or after it.
        first = max(first, Period.containing(low, frequency, fiscal_start), key=lambda p: p.index)
    schedule.total = max(first.steps_to(last) + 1, 0)
    shown = range(page.offset, min(page.offset + page.limit, schedule.total))
    if not shown:
        return schedule
    slots = [Slot.of(last.shift(-i)) for i in shown]
    arrivals = _arrivals(session, [([metric.id], slots[-1].period, slots[0].period)])
    schedule.items = [_entry(s, metric.due_days, _arrived_on(arrivals, metric.id, s, as_of), as_of) for s in slots]
    return schedule


# ----------------------------------------------------------------------------------------------------------------
# Completeness: departments x months
# ----------------------------------------------------------------------------------------------------------------


def completeness_window(start: str | None, end: str | None, as_of: dt.date) -> tuple[Period, Period]:
    """The months asked for. Without end: up to the last complete month, or the DEFAULT_MONTHS months from a later
    start; without start: the DEFAULT_MONTHS months up to end. At most MAX_MONTHS, the latest."""
    first = Period.parse(start) if start else None
    if end:
        last = Period.parse(end)
    else:
        last = last_complete_period(as_of, Frequency.month)
        if first is not None and first.index > last.index:
            last = first.shift(DEFAULT_MONTHS - 1)
    if first is None:
        first = last.shift(-(DEFAULT_MONTHS - 1))
    if first.index > last.index:
        raise Unprocessable(
            f"start ({first}) comes after end ({last}).", errors=[{"field": "start", "reason": "after end"}]
        )
    if first.steps_to(last) >= MAX_MONTHS:
        first = last.shift(-(MAX_MONTHS - 1))
    # Within the years a request may name, so that the window answered can be asked for again.
    earliest, latest = Period(Frequency.month, MIN_YEAR, 1), Period(Frequency.month, MAX_YEAR, 12)
    return max(first, earliest, key=lambda p: p.index), min(last, latest, key=lambda p: p.index)


def completeness(
    session: Session,
    department_code: str | None,
    start: str | None,
    end: str | None,
    as_of: dt.date,
    fiscal_start: int,
    viewer: Principal | None = None,
) -> CompletenessReport:
    first_month, last_month = completeness_window(start, end, as_of)
    if department_code is not None:
        departments = [get_department(session, department_code)]
    else:
        departments = list(session.exec(select(Department).order_by(Department.name, Department.code)).all())
    rows = _active_metrics(session, department_code, viewer)
    months = [first_month.shift(i) for i in range(first_month.steps_to(last_month) + 1)]
    month_index = {str(m): i for i, m in enumerate(months)}
    window_start, window_end = first_month.start, last_month.end

    # Per frequency, the periods that end within the window and have ended by today, shared by its metrics.
    slots: dict[Frequency, list[Slot]] = {}
    for frequency in {Frequency(m.frequency) for m, _ in rows}:
        low = Period.containing(window_start, frequency, fiscal_start)
        high = Period.containing(window_end, frequency, fiscal_start)
        if high.end > window_end:
            high = high.previous()
        high = min(high, last_complete_period(as_of, frequency, fiscal_start), key=lambda p: p.index)
        slots[frequency] = slots_between(low, high)

    seen = _seen_periods(session, [m.id for m, _ in rows if m.first_period is None])
    # Per metric, how many of its frequency's slots come before its first expected period.
    skipped: dict[int, int] = {}
    groups: dict[Frequency, list[int]] = {}
    for metric, _ in rows:
        frequency = Frequency(metric.frequency)
        first = first_expected(metric, seen.get(metric.id, (None, None))[0], fiscal_start)
        shared = slots[frequency]
        if first is None or not shared or first.index > shared[-1].period.index:
            continue
        skipped[metric.id] = max(first.index - shared[0].period.index, 0)
        groups.setdefault(frequency, []).append(metric.id)
    arrivals = _arrivals(
        session, [(ids, slots[frequency][0].period, slots[frequency][-1].period) for frequency, ids in groups.items()]
    )

    tallies = {d.id: [dict.fromkeys(Timeliness, 0) for _ in months] for d in departments}
    details: list[MetricCompleteness] = []
    for metric, department in rows:
        entries: list[ScheduleEntry] = []
        tally = tallies.get(department.id)
        due_after = dt.timedelta(days=metric.due_days)
        if metric.id in skipped:
            for slot in slots[Frequency(metric.frequency)][skipped[metric.id] :]:
                arrived_on = _arrived_on(arrivals, metric.id, slot, as_of)
                status, _ = timeliness(slot.end + due_after, arrived_on, as_of)
                if tally is not None:
                    tally[month_index[slot.month]][status] += 1
                if department_code is not None:
                    entries.append(_entry(slot, metric.due_days, arrived_on, as_of))
        if department_code is not None:
            details.append(
                MetricCompleteness(
                    metric=metric.key,
                    name=metric.name,
                    frequency=metric.frequency,
                    due_days=metric.due_days,
                    values=entries,
                )
            )

    report_rows = []
    for department in departments:
        month_tallies = tallies[department.id]
        cells = []
        for month, tally in zip(months, month_tallies, strict=True):
            counts = _counts(tally)
            cells.append(CompletenessCell(**counts.model_dump(), month=str(month), status=cell_status(counts)))
        total = {status: sum(tally[status] for tally in month_tallies) for status in Timeliness}
        report_rows.append(
            DepartmentCompleteness(department=department.code, name=department.name, cells=cells, totals=_counts(total))
        )
    return CompletenessReport(
        start=str(first_month),
        end=str(last_month),
        as_of=as_of,
        months=[str(m) for m in months],
        departments=report_rows,
        metrics=details if department_code is not None else None,
    )


# ----------------------------------------------------------------------------------------------------------------
# Stale metrics
# ----------------------------------------------------------------------------------------------------------------


def stale_metrics(
    session: Session,
    department_code: str | None,
    min_missing: int,
    page: PageParams,
    as_of: dt.date,
    fiscal_start: int,
    viewer: Principal | None = None,
) -> tuple[list[StaleMetric], int]:
    """Active metrics whose values have been missing for at least `min_missing` consecutive periods up to today,
    most periods missing first. A value that arrived, even late, ends the run; a period not yet due is no part of it."""
    if department_code is not None:
        get_department(session, department_code)
    rows = _active_metrics(session, department_code, viewer)
    seen = _seen_periods(session, [m.id for m, _ in rows])
    # The last period already missing if nothing came, per frequency and due_days.
    last_overdue: dict[tuple[Frequency, int], Period] = {}
    found = []
    for metric, department in rows:
        frequency = Frequency(metric.frequency)
        first_seen, last_seen = seen.get(metric.id, (None, None))
        first = first_expected(metric, first_seen, fiscal_start)
        if first is None:
            continue
        rule = (frequency, metric.due_days)
        if rule not in last_overdue:
            period = last_complete_period(as_of, frequency, fiscal_start)
            while due_date(period, metric.due_days) >= as_of:
                period = period.previous()
            last_overdue[rule] = period
        overdue = last_overdue[rule]
        received = None
        if last_seen is not None:
            try:
                received = Period.containing(Period.parse(last_seen, fiscal_start).start, frequency, fiscal_start)
            except PeriodError:
                received = None
        run_start = first if received is None or received.index < first.index else received.next()
        missing = run_start.steps_to(overdue) + 1
        if missing < min_missing:
            continue
        found.append(
            StaleMetric(
                metric=metric.key,
                department=department.code,
                name=metric.name,
                frequency=frequency,
                due_days=metric.due_days,
                last_received=str(received) if received else None,
                missing_periods=missing,
                missing_since=str(run_start),
                overdue_since=due_date(run_start, metric.due_days),
            )
        )
    found.sort(key=lambda s: (-s.missing_periods, s.department, s.metric))
    return found[page.offset : page.offset + page.limit], len(found)
