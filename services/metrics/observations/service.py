"""Observation reads, and the row-by-row upsert behind every submission."""

import datetime as dt
import math
from dataclasses import dataclass, replace

from sqlalchemy import func, insert
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.contracts import (
    BatchResult,
    ForbiddenRow,
    ImportStrategy,
    ImportSummary,
    ObservationBatch,
    ObservationRow,
    RejectedRow,
)
from services.common.pagination import PageParams
from services.common.periods import PERIOD_EXAMPLES, Frequency, Period, PeriodError
from services.metrics.approvals.service import ApprovedMonths, approved_months, lock_reason
from services.metrics.audit.models import AuditEvent
from services.metrics.base import utcnow
from services.metrics.definitions.models import Metric
from services.metrics.definitions.service import get_visible_metric
from services.metrics.departments.models import Department
from services.metrics.observations.models import (
    Observation,
    ObservationDelivery,
    ObservationRevision,
    RevisionKind,
)
from services.metrics.observations.schemas import RevisionPublic
from services.metrics.orgunits.models import OrgUnit


def newest_revision_ids(metric_ids: list[int], org_unit: str | None = None, periods: list[str] | None = None):
    """A grouped subquery: the id of the newest revision per metric, period and org unit (columns metric_id, period,
    org_unit, revision). Ids grow with every change written, so the highest is the change that left the value as it
    is. Read beside the values rather than stored on them, so every writer of revisions is covered as it is."""
    query = select(
        ObservationRevision.metric_id,
        ObservationRevision.period,
        ObservationRevision.org_unit,
        func.max(ObservationRevision.id).label("revision"),
    ).where(ObservationRevision.metric_id.in_(metric_ids))
    if org_unit is not None:
        query = query.where(ObservationRevision.org_unit == org_unit)
    if periods is not None:
        query = query.where(ObservationRevision.period.in_(periods))
    group = (ObservationRevision.metric_id, ObservationRevision.period, ObservationRevision.org_unit)
    return query.group_by(*group).subquery("newest_revision")


