"""Targets with their history: a target is never overwritten silently. A new level is a new target from
a date; a correction of a wrongly entered one is kept in the audit trail with its old values."""

from __future__ import annotations

from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.metrics.audit.models import AuditEvent
from services.metrics.audit.service import record
from services.metrics.definitions.lifecycle import editable_metric
from services.metrics.definitions.models import Target, TargetBase
from services.metrics.definitions.schemas import TargetPublic
from services.metrics.definitions.service import get_visible_metric
from services.metrics.targets.schemas import TargetChange, TargetCorrection, TargetCreate


def _require_office(actor: Principal) -> None:
    if not actor.is_performance_office:
        raise Forbidden("Targets are set by the performance office (analysts).")


def _subject(key: str, target_id: int) -> str:
    return f"{key}#target:{target_id}"


def _snapshot(target: Target) -> dict:
    return TargetPublic.model_validate(target, from_attributes=True).model_dump(mode="json")


def set_target(session: Session, key: str, body: TargetCreate, actor: Principal) -> TargetPublic:
    _require_office(actor)
    metric, department = editable_metric(session, key, actor)
    clash = session.exec(
        select(Target).where(Target.metric_id == metric.id, Target.effective_from == body.effective_from)
    ).first()
    if clash is not None:
        raise Conflict(
            f"A target already starts on {body.effective_from}; correct that one, or start this one another day.",
            extra={"target": clash.id},
        )
    target = Target(**TargetBase.model_validate(body.model_dump()).model_dump(), metric_id=metric.id)
    target.created_by = actor.actor
    session.add(target)
    session.flush()
    record(
        session,
        actor,
        "target.set",
        department=department.code,
        subject=_subject(metric.key, target.id),
        detail=_snapshot(target),
    )
    return TargetPublic.model_validate(target, from_attributes=True)


def correct_target(
    session: Session, key: str, target_id: int, body: TargetCorrection, actor: Principal
) -> TargetPublic:
    _require_office(actor)
    metric, department = editable_metric(session, key, actor)
    target = session.get(Target, target_id)
    if target is None or target.metric_id != metric.id:
        raise NotFound(f"Metric '{key}' has no target {target_id}.")
    before = _snapshot(target)
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    for field in ("value", "tolerance", "tolerance_kind", "set_by"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"'{field}' cannot be emptied.", errors=[{"field": field, "reason": "null"}])
    for field, value in changes.items():
        setattr(target, field, value)
    if target.effective_to is not None and target.effective_to < target.effective_from:
        raise Unprocessable(
            "effective_to is before effective_from.",
            errors=[{"field": "effective_to", "reason": "before effective_from"}],
        )
    session.add(target)
    session.flush()
    after = _snapshot(target)
    record(
        session,
        actor,
        "target.corrected",
        department=department.code,
        subject=_subject(metric.key, target.id),
        detail={"before": before, "after": after, "reason": body.reason},
    )
    return TargetPublic.model_validate(target, from_attributes=True)


def target_changes(session: Session, key: str, viewer: Principal | None) -> list[TargetChange]:
    """Who set and corrected each of the metric's targets, oldest first."""
    metric, _ = get_visible_metric(session, key, viewer)
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject.startswith(f"{metric.key}#target:"), AuditEvent.action.startswith("target."))
        .order_by(AuditEvent.id)
    ).all()
    return [
        TargetChange(at=e.at, actor=e.actor, actor_name=e.actor_name, action=e.action, detail=e.detail) for e in events
    ]
