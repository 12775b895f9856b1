"""Reading a metric's series: its values with their approval, breaks and notes, rolled up over time (month to
quarter to year) and across org units (to the department), always by the metric's own roll-up rule."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Unprocessable
from services.common.pagination import PageParams
from services.common.periods import DEFAULT_FISCAL_START_MONTH, Frequency, Period, PeriodError, frequency_nests
from services.metrics.annotations.service import annotations_by_period
from services.metrics.approvals.service import approved_months, is_approved
from services.metrics.definitions.lifecycle import series_breaks
from services.metrics.definitions.service import get_visible_metric
from services.metrics.observations.models import Observation
from services.metrics.observations.rollup import Combined, Part, across_units_method, combine, rollup_periods
from services.metrics.observations.schemas import RolledUpPublic, SeriesPoint, UnitsRollupPublic, UnitValuePublic
from services.metrics.observations.service import newest_revision_ids
from services.metrics.orgunits.models import OrgUnit


def _window(query, start: str | None, end: str | None):
    if start:
        query = query.where(Observation.period_start >= Period.parse(start).start)
    if end:
        query = query.where(Observation.period_start <= Period.parse(end).end)
    return query


def list_observations(
    session: Session,
    key: str,
    start: str | None,
    end: str | None,
    org_unit: str,
    page: PageParams,
    viewer: Principal | None = None,
) -> tuple[list[SeriesPoint], int]:
    metric, _ = get_visible_metric(session, key, viewer)
    where = _window(
        select(Observation.id).where(Observation.metric_id == metric.id, Observation.org_unit == org_unit), start, end
    )
    total = session.exec(select(func.count()).select_from(where.subquery())).one()
    # Plain rows, not ORM objects: a series is read far more often than it is written, and is long.
    columns = (
        Observation.period,
        Observation.value,
        Observation.numerator,
        Observation.denominator,
        Observation.org_unit,
        Observation.comment,
    )
    newest = newest_revision_ids([metric.id], org_unit)
    query = (
        where.with_only_columns(*columns, newest.c.revision)
        .outerjoin(newest, newest.c.period == Observation.period)
        .order_by(Observation.period_start)
    )
    rows = session.execute(query.offset(page.offset).limit(page.limit)).all()
    months = approved_months(session, [metric.department_id])[metric.department_id]
    breaks = {b.period for b in series_breaks(session, [metric.id])[metric.id]}
    notes = annotations_by_period(session, metric.id, [r.period for r in rows], viewer) if rows else {}
    items = [
        SeriesPoint(
            period=r.period,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            org_unit=r.org_unit,
            comment=r.comment,
            approved=is_approved(Period.parse(r.period), months),
            series_break=r.period in breaks,
            annotations=notes.get(r.period, []),
            revision=r.revision,
        )
        for r in rows
    ]
    return items, total


def _public(period: str, combined: Combined) -> RolledUpPublic:
    return RolledUpPublic(
        period=period,
        value=combined.value,
        numerator=combined.numerator,
        denominator=combined.denominator,
        parts=combined.count,
        expected=combined.expected,
        complete=combined.complete,
        reason=combined.reason,
    )


def rolled_up_series(
    session: Session,
    key: str,
    to: Frequency,
    start: str | None,
    end: str | None,
    allow_partial: bool,
    viewer: Principal | None = None,
    fiscal_start: int = DEFAULT_FISCAL_START_MONTH,
) -> list[RolledUpPublic]:
    """The department's series at a coarser frequency: each period from its parts by the metric's roll-up."""
    metric, _ = get_visible_metric(session, key, viewer)
    own = Frequency(metric.frequency)
    if to == own:
        raise Unprocessable(
            f"'{key}' is already {own}ly: ask for a coarser frequency.",
            errors=[{"field": "to", "reason": "not coarser than the metric"}],
        )
    if not frequency_nests(own, to, fiscal_start):
        raise Unprocessable(
            f"{own} values do not add up to a {to} (ISO weeks straddle months and years).",
            errors=[{"field": "to", "reason": f"{own} does not nest in {to}"}],
        )
    rows = session.exec(
        _window(
            select(Observation.period, Observation.value, Observation.numerator, Observation.denominator).where(
                Observation.metric_id == metric.id, Observation.org_unit == ""
            ),
            start,
            end,
        ).order_by(Observation.period_start)
    ).all()
    parts = {period: Part(period, value, numerator, denominator) for period, value, numerator, denominator in rows}
    targets: dict[Period, list[str]] = {}
    for period in parts:
        targets.setdefault(Period.parse(period).parent(to, fiscal_start=fiscal_start), []).append(period)
    out = []
    for target in sorted(targets):
        mine = {p: parts[p] for p in targets[target]}
        combined = rollup_periods(mine, target, metric.rollup, frequency=own, allow_partial=allow_partial)
        out.append(_public(str(target), combined))
    return out


def units_rollup(session: Session, key: str, period: str, viewer: Principal | None = None) -> UnitsRollupPublic:
    """The period's values per org unit and the department's value combined from them."""
    metric, _ = get_visible_metric(session, key, viewer)
    try:
        if Period.parse(period).frequency != Frequency(metric.frequency):
            raise PeriodError(f"'{key}' is {metric.frequency}ly")
    except PeriodError as exc:
        raise Unprocessable(
            f"{exc}; ask for one of its periods.", errors=[{"field": "period", "reason": str(exc)}]
        ) from exc
    rows = session.exec(
        select(Observation).where(Observation.metric_id == metric.id, Observation.period == period)
    ).all()
    names = dict(
        session.exec(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.department_id == metric.department_id)).all()
    )
    units = sorted((r for r in rows if r.org_unit), key=lambda r: r.org_unit)
    reported = next((r.value for r in rows if not r.org_unit), None)
    method = across_units_method(metric.rollup)
    combined = combine([Part(r.org_unit, r.value, r.numerator, r.denominator) for r in units], method)
    return UnitsRollupPublic(
        period=period,
        rollup=str(method),
        units=[
            UnitValuePublic(
                org_unit=r.org_unit,
                name=names.get(r.org_unit),
                value=r.value,
                numerator=r.numerator,
                denominator=r.denominator,
            )
            for r in units
        ],
        department=_public(period, combined),
        reported=reported,
    )
