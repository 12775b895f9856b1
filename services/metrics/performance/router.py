from typing import Annotated

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.common.periods import PeriodText
from services.metrics.definitions.router import PriorityFilter
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep
from services.metrics.performance import service
from services.metrics.performance.schemas import MostImproved, PerformancePublic

router = APIRouter(tags=["performance"])

PeriodQuery = Annotated[
    PeriodText | None,
    Query(description="2017-06, 2017-W23, 2017-Q2 or 2017; default: the last complete period"),
]


@router.get("/metrics/{key}/performance", response_model=PerformancePublic, responses=problem_responses(404))
def read_performance(
    key: MetricKeyPath, session: SessionDep, settings: SettingsDep, viewer: OptionalStaff, period: PeriodQuery = None
) -> PerformancePublic:
    return service.metric_performance(session, key, period, settings.as_of, viewer)


@router.get("/performance", response_model=Page[PerformancePublic], responses=problem_responses(404))
def list_performance(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    viewer: OptionalStaff,
    period: PeriodQuery = None,
    department: DepartmentFilter = None,
    priority: PriorityFilter = None,
    key: Annotated[bool, Query(description="Only key metrics")] = False,
) -> Page[PerformancePublic]:
    """A dashboard: every agreed metric's performance for the period (each metric's own last complete one by
    default), with its change, trend, limits, signals and streak."""
    items, total = service.performance_list(
        session, department, period, page, settings.as_of, viewer, priority=priority, key_only=key
    )
    return Page(items=items, total=total)


@router.get("/performance/most-improved", response_model=MostImproved, responses=problem_responses(404))
def most_improved(
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalStaff,
    period: PeriodQuery = None,
    department: DepartmentFilter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> MostImproved:
    """Metrics ranked by the share of their gap to target closed since the same period a year ago."""
    return service.most_improved(session, department, period, limit, settings.as_of, viewer)
