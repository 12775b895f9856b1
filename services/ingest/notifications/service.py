"""A signed-in person's own notifications: the list, and marking them read. Nobody sees another's."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import Session, select

from services.common.errors import NotFound
from services.common.pagination import PageParams
from services.ingest.base import utcnow
from services.ingest.notifications.models import Notification
from services.ingest.notifications.schemas import (
    EmailStatus,
    NotificationKind,
    NotificationPage,
    NotificationPublic,
    ReadAllResult,
)


def to_public(row: Notification) -> NotificationPublic:
    return NotificationPublic(
        id=row.id,
        kind=NotificationKind(row.kind),
        department=row.department_code,
        subject=row.subject,
        body=row.body,
        link=row.link,
        created_at=row.created_at,
        read=row.read_at is not None,
        read_at=row.read_at,
        email=EmailStatus(row.email_status),
    )


def unread_count(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
    ).one()


def list_own(session: Session, user_id: int, page: PageParams, *, unread_only: bool = False) -> NotificationPage:
    """Newest first."""
    where = [Notification.recipient_id == user_id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.exec(select(func.count()).select_from(Notification).where(*where)).one()
    rows = session.exec(
        select(Notification)
        .where(*where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return NotificationPage(items=[to_public(r) for r in rows], total=total, unread=unread_count(session, user_id))


def mark_read(session: Session, user_id: int, notification_id: int) -> NotificationPublic:
    row = session.get(Notification, notification_id)
    # Someone else's notification is answered as one that does not exist: its id says nothing.
    if row is None or row.recipient_id != user_id:
        raise NotFound(f"You have no notification with the id {notification_id}.")
    if row.read_at is None:
        row.read_at = utcnow()
        session.add(row)
        session.flush()
    return to_public(row)


def mark_all_read(session: Session, user_id: int) -> ReadAllResult:
    marked = session.exec(
        update(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount
    return ReadAllResult(marked=marked, unread=unread_count(session, user_id))
