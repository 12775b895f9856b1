"""Plain factories for raw records and computed metrics, and an independent count of what each measure should be,
shared by the computed-metric tests."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from services.metrics.definitions.lifecycle import create_metric
from services.metrics.definitions.models import Direction, Metric, MetricBase, MetricKind, MetricState
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation
from services.metrics.records.derive import CityClock, days_between, on_time
from services.metrics.records.models import SERVICE_REQUESTS, RawRecord
from services.metrics.records.rules import MetricRule, default_rollup

CITY = "America/New_York"
CLOCK = CityClock(CITY)
ZONE = ZoneInfo(CITY)


def local(text: str) -> dt.datetime:
    """A wall-clock time in the city ("2017-06-02 09:30") as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(dt.UTC)


def record_values(
    record_id: str,
    department: str,
    opened: dt.datetime,
    closed: dt.datetime | None = None,
    due: dt.datetime | None = None,
    *,
    category: str | None = "Pothole",
    org_unit: str | None = None,
    dataset: str = SERVICE_REQUESTS,
    **extra,
) -> dict:
    """A record's columns with the derived ones worked out by derive.py, as the loader does."""
    opened_month, opened_week, opened_hour, opened_weekday = CLOCK.opened(opened)
    closed_month, closed_week = CLOCK.periods(closed) if closed else (None, None)
    return {
        "dataset": dataset,
        "record_id": record_id,
        "department": department,
        "category": category,
        "org_unit": org_unit,
        "opened_at": opened,
        "closed_at": closed,
        "due_at": due,
        "due_source": "record" if due else None,
        "opened_month": opened_month,
        "opened_week": opened_week,
        "opened_hour": opened_hour,
        "opened_weekday": opened_weekday,
        "closed_month": closed_month,
        "closed_week": closed_week,
        "days_to_close": days_between(opened, closed) if closed else None,
        "on_time": on_time(closed, due),
        **extra,
    }


def make_record(session: Session, record_id: str, department: str, opened, closed=None, due=None, **kw) -> RawRecord:
    row = RawRecord(**record_values(record_id, department, opened, closed, due, **kw))
    session.add(row)
    session.flush()
    return row


def random_records(count: int, departments=("DPW", "DWM"), prefix: str = "r", months=(1, 6)) -> list[dict]:
    """Records opened over the months given of 2017, about a sixth still open, a sixth without a due time."""
    rows = []
    first = dt.datetime(2017, months[0], 1, tzinfo=ZONE)
    span = (dt.datetime(2017, months[1] + 1, 1, tzinfo=ZONE) - first).total_seconds()
    for i in range(count):
        opened = (first + dt.timedelta(seconds=random.uniform(0, span))).astimezone(dt.UTC)
        closed = None if random.random() < 1 / 6 else opened + dt.timedelta(hours=random.uniform(0.5, 24 * 45))
        due = None if random.random() < 1 / 6 else opened + dt.timedelta(days=random.choice([2, 5, 10, 14]))
        rows.append(
            record_values(
                f"{prefix}{i:05d}",
                random.choice(departments),
                opened,
                closed,
                due,
                category=random.choice(["Pothole", "Streetlight", "Graffiti", None]),
                org_unit=random.choice(["NORTH", "SOUTH", None]),
            )
        )
    return rows


def add_records(session: Session, rows: list[dict]) -> None:
    session.add_all([RawRecord(**row) for row in rows])
    session.flush()


UNITS = {
    "opened": "count",
    "closed": "count",
    "backlog": "count",
    "on_time_rate": "percent",
    "median_days_to_close": "days",
    "p90_days_to_close": "days",
}


