import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import NotFound
from services.common.pagination import PageParams
from services.metrics.definitions.models import Metric, MetricBase, MetricLink, MetricState, Target, TargetBase
from services.metrics.definitions.schemas import MetricPublic, PriorityLink, TargetPublic
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.priorities.models import MetricPriority, Priority


def _visible_to(query, viewer: Principal | None):
    """Published metrics for everyone; unpublished ones only for staff who may read their department."""
    readable = viewer.readable_departments() if viewer else set()
    if readable is None:
        return query
    if not readable:
        return query.where(Metric.is_published)
    return query.where(or_(Metric.is_published, Department.code.in_(sorted(readable))))


def get_visible_metric(session: Session, key: str, viewer: Principal | None = None) -> tuple[Metric, Department]:
    row = session.exec(
        _visible_to(
            select(Metric, Department).join(Department, Department.id == Metric.department_id).where(Metric.key == key),
            viewer,
        )
    ).first()
    if row is None:
        # The same answer whether it does not exist or is another department's unpublished metric.
        raise NotFound(f"No published metric has the key '{key}'.")
    return row[0], row[1]


def targets_of(session: Session, metric_ids: Iterable[int]) -> dict[int, list[Target]]:
    """Targets per metric, oldest first, fetched in one query."""
    ids = list(metric_ids)
    by_metric: dict[int, list[Target]] = {metric_id: [] for metric_id in ids}
    if ids:
        for target in session.exec(select(Target).where(Target.metric_id.in_(ids)).order_by(Target.effective_from)):
            by_metric[target.metric_id].append(target)
    return by_metric


def target_in_force(targets: list[Target], on: dt.date) -> Target | None:
    """The target in force on a day: the latest that started on or before it, unless it had ended by then
    (targets sorted ascending by effective_from)."""
    current = None
    for target in targets:
        if target.effective_from <= on:
            current = target
        else:
            break
    if current is not None and current.effective_to is not None and current.effective_to < on:
        return None
    return current


@dataclass
class Extras:
    """What a metric's public form shows beside its own columns: priorities and output-outcome links."""

    priorities: dict[int, list[PriorityLink]] = field(default_factory=dict)
    drives: dict[int, list[str]] = field(default_factory=dict)
    driven_by: dict[int, list[str]] = field(default_factory=dict)


def extras_of(session: Session, metric_ids: list[int], viewer: Principal | None = None) -> Extras:
    extras = Extras()
    if not metric_ids:
        return extras
    for link, priority in session.exec(
        select(MetricPriority, Priority)
        .join(Priority, Priority.id == MetricPriority.priority_id)
        .where(MetricPriority.metric_id.in_(metric_ids))
        .order_by(Priority.position, Priority.code)
    ):
        extras.priorities.setdefault(link.metric_id, []).append(
            PriorityLink(code=priority.code, name=priority.name, is_key=link.is_key)
        )
    output, outcome = Metric.__table__.alias("output"), Metric.__table__.alias("outcome")
    rows = session.exec(
        select(MetricLink.output_metric_id, MetricLink.outcome_metric_id, output.c.key, outcome.c.key)
        .join(output, output.c.id == MetricLink.output_metric_id)
        .join(outcome, outcome.c.id == MetricLink.outcome_metric_id)
        .where(or_(MetricLink.output_metric_id.in_(metric_ids), MetricLink.outcome_metric_id.in_(metric_ids)))
        .order_by(output.c.key, outcome.c.key)
    ).all()
    visible = _visible_ids(session, {row[0] for row in rows} | {row[1] for row in rows}, viewer)
    for output_id, outcome_id, output_key, outcome_key in rows:
        if outcome_id in visible:
            extras.drives.setdefault(output_id, []).append(outcome_key)
        if output_id in visible:
            extras.driven_by.setdefault(outcome_id, []).append(output_key)
    return extras


def _visible_ids(session: Session, ids: set[int], viewer: Principal | None) -> set[int]:
    if not ids:
        return set()
    query = _visible_to(
        select(Metric.id).join(Department, Department.id == Metric.department_id).where(Metric.id.in_(sorted(ids))),
        viewer,
    )
    return set(session.exec(query).all())


def to_public(
    metric: Metric, department: Department, target: Target | None, extras: Extras | None = None
) -> MetricPublic:
    extras = extras or Extras()
    priorities = extras.priorities.get(metric.id, [])
    return MetricPublic(
        **{name: getattr(metric, name) for name in MetricBase.model_fields},
        department=department.code,
        target=TargetPublic.model_validate(target, from_attributes=True) if target else None,
        state=metric.state,
        version=metric.version,
        priorities=priorities,
        is_key=any(p.is_key for p in priorities),
        drives=extras.drives.get(metric.id, []),
        driven_by=extras.driven_by.get(metric.id, []),
        signed_off_by=metric.signed_off_name,
        signed_off_at=metric.signed_off_at,
        signed_off_on_behalf=metric.signed_off_on_behalf,
        provenance=metric.provenance,
        rule=metric.rule,
    )


def visible_metrics_query(
    department_code: str | None,
    viewer: Principal | None = None,
    *,
    priority: str | None = None,
    state: MetricState | None = None,
    key_only: bool = False,
):
    query = _visible_to(select(Metric, Department).join(Department, Department.id == Metric.department_id), viewer)
    if department_code is not None:
        query = query.where(Department.code == department_code)
    if state is not None:
        query = query.where(Metric.state == state)
    if priority is not None or key_only:
        aligned = select(MetricPriority.metric_id).join(Priority, Priority.id == MetricPriority.priority_id)
        if priority is not None:
            aligned = aligned.where(Priority.code == priority)
        if key_only:
            aligned = aligned.where(MetricPriority.is_key)
        query = query.where(Metric.id.in_(aligned))
    return query


def list_visible_metrics(
    session: Session,
    department_code: str | None,
    page: PageParams | None,
    as_of: dt.date,
    viewer: Principal | None = None,
    *,
    priority: str | None = None,
    state: MetricState | None = None,
    key_only: bool = False,
) -> tuple[list[MetricPublic], int]:
    if department_code is not None:
        get_department(session, department_code)
    if priority is not None and session.exec(select(Priority.id).where(Priority.code == priority)).first() is None:
        raise NotFound(f"No priority has the code '{priority}'.")
    query = visible_metrics_query(department_code, viewer, priority=priority, state=state, key_only=key_only)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = query.order_by(Department.code, Metric.key)
    if page is not None:
        query = query.offset(page.offset).limit(page.limit)
    rows = session.exec(query).all()
    ids = [metric.id for metric, _ in rows]
    targets = targets_of(session, ids)
    extras = extras_of(session, ids, viewer)
    items = [to_public(m, d, target_in_force(targets[m.id], as_of), extras) for m, d in rows]
    return items, total


def metric_public(session: Session, key: str, as_of: dt.date, viewer: Principal | None = None) -> MetricPublic:
    metric, department = get_visible_metric(session, key, viewer)
    target = target_in_force(targets_of(session, [metric.id])[metric.id], as_of)
    return to_public(metric, department, target, extras_of(session, [metric.id], viewer))


def list_targets(session: Session, key: str, viewer: Principal | None = None) -> list[TargetPublic]:
    metric, _ = get_visible_metric(session, key, viewer)
    return [TargetPublic.model_validate(t, from_attributes=True) for t in targets_of(session, [metric.id])[metric.id]]


def add_target(session: Session, metric: Metric, target: TargetBase, created_by: str = "operator") -> Target:
    row = Target(**target.model_dump(), metric_id=metric.id, created_by=created_by)
    session.add(row)
    session.flush()
    return row
