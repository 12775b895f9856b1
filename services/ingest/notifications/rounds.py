"""One round of notifications: what is due, late and this week's digest, made once per person, then e-mailed.

Run by ingest's loop, `citystat notify` and POST /notifications/run. Idempotent: every notification has a key
(kind, department, due date or week, recipient) that a later round finds and does not make again."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services.common.auth import Principal, PrincipalKind, Role, SessionCodec, principal_claims
from services.common.db import Database
from services.common.errors import UpstreamError, UpstreamUnavailable
from services.common.periods import Frequency, Period
from services.common.settings import Settings
from services.ingest.accounts.models import StaffUser
from services.ingest.clients.metrics import MetricsClient
from services.ingest.clients.metrics_reads import DepartmentRef, MetricStanding
from services.ingest.notifications import compose, outbox
from services.ingest.notifications.models import Notification
from services.ingest.notifications.schemas import EmailStatus, NotificationKind, RoundResult

log = logging.getLogger("citystat.ingest.notifications")

# Months of schedule read per department: enough for the last two due dates of a quarterly metric.
SCHEDULE_MONTHS = 12
# Keys looked up per query (an IN list of bounded length).
_KEY_CHUNK = 500


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str | None
    role: str
    department: str | None


@dataclass
class _Draft:
    kind: NotificationKind
    department: DepartmentRef
    day: dt.date  # the due date, or the digest's week
    person: Person
    message: compose.Message | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.department.code}:{self.day.isoformat()}:{self.person.id}"


@dataclass
class _Department:
    ref: DepartmentRef
    responsible: list[Person] = field(default_factory=list)  # liaisons and heads
    staff: list[Person] = field(default_factory=list)  # liaisons, heads and the department's viewers


def reader_session(codec: SessionCodec, minutes: int = 15) -> str:
    """A short citywide read-only session for ingest's own reads of metrics (as reporting's scheduler has)."""
    principal = Principal(kind=PrincipalKind.user, id="notifications", name="CityStat notifications", role=Role.viewer)
    return codec.issue(principal_claims(principal), dt.timedelta(minutes=minutes))


def _active_staff(db: Database) -> list[Person]:
    with db.session(write=False) as session:
        users = session.exec(select(StaffUser).where(StaffUser.active == True)).all()  # noqa: E712 - SQL
        return [Person(u.id, u.display_name, u.email, u.role, u.department_code) for u in users]


def _existing(db: Database, keys: list[str]) -> set[str]:
    found: set[str] = set()
    with db.session(write=False) as session:
        for start in range(0, len(keys), _KEY_CHUNK):
            chunk = keys[start : start + _KEY_CHUNK]
            found.update(session.exec(select(Notification.dedup_key).where(Notification.dedup_key.in_(chunk))))
    return found


def _insert(db: Database, drafts: list[_Draft], email: bool) -> Counter[str]:
    made: Counter[str] = Counter()
    with db.session() as session:
        for draft in drafts:
            assert draft.message is not None
            address = draft.person.email
            row = Notification(
                recipient_id=draft.person.id,
                kind=draft.kind,
                department_code=draft.department.code,
                dedup_key=draft.key,
                subject=draft.message.subject[:300],
                body=draft.message.body,
                link=draft.message.link,
                email_to=address,
                email_status=EmailStatus.pending if (email and address) else EmailStatus.none,
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                # Another worker's round made it a moment ago: theirs stands.
                continue
            made[draft.kind] += 1
    return made


def _unique(people: list[Person]) -> list[Person]:
    return list({p.id: p for p in people}.values())


async def run_round(db: Database, metrics: MetricsClient, codec: SessionCodec, settings: Settings) -> RoundResult:
    """Makes what is due for this as_of and not made before, then sends the mail outbox (also when metrics is
    away: what was made earlier still goes out)."""
    result = RoundResult(as_of=settings.as_of)
    try:
        made = await _make(db, metrics, codec, settings, result)
    except (UpstreamError, UpstreamUnavailable) as exc:
        log.warning("notifications: metrics did not answer, nothing new made this round: %s", exc)
        result.metrics_answered = False
        made = Counter()
    result.reminders = made[NotificationKind.reminder]
    result.overdue = made[NotificationKind.overdue]
    result.digests = made[NotificationKind.digest]
    delivery = await outbox.deliver(db, settings)
    result.emails_sent, result.emails_failed, result.emails_pending = delivery.sent, delivery.failed, delivery.pending
    if made or delivery.sent or delivery.failed:
        log.info(
            "notifications for %s: %d reminders, %d overdue, %d digests made; %d e-mails sent, %d failed, %d pending",
            settings.as_of, result.reminders, result.overdue, result.digests, delivery.sent, delivery.failed,
            delivery.pending,
        )  # fmt: skip
    return result


async def _make(
    db: Database, metrics: MetricsClient, codec: SessionCodec, settings: Settings, result: RoundResult
) -> Counter[str]:
    as_of = settings.as_of
    session = reader_session(codec)
    people = await run_in_threadpool(_active_staff, db)
    analysts = [p for p in people if p.role == Role.analyst]
    departments = {d.code: _Department(d) for d in await metrics.departments(session=session)}
    for person in people:
        unit = departments.get(person.department or "")
        if unit is None:
            continue
        if person.role in (Role.liaison, Role.head):
            unit.responsible.append(person)
        if person.role in (Role.liaison, Role.head, Role.viewer):
            unit.staff.append(person)

    this_month = Period.containing(as_of, Frequency.month)
    start, end = str(this_month.shift(-SCHEDULE_MONTHS)), str(this_month)
    week = compose.week_of(as_of, settings.digest_weekday)
    drafts: list[_Draft] = []
    soon_by: dict[str, dict] = {}
    late_by: dict[str, dict] = {}
    for code, unit in departments.items():
        if not (unit.responsible or unit.staff or analysts):
            continue
        try:
            schedule = await metrics.department_schedule(code, start, end, session=session)
        except (UpstreamError, UpstreamUnavailable) as exc:
            log.warning("notifications: the schedule of %s could not be read: %s", code, exc)
            result.departments_unread.append(code)
            continue
        soon, late = compose.due_and_late(schedule, as_of, settings.reminder_days_before)
        soon_by[code], late_by[code] = soon, late
        for due in soon:
            for person in unit.responsible:
                drafts.append(_Draft(NotificationKind.reminder, unit.ref, due, person))
        for due in late:
            for person in _unique(unit.responsible + analysts):
                drafts.append(_Draft(NotificationKind.overdue, unit.ref, due, person))
        for person in unit.staff:
            drafts.append(_Draft(NotificationKind.digest, unit.ref, week, person))

    made_before = await run_in_threadpool(_existing, db, [d.key for d in drafts])
    drafts = [d for d in drafts if d.key not in made_before]
    standings: dict[str, list[MetricStanding]] = {}
    for code in sorted({d.department.code for d in drafts if d.kind is NotificationKind.digest}):
        try:
            standings[code] = await metrics.department_performance(code, session=session)
        except (UpstreamError, UpstreamUnavailable) as exc:
            log.warning("notifications: the performance of %s could not be read: %s", code, exc)
            result.departments_unread.append(code)

    ready: list[_Draft] = []
    base = settings.app_url
    for draft in drafts:
        code, name, due = draft.department.code, draft.person.name, draft.day
        if draft.kind is NotificationKind.reminder:
            draft.message = compose.reminder(name, draft.department, due, soon_by[code][due], as_of, base)
        elif draft.kind is NotificationKind.overdue:
            draft.message = compose.overdue(name, draft.department, due, late_by[code][due], as_of, base)
        elif code in standings:
            draft.message = compose.digest(
                name, draft.department, week, standings[code], soon_by[code], late_by[code], as_of, base
            )
        else:
            continue  # the digest waits for the next round, when metrics answers again
        ready.append(draft)

    return await run_in_threadpool(_insert, db, ready, bool(settings.smtp_host))
