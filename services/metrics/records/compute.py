"""Computed metrics' values from raw records: a few GROUP BYs per metric over the derived period columns, the same
SQL on SQLite and PostgreSQL, written as observations with a revision for every change.

Which periods get a value: a period has an opened (closed, on-time, duration) value when at least one record was
opened (closed) in it; an on-time rate also needs one closed record with a due time. A backlog has a value for every
period from the first in which a record of the series was opened to the last in which one was opened or closed.
A value whose records have all gone is deleted.

Percentiles: the records' days to close sorted x[0] <= ... <= x[n-1], the q-quantile is at h = (n - 1)·q,
interpolated linearly: x[j] + (h - j)·(x[j+1] - x[j]) with j = floor(h). That is the median of Python's statistics
module, and its quantiles(method="inclusive"); both engines find x[j] and x[j+1] with ROW_NUMBER() over the
period, so no more than two rows per period leave the database.

Locks (approvals/service.py): the first value of a locked period is written, since loading a city's history must
give its history; a value that exists in a locked period changes (or goes) only in a recompute with `force`, which
the performance office asks for. Otherwise the period is reported in `locked_skipped`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import case, func, insert
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, select

from services.common.errors import Unprocessable
from services.common.periods import Frequency, Period, periods_between
from services.common.settings import Settings
from services.metrics.approvals.service import approved_months, lock_reason
from services.metrics.base import utcnow
from services.metrics.definitions.models import Metric
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation, ObservationRevision, RevisionKind
from services.metrics.records.models import RawRecord
from services.metrics.records.rules import DURATIONS, RULE_FREQUENCIES, Measure, MetricRule, departments_of

RULE_ACTOR = "rule"
# Marks the values a rule wrote, where a submitted value carries its submission's id.
RULE_SUBMISSION = "rule"

_RECORDS = RawRecord.__table__
# The q-quantile as a fraction k/d, so that the rank arithmetic stays in integers on both engines.
_QUANTILES: dict[Measure, tuple[int, int]] = {
    Measure.median_days_to_close: (1, 2),
    Measure.p90_days_to_close: (9, 10),
}

Progress = Callable[[int, int], None]


class RecomputeResult(BaseModel):
    metric: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    # Periods whose stored value differs from the records' but is locked; only `force` changes it.
    locked_skipped: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class _Value:
    value: float
    numerator: float | None = None
    denominator: float | None = None
    comment: str | None = None

    @classmethod
    def of(cls, obs: Observation) -> _Value:
        return cls(obs.value, obs.numerator, obs.denominator, obs.comment)


# (period, org unit) -> value; org unit "" is the department's value.
Values = dict[tuple[str, str], _Value]


@dataclass(frozen=True)
class _Scope:
    """The records a rule counts, and the period columns its metric's frequency reads."""

    rule: MetricRule
    departments: list[str]
    weekly: bool

    @property
    def opened(self):  # noqa: ANN201 - a table column
        return _RECORDS.c.opened_week if self.weekly else _RECORDS.c.opened_month

    @property
    def closed(self):  # noqa: ANN201 - a table column
        return _RECORDS.c.closed_week if self.weekly else _RECORDS.c.closed_month

    def where(self) -> list[ColumnElement[bool]]:
        filters = self.rule.filters
        conditions = [_RECORDS.c.dataset == self.rule.dataset, _RECORDS.c.department.in_(self.departments)]
        if filters.category:
            conditions.append(_RECORDS.c.category.in_(sorted(set(filters.category))))
        if filters.org_unit:
            conditions.append(_RECORDS.c.org_unit.in_(sorted(set(filters.org_unit))))
        return conditions


def _is_unit(org_unit: str | None) -> bool:
    return org_unit is not None and org_unit != ""


def _grouped(scope: _Scope, column, periods: set[str] | None, *measures):  # noqa: ANN001, ANN202 - a Select
    """Per period (and org unit, with by_org_unit) of `column`: the `measures` aggregated."""
    keys = [column, _RECORDS.c.org_unit] if scope.rule.by_org_unit else [column]
    query = select(*keys, *measures).where(*scope.where(), column.is_not(None)).group_by(*keys)
    if periods is not None:
        query = query.where(column.in_(sorted(periods)))
    return query


def _split(session: Session, scope: _Scope, query) -> list[tuple[str, str, tuple]]:  # noqa: ANN001
    """Rows as (period, org unit or "", aggregates)."""
    out = []
    for row in session.execute(query):
        if scope.rule.by_org_unit:
            out.append((row[0], row[1] if _is_unit(row[1]) else None, tuple(row[2:])))
        else:
            out.append((row[0], "", tuple(row[1:])))
    return out


