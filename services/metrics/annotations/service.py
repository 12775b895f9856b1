"""Notes on a metric and period, and the threads under them.

Context, action and data-quality notes explain a metric's values to whoever may see the metric, the public
included for a published one: a caveat on a published number belongs beside it. Questions to a department, and
their threads, are between the performance office and the department: only staff who may read the department
see them, wherever annotations are shown.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import false, func
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.common.periods import PERIOD_EXAMPLES, Frequency, Period
from services.metrics.annotations.models import Annotation, AnnotationKind
from services.metrics.annotations.schemas import (
    AnnotationCreate,
    AnnotationListed,
    AnnotationPublic,
    ReplyPublic,
)
from services.metrics.audit.service import record
from services.metrics.definitions.models import Metric
from services.metrics.definitions.service import get_visible_metric
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department

INTERNAL_KINDS = frozenset({AnnotationKind.question})
PUBLIC_KINDS = frozenset(AnnotationKind) - INTERNAL_KINDS


def visible_kinds(viewer: Principal | None, department_code: str) -> frozenset[AnnotationKind]:
    return frozenset(AnnotationKind) if viewer is not None and viewer.can_read(department_code) else PUBLIC_KINDS


def _kind_filter(query, kinds: frozenset[AnnotationKind], kind: AnnotationKind | None):
    if kind is not None:
        # Asking for a kind one may not see finds nothing, as if there were none.
        return query.where(Annotation.kind == kind) if kind in kinds else query.where(false())
    if kinds != frozenset(AnnotationKind):
        return query.where(Annotation.kind.in_(sorted(kinds)))
    return query


def _reply(row: Annotation) -> ReplyPublic:
    return ReplyPublic(id=row.id, body=row.body, actor=row.actor, actor_name=row.actor_name, at=row.at)


def _public(root: Annotation, replies: Iterable[Annotation] = ()) -> AnnotationPublic:
    return AnnotationPublic(
        id=root.id,
        period=root.period,
        kind=root.kind,
        body=root.body,
        actor=root.actor,
        actor_name=root.actor_name,
        at=root.at,
        answered_at=root.answered_at,
        replies=[_reply(reply) for reply in replies],
    )


def _replies_of(session: Session, root_ids: list[int]) -> dict[int, list[Annotation]]:
    by_root: dict[int, list[Annotation]] = {root_id: [] for root_id in root_ids}
    if root_ids:
        rows = session.exec(
            select(Annotation).where(Annotation.parent_id.in_(root_ids)).order_by(Annotation.at, Annotation.id)
        )
        for row in rows:
            by_root[row.parent_id].append(row)
    return by_root


def _period_bounds(frequency: Frequency, start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """The first and last periods of the metric's frequency that start within [start, end], as the series
    reads them. Written periods of one frequency sort as text in time order, so the bounds compare as text."""
    low = high = None
    if start:
        first_day = Period.parse(start).start
        low_period = Period.containing(first_day, frequency)
        if low_period.start < first_day:
            low_period = low_period.next()
        low = str(low_period)
    if end:
        high = str(Period.containing(Period.parse(end).end, frequency))
    return low, high


def list_annotations(
    session: Session,
    key: str,
    viewer: Principal | None,
    page: PageParams,
    *,
    start: str | None = None,
    end: str | None = None,
    kind: AnnotationKind | None = None,
) -> tuple[list[AnnotationPublic], int]:
    """A metric's notes with their threads, by period, oldest first within a period."""
    metric, department = get_visible_metric(session, key, viewer)
    query = select(Annotation).where(Annotation.metric_id == metric.id, Annotation.parent_id.is_(None))
    query = _kind_filter(query, visible_kinds(viewer, department.code), kind)
    low, high = _period_bounds(metric.frequency, start, end)
    if low is not None:
        query = query.where(Annotation.period >= low)
    if high is not None:
        query = query.where(Annotation.period <= high)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    roots = session.exec(
        query.order_by(Annotation.period, Annotation.at, Annotation.id).offset(page.offset).limit(page.limit)
    ).all()
    replies = _replies_of(session, [root.id for root in roots])
    return [_public(root, replies[root.id]) for root in roots], total


def annotations_by_period(
    session: Session, metric_id: int, periods: list[str] | None, viewer: Principal | None
) -> dict[str, list[AnnotationPublic]]:
    """The metric's notes, with their threads, for the series: {period: [note, ...]}, only periods that have
    one, each list oldest first. `periods` None means every period. Kinds follow the module's rule; a metric
    the viewer may not see has none."""
    row = session.exec(
        select(Metric.is_published, Department.code)
        .join(Department, Department.id == Metric.department_id)
        .where(Metric.id == metric_id)
    ).first()
    if row is None:
        return {}
    is_published, department_code = row
    if not is_published and not (viewer is not None and viewer.can_read(department_code)):
        return {}
    if periods is not None and not periods:
        return {}
    # Replies carry their note's metric, period and kind, so one query fetches whole threads.
    query = _kind_filter(
        select(Annotation).where(Annotation.metric_id == metric_id), visible_kinds(viewer, department_code), None
    )
    if periods is not None:
        query = query.where(Annotation.period.in_(sorted(set(periods))))
    rows = session.exec(query.order_by(Annotation.period, Annotation.at, Annotation.id)).all()
    replies: dict[int, list[Annotation]] = {}
    for annotation in rows:
        if annotation.parent_id is not None:
            replies.setdefault(annotation.parent_id, []).append(annotation)
    grouped: dict[str, list[AnnotationPublic]] = {}
    for annotation in rows:
        if annotation.parent_id is None:
            grouped.setdefault(annotation.period, []).append(_public(annotation, replies.get(annotation.id, [])))
    return grouped


