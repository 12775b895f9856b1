import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from services.common.contracts import BatchResult, BatchResultGroup, ObservationBatch, ObservationBatchGroup
from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import MetricKeyPath
from services.common.periods import PeriodText
from services.common.types import NO_NUL_PATTERN
from services.metrics.deps import InternalCaller, OptionalStaff, SessionDep, SettingsDep
from services.metrics.observations import service
from services.metrics.observations.schemas import ObservationPublic, RevisionPublic

router = APIRouter(tags=["observations"])

BATCH_ATTEMPTS = 3


@router.get("/metrics/{key}/observations", response_model=Page[ObservationPublic], responses=problem_responses(404))
def list_observations(
    key: MetricKeyPath,
    session: SessionDep,
    page: PageDep,
    viewer: OptionalStaff,
    start: Annotated[PeriodText | None, Query(description="First period, e.g. 2013-01")] = None,
    end: Annotated[PeriodText | None, Query(description="Last period, e.g. 2017-06")] = None,
    org_unit: Annotated[str, Query(max_length=64, description="Org unit; empty for the department")] = "",
) -> Page[ObservationPublic]:
    items, total = service.list_observations(session, key, start, end, org_unit, page, viewer)
    return Page(items=items, total=total)


@router.get(
    "/metrics/{key}/observations/{period}/revisions",
    response_model=Page[RevisionPublic],
    responses=problem_responses(404),
    summary="Every change written to one value, newest first",
)
def list_revisions(
    key: MetricKeyPath,
    period: Annotated[PeriodText, Path(description="The value's period, e.g. 2017-06")],
    session: SessionDep,
    page: PageDep,
    viewer: OptionalStaff,
    org_unit: Annotated[
        str, Query(max_length=64, pattern=NO_NUL_PATTERN, description="Org unit; empty for the department")
    ] = "",
) -> Page[RevisionPublic]:
    items, total = service.list_revisions(session, key, period, org_unit, page, viewer)
    return Page(items=items, total=total)


@router.post(
    "/observations/batch",
    response_model=BatchResult,
    responses=problem_responses(401),
    summary="Upsert a submission's rows (called by the ingest service)",
)
def apply_batch(
    batch: ObservationBatch, session: SessionDep, settings: SettingsDep, _caller: InternalCaller
) -> BatchResult:
    return _apply_in_savepoint(session, batch, settings.as_of)


@router.post(
    "/observations/batches",
    response_model=BatchResultGroup,
    responses=problem_responses(401),
    summary="Upsert several submissions' rows in one transaction, in order (ingest's group commit)",
)
def apply_batches(
    group: ObservationBatchGroup, session: SessionDep, settings: SettingsDep, _caller: InternalCaller
) -> BatchResultGroup:
    try:
        with session.begin_nested():
            return BatchResultGroup(results=service.apply_batches(session, group.batches, settings.as_of))
    except (IntegrityError, OperationalError):
        # A concurrent delivery won a race on some value: take them one by one, each with its own retries.
        return BatchResultGroup(
            results=[_apply_in_savepoint(session, batch, settings.as_of) for batch in group.batches]
        )


def _apply_in_savepoint(session: Session, batch: ObservationBatch, as_of: dt.date) -> BatchResult:
    # Two deliveries may insert the same (metric, period) at once on PostgreSQL, or lock the same rows in
    # another order; the loser rolls back to its savepoint, starts over and then sees the winner's row.
    for attempt in range(BATCH_ATTEMPTS):
        try:
            with session.begin_nested():
                return service.apply_batch(session, batch, as_of)
        except (IntegrityError, OperationalError):
            if attempt == BATCH_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
