"""A department's budget hearing on one page: what the budget gives it year by year, and what its metrics show,
each with its status as the performance dashboard judges it, its recent series and what one unit of output cost."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.pagination import PageParams
from services.common.periods import Period
from services.metrics.budget.links import cost_items
from services.metrics.budget.links_schemas import (
    HearingDepartment,
    HearingMetric,
    HearingPoint,
    HearingPublic,
    HearingYear,
)
from services.metrics.budget.models import BudgetDepartment, BudgetLine
from services.metrics.budget.service import _cents, _money
from services.metrics.definitions.models import Metric
from services.metrics.departments.service import get_department
from services.metrics.observations.models import Observation
from services.metrics.performance.service import performance_list

SERIES_POINTS = 24
# Every active metric of one department; no department has anywhere near this many.
_ALL = PageParams(limit=10_000, offset=0)


def _years(session: Session, names: list[str]) -> list[HearingYear]:
    if not names:
        return []
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for year, kind, cents in session.exec(
        select(BudgetLine.fiscal_year, BudgetLine.kind, _cents(BudgetLine.amount))
        .where(BudgetLine.department.in_(names))
        .group_by(BudgetLine.fiscal_year, BudgetLine.kind)
    ):
        sums[year][str(kind)] = _money(cents)
    return [
        HearingYear(
            fiscal_year=year,
            expense=float(kinds.get("expense", Decimal(0))),
            revenue=float(kinds.get("revenue", Decimal(0))),
        )
        for year, kinds in sorted(sums.items())
    ]


def _series(session: Session, metric_id: int, through: Period) -> list[HearingPoint]:
    # Up to the period the status is for, so the line ends where the judgement does.
    rows = session.exec(
        select(Observation.period, Observation.value)
        .where(
            Observation.metric_id == metric_id,
            Observation.org_unit == "",
            Observation.period_start <= through.start,
        )
        .order_by(Observation.period_start.desc())
        .limit(SERIES_POINTS)
    ).all()
    return [HearingPoint(period=period, value=value) for period, value in reversed(rows)]


def hearing(session: Session, code: str, viewer: Principal | None, as_of: dt.date, fiscal_start: int) -> HearingPublic:
    """Published active metrics for everyone; unpublished ones too for staff who may read the department (the
    visibility rule of every metric route)."""
    department = get_department(session, code)
    names = sorted(
        session.exec(select(BudgetDepartment.name).where(BudgetDepartment.department_id == department.id)).all()
    )
    performance, _ = performance_list(session, code, None, _ALL, as_of, viewer)
    metrics = {
        metric.key: metric
        for metric in session.exec(select(Metric).where(Metric.key.in_([p.metric for p in performance])))
    }
    out = []
    for item in performance:
        metric = metrics[item.metric]
        costs, _ = cost_items(session, metric, fiscal_start)
        out.append(
            HearingMetric(
                metric=item.metric,
                name=item.name,
                unit=item.unit,
                is_key=item.is_key,
                status=item.status,
                value=item.value,
                target=item.target,
                period=item.period,
                trend=item.trend,
                series=_series(session, metric.id, Period.parse(item.period, fiscal_start)),
                cost_per_output=costs[-1] if costs else None,
            )
        )
    out.sort(key=lambda m: (not m.is_key, m.metric))
    return HearingPublic(
        department=HearingDepartment(code=department.code, name=department.name),
        budget_departments=names,
        years=_years(session, names),
        metrics=out,
    )
