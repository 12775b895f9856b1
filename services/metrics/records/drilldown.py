"""From a computed value down to the records behind it, paged: for example Public Works' late requests of 2017-06.

The outcomes, for a period P of the metric's frequency, among the records its rule counts:

- opened: opened in P (an `opened` value counts these);
- closed: closed in P (`closed`, and the population of the durations);
- on_time / late: closed in P on or before / after their due time (an on-time rate's numerator / the rest of its
  denominator);
- no_due: closed in P without a due time (counted apart from the rate);
- open: open at the end of P (a backlog counts these).

Raw records are never public: only staff who may read the metric's department, and every department its rule
counts, see them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import func, or_
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Forbidden, Unprocessable
from services.common.pagination import PageParams
from services.common.periods import PERIOD_EXAMPLES, Frequency, Period
from services.metrics.definitions.service import get_visible_metric
from services.metrics.records.compute import record_scope
from services.metrics.records.models import RawRecord
from services.metrics.records.rules import Measure


class Outcome(StrEnum):
    opened = "opened"
    closed = "closed"
    on_time = "on_time"
    late = "late"
    no_due = "no_due"
    open = "open"


# What a value of each measure counts, when the caller does not say.
DEFAULT_OUTCOME = {
    Measure.opened: Outcome.opened,
    Measure.closed: Outcome.closed,
    Measure.backlog: Outcome.open,
    Measure.on_time_rate: Outcome.closed,
    Measure.median_days_to_close: Outcome.closed,
    Measure.p90_days_to_close: Outcome.closed,
}


class RecordPublic(BaseModel):
    id: str
    department: str
    category: str | None
    status: str | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    # "record" when the feed gave the due time, "sla" when the SLA table did.
    due_source: str | None
    days_to_close: float | None
    on_time: bool | None
    org_unit: str | None
    district: str | None
    latitude: float | None
    longitude: float | None


class RecordsPage(BaseModel):
    items: list[RecordPublic]
    total: int
    period: str
    outcome: Outcome


def _public(row: RawRecord) -> RecordPublic:
    return RecordPublic(
        id=row.record_id,
        department=row.department,
        category=row.category,
        status=row.status,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        due_at=row.due_at,
        due_source=row.due_source,
        days_to_close=row.days_to_close,
        on_time=None if row.on_time is None else bool(row.on_time),
        org_unit=row.org_unit,
        district=row.district,
        latitude=row.latitude,
        longitude=row.longitude,
    )


def records_behind(
    session: Session,
    key: str,
    period_text: str,
    outcome: Outcome | None,
    org_unit: str | None,
    page: PageParams,
    viewer: Principal,
) -> RecordsPage:
    metric, department = get_visible_metric(session, key, viewer)
    if metric.rule is None:
        raise Unprocessable(
            f"'{key}' is submitted by {department.code}, not computed from raw records: "
            "no records lie behind its values.",
            errors=[{"field": "key", "reason": "not a computed metric"}],
        )
    rule, departments, weekly = record_scope(session, metric)
    hidden = [code for code in [department.code, *departments] if not viewer.can_read(code)]
    if hidden:
        whose = ", ".join(sorted(set(hidden)))
        raise Forbidden(f"Raw records are only for staff of {whose} and the performance office.")
    period = Period.parse(period_text)
    frequency = Frequency.week if weekly else Frequency.month
    if period.frequency is not frequency:
        raise Unprocessable(
            f"'{key}' is counted by {frequency}: write the period like {PERIOD_EXAMPLES[frequency]}.",
            errors=[{"field": "period", "reason": f"not a {frequency}"}],
        )
    outcome = outcome or DEFAULT_OUTCOME[Measure(rule.measure)]
    opened = RawRecord.opened_week if weekly else RawRecord.opened_month
    closed = RawRecord.closed_week if weekly else RawRecord.closed_month
    text = str(period)
    conditions = [RawRecord.dataset == rule.dataset, RawRecord.department.in_(departments)]
    if rule.filters.category:
        conditions.append(RawRecord.category.in_(sorted(set(rule.filters.category))))
    if rule.filters.org_unit:
        conditions.append(RawRecord.org_unit.in_(sorted(set(rule.filters.org_unit))))
    if org_unit:
        conditions.append(RawRecord.org_unit == org_unit)
    if outcome is Outcome.opened:
        conditions.append(opened == text)
    elif outcome is Outcome.open:
        conditions += [opened <= text, or_(closed.is_(None), closed > text)]
    else:
        conditions.append(closed == text)
        if outcome is Outcome.on_time:
            conditions.append(RawRecord.on_time == 1)
        elif outcome is Outcome.late:
            conditions.append(RawRecord.on_time == 0)
        elif outcome is Outcome.no_due:
            conditions.append(RawRecord.on_time.is_(None))
    query = select(RawRecord).where(*conditions)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(RawRecord.opened_at, RawRecord.record_id).offset(page.offset).limit(page.limit)
    ).all()
    return RecordsPage(items=[_public(row) for row in rows], total=total, period=text, outcome=outcome)