def _require_writer(actor: Principal, department: Department) -> None:
    if not (actor.is_performance_office or actor.can_write(department.code)):
        raise Forbidden(f"Only the performance office or {department.code}'s staff may annotate this metric.")


def create_annotation(session: Session, key: str, body: AnnotationCreate, actor: Principal) -> AnnotationPublic:
    metric, department = get_visible_metric(session, key, actor)
    _require_writer(actor, department)
    if body.kind is AnnotationKind.question and not actor.is_performance_office:
        # A question is put to the department; the department answers it in the thread.
        raise Forbidden("Questions to a department are the performance office's to ask; reply in a thread instead.")
    frequency = Frequency(metric.frequency)
    if Period.parse(body.period).frequency is not frequency:
        raise Unprocessable(
            f"'{metric.key}' is reported by {frequency}; write the period like {PERIOD_EXAMPLES[frequency]}.",
            errors=[{"field": "period", "reason": f"not a {frequency} period"}],
        )
    annotation = Annotation(
        metric_id=metric.id,
        period=body.period,
        kind=body.kind,
        body=body.body,
        actor=actor.actor,
        actor_name=actor.name[:200],
    )
    session.add(annotation)
    session.flush()
    record(
        session,
        actor,
        "annotation.created",
        department=department.code,
        subject=metric.key,
        detail={"id": annotation.id, "period": annotation.period, "kind": str(annotation.kind)},
    )
    return _public(annotation)


def reply(session: Session, key: str, annotation_id: int, body: str, actor: Principal) -> AnnotationPublic:
    """A reply in a note's thread; the whole thread comes back. A reply to a reply joins the same thread.
    The department's reply to a question (its staff, not the performance office) marks the question answered."""
    metric, department = get_visible_metric(session, key, actor)
    _require_writer(actor, department)
    note = session.get(Annotation, annotation_id)
    if note is None or note.metric_id != metric.id:
        raise NotFound(f"'{metric.key}' has no annotation {annotation_id}.")
    root = note if note.parent_id is None else session.get(Annotation, note.parent_id)
    kind = AnnotationKind(root.kind)
    if kind not in visible_kinds(actor, department.code):
        raise NotFound(f"'{metric.key}' has no annotation {annotation_id}.")
    answer = Annotation(
        metric_id=metric.id,
        period=root.period,
        kind=root.kind,
        body=body,
        parent_id=root.id,
        actor=actor.actor,
        actor_name=actor.name[:200],
    )
    session.add(answer)
    answers_question = (
        kind is AnnotationKind.question
        and root.answered_at is None
        and actor.can_write(department.code)
        and not actor.is_performance_office
    )
    if answers_question:
        root.answered_at = answer.at
        session.add(root)
    session.flush()
    record(
        session,
        actor,
        "annotation.replied",
        department=department.code,
        subject=metric.key,
        detail={"id": answer.id, "thread": root.id, "answered": answers_question},
    )
    return _public(root, _replies_of(session, [root.id])[root.id])


def list_for_staff(
    session: Session,
    viewer: Principal,
    page: PageParams,
    *,
    department: str | None = None,
    kind: AnnotationKind | None = None,
    open_only: bool | None = None,
) -> tuple[list[AnnotationListed], int]:
    """Notes across metrics, oldest first: with kind=question and open, a liaison's to-do list. Only the
    departments the viewer may read; everything of those is theirs to see, questions included."""
    if department is not None:
        get_department(session, department)
    query = (
        select(Annotation, Metric.key, Department.code)
        .join(Metric, Metric.id == Annotation.metric_id)
        .join(Department, Department.id == Metric.department_id)
        .where(Annotation.parent_id.is_(None))
    )
    readable = viewer.readable_departments()
    if readable is not None:
        query = query.where(Department.code.in_(sorted(readable)))
    if department is not None:
        query = query.where(Department.code == department)
    if kind is not None:
        query = query.where(Annotation.kind == kind)
    if open_only is not None:
        query = query.where(Annotation.kind == AnnotationKind.question)
        answered = Annotation.answered_at.is_not(None)
        query = query.where(~answered if open_only else answered)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Annotation.at, Annotation.id).offset(page.offset).limit(page.limit)).all()
    replies = _replies_of(session, [root.id for root, _, _ in rows])
    return [
        AnnotationListed(**_public(root, replies[root.id]).model_dump(), metric=metric_key, department=code)
        for root, metric_key, code in rows
    ], total