def _sum_counts(rows: list[tuple[str, str | None, tuple]]) -> dict[tuple[str, str], list[int]]:
    """Adds org-unit groups up into their department's, keeping each named unit's own too."""
    totals: dict[tuple[str, str], list[int]] = {}
    for period, unit, numbers in rows:
        keys = [(period, "")] if unit in (None, "") else [(period, ""), (period, unit)]
        for key in keys:
            into = totals.setdefault(key, [0] * len(numbers))
            for i, number in enumerate(numbers):
                into[i] += int(number or 0)
    return totals


def _counts(session: Session, scope: _Scope, column, periods: set[str] | None) -> Values:  # noqa: ANN001
    rows = _split(session, scope, _grouped(scope, column, periods, func.count()))
    return {key: _Value(float(n)) for key, (n,) in _sum_counts(rows).items()}


def _on_time(session: Session, scope: _Scope, periods: set[str] | None) -> Values:
    on_time = func.sum(case((_RECORDS.c.on_time == 1, 1), else_=0))
    query = _grouped(scope, scope.closed, periods, func.count(), on_time, func.count(_RECORDS.c.on_time))
    values: Values = {}
    for (period, unit), (closed, met, with_due) in _sum_counts(_split(session, scope, query)).items():
        if with_due == 0:
            continue
        without = closed - with_due
        comment = None
        if without:
            comment = (
                f"{without} of the {closed} records closed in {period} had no due time and are not counted "
                f"({with_due} with a due time)."
            )
        values[(period, unit)] = _Value(met / with_due, float(met), float(with_due), comment)
    return values


def _quantiles(session: Session, scope: _Scope, measure: Measure, periods: set[str] | None) -> Values:
    k, d = _QUANTILES[measure]
    values: Values = {}
    for by_unit in (False, True) if scope.rule.by_org_unit else (False,):
        partition = [scope.closed, _RECORDS.c.org_unit] if by_unit else [scope.closed]
        conditions = [*scope.where(), scope.closed.is_not(None), _RECORDS.c.days_to_close.is_not(None)]
        if by_unit:
            conditions += [_RECORDS.c.org_unit.is_not(None), _RECORDS.c.org_unit != ""]
        if periods is not None:
            conditions.append(scope.closed.in_(sorted(periods)))
        ranked = (
            select(
                scope.closed.label("period"),
                (_RECORDS.c.org_unit if by_unit else _RECORDS.c.dataset).label("unit"),
                _RECORDS.c.days_to_close.label("days"),
                func.row_number().over(partition_by=partition, order_by=_RECORDS.c.days_to_close).label("rank"),
                func.count().over(partition_by=partition).label("n"),
            )
            .where(*conditions)
            .subquery()
        )
        # The 1-based ranks of x[j] and x[j+1]; (n - 1)·k is never negative, so // is floor on both engines.
        low = (ranked.c.n - 1) * k // d + 1
        query = select(ranked.c.period, ranked.c.unit, ranked.c.days, ranked.c.rank, ranked.c.n).where(
            (ranked.c.rank == low) | (ranked.c.rank == low + 1)
        )
        found: dict[tuple[str, str], dict[int, float]] = {}
        sizes: dict[tuple[str, str], int] = {}
        for period, unit, days, rank, n in session.execute(query):
            key = (period, unit if by_unit else "")
            found.setdefault(key, {})[rank] = days
            sizes[key] = n
        for key, ranks in found.items():
            n = sizes[key]
            j, delta = divmod((n - 1) * k, d)
            low_value = ranks[j + 1]
            if delta == 0:
                values[key] = _Value(low_value)
            else:
                # The same arithmetic as statistics.quantiles, so the two agree to the last bit.
                values[key] = _Value((low_value * (d - delta) + ranks[j + 2] * delta) / d)
    return values


def _backlog(session: Session, scope: _Scope, periods: set[str] | None, since: str | None) -> Values:
    """Cumulative opened minus cumulative closed, over all history, kept for the periods asked for."""
    opened = _sum_counts(_split(session, scope, _grouped(scope, scope.opened, None, func.count())))
    closed = _sum_counts(_split(session, scope, _grouped(scope, scope.closed, None, func.count())))
    series: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    for (period, unit), (n,) in opened.items():
        series.setdefault(unit, ({}, {}))[0][period] = n
    for (period, unit), (n,) in closed.items():
        series.setdefault(unit, ({}, {}))[1][period] = n
    values: Values = {}
    for unit, (opens, closes) in series.items():
        if not opens:
            continue  # cannot happen while records close after they open; a unit named only on closing is skipped
        first, last = min(opens), max(max(opens), max(closes, default=""))
        level = 0
        for period in periods_between(Period.parse(first), Period.parse(last)):
            text = str(period)
            level += opens.get(text, 0) - closes.get(text, 0)
            if (periods is None or text in periods) and (since is None or text >= since):
                values[(text, unit)] = _Value(float(level))
    return values


