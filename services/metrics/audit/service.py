"""The metrics audit trail: every definition, target, value and approval change with its principal."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from services.common.audit import AuditEventPublic, to_public
from services.common.audit import record as record_event
from services.common.auth import Principal
from services.common.pagination import PageParams
from services.metrics.audit.models import AuditEvent


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    department: str | None = None,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    record_event(session, AuditEvent, principal, action, department=department, subject=subject, detail=detail)


def list_events(
    session: Session,
    page: PageParams,
    *,
    department: str | None = None,
    subject: str | None = None,
    readable: set[str] | None = None,
) -> tuple[list[AuditEventPublic], int]:
    query = select(AuditEvent)
    if department is not None:
        query = query.where(AuditEvent.department_code == department)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    if readable is not None:
        query = query.where(AuditEvent.department_code.in_(sorted(readable)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    events = session.exec(query.order_by(AuditEvent.id.desc()).offset(page.offset).limit(page.limit)).all()
    return [to_public(event) for event in events], total
