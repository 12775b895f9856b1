"""Ingest's audit trail: submissions, sign-ins, accounts and tokens."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from services.common import audit
from services.common.auth import Principal
from services.common.db import Database
from services.common.pagination import PageParams
from services.ingest.audit.models import AuditEvent


def record(session: Session, principal: Principal, action: str, **fields: Any) -> None:
    audit.record(session, AuditEvent, principal, action, **fields)


def record_apart(db: Database, principal: Principal, action: str, **fields: Any) -> None:
    """For refusals: the request's own transaction is rolled back, the record of it must stay."""
    with db.session() as session:
        record(session, principal, action, **fields)


def list_events(
    session: Session, page: PageParams, *, department: str | None, actor: str | None, action: str | None
) -> tuple[list[audit.AuditEventPublic], int]:
    query = select(AuditEvent)
    if department:
        query = query.where(AuditEvent.department_code == department)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(AuditEvent.id.desc()).offset(page.offset).limit(page.limit))
    return [audit.to_public(e) for e in rows], total
