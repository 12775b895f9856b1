"""The mail outbox: notifications whose e-mail is pending, sent a round at a time, none twice."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from services.common.db import Database
from services.common.settings import Settings
from services.ingest.base import utcnow
from services.ingest.notifications import mail
from services.ingest.notifications.models import Notification
from services.ingest.notifications.schemas import EmailStatus

# Messages per round: a backlog drains over a few rounds instead of holding one connection for ever.
BATCH = 200
# A claim older than this belongs to a round that died while sending; its messages are taken back.
STALE_CLAIM = dt.timedelta(minutes=30)


@dataclasses.dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    pending: int = 0


def _full(settings: Settings, link: str) -> str:
    return f"{settings.app_url.rstrip('/')}/{link}"


def _claim(db: Database, settings: Settings, limit: int) -> list[mail.Outgoing]:
    """Marks up to `limit` pending messages as this round's ("sending"), so another worker does not send them too."""
    now = utcnow()
    with db.session() as session:
        rows = session.exec(
            select(Notification)
            .where(
                or_(
                    Notification.email_status == EmailStatus.pending,
                    (Notification.email_status == EmailStatus.sending)
                    & (Notification.email_claimed_at < now - STALE_CLAIM),
                )
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
        claimed = []
        for row in rows:
            # Only if no one else claimed it since it was read: the update is the claim.
            taken = session.exec(
                update(Notification)
                .where(Notification.id == row.id, Notification.email_status == row.email_status)
                .where(
                    Notification.email_claimed_at.is_(None)
                    if row.email_claimed_at is None
                    else Notification.email_claimed_at == row.email_claimed_at
                )
                .values(email_status=EmailStatus.sending, email_claimed_at=now)
            ).rowcount
            if taken and row.email_to:
                body = row.body
                if row.link and _full(settings, row.link) not in body:
                    body += f"\n\n{_full(settings, row.link)}\n"
                claimed.append(mail.Outgoing(row.id, row.email_to, row.subject, body))
        return claimed


def _record(db: Database, outcomes: list[mail.Outcome]) -> Delivery:
    result = Delivery()
    now = utcnow()
    with db.session() as session:
        for outcome in outcomes:
            row = session.get(Notification, outcome.notification_id)
            if row is None:
                continue
            row.email_attempts += 1
            row.email_claimed_at = None
            if outcome.sent:
                row.email_status, row.email_sent_at, row.email_error = EmailStatus.sent, now, None
                result.sent += 1
            elif outcome.permanent:
                row.email_status, row.email_error = EmailStatus.failed, outcome.error
                result.failed += 1
            else:
                row.email_status, row.email_error = EmailStatus.pending, outcome.error
            session.add(row)
        session.flush()
        result.pending = pending_count(session)
    return result


def pending_count(session: Session) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.email_status.in_([EmailStatus.pending, EmailStatus.sending]))
    ).one()


def _pending(db: Database) -> int:
    with db.session(write=False) as session:
        return pending_count(session)


async def deliver(db: Database, settings: Settings, batch: int = BATCH) -> Delivery:
    """Sends what is waiting. A server that cannot be reached leaves every message pending with the reason."""
    if not settings.smtp_host:
        return Delivery(pending=await run_in_threadpool(_pending, db))
    claimed = await run_in_threadpool(_claim, db, settings, batch)
    if not claimed:
        return Delivery(pending=await run_in_threadpool(_pending, db))
    outcomes = await asyncio.to_thread(mail.send_all, settings, claimed)
    return await run_in_threadpool(_record, db, outcomes)
