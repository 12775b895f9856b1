"""A department's values approved month by month, and when values lock.

Approving a month approves and locks every value of the department whose period ends in it: the month itself, a
week whose Sunday falls in it, a quarter or (fiscal) year that ends in it. A value also locks by itself once more
than `lock_after_days` have passed since it was due (its period's end plus the metric's due_days), approved or not.
A locked value changes only through an analyst's correction with a reason (see the observations write path).

The lookups are built for many metrics and periods at once: one query gives the approved months of any number of
departments, and the rest is date arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable, Mapping

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, Unprocessable
from services.common.pagination import PageParams
from services.common.periods import Period
from services.metrics.approvals.models import PeriodApproval
from services.metrics.approvals.schemas import (
    ApprovalCreate,
    ApprovalPublic,
    MetricLockPublic,
    PeriodLockPublic,
)
from services.metrics.audit.service import record
from services.metrics.definitions.models import Metric
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department

# Each department's approved months ("2017-05"), with the day each was approved. Membership (`month in months`)
# is all most callers need; the day is for saying why a value is locked.
ApprovedMonths = dict[int, dict[str, dt.date]]


def month_of(period: Period) -> str:
    """The month whose approval covers `period`: the one it ends in."""
    end = period.end
    return f"{end.year:04d}-{end.month:02d}"


def _day(moment: dt.datetime) -> dt.date:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()


def approved_months(session: Session, department_ids: Iterable[int]) -> ApprovedMonths:
    """Every approved month of these departments, in one query; a department with none maps to an empty dict."""
    ids = sorted(set(department_ids))
    found: ApprovedMonths = {department_id: {} for department_id in ids}
    for i in range(0, len(ids), 500):
        rows = session.exec(
            select(PeriodApproval.department_id, PeriodApproval.period, PeriodApproval.at).where(
                PeriodApproval.department_id.in_(ids[i : i + 500])
            )
        )
        for department_id, month, at in rows:
            found[department_id][month] = _day(at)
    return found


def is_approved(period: Period, months: Container[str]) -> bool:
    """Whether the department (whose approved months these are) approved `period`'s values."""
    return month_of(period) in months


def due_date(metric: Metric, period: Period) -> dt.date:
    return period.end + dt.timedelta(days=metric.due_days)


def locks_on(metric: Metric, period: Period, lock_after_days: int) -> dt.date:
    """The first day the value is locked by itself. A value sent on its due date is on time, so even with
    lock_after_days = 0 it may still be sent that day."""
    return due_date(metric, period) + dt.timedelta(days=lock_after_days + 1)


def lock_reason(
    metric: Metric,
    department_id: int,
    period: Period,
    as_of: dt.date,
    lock_after_days: int,
    months: Mapping[int, Mapping[str, dt.date]],
) -> str | None:
    """Why `metric`'s value for `period` is locked, or None while it may still change freely.

    `months` is what approved_months gave for (at least) this department."""
    month = month_of(period)
    approved_on = months.get(department_id, {}).get(month)
    if approved_on is not None:
        return f"{month} was approved by the department on {approved_on.isoformat()}"
    since = locks_on(metric, period, lock_after_days)
    if as_of >= since:
        due = due_date(metric, period).isoformat()
        return f"locked since {since.isoformat()}, more than {lock_after_days} days after it was due on {due}"
    return None


def _public(approval: PeriodApproval, code: str) -> ApprovalPublic:
    return ApprovalPublic(
        department=code,
        period=approval.period,
        note=approval.note,
        on_behalf=approval.on_behalf,
        actor=approval.actor,
        actor_name=approval.actor_name,
        at=approval.at if approval.at.tzinfo else approval.at.replace(tzinfo=dt.UTC),
    )


def _approval(session: Session, department: Department, month: str) -> PeriodApproval | None:
    return session.exec(
        select(PeriodApproval).where(PeriodApproval.department_id == department.id, PeriodApproval.period == month)
    ).first()


def approve(session: Session, code: str, body: ApprovalCreate, actor: Principal, as_of: dt.date) -> ApprovalPublic:
    """The department's head approves a month that has ended; the performance office may do so on its behalf."""
    department = get_department(session, code)
    if actor.heads(code):
        on_behalf = False
    elif actor.is_performance_office:
        on_behalf = True
    else:
        raise Forbidden(f"{code}'s head approves its values (or an analyst on the department's behalf).")
    period = Period.parse(body.period)
    if period.end >= as_of:
        raise Unprocessable(
            f"{period} has not ended yet (today is {as_of.isoformat()}): approve it once its values are all in.",
            errors=[{"field": "period", "reason": "the month has not ended"}],
        )
    existing = _approval(session, department, str(period))
    if existing is not None:
        raise Conflict(
            f"{code}'s values for {period} were already approved by {existing.actor_name or existing.actor} "
            f"on {_day(existing.at).isoformat()}."
        )
    approval = PeriodApproval(
        department_id=department.id,
        period=str(period),
        note=body.note,
        on_behalf=on_behalf,
        actor=actor.actor,
        actor_name=actor.name[:200],
    )
    try:
        with session.begin_nested():
            session.add(approval)
            session.flush()
    except IntegrityError as exc:
        # Another approval of the same month committed between the check above and this insert.
        raise Conflict(f"{code}'s values for {period} were already approved.") from exc
    record(
        session,
        actor,
        "period.approved",
        department=code,
        subject=str(period),
        detail={"period": str(period), "note": body.note, "on_behalf": on_behalf},
    )
    session.flush()
    return _public(approval, code)


def list_approvals(session: Session, code: str, page: PageParams) -> tuple[list[ApprovalPublic], int]:
    department = get_department(session, code)
    query = select(PeriodApproval).where(PeriodApproval.department_id == department.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(PeriodApproval.period.desc()).offset(page.offset).limit(page.limit)).all()
    return [_public(row, code) for row in rows], total


def period_lock(
    session: Session,
    code: str,
    period_text: str,
    viewer: Principal | None,
    as_of: dt.date,
    lock_after_days: int,
) -> PeriodLockPublic:
    department = get_department(session, code)
    period = Period.parse(period_text)
    month = month_of(period)
    approval = _approval(session, department, month)
    months = {department.id: {month: _day(approval.at)}} if approval else {}
    query = select(Metric).where(
        Metric.department_id == department.id,
        Metric.frequency == str(period.frequency),
        Metric.is_computed == False,  # noqa: E712 - a computed metric's values are never submitted
    )
    if viewer is None or not viewer.can_read(code):
        query = query.where(Metric.is_published)
    metrics = [
        MetricLockPublic(
            metric=metric.key,
            due=due_date(metric, period),
            locks_on=locks_on(metric, period, lock_after_days),
            locked=(reason := lock_reason(metric, department.id, period, as_of, lock_after_days, months)) is not None,
            reason=reason,
        )
        for metric in session.exec(query.order_by(Metric.key))
    ]
    return PeriodLockPublic(
        department=code,
        period=str(period),
        month=month,
        approved=approval is not None,
        approval=_public(approval, code) if approval else None,
        locked=approval is not None or (bool(metrics) and all(m.locked for m in metrics)),
        metrics=metrics,
    )
