"""The three writes every submission needs, each done for many submissions at once (group commit):
store it (the durable hand-off), deliver it to metrics, and record how the delivery went."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.common.auth import Principal, PrincipalKind
from services.common.batching import GroupWorker, Outcome
from services.common.contracts import BatchResult, ObservationBatch
from services.common.db import Database
from services.common.errors import CityStatError
from services.ingest.audit.models import AuditEvent
from services.ingest.audit.service import record
from services.ingest.base import utcnow
from services.ingest.clients.metrics import MetricsClient
from services.ingest.submissions.models import Submission
from services.ingest.submissions.schemas import DeliveryStatus, SubmissionReceipt


@dataclass(frozen=True)
class Delivered:
    submission_id: str
    result: BatchResult
    # The answer the client is given, kept for a replay of its key; None when the outbox delivered it.
    receipt: SubmissionReceipt | None


@dataclass(frozen=True)
class _Store:
    submission: Submission
    principal: Principal


class SubmissionPipeline:
    """Two group workers: one writes ingest's database (new submissions and finished deliveries share a
    transaction), the other carries deliveries to metrics."""

    def __init__(self, db: Database, metrics: MetricsClient, max_group: int, max_group_rows: int) -> None:
        self.db = db
        self.metrics = metrics
        self._writes = GroupWorker("ingest writes", self._write_group, max_group)
        # One call to metrics carries at most about one largest submission's rows, so its body stays in bounds.
        self._deliveries = GroupWorker(
            "metrics delivery", self._deliver_group, max_group, weight=lambda b: len(b.rows), max_weight=max_group_rows
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SubmissionPipeline]:
        async with self._writes, self._deliveries:
            yield self

    def stats(self) -> dict[str, str]:
        return {worker.name: worker.stats() for worker in (self._writes, self._deliveries)}

    async def store(self, submission: Submission, principal: Principal) -> Submission:
        """The stored submission: this one, or the one stored earlier under the same key."""
        return await self._writes.do(_Store(submission, principal))

    async def deliver(self, batch: ObservationBatch) -> BatchResult:
        return await self._deliveries.do(batch)

    async def record_delivery(self, delivered: Delivered) -> None:
        # Awaited: once a client has its answer, reading the submission back must show it delivered.
        await self._writes.do(delivered)

    async def _write_group(self, items: list[_Store | Delivered]) -> list[Outcome]:
        return await run_in_threadpool(self._write_all, items)

    def _write_all(self, items: list[_Store | Delivered]) -> list[Outcome]:
        stores = [item for item in items if isinstance(item, _Store)]
        records = [item for item in items if isinstance(item, Delivered)]
        try:
            with self.db.session() as session:
                _record_all(session, records)
                # Core inserts: a group is many rows, and ORM objects would cost more than the database.
                if stores:
                    session.execute(insert(Submission), [_columns(item.submission) for item in stores])
                    session.execute(
                        insert(AuditEvent), [_received_event(item.submission, item.principal) for item in stores]
                    )
            return [item.submission if isinstance(item, _Store) else None for item in items]
        except IntegrityError:
            # A key was used twice (a replay, or twins in this very group): records first, then one by one.
            pass
        with self.db.session() as session:
            _record_all(session, records)
        stored: dict[int, Outcome] = {}
        for item in stores:
            try:
                stored[id(item)] = store_one(self.db, item.submission, item.principal)
            except Exception as exc:  # noqa: BLE001 - handed to that submission's caller
                stored[id(item)] = exc
        return [stored[id(item)] if isinstance(item, _Store) else None for item in items]

    async def _deliver_group(self, batches: list[ObservationBatch]) -> list[Outcome]:
        try:
            if len(batches) == 1:
                return [await self.metrics.apply_batch(batches[0])]
            return list(await self.metrics.apply_batches(batches))
        except CityStatError as exc:
            return [exc] * len(batches)


_SUBMISSION_COLUMNS = tuple(column.name for column in Submission.__table__.columns)


def _columns(submission: Submission) -> dict:
    return {name: getattr(submission, name) for name in _SUBMISSION_COLUMNS}


def _event(principal: Principal | str, action: str, department: str, subject: str, outcome: str, detail: dict) -> dict:
    if isinstance(principal, str):
        # A stored submission names its sender as "token:3" / "user:7" / "operator".
        actor, name = principal, principal
    else:
        actor, name = principal.actor, principal.name[:200]
    return {
        "at": utcnow(),
        "actor": actor,
        "actor_name": name,
        "department_code": department,
        "action": action,
        "subject": subject,
        "outcome": outcome,
        "detail": detail,
    }


def _received_event(submission: Submission, principal: Principal) -> dict:
    detail = {"rows": submission.row_count, "format": submission.format}
    return _event(principal, "submission.received", submission.department_code, submission.id, "ok", detail)


def _applied_detail(result: BatchResult, parse_rejected: list | None) -> dict:
    summary = result.summary
    return {
        "accepted": summary.accepted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "ignored": summary.ignored,
        "deleted": summary.deleted,
        "rejected": len(summary.rejected) + len(parse_rejected or []),
    }


def _record_all(session: Session, items: list[Delivered]) -> None:
    """Mark a group's deliveries done, with a few statements for all of them."""
    if not items:
        return
    ids = [item.submission_id for item in items]
    state = {
        row.id: row
        for row in session.execute(
            sa_select(
                Submission.id,
                Submission.delivery_status,
                Submission.actor,
                Submission.department_code,
                Submission.parse_rejected,
            ).where(Submission.id.in_(ids))
        )
    }
    now = utcnow()
    answers, deliveries, events = [], [], []
    for item in items:
        row = state.get(item.submission_id)
        if row is None:
            continue
        if item.receipt is not None:
            answers.append({"sid": row.id, "answer": item.receipt.model_dump(mode="json")})
        # The outbox and the request may both have delivered it; metrics answered both the same, once is enough.
        if row.delivery_status == DeliveryStatus.pending:
            deliveries.append({"sid": row.id, "result": item.result.model_dump(mode="json"), "at": now})
            detail = _applied_detail(item.result, row.parse_rejected)
            events.append(_event(row.actor, "submission.applied", row.department_code, row.id, "ok", detail))
    table = Submission.__table__
    if answers:
        session.execute(
            update(table).where(table.c.id == bindparam("sid")).values(http_status=201, receipt=bindparam("answer")),
            answers,
        )
    if deliveries:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("sid"))
            .values(
                delivery_status=DeliveryStatus.delivered.value,
                delivered_at=bindparam("at"),
                attempts=table.c.attempts + 1,
                delivery_result=bindparam("result"),
            ),
            deliveries,
        )
    if events:
        session.execute(insert(AuditEvent), events)


