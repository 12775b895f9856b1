from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.exc import IntegrityError

from services.common.contracts import BatchResult, ObservationBatch
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


@router.get(
    "/metrics/{key}/observations", response_model=Page[ObservationPublic], responses=problem_responses(404)
)
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
    # Two deliveries may insert the same (metric, period) at once on PostgreSQL; the loser starts over
    # and then sees the winner's row, so it updates instead of failing.
    for _attempt in range(BATCH_ATTEMPTS - 1):
        try:
            return service.apply_batch(session, batch, settings.as_of)
        except IntegrityError:
            session.rollback()
    return service.apply_batch(session, batch, settings.as_of)
