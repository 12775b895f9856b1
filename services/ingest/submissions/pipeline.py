"""The three writes every submission needs, each done for many submissions at once (group commit):
store it (the durable hand-off), deliver it to metrics, and record how the delivery went."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.common.auth import Principal, PrincipalKind
from services.common.batching import GroupWorker, Outcome
from services.common.contracts import BatchResult, ObservationBatch
from services.common.db import Database
from services.common.errors import CityStatError
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


class SubmissionPipeline:
    def __init__(self, db: Database, metrics: MetricsClient, max_group: int, max_group_rows: int) -> None:
        self.db = db
        self.metrics = metrics
        self._stores = GroupWorker("submission store", self._store_group, max_group)
        # One call to metrics carries at most about one largest submission's rows, so its body stays in bounds.
        self._deliveries = GroupWorker(
            "metrics delivery", self._deliver_group, max_group, weight=lambda b: len(b.rows), max_weight=max_group_rows
        )
        self._records = GroupWorker("delivery record", self._record_group, max_group)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SubmissionPipeline]:
        async with self._stores, self._deliveries, self._records:
            yield self

    def stats(self) -> dict[str, str]:
        return {worker.name: worker.stats() for worker in (self._stores, self._deliveries, self._records)}

    async def store(self, submission: Submission, principal: Principal) -> Submission:
        """The stored submission: this one, or the one stored earlier under the same key."""
        return await self._stores.do((submission, principal))

    async def deliver(self, batch: ObservationBatch) -> BatchResult:
        return await self._deliveries.do(batch)

    async def record_delivery(self, delivered: Delivered) -> None:
        await self._records.do(delivered)

    async def _store_group(self, items: list[tuple[Submission, Principal]]) -> list[Outcome]:
        return await run_in_threadpool(self._store_all, items)

    def _store_all(self, items: list[tuple[Submission, Principal]]) -> list[Outcome]:
        try:
            with self.db.session() as session:
                for submission, principal in items:
                    session.add(submission)
                    audit_received(session, submission, principal)
            return [submission for submission, _ in items]
        except IntegrityError:
            # A key was used twice (a replay, or twins in this very group): one by one, each finds its own.
            pass
        outcomes: list[Outcome] = []
        for submission, principal in items:
            try:
                outcomes.append(store_one(self.db, submission, principal))
            except Exception as exc:  # noqa: BLE001 - handed to that submission's caller
                outcomes.append(exc)
        return outcomes

    async def _deliver_group(self, batches: list[ObservationBatch]) -> list[Outcome]:
        try:
            if len(batches) == 1:
                return [await self.metrics.apply_batch(batches[0])]
            return list(await self.metrics.apply_batches(batches))
        except CityStatError as exc:
            return [exc] * len(batches)

    async def _record_group(self, items: list[Delivered]) -> list[Outcome]:
        return await run_in_threadpool(self._record_all, items)

    def _record_all(self, items: list[Delivered]) -> list[Outcome]:
        with self.db.session() as session:
            ids = [item.submission_id for item in items]
            loaded = {s.id: s for s in session.exec(select(Submission).where(Submission.id.in_(ids)))}
            for item in items:
                if (submission := loaded.get(item.submission_id)) is not None:
                    _mark_delivered(session, submission, item.result, item.receipt)
        return [None] * len(items)


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


def mark_delivered(
    session: Session, submission_id: str, result: BatchResult, receipt: SubmissionReceipt | None
) -> None:
    submission = session.get(Submission, submission_id)
    if submission is not None:
        _mark_delivered(session, submission, result, receipt)


def _mark_delivered(
    session: Session, submission: Submission, result: BatchResult, receipt: SubmissionReceipt | None
) -> None:
    if receipt is not None:
        submission.http_status = 201
        submission.receipt = receipt.model_dump(mode="json")
    if submission.delivery_status != DeliveryStatus.pending:
        # The outbox and the request both delivered it; metrics answered both the same, once is enough.
        session.add(submission)
        return
    submission.delivery_status = DeliveryStatus.delivered
    submission.delivered_at = utcnow()
    submission.attempts += 1
    submission.delivery_result = result.model_dump(mode="json")
    session.add(submission)
    summary = result.summary
    audit_outcome(
        session,
        submission,
        "submission.applied",
        "ok",
        {
            "accepted": summary.accepted,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "ignored": summary.ignored,
            "deleted": summary.deleted,
            "rejected": len(summary.rejected) + len(submission.parse_rejected or []),
        },
    )