def audit_received(session: Session, submission: Submission, principal: Principal) -> None:
    record(
        session,
        principal,
        "submission.received",
        department=submission.department_code,
        subject=submission.id,
        detail={"rows": submission.row_count, "format": submission.format},
    )


def store_one(db: Database, submission: Submission, principal: Principal) -> Submission:
    try:
        with db.session() as session:
            session.add(submission)
            audit_received(session, submission, principal)
        return submission
    except IntegrityError:
        with db.session(write=False) as session:
            existing = session.exec(
                select(Submission).where(
                    Submission.department_code == submission.department_code,
                    Submission.idempotency_key == submission.idempotency_key,
                )
            ).first()
        if existing is None:
            raise
        return existing


def audit_outcome(session: Session, submission: Submission, action: str, outcome: str, detail: dict) -> None:
    # The event names the submitter, not the outbox: who did it is who sent it.
    kind, _, ident = submission.actor.partition(":")
    if kind in ("user", "token"):
        actor = Principal(kind=PrincipalKind(kind), id=ident, name=submission.actor)
    else:
        actor = Principal(kind=PrincipalKind.operator, id="local", name="local operator")
    record(
        session,
        actor,
        action,
        department=submission.department_code,
        subject=submission.id,
        outcome=outcome,
        detail=detail,
    )


def mark_delivered(session: Session, delivered: Delivered) -> None:
    """One delivery, as the outbox finishes it: the same statements as a group's."""
    _record_all(session, [delivered])