def _measure(session: Session, scope: _Scope, measure: Measure, periods: set[str] | None, since: str | None) -> Values:
    if measure is Measure.opened:
        return _counts(session, scope, scope.opened, periods)
    if measure is Measure.closed:
        return _counts(session, scope, scope.closed, periods)
    if measure is Measure.backlog:
        return _backlog(session, scope, periods, since)
    if measure is Measure.on_time_rate:
        return _on_time(session, scope, periods)
    if measure in DURATIONS:
        return _quantiles(session, scope, measure, periods)
    raise AssertionError(measure)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings()


def rule_of(metric: Metric) -> MetricRule:
    if metric.rule is None:
        raise Unprocessable(
            f"'{metric.key}' is submitted by its department, not computed from raw records: it has no rule.",
            errors=[{"field": "metric", "reason": "not a computed metric"}],
        )
    return MetricRule.model_validate(metric.rule)


def _scope(session: Session, metric: Metric) -> _Scope:
    rule = rule_of(metric)
    if Frequency(metric.frequency) not in RULE_FREQUENCIES:
        raise Unprocessable(
            f"'{metric.key}' is counted by {metric.frequency}; records are counted by month or by ISO week.",
            errors=[{"field": "frequency", "reason": "a computed metric's frequency is month or week"}],
        )
    own = session.exec(select(Department.code).where(Department.id == metric.department_id)).one()
    return _Scope(rule, departments_of(rule, own), Frequency(metric.frequency) is Frequency.week)


def record_scope(session: Session, metric: Metric) -> tuple[MetricRule, list[str], bool]:
    """The rule, the departments it counts and whether it is weekly (for the drill-down)."""
    scope = _scope(session, metric)
    return scope.rule, scope.departments, scope.weekly


def recompute(
    session: Session,
    metric: Metric,
    periods: set[str] | None,
    *,
    force: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
    reason: str | None = None,
    _since: str | None = None,
) -> RecomputeResult:
    """Bring `metric`'s values for `periods` (None: every period) in line with its records.

    `settings` gives the day locks are judged on (as_of) and lock_after_days; by default the process's settings.
    `progress(done, total)` is called as the work advances. Flushes, never commits."""
    settings = _settings(settings)
    scope = _scope(session, metric)
    measure = Measure(scope.rule.measure)
    frequency = Frequency(metric.frequency)
    wanted = None if periods is None else set(periods)
    strays = sorted(p for p in wanted or () if not _has_frequency(p, frequency))
    if strays:
        raise Unprocessable(
            f"'{metric.key}' is counted by {frequency}: {', '.join(strays[:5])} is not a {frequency}.",
            errors=[{"field": "periods", "reason": f"not a {frequency}"}],
        )
    if progress:
        progress(0, 2)
    # One recompute of a metric at a time: a second waits here (PostgreSQL) rather than racing for the same rows.
    session.exec(select(Metric.id).where(Metric.id == metric.id).with_for_update()).one()
    desired = _measure(session, scope, measure, wanted, _since)
    if progress:
        progress(1, 2)
    query = select(Observation).where(Observation.metric_id == metric.id)
    stored: dict[tuple[str, str], Observation] = {}
    if wanted is not None or _since is not None:
        chosen = sorted(wanted or ())
        for i in range(0, len(chosen), 500):
            for obs in session.exec(query.where(Observation.period.in_(chosen[i : i + 500]))):
                stored[(obs.period, obs.org_unit)] = obs
        if _since is not None:
            for obs in session.exec(query.where(Observation.period >= _since)):
                stored[(obs.period, obs.org_unit)] = obs
    else:
        stored = {(obs.period, obs.org_unit): obs for obs in session.exec(query)}
    result = _write(session, metric, desired, stored, force, settings, reason)
    if progress:
        progress(2, 2)
    return result


def _has_frequency(period: str, frequency: Frequency) -> bool:
    try:
        return Period.parse(period).frequency is frequency
    except ValueError:
        return False


