from fastapi import APIRouter

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.metrics.definitions import service
from services.metrics.definitions.schemas import MetricPublic, TargetPublic
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get("", response_model=Page[MetricPublic], responses=problem_responses(404))
def list_metrics(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    viewer: OptionalStaff,
    department: DepartmentFilter = None,
) -> Page[MetricPublic]:
    """Published metrics; a signed-in staff member also sees their departments' unpublished ones."""
    items, total = service.list_visible_metrics(session, department, page, settings.as_of, viewer)
    return Page(items=items, total=total)


@router.get("/{key}", response_model=MetricPublic, responses=problem_responses(404))
def read_metric(key: MetricKeyPath, session: SessionDep, settings: SettingsDep, viewer: OptionalStaff) -> MetricPublic:
    return service.metric_public(session, key, settings.as_of, viewer)


@router.get("/{key}/targets", response_model=Page[TargetPublic], responses=problem_responses(404))
def list_targets(key: MetricKeyPath, session: SessionDep, viewer: OptionalStaff) -> Page[TargetPublic]:
    items = service.list_targets(session, key, viewer)
    return Page(items=items, total=len(items))
