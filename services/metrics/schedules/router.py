from typing import Annotated

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.common.periods import PeriodText
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep
from services.metrics.schedules import service
from services.metrics.schedules.schemas import MONTH_PATTERN, CompletenessReport, MetricSchedule, StaleMetric

router = APIRouter(tags=["schedules"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, examples=["2017-06"])]


@router.get(
    "/completeness",
    response_model=CompletenessReport,
    responses=problem_responses(404, 422),
    summary="On time, late, missing and due values per department and month",
    description=(
        "A value counts in the month its period ends in (a quarter's in its last month). Default window: the last "
        f"{service.DEFAULT_MONTHS} complete months; with start alone, from start to the last complete month (or "
        f"{service.DEFAULT_MONTHS} months from a later start); with end alone, the {service.DEFAULT_MONTHS} months "
        f"to end. A window longer than {service.MAX_MONTHS} months keeps its latest months; one whose start comes "
        "after its end is a 422. Anonymous callers see published metrics; staff also their departments' "
        "unpublished ones."
    ),
)
def read_completeness(
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalStaff,
    department: DepartmentFilter = None,
    start: Annotated[MonthQuery, Query(description="First month, e.g. 2017-01")] = None,
    end: Annotated[MonthQuery, Query(description="Last month, e.g. 2017-06")] = None,
) -> CompletenessReport:
    return service.completeness(
        session, department, start, end, settings.as_of, settings.fiscal_year_start_month, viewer
    )


@router.get(
    "/metrics/{key}/schedule",
    response_model=MetricSchedule,
    responses=problem_responses(404, 422),
    summary="A metric's expected periods with due date, arrival and status, newest first",
)
def read_schedule(
    key: MetricKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    viewer: OptionalStaff,
    start: Annotated[PeriodText | None, Query(description="Periods ending on or after its first day")] = None,
    end: Annotated[PeriodText | None, Query(description="Periods ending on or before its last day")] = None,
) -> MetricSchedule:
    return service.metric_schedule(
        session, key, start, end, page, settings.as_of, settings.fiscal_year_start_month, viewer
    )


@router.get(
    "/stale-metrics",
    response_model=Page[StaleMetric],
    responses=problem_responses(404),
    summary="Active metrics missing their values for several periods in a row, most missing first",
)
def list_stale_metrics(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    viewer: OptionalStaff,
    department: DepartmentFilter = None,
    min_missing: Annotated[
        int, Query(ge=1, le=10_000, description="Consecutive periods past due without a value")
    ] = service.DEFAULT_MIN_MISSING,
) -> Page[StaleMetric]:
    items, total = service.stale_metrics(
        session, department, min_missing, page, settings.as_of, settings.fiscal_year_start_month, viewer
    )
    return Page(items=items, total=total)
