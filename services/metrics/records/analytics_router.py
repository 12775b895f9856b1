"""Operational analytics over raw records: requests, still open and median days to close by area and time of day
or week, ranked; and the categories to choose from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.common.errors import problem_responses
from services.common.pagination import PageDep
from services.common.params import DepartmentFilter
from services.metrics.deps import SessionDep, SettingsDep, StaffPrincipal
from services.metrics.records import service
from services.metrics.records.analytics import (
    MONTH_PATTERN,
    AnalyticsPage,
    AnalyticsQuery,
    Area,
    CategoriesPage,
    Order,
    RankBy,
    TimeOfDay,
    analytics,
    categories,
)
from services.metrics.records.rules import DATASET_KEY_PATTERN

router = APIRouter(tags=["operational analytics"])

DatasetPath = Annotated[str, Path(pattern=DATASET_KEY_PATTERN, description="Dataset key, e.g. service_requests")]
Month = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="A month opened in, e.g. 2017-01")]


@router.get(
    "/datasets/{dataset}/analytics", response_model=AnalyticsPage, responses=problem_responses(401, 403, 404, 422)
)
def get_analytics(
    dataset: DatasetPath,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    viewer: StaffPrincipal,
    category: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$", description="e.g. Streetlight outage")
    ] = None,
    department: DepartmentFilter = None,
    area: Annotated[Area, Query(description="By district, or by a cell of a latitude/longitude grid")] = Area.district,
    grid_size: Annotated[float, Query(ge=0.0001, le=1.0, description="The grid's cell side, in degrees")] = 0.01,
    time: Annotated[TimeOfDay, Query(description="Also by the hour or weekday opened (city clock)")] = TimeOfDay.none,
    start: Month = None,
    end: Month = None,
    sort: Annotated[RankBy, Query(description="count: requests; median_days; open: still open")] = RankBy.count,
    order: Order = Order.desc,
    min_requests: Annotated[int, Query(ge=1, le=1_000_000, description="Leave out smaller groups")] = 1,
) -> AnalyticsPage:
    """Requests of a category by area (district or grid cell) and hour or weekday opened, with how many are still
    open and the median days the closed ones took, ranked: most requests first unless `sort` says otherwise.
    Records without a district (or coordinates) are counted apart in `without_area`. Staff of the department."""
    service.get_dataset(session, dataset)
    query = AnalyticsQuery(
        dataset=dataset,
        category=category,
        department=department,
        area=area,
        grid_size=grid_size,
        time=time,
        start=start,
        end=end,
        sort=sort,
        order=order,
        min_requests=min_requests,
    )
    return analytics(session, query, page, viewer, settings.time_zone)


@router.get("/datasets/{dataset}/categories", response_model=CategoriesPage, responses=problem_responses(401, 403, 404))
def list_categories(
    dataset: DatasetPath,
    session: SessionDep,
    page: PageDep,
    viewer: StaffPrincipal,
    department: DepartmentFilter = None,
) -> CategoriesPage:
    """The categories of the dataset's records, with how many requests each has and the months they span, most
    requests first (staff of the department; without one, the departments the viewer may read)."""
    service.get_dataset(session, dataset)
    return categories(session, dataset, department, page, viewer)
