"""Citywide priorities, the metrics aligned to them (key metrics among them), and which outputs drive
which outcomes (the case study: hold departments to outputs they control, chosen because they lead to
the outcomes)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.metrics.audit.service import record
from services.metrics.definitions.lifecycle import editable_metric
from services.metrics.definitions.models import Metric, MetricKind, MetricLink
from services.metrics.definitions.service import (
    extras_of,
    target_in_force,
    targets_of,
    to_public,
    visible_metrics_query,
)
from services.metrics.departments.models import Department
from services.metrics.priorities.models import MetricPriority, Priority
from services.metrics.priorities.schemas import (
    Alignment,
    OutcomeWithDrivers,
    PriorityCreate,
    PriorityDetail,
    PriorityPublic,
    PriorityUpdate,
)


def _require_office(actor: Principal) -> None:
    if not actor.is_performance_office:
        raise Forbidden("Priorities, key metrics and links are the performance office's (analysts).")


def get_priority(session: Session, code: str) -> Priority:
    priority = session.exec(select(Priority).where(Priority.code == code)).first()
    if priority is None:
        raise NotFound(f"No priority has the code '{code}'.")
    return priority


def _counts(session: Session, viewer: Principal | None) -> dict[int, tuple[int, int]]:
    visible = visible_metrics_query(None, viewer).with_only_columns(Metric.id).subquery()
    counts: dict[int, tuple[int, int]] = {}
    for priority_id, is_key in session.exec(
        select(MetricPriority.priority_id, MetricPriority.is_key).where(
            MetricPriority.metric_id.in_(select(visible.c.id))
        )
    ):
        count, keys = counts.get(priority_id, (0, 0))
        counts[priority_id] = (count + 1, keys + int(is_key))
    return counts


def _public(priority: Priority, counts: dict[int, tuple[int, int]]) -> PriorityPublic:
    count, keys = counts.get(priority.id, (0, 0))
    return PriorityPublic(
        code=priority.code,
        name=priority.name,
        description=priority.description,
        position=priority.position,
        metric_count=count,
        key_metric_count=keys,
    )


def list_priorities(session: Session, viewer: Principal | None) -> list[PriorityPublic]:
    counts = _counts(session, viewer)
    priorities = session.exec(select(Priority).order_by(Priority.position, Priority.code)).all()
    return [_public(p, counts) for p in priorities]


def create_priority(session: Session, body: PriorityCreate, actor: Principal) -> PriorityPublic:
    _require_office(actor)
    if session.exec(select(Priority.id).where(Priority.code == body.code)).first() is not None:
        raise Conflict(f"A priority with the code '{body.code}' already exists.")
    priority = Priority(**body.model_dump())
    session.add(priority)
    session.flush()
    record(session, actor, "priority.created", subject=priority.code, detail=body.model_dump())
    return _public(priority, {})


def update_priority(session: Session, code: str, body: PriorityUpdate, actor: Principal) -> Priority:
    _require_office(actor)
    priority = get_priority(session, code)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    for field, value in changes.items():
        setattr(priority, field, value)
    session.add(priority)
    session.flush()
    record(session, actor, "priority.edited", subject=priority.code, detail=changes)
    return priority


def priority_detail(session: Session, code: str, as_of: dt.date, viewer: Principal | None) -> PriorityDetail:
    priority = get_priority(session, code)
    rows = session.exec(visible_metrics_query(None, viewer, priority=code).order_by(Department.code, Metric.key)).all()
    ids = [metric.id for metric, _ in rows]
    targets = targets_of(session, ids)
    extras = extras_of(session, ids, viewer)
    public = {m.id: to_public(m, d, target_in_force(targets[m.id], as_of), extras) for m, d in rows}
    by_key = {p.key: p for p in public.values()}
    outcomes, drivers_used = [], set()
    for metric, _ in rows:
        if metric.kind != MetricKind.outcome:
            continue
        item = public[metric.id]
        # An outcome's drivers as listed in its links, wherever those outputs are aligned.
        drivers = [by_key[k] for k in item.driven_by if k in by_key]
        drivers += _unaligned_drivers(session, item.driven_by, by_key, as_of, viewer)
        drivers_used.update(d.key for d in drivers)
        outcomes.append(OutcomeWithDrivers(outcome=item, drivers=drivers))
    others = [public[m.id] for m, _ in rows if m.kind == MetricKind.output and public[m.id].key not in drivers_used]
    return PriorityDetail(
        **_public(priority, _counts(session, viewer)).model_dump(), outcomes=outcomes, other_outputs=others
    )


def _unaligned_drivers(session, keys, known, as_of, viewer):
    missing = [k for k in keys if k not in known]
    if not missing:
        return []
    rows = session.exec(visible_metrics_query(None, viewer).where(Metric.key.in_(missing)).order_by(Metric.key)).all()
    ids = [m.id for m, _ in rows]
    targets = targets_of(session, ids)
    extras = extras_of(session, ids, viewer)
    return [to_public(m, d, target_in_force(targets[m.id], as_of), extras) for m, d in rows]


def align(session: Session, code: str, key: str, body: Alignment, actor: Principal) -> None:
    _require_office(actor)
    priority = get_priority(session, code)
    metric, department = editable_metric(session, key, actor)
    link = session.get(MetricPriority, (metric.id, priority.id))
    before = None if link is None else link.is_key
    if link is None:
        link = MetricPriority(metric_id=metric.id, priority_id=priority.id)
    link.is_key = body.is_key
    link.marked_by = actor.actor
    session.add(link)
    session.flush()
    if before != body.is_key:
        action = "metric.key_marked" if body.is_key else ("metric.aligned" if before is None else "metric.key_unmarked")
        record(session, actor, action, department=department.code, subject=metric.key, detail={"priority": code})


def unalign(session: Session, code: str, key: str, actor: Principal) -> None:
    _require_office(actor)
    priority = get_priority(session, code)
    metric, department = editable_metric(session, key, actor)
    link = session.get(MetricPriority, (metric.id, priority.id))
    if link is None:
        raise NotFound(f"'{key}' is not aligned to the priority '{code}'.")
    session.delete(link)
    session.flush()
    record(
        session, actor, "metric.unaligned", department=department.code, subject=metric.key, detail={"priority": code}
    )


def link_driver(session: Session, output_key: str, outcome_key: str, actor: Principal) -> None:
    _require_office(actor)
    output, department = editable_metric(session, output_key, actor)
    outcome, _ = editable_metric(session, outcome_key, actor)
    if output.kind != MetricKind.output or outcome.kind != MetricKind.outcome:
        raise Unprocessable(
            f"An output drives an outcome: '{output_key}' is an {output.kind} and '{outcome_key}' an {outcome.kind}.",
            errors=[{"field": "kind", "reason": "an output must drive an outcome"}],
        )
    exists = session.exec(
        select(MetricLink).where(MetricLink.output_metric_id == output.id, MetricLink.outcome_metric_id == outcome.id)
    ).first()
    if exists is not None:
        return
    session.add(MetricLink(output_metric_id=output.id, outcome_metric_id=outcome.id, created_by=actor.actor))
    session.flush()
    record(
        session, actor, "metric.linked", department=department.code, subject=output.key, detail={"drives": outcome.key}
    )


def unlink_driver(session: Session, output_key: str, outcome_key: str, actor: Principal) -> None:
    _require_office(actor)
    output, department = editable_metric(session, output_key, actor)
    outcome, _ = editable_metric(session, outcome_key, actor)
    link = session.exec(
        select(MetricLink).where(MetricLink.output_metric_id == output.id, MetricLink.outcome_metric_id == outcome.id)
    ).first()
    if link is None:
        raise NotFound(f"'{output_key}' is not linked to '{outcome_key}'.")
    session.delete(link)
    session.flush()
    record(
        session,
        actor,
        "metric.unlinked",
        department=department.code,
        subject=output.key,
        detail={"drives": outcome.key},
    )
