"""Who did what: every service keeps its own audit trail with the same columns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, Session, SQLModel

from services.common.auth import Principal


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
