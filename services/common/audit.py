"""Who did what: every service keeps its own audit trail with the same columns, and lists it the same way.

The trails are append-only: each service's migrations make the database refuse UPDATE and DELETE on its audit table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query
from pydantic import BaseModel
from sqlmodel import Field, Session, SQLModel, func, select

from services.common.auth import Principal
from services.common.pagination import PageParams
from services.common.params import DepartmentFilter
from services.common.types import NO_NUL_PATTERN


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditFields(SQLModel):
    """Columns of an audit event; a service's table model adds its base and `table=True`."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=_utcnow, index=True)
    actor: str = Field(max_length=200, index=True)  # "user:7", "token:3", "operator"
    actor_name: str = Field(max_length=200)
    department_code: str | None = Field(default=None, max_length=16, index=True)
    action: str = Field(max_length=64)  # e.g. "submission.accepted", "token.revoked"
    subject: str | None = Field(default=None, max_length=200)  # what was acted on, e.g. a submission id
    outcome: str = Field(max_length=16)  # "ok" | "rejected" | "refused"
    detail: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class AuditEventPublic(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    actor_name: str
    department: str | None
    action: str
    subject: str | None
    outcome: str
    detail: dict[str, Any] | None


def record(
    session: Session,
    table: type[AuditFields],
    principal: Principal,
    action: str,
    *,
    department: str | None = None,
    subject: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        table(
            actor=principal.actor,
            actor_name=principal.name[:200],
            department_code=department,
            action=action,
            subject=subject,
            outcome=outcome,
            detail=detail,
        )
    )


def to_public(event: AuditFields) -> AuditEventPublic:
    return AuditEventPublic(
        id=event.id,
        at=event.at,
        actor=event.actor,
        actor_name=event.actor_name,
        department=event.department_code,
        action=event.action,
        subject=event.subject,
        outcome=event.outcome,
        detail=event.detail,
    )


# --- listing ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    department: str | None = None
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


def audit_filters(
    department: DepartmentFilter = None,
    actor: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL_PATTERN, description="e.g. user:7, token:3, operator")
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=NO_NUL_PATTERN,
            description="e.g. auth.login; ending in a dot, every action under it (token. for token.created, ...)",
        ),
    ] = None,
    subject: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL_PATTERN, description="What was acted on, e.g. a metric key")
    ] = None,
    start: Annotated[dt.date | None, Query(description="Events on or after this day (UTC)")] = None,
    end: Annotated[dt.date | None, Query(description="Events on or before this day (UTC)")] = None,
) -> AuditFilters:
    return AuditFilters(department, actor, action, subject, start, end)


AuditFiltersDep = Annotated[AuditFilters, Depends(audit_filters)]

Table = TypeVar("Table", bound=AuditFields)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def list_events(
    session: Session,
    table: type[Table],
    page: PageParams,
    filters: AuditFilters,
    *,
    readable: set[str] | None = None,
) -> tuple[list[AuditEventPublic], int]:
    """Newest first, by time and then id: the order the frontend merges the services' trails in. A window that ends
    before it starts holds nothing. `readable` (None: every department) keeps to events of those departments."""
    query = select(table)
    if filters.department is not None:
        query = query.where(table.department_code == filters.department)
    if filters.actor is not None:
        query = query.where(table.actor == filters.actor)
    if filters.action is not None:
        if filters.action.endswith("."):
            query = query.where(table.action.startswith(filters.action, autoescape=True))
        else:
            query = query.where(table.action == filters.action)
    if filters.subject is not None:
        query = query.where(table.subject == filters.subject)
    if filters.start is not None:
        query = query.where(table.at >= _midnight(filters.start))
    if filters.end is not None and filters.end < dt.date.max:
        query = query.where(table.at < _midnight(filters.end + dt.timedelta(days=1)))
    if readable is not None:
        query = query.where(table.department_code.in_(sorted(readable)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    events = session.exec(query.order_by(table.at.desc(), table.id.desc()).offset(page.offset).limit(page.limit))
    return [to_public(event) for event in events], total