def _write(
    session: Session,
    metric: Metric,
    desired: Values,
    stored: dict[tuple[str, str], Observation],
    force: bool,
    settings: Settings,
    reason: str | None,
) -> RecomputeResult:
    result = RecomputeResult(metric=metric.key)
    months = approved_months(session, [metric.department_id])
    locks: dict[str, str | None] = {}

    def locked(period: str) -> bool:
        if period not in locks:
            locks[period] = lock_reason(
                metric, metric.department_id, Period.parse(period), settings.as_of, settings.lock_after_days, months
            )
        return locks[period] is not None

    now = utcnow()
    note = reason or ("full recompute asked for by the performance office" if force else "recomputed from raw records")
    revisions: list[dict] = []
    skipped: set[str] = set()

    def revise(kind: RevisionKind, period: str, unit: str, after: _Value | None, before: _Value | None) -> None:
        revisions.append(
            {
                "metric_id": metric.id,
                "period": period,
                "org_unit": unit,
                "kind": kind,
                "value": after.value if after else None,
                "numerator": after.numerator if after else None,
                "denominator": after.denominator if after else None,
                "comment": after.comment if after else None,
                "previous_value": before.value if before else None,
                "reason": note,
                "submission_id": RULE_SUBMISSION,
                "actor": RULE_ACTOR,
                "changed_at": now,
            }
        )

    for key in sorted(desired.keys() | stored.keys()):
        period, unit = key
        after, obs = desired.get(key), stored.get(key)
        before = _Value.of(obs) if obs is not None else None
        if obs is None:
            assert after is not None
            session.add(
                Observation(
                    metric_id=metric.id,
                    period=period,
                    period_start=Period.parse(period).start,
                    org_unit=unit,
                    value=after.value,
                    numerator=after.numerator,
                    denominator=after.denominator,
                    comment=after.comment,
                    submission_id=RULE_SUBMISSION,
                    created_at=now,
                    updated_at=now,
                )
            )
            revise(RevisionKind.created, period, unit, after, None)
            result.created += 1
            continue
        if after == before:
            result.unchanged += 1
            continue
        if not force and locked(period):
            skipped.add(period)
            continue
        if after is None:
            session.delete(obs)
            revise(RevisionKind.deleted, period, unit, None, before)
            result.deleted += 1
        else:
            obs.value, obs.numerator, obs.denominator, obs.comment = (
                after.value,
                after.numerator,
                after.denominator,
                after.comment,
            )
            obs.submission_id = RULE_SUBMISSION
            obs.sent_at = None
            obs.updated_at = now
            session.add(obs)
            revise(RevisionKind.updated, period, unit, after, before)
            result.updated += 1
    session.flush()
    if revisions:
        session.execute(insert(ObservationRevision), revisions)
    result.locked_skipped = sorted(skipped)
    return result


def computed_metrics(session: Session, dataset: str) -> list[Metric]:
    metrics = session.exec(select(Metric).where(Metric.is_computed).order_by(Metric.key)).all()
    return [m for m in metrics if m.rule is not None and m.rule.get("dataset", "service_requests") == dataset]


def recompute_dataset(
    session: Session,
    dataset: str,
    *,
    force: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
    reason: str | None = None,
) -> list[RecomputeResult]:
    """Every computed metric on the dataset, all periods; `progress(done, total)` counts metrics."""
    metrics = computed_metrics(session, dataset)
    results = []
    for done, metric in enumerate(metrics):
        if progress:
            progress(done, len(metrics))
        results.append(recompute(session, metric, None, force=force, settings=settings, reason=reason))
    if progress:
        progress(len(metrics), len(metrics))
    return results


def _periods_of(touched: Iterable[tuple[str, str]], departments: Iterable[str], frequency: Frequency) -> set[str]:
    wanted = set(departments)
    weekly = frequency is Frequency.week
    return {period for department, period in touched if department in wanted and ("-W" in period) == weekly}


def recompute_for_import(
    session: Session,
    dataset: str,
    touched: set[tuple[str, str]],
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> dict:
    """After a load: only the periods it touched, of the computed metrics on `dataset` that count the departments
    (`touched` holds (department code, period) pairs, months and ISO weeks both). A backlog is recomputed from the
    earliest touched period on, since every later period end carries the change.

    Answers {metric key: counts} for the import's summary."""
    settings = _settings(settings)
    codes = dict(session.exec(select(Department.id, Department.code)).all())
    out: dict[str, dict] = {}
    metrics = computed_metrics(session, dataset)
    for done, metric in enumerate(metrics):
        if progress:
            progress(done, len(metrics))
        rule = MetricRule.model_validate(metric.rule)
        periods = _periods_of(touched, departments_of(rule, codes[metric.department_id]), Frequency(metric.frequency))
        if not periods:
            continue
        if rule.measure is Measure.backlog:
            result = recompute(session, metric, None, settings=settings, _since=min(periods))
        else:
            result = recompute(session, metric, periods, settings=settings)
        out[metric.key] = {"periods": len(periods), **result.model_dump(exclude={"metric"})}
    if progress:
        progress(len(metrics), len(metrics))
    return out
