"""Ingest's audit trail: submissions, sign-ins, accounts and tokens."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

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
    session: Session, page: PageParams, filters: audit.AuditFilters
) -> tuple[list[audit.AuditEventPublic], int]:
    return audit.list_events(session, AuditEvent, page, filters)
