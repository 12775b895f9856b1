"""Observation reads, and the row-by-row upsert behind every submission."""

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from services.common.contracts import (
    BatchResult,
    ForbiddenRow,
    ImportSummary,
    ObservationBatch,
    ObservationRow,
    RejectedRow,
)
from services.common.pagination import PageParams
from services.common.periods import Period, PeriodError
from services.metrics.base import utcnow
from services.metrics.definitions.models import Metric
from services.metrics.definitions.service import get_published_metric
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation, ObservationDelivery
from services.metrics.observations.schemas import ObservationPublic

_EXAMPLE_PERIOD = {"week": "2017-W23", "month": "2017-06", "quarter": "2017-Q2", "year": "2017"}


def list_observations(
    session: Session,
    key: str,
    start: str | None,
    end: str | None,
    org_unit: str,
    page: PageParams,
) -> tuple[list[ObservationPublic], int]:
    metric, _ = get_published_metric(session, key)
    query = select(Observation).where(Observation.metric_id == metric.id, Observation.org_unit == org_unit)
    if start:
        query = query.where(Observation.period_start >= Period.parse(start).start)
    if end:
        query = query.where(Observation.period_start <= Period.parse(end).end)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Observation.period_start).offset(page.offset).limit(page.limit)).all()
    return [ObservationPublic.model_validate(r, from_attributes=True) for r in rows], total


@dataclass
class _Candidate:
    metric: Metric
    period: Period
    org_unit: str
    value: float
    numerator: float | None
    denominator: float | None
    comment: str | None

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.metric.id, str(self.period), self.org_unit)

    def same_as(self, obs: Observation) -> bool:
        return (
            obs.value == self.value
            and obs.numerator == self.numerator
            and obs.denominator == self.denominator
            and (self.comment is None or obs.comment == self.comment)
        )


class _RowRejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def _resolve_value(row: ObservationRow) -> float:
    if row.numerator is None and row.denominator is None:
        if row.value is None:
            raise _RowRejected("value", "a value, or a numerator and a denominator, is required")
        return row.value
    if row.numerator is None or row.denominator is None:
        missing = "numerator" if row.numerator is None else "denominator"
        raise _RowRejected(missing, "numerator and denominator must be given together")
    if row.denominator == 0:
        raise _RowRejected("denominator", "must not be zero")
    derived = row.numerator / row.denominator
    if row.value is not None and not math.isclose(row.value, derived, rel_tol=1e-6, abs_tol=1e-9):
        raise _RowRejected("value", f"{row.value} does not equal numerator/denominator ({derived:.6g})")
    return derived if row.value is None else row.value


def _check_row(row: ObservationRow, metric: Metric | None, as_of: dt.date) -> _Candidate:
    if metric is None:
        raise _RowRejected("metric", f"unknown metric '{row.metric}'")
    if metric.is_computed:
        raise _RowRejected("metric", f"'{metric.key}' is computed from raw records and cannot be submitted")
    try:
        period = Period.parse(row.period)
    except PeriodError as exc:
        raise _RowRejected("period", str(exc)) from exc
    if period.frequency != metric.frequency:
        raise _RowRejected(
            "period",
            f"'{metric.key}' is reported by {metric.frequency}; write the period like "
            f"{_EXAMPLE_PERIOD[metric.frequency]}",
        )
    if period.start > as_of:
        raise _RowRejected("period", f"period {period} has not started yet (today is {as_of.isoformat()})")
    value = _resolve_value(row)
    low = -math.inf if metric.min_value is None else metric.min_value
    high = math.inf if metric.max_value is None else metric.max_value
    if not low <= value <= high:
        raise _RowRejected(
            "value", f"{value:g} is outside the allowed range [{low:g}, {high:g}] of '{metric.key}'"
        )
    return _Candidate(metric, period, row.org_unit or "", value, row.numerator, row.denominator, row.comment)


def _metrics_by_key(session: Session, keys: set[str]) -> dict[str, tuple[Metric, str]]:
    found: dict[str, tuple[Metric, str]] = {}
    ordered = sorted(keys)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        for metric, code in session.exec(
            select(Metric, Department.code)
            .join(Department, Department.id == Metric.department_id)
            .where(Metric.key.in_(chunk))
        ):
            found[metric.key] = (metric, code)
    return found


def _existing(session: Session, candidates: list[_Candidate]) -> dict[tuple[int, str, str], Observation]:
    by_metric: dict[int, set[str]] = {}
    for c in candidates:
        by_metric.setdefault(c.metric.id, set()).add(str(c.period))
    found = {}
    for metric_id, periods in by_metric.items():
        ordered = sorted(periods)
        for i in range(0, len(ordered), 500):
            for obs in session.exec(
                select(Observation).where(
                    Observation.metric_id == metric_id, Observation.period.in_(ordered[i : i + 500])
                )
            ):
                found[(obs.metric_id, obs.period, obs.org_unit)] = obs
    return found


def apply_batch(session: Session, batch: ObservationBatch, as_of: dt.date) -> BatchResult:
    """Validate every row, then insert or update the good ones (unless dry_run).

    Rows naming another department's metric refuse the whole batch; the caller turns that into 403.
    """
    if batch.delivery_id and not batch.dry_run:
        delivered = session.get(ObservationDelivery, batch.delivery_id)
        if delivered is not None:
            return BatchResult.model_validate(delivered.result)

    metrics = _metrics_by_key(session, {row.metric for row in batch.rows})
    forbidden = [
        ForbiddenRow(row=i, metric=row.metric, department=metrics[row.metric][1])
        for i, row in enumerate(batch.rows)
        if row.metric in metrics and metrics[row.metric][1] != batch.department
    ]
    if forbidden:
        return BatchResult(summary=ImportSummary(), forbidden=forbidden)

    summary = ImportSummary()
    candidates: list[_Candidate] = []
    for i, row in enumerate(batch.rows):
        try:
            candidates.append(_check_row(row, metrics.get(row.metric, (None,))[0], as_of))
        except _RowRejected as rejection:
            summary.rejected.append(RejectedRow(row=i, field=rejection.field, reason=rejection.reason))

    existing = _existing(session, candidates)
    now = utcnow()
    for c in candidates:
        obs = existing.get(c.key)
        if obs is None:
            summary.accepted += 1
            obs = Observation(
                metric_id=c.metric.id,
                period=str(c.period),
                period_start=c.period.start,
                org_unit=c.org_unit,
                value=c.value,
                numerator=c.numerator,
                denominator=c.denominator,
                comment=c.comment,
                submission_id=batch.delivery_id,
            )
            existing[c.key] = obs
            if not batch.dry_run:
                session.add(obs)
        elif c.same_as(obs):
            summary.unchanged += 1
        else:
            summary.updated += 1
            if not batch.dry_run:
                obs.value, obs.numerator, obs.denominator = c.value, c.numerator, c.denominator
                if c.comment is not None:
                    obs.comment = c.comment
                obs.submission_id = batch.delivery_id
                obs.updated_at = now
                session.add(obs)

    result = BatchResult(summary=summary)
    if batch.delivery_id and not batch.dry_run:
        session.add(
            ObservationDelivery(
                delivery_id=batch.delivery_id, department_code=batch.department, result=result.model_dump()
            )
        )
    session.flush()
    return result
