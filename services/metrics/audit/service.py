"""The metrics audit trail: every definition, target, value and approval change with its principal."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.common.audit import AuditEventPublic, AuditFilters
from services.common.audit import list_events as list_audit_events
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
    session: Session, page: PageParams, filters: AuditFilters, *, readable: set[str] | None = None
) -> tuple[list[AuditEventPublic], int]:
    return list_audit_events(session, AuditEvent, page, filters, readable=readable)
