from typing import Annotated

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.common.periods import PeriodText
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep
from services.metrics.performance import service
from services.metrics.performance.schemas import PerformancePublic

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
) -> Page[PerformancePublic]:
    items, total = service.performance_list(session, department, period, page, settings.as_of, viewer)
    return Page(items=items, total=total)
