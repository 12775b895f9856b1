import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, or_
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import NotFound
from services.common.pagination import PageParams
from services.metrics.definitions.models import Metric, MetricBase, Target, TargetBase
from services.metrics.definitions.schemas import MetricPublic, TargetPublic
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department


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
    """The latest target whose effective date is on or before `on` (targets sorted ascending)."""
    current = None
    for target in targets:
        if target.effective_from <= on:
            current = target
        else:
            break
    return current


def to_public(metric: Metric, department: Department, target: Target | None) -> MetricPublic:
    return MetricPublic(
        **{name: getattr(metric, name) for name in MetricBase.model_fields},
        department=department.code,
        target=TargetPublic.model_validate(target, from_attributes=True) if target else None,
    )


def visible_metrics_query(department_code: str | None, viewer: Principal | None = None):
    query = _visible_to(select(Metric, Department).join(Department, Department.id == Metric.department_id), viewer)
    if department_code is not None:
        query = query.where(Department.code == department_code)
    return query


def list_visible_metrics(
    session: Session,
    department_code: str | None,
    page: PageParams | None,
    as_of: dt.date,
    viewer: Principal | None = None,
) -> tuple[list[MetricPublic], int]:
    if department_code is not None:
        get_department(session, department_code)
    query = visible_metrics_query(department_code, viewer)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = query.order_by(Department.code, Metric.key)
    if page is not None:
        query = query.offset(page.offset).limit(page.limit)
    rows = session.exec(query).all()
    targets = targets_of(session, (metric.id for metric, _ in rows))
    items = [to_public(m, d, target_in_force(targets[m.id], as_of)) for m, d in rows]
    return items, total


def metric_public(session: Session, key: str, as_of: dt.date, viewer: Principal | None = None) -> MetricPublic:
    metric, department = get_visible_metric(session, key, viewer)
    return to_public(metric, department, target_in_force(targets_of(session, [metric.id])[metric.id], as_of))


def list_targets(session: Session, key: str, viewer: Principal | None = None) -> list[TargetPublic]:
    metric, _ = get_visible_metric(session, key, viewer)
    return [TargetPublic.model_validate(t, from_attributes=True) for t in targets_of(session, [metric.id])[metric.id]]


def create_metric(session: Session, department: Department, definition: MetricBase) -> Metric:
    metric = Metric(**definition.model_dump(), department_id=department.id)
    session.add(metric)
    session.flush()
    return metric


def add_target(session: Session, metric: Metric, target: TargetBase) -> Target:
    row = Target(**target.model_dump(), metric_id=metric.id)
    session.add(row)
    session.flush()
    return row
