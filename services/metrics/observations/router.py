import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from services.common.contracts import BatchResult, BatchResultGroup, ObservationBatch, ObservationBatchGroup
from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import MetricKeyPath
from services.common.periods import Frequency, PeriodText
from services.common.types import NO_NUL_PATTERN
from services.metrics.deps import InternalCaller, OptionalStaff, SessionDep, SettingsDep
from services.metrics.observations import series, service
from services.metrics.observations.schemas import RevisionPublic, RolledUpPublic, SeriesPoint, UnitsRollupPublic

router = APIRouter(tags=["observations"])

BATCH_ATTEMPTS = 3


@router.get("/metrics/{key}/observations", response_model=Page[SeriesPoint], responses=problem_responses(404))
def list_observations(
    key: MetricKeyPath,
    session: SessionDep,
    page: PageDep,
    viewer: OptionalStaff,
    start: Annotated[PeriodText | None, Query(description="First period, e.g. 2013-01")] = None,
    end: Annotated[PeriodText | None, Query(description="Last period, e.g. 2017-06")] = None,
    org_unit: Annotated[str, Query(max_length=64, description="Org unit; empty for the department")] = "",
) -> Page[SeriesPoint]:
    """The series, oldest first: each value with whether it is approved (else provisional), whether it starts a
    new series after a change of what is measured, and the notes on its period."""
    items, total = series.list_observations(session, key, start, end, org_unit, page, viewer)
    return Page(items=items, total=total)


@router.get("/metrics/{key}/rollups", response_model=Page[RolledUpPublic], responses=problem_responses(404, 422))
def list_rollups(
    key: MetricKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalStaff,
    to: Annotated[Frequency, Query(description="quarter, year or fiscal_year (from months); year from quarters")],
    start: Annotated[PeriodText | None, Query(description="First period of the metric's own, e.g. 2013-01")] = None,
    end: Annotated[PeriodText | None, Query(description="Last period of the metric's own, e.g. 2017-06")] = None,
    partial: Annotated[bool, Query(description="Also combine periods that miss some of their parts")] = False,
) -> Page[RolledUpPublic]:
    """The department's series at a coarser frequency, each period combined from its parts by the metric's
    roll-up: sums, means, ratios of summed numerators and denominators, or the last value."""
    items = series.rolled_up_series(
        session, key, to, start, end, partial, viewer, fiscal_start=settings.fiscal_year_start_month
    )
    return Page(items=items, total=len(items))


@router.get(
    "/metrics/{key}/observations/{period}/org-units",
    response_model=UnitsRollupPublic,
    responses=problem_responses(404, 422),
)
def units_rollup(
    key: MetricKeyPath,
    period: Annotated[PeriodText, Path(description="A period of the metric's frequency")],
    session: SessionDep,
    viewer: OptionalStaff,
) -> UnitsRollupPublic:
    """A period's values per org unit, and the department's value combined from them."""
    return series.units_rollup(session, key, period, viewer)


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
    return _apply_in_savepoint(session, batch, settings.as_of, settings.lock_after_days)


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
            return BatchResultGroup(
                results=service.apply_batches(
                    session, group.batches, settings.as_of, lock_after_days=settings.lock_after_days
                )
            )
    except (IntegrityError, OperationalError):
        # A concurrent delivery won a race on some value: take them one by one, each with its own retries.
        return BatchResultGroup(
            results=[
                _apply_in_savepoint(session, batch, settings.as_of, settings.lock_after_days) for batch in group.batches
            ]
        )


def _apply_in_savepoint(session: Session, batch: ObservationBatch, as_of: dt.date, lock_after_days: int) -> BatchResult:
    # Two deliveries may insert the same (metric, period) at once on PostgreSQL, or lock the same rows in
    # another order; the loser rolls back to its savepoint, starts over and then sees the winner's row.
    for attempt in range(BATCH_ATTEMPTS):
        try:
            with session.begin_nested():
                return service.apply_batch(session, batch, as_of, lock_after_days=lock_after_days)
        except (IntegrityError, OperationalError):
            if attempt == BATCH_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