def computed_metric(
    session: Session, department: Department, measure: str, *, frequency: str = "month", key: str | None = None, **rule
) -> Metric:
    """A computed metric, as the API would make it: a rule, is_computed, its measure's roll-up."""
    checked = MetricRule.model_validate({"measure": measure, **rule})
    definition = MetricBase(
        key=key or f"{department.code.lower()}.{measure}_{frequency}",
        name=f"{measure} by {frequency}",
        unit=UNITS[measure],
        kind=MetricKind.output,
        direction=Direction.higher_is_better,
        frequency=frequency,
        is_published=True,
        is_computed=True,
        rollup=default_rollup(checked.measure),
    )
    return create_metric(
        session, department, definition, state=MetricState.active, rule=checked.model_dump(mode="json")
    )


def stored(session: Session, metric: Metric) -> dict[tuple[str, str], tuple]:
    rows = session.exec(select(Observation).where(Observation.metric_id == metric.id)).all()
    return {(o.period, o.org_unit): (o.value, o.numerator, o.denominator) for o in rows}


# --- the independent count ----------------------------------------------------------------------------------------


def _quantile(days: list[float], measure: str) -> float:
    if measure == "median_days_to_close":
        return statistics.median(days)
    if len(days) == 1:
        return days[0]
    return statistics.quantiles(days, n=10, method="inclusive")[8]


def _selected(rows: list[dict], departments, categories=(), org_units=()) -> list[dict]:
    return [
        r
        for r in rows
        if r["department"] in departments
        and (not categories or r["category"] in categories)
        and (not org_units or r["org_unit"] in org_units)
    ]


def _month_or_week(moment: dt.datetime, weekly: bool) -> str:
    # Worked out again here from the time itself, not read from the derived columns.
    day = moment.astimezone(ZONE).date()
    if weekly:
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def _all_periods(first: str, last: str, weekly: bool) -> list[str]:
    from services.common.periods import Period, periods_between

    return [str(p) for p in periods_between(Period.parse(first), Period.parse(last))]


def expected(
    rows: list[dict],
    measure: str,
    departments,
    *,
    weekly: bool = False,
    categories=(),
    org_units=(),
    by_org_unit: bool = False,
) -> dict[tuple[str, str], tuple]:
    """(period, org unit) -> (value, numerator, denominator), counted one record at a time in Python."""
    chosen = _selected(rows, departments, categories, org_units)
    groups: dict[str, list[dict]] = {"": chosen}
    if by_org_unit:
        for r in chosen:
            if r["org_unit"]:
                groups.setdefault(r["org_unit"], []).append(r)
    out: dict[tuple[str, str], tuple] = {}
    for unit, members in groups.items():
        opened = [(_month_or_week(r["opened_at"], weekly), r) for r in members]
        closed = [(_month_or_week(r["closed_at"], weekly), r) for r in members if r["closed_at"] is not None]
        if measure in ("opened", "closed"):
            for period, _ in opened if measure == "opened" else closed:
                value = out.get((period, unit), (0.0, None, None))[0] + 1
                out[(period, unit)] = (value, None, None)
        elif measure == "backlog":
            if not opened:
                continue
            first = min(p for p, _ in opened)
            last = max([p for p, _ in opened] + [p for p, _ in closed])
            for period in _all_periods(first, last, weekly):
                level = sum(
                    1
                    for p, r in opened
                    if p <= period and (r["closed_at"] is None or _month_or_week(r["closed_at"], weekly) > period)
                )
                out[(period, unit)] = (float(level), None, None)
        elif measure == "on_time_rate":
            by_period: dict[str, list[dict]] = {}
            for period, r in closed:
                if r["due_at"] is not None:
                    by_period.setdefault(period, []).append(r)
            for period, due in by_period.items():
                met = sum(1 for r in due if r["closed_at"] <= r["due_at"])
                out[(period, unit)] = (met / len(due), float(met), float(len(due)))
        else:
            by_period = {}
            for period, r in closed:
                by_period.setdefault(period, []).append((r["closed_at"] - r["opened_at"]).total_seconds() / 86400)
            for period, days in by_period.items():
                out[(period, unit)] = (_quantile(sorted(days), measure), None, None)
    return out