def newest_revisions(session: Session, values: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The newest revision of each department-level value named by (metric id, period), in one query."""
    if not values:
        return {}
    metric_ids, periods = sorted({m for m, _ in values}), sorted({p for _, p in values})
    newest = newest_revision_ids(metric_ids, "", periods)
    rows = session.execute(select(newest.c.metric_id, newest.c.period, newest.c.revision))
    return {(m, p): revision for m, p, revision in rows if (m, p) in values}


def list_revisions(
    session: Session, key: str, period: str, org_unit: str, page: PageParams, viewer: Principal | None = None
) -> tuple[list[RevisionPublic], int]:
    metric, _ = get_visible_metric(session, key, viewer)
    query = select(ObservationRevision).where(
        ObservationRevision.metric_id == metric.id,
        ObservationRevision.period == period,
        ObservationRevision.org_unit == org_unit,
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(ObservationRevision.changed_at.desc(), ObservationRevision.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return [RevisionPublic.model_validate(r, from_attributes=True) for r in rows], total


@dataclass(frozen=True)
class _Values:
    value: float
    numerator: float | None
    denominator: float | None
    comment: str | None

    @classmethod
    def of(cls, obs: Observation) -> "_Values":
        return cls(obs.value, obs.numerator, obs.denominator, obs.comment)


@dataclass
class _Candidate:
    metric: Metric
    period: Period
    org_unit: str
    # None on a delete row: it names a value without giving one.
    values: _Values | None
    reason: str | None
    row: int = 0
    # Why its period is locked, when the sender may correct it anyway (kept in the audit trail)...
    lock: str | None = None
    # ...or why the row is refused, should it change anything.
    refusal: str | None = None

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.metric.id, str(self.period), self.org_unit)

    def applied_to(self, before: _Values) -> _Values:
        assert self.values is not None
        # A row without a comment keeps the stored one rather than erasing it.
        return self.values if self.values.comment is not None else replace(self.values, comment=before.comment)


@dataclass
class _Change:
    kind: RevisionKind
    candidate: _Candidate
    before: _Values | None
    after: _Values | None


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


def _check_row(row: ObservationRow, metric: Metric | None, as_of: dt.date, strategy: ImportStrategy) -> _Candidate:
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
            f"{PERIOD_EXAMPLES[Frequency(metric.frequency)]}",
        )
    if period.start > as_of:
        raise _RowRejected("period", f"period {period} has not started yet (today is {as_of.isoformat()})")
    org_unit = row.org_unit or ""
    if strategy is ImportStrategy.delete:
        # DHIS2 reads only the key of a row to delete; whatever value it carries is not judged.
        return _Candidate(metric, period, org_unit, None, row.reason)
    value = _resolve_value(row)
    low = -math.inf if metric.min_value is None else metric.min_value
    high = math.inf if metric.max_value is None else metric.max_value
    if not low <= value <= high:
        raise _RowRejected("value", f"{value:g} is outside the allowed range [{low:g}, {high:g}] of '{metric.key}'")
    return _Candidate(metric, period, org_unit, _Values(value, row.numerator, row.denominator, row.comment), row.reason)


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


def _existing(session: Session, candidates: list[_Candidate], *, lock: bool) -> dict[tuple[int, str, str], Observation]:
    by_metric: dict[int, set[str]] = {}
    for c in candidates:
        by_metric.setdefault(c.metric.id, set()).add(str(c.period))
    found = {}
    # With lock, a value another delivery is changing is read only once that delivery commits, so the
    # previous_value a revision records is the one really replaced. Rows are locked in one global order
    # (metric, period, org unit) so two batches never wait on each other in a cycle.
    for metric_id in sorted(by_metric):
        ordered = sorted(by_metric[metric_id])
        for i in range(0, len(ordered), 500):
            query = (
                select(Observation)
                .where(Observation.metric_id == metric_id, Observation.period.in_(ordered[i : i + 500]))
                .order_by(Observation.period, Observation.org_unit)
            )
            for obs in session.exec(query.with_for_update() if lock else query):
                found[(obs.metric_id, obs.period, obs.org_unit)] = obs
    return found


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _judge_lock(
    c: _Candidate, batch: ObservationBatch, as_of: dt.date, lock_after_days: int, months: ApprovedMonths
) -> None:
    why = lock_reason(c.metric, c.metric.department_id, c.period, as_of, lock_after_days, months)
    if why is None:
        return
    if not batch.may_correct_locked:
        c.refusal = f"period {c.period} is locked ({why}): only an analyst may correct it, giving a reason"
    elif not (c.reason or "").strip():
        c.refusal = f"period {c.period} is locked ({why}): a correction must give its reason"
    else:
        c.lock = why


def _would_change(c: _Candidate, before: _Values | None, strategy: ImportStrategy) -> bool:
    """Whether the row would create, change or delete its value (as _plan decides), not leave it as it is."""
    if strategy is ImportStrategy.delete:
        return before is not None
    if before is None:
        return strategy is not ImportStrategy.update
    return strategy is not ImportStrategy.create and c.applied_to(before) != before


def _locked_correction(batch: ObservationBatch, change: _Change, now: dt.datetime) -> dict:
    c = change.candidate
    return {
        "at": now,
        "actor": batch.actor,
        # The batch names its sender only as "user:7"; ingest's audit trail has the name.
        "actor_name": batch.actor,
        "department_code": batch.department,
        "action": "observation.locked_correction",
        "subject": c.metric.key,
        "outcome": "ok",
        "detail": {
            "metric": c.metric.key,
            "period": str(c.period),
            "org_unit": c.org_unit,
            "kind": str(change.kind),
            "value": change.after.value if change.after else None,
            "previous_value": change.before.value if change.before else None,
            "reason": c.reason,
            "locked": c.lock,
            "submission_id": batch.delivery_id,
        },
    }


def _plan(
    candidates: list[_Candidate],
    stored: dict[tuple[int, str, str], _Values],
    strategy: ImportStrategy,
    summary: ImportSummary,
    sent_at: dt.datetime | None = None,
    stamps: dict[tuple[int, str, str], dt.datetime] | None = None,
) -> tuple[list[_Change], list[tuple[int, str, str]]]:
    """What the batch would change, row after row, counted into the summary; nothing is touched yet, so
    a dry run or a refused atomic batch leaves the session clean.

    Also returns the values it confirms unchanged, whose "sent at" moves on all the same. A row sent
    before the stored value was is ignored: the later one stands, whichever was delivered first."""
    state = stored  # advanced row by row; the caller passes a copy when it must not see the changes
    stamps = {} if stamps is None else stamps
    changes: list[_Change] = []
    confirmed: list[tuple[int, str, str]] = []
    for c in candidates:
        before = state.get(c.key)
        stamp = stamps.get(c.key)
        if sent_at is not None and stamp is not None and sent_at < stamp:
            summary.ignored += 1
            continue
        if c.refusal is not None and _would_change(c, before, strategy):
            # A locked value resent unchanged, or left alone by the strategy, is no correction: only changes count.
            summary.rejected.append(RejectedRow(row=c.row, field="period", reason=c.refusal))
            continue
        if sent_at is not None:
            stamps[c.key] = sent_at
        if strategy is ImportStrategy.delete:
            if before is None:
                summary.ignored += 1
                continue
            summary.deleted += 1
            change = _Change(RevisionKind.deleted, c, before, None)
        elif before is None:
            if strategy is ImportStrategy.update:
                summary.ignored += 1
                continue
            summary.accepted += 1
            change = _Change(RevisionKind.created, c, None, c.values)
        elif strategy is ImportStrategy.create:
            summary.ignored += 1
            continue
        else:
            after = c.applied_to(before)
            if after == before:
                summary.unchanged += 1
                confirmed.append(c.key)
                continue
            summary.updated += 1
            change = _Change(RevisionKind.updated, c, before, after)
        state[c.key] = change.after
        changes.append(change)
    return changes, confirmed


def _write(
    session: Session,
    changes: list[_Change],
    rows: dict[tuple[int, str, str], Observation],
    batch: ObservationBatch,
    now: dt.datetime,
) -> list[dict]:
    """Apply the changes to the observation rows; returns their revisions, for one bulk insert."""
    revisions = []
    for change in changes:
        c, after = change.candidate, change.after
        if after is None:
            session.delete(rows.pop(c.key))
        elif (obs := rows.get(c.key)) is None:
            rows[c.key] = Observation(
                metric_id=c.metric.id,
                period=str(c.period),
                period_start=c.period.start,
                org_unit=c.org_unit,
                value=after.value,
                numerator=after.numerator,
                denominator=after.denominator,
                comment=after.comment,
                submission_id=batch.delivery_id,
                sent_at=batch.sent_at,
                created_at=now,
                updated_at=now,
            )
            session.add(rows[c.key])
        else:
            obs.value, obs.numerator, obs.denominator = after.value, after.numerator, after.denominator
            obs.comment = after.comment
            obs.submission_id = batch.delivery_id
            obs.sent_at = batch.sent_at
            obs.updated_at = now
            session.add(obs)
        revisions.append(
            {
                "metric_id": c.metric.id,
                "period": str(c.period),
                "org_unit": c.org_unit,
                "kind": change.kind,
                "value": after.value if after else None,
                "numerator": after.numerator if after else None,
                "denominator": after.denominator if after else None,
                "comment": after.comment if after else None,
                "previous_value": change.before.value if change.before else None,
                "reason": c.reason,
                "submission_id": batch.delivery_id,
                "actor": batch.actor,
                "changed_at": now,
            }
        )
    return revisions


def apply_batch(session: Session, batch: ObservationBatch, as_of: dt.date, *, lock_after_days: int) -> BatchResult:
    """Validate every row, then write what the batch's strategy asks for, each change with its revision.

    Nothing is written on a dry run, nor when an atomic batch has a rejected row; the summary then tells
    what would have happened. Rows naming another department's metric refuse the whole batch; the caller
    turns that into 403.

    A row that would change a locked period's value (approved, or more than `lock_after_days` past due) is rejected,
    unless the batch comes from the performance office and the row gives its reason; such a correction is audited.
    """
    return apply_batches(session, [batch], as_of, lock_after_days=lock_after_days)[0]


def _org_units(session: Session, department_ids: set[int]) -> dict[int, set[str]]:
    units: dict[int, set[str]] = {}
    if department_ids:
        for department_id, code in session.exec(
            select(OrgUnit.department_id, OrgUnit.code).where(OrgUnit.department_id.in_(sorted(department_ids)))
        ):
            units.setdefault(department_id, set()).add(code)
    return units


def apply_batches(
    session: Session, batches: list[ObservationBatch], as_of: dt.date, *, lock_after_days: int
) -> list[BatchResult]:
    """Several deliveries in order, as if one after the other, with a few queries for all of them.

    Later batches see what earlier ones wrote. A delivery already applied is answered from memory."""
    results: dict[int, BatchResult] = {}
    ids = [b.delivery_id for b in batches if b.delivery_id and not b.dry_run]
    remembered: dict[str, BatchResult] = {}
    for i in range(0, len(ids), 500):
        for delivery in session.exec(
            select(ObservationDelivery).where(ObservationDelivery.delivery_id.in_(ids[i : i + 500]))
        ):
            remembered[delivery.delivery_id] = BatchResult.model_validate(delivery.result)

    metrics = _metrics_by_key(session, {row.metric for b in batches for row in b.rows})
    months = approved_months(session, {metric.department_id for metric, _ in metrics.values()})
    units = _org_units(session, {metric.department_id for metric, _ in metrics.values()})
    judged: list[tuple[int, ObservationBatch, ImportSummary, list[_Candidate], bool]] = []
    for index, batch in enumerate(batches):
        if batch.delivery_id in remembered and not batch.dry_run:
            results[index] = remembered[batch.delivery_id]
            continue
        # Another department's published metric refuses the batch (403). Its unpublished ones are, to this
        # submitter, unknown: saying "it belongs to B" would tell them which hidden metrics B has.
        own = {key: metric for key, (metric, code) in metrics.items() if code == batch.department}
        forbidden = [
            ForbiddenRow(row=i, metric=row.metric, department=metrics[row.metric][1])
            for i, row in enumerate(batch.rows)
            if row.metric in metrics and row.metric not in own and metrics[row.metric][0].is_published
        ]
        if forbidden:
            results[index] = BatchResult(summary=ImportSummary(), applied=False, forbidden=forbidden)
            continue
        summary = ImportSummary()
        candidates: list[_Candidate] = []
        for i, row in enumerate(batch.rows):
            try:
                candidate = _check_row(row, own.get(row.metric), as_of, batch.strategy)
            except _RowRejected as rejection:
                summary.rejected.append(RejectedRow(row=i, field=rejection.field, reason=rejection.reason))
                continue
            known = units.get(candidate.metric.department_id, set())
            if candidate.org_unit and candidate.org_unit not in known:
                listed = ", ".join(sorted(known)[:10]) or "none yet"
                reason = f"{batch.department} has no org unit '{candidate.org_unit}' (its org units: {listed})"
                summary.rejected.append(RejectedRow(row=i, field="org_unit", reason=reason))
                continue
            candidate.row = i
            _judge_lock(candidate, batch, as_of, lock_after_days, months)
            candidates.append(candidate)
        applied = not (batch.dry_run or (batch.atomic and summary.rejected))
        judged.append((index, batch, summary, candidates, applied))

    writing = any(applied for *_, applied in judged)
    rows = _existing(session, [c for *_, candidates, _ in judged for c in candidates], lock=writing)
    state: dict[tuple[int, str, str], _Values | None] = {k: _Values.of(obs) for k, obs in rows.items()}
    stamps = {k: _aware(obs.sent_at) for k, obs in rows.items() if obs.sent_at is not None}
    now = utcnow()
    revisions: list[dict] = []
    deliveries: list[dict] = []
    audits: list[dict] = []
    for index, batch, summary, candidates, applied in judged:
        if applied and batch.atomic and any(c.refusal for c in candidates):
            # Whether a locked row refuses the batch depends on what it would change: found out on copies first.
            trial = summary.model_copy(deep=True)
            _plan(candidates, dict(state), batch.strategy, trial, batch.sent_at, dict(stamps))
            applied = not trial.rejected
        # A batch that will not be written plans on a copy, so later batches do not see its changes.
        changes, confirmed = _plan(
            candidates,
            state if applied else dict(state),
            batch.strategy,
            summary,
            batch.sent_at,
            stamps if applied else dict(stamps),
        )
        summary.rejected.sort(key=lambda r: r.row)
        if applied:
            revisions += _write(session, changes, rows, batch, now)
            audits += [_locked_correction(batch, change, now) for change in changes if change.candidate.lock]
            if batch.sent_at is not None:
                for key in confirmed:
                    if key in rows:
                        rows[key].sent_at = batch.sent_at
                        session.add(rows[key])
            if any(change.after is None for change in changes):
                # Deletes go out now: a later batch may create the same value again in this transaction.
                session.flush()
        results[index] = result = BatchResult(summary=summary, applied=applied)
        if batch.delivery_id and not batch.dry_run:
            deliveries.append(
                {
                    "delivery_id": batch.delivery_id,
                    "department_code": batch.department,
                    "result": result.model_dump(mode="json"),
                    "created_at": now,
                }
            )
    session.flush()
    if revisions:
        session.execute(insert(ObservationRevision), revisions)
    if deliveries:
        session.execute(insert(ObservationDelivery), deliveries)
    if audits:
        session.execute(insert(AuditEvent), audits)
    return [results[i] for i in range(len(batches))]
