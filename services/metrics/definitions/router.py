from typing import Annotated

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.metrics.definitions import lifecycle, service
from services.metrics.definitions.models import MetricState
from services.metrics.definitions.schemas import (
    CommentCreate,
    CommentPublic,
    MetricCreate,
    MetricPublic,
    MetricUpdate,
    MetricVersionPublic,
    TargetPublic,
    TransitionRequest,
)
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep, StaffPrincipal
from services.metrics.records.compute import recompute

router = APIRouter(prefix="/metrics", tags=["metrics"])

PriorityFilter = Annotated[
    str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="Priority code, e.g. public_safety")
]


@router.get("", response_model=Page[MetricPublic], responses=problem_responses(404))
def list_metrics(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    viewer: OptionalStaff,
    department: DepartmentFilter = None,
    priority: PriorityFilter = None,
    state: MetricState | None = None,
    key: Annotated[bool, Query(description="Only key metrics")] = False,
) -> Page[MetricPublic]:
    """Published metrics; a signed-in staff member also sees their departments' unpublished ones (drafts too)."""
    items, total = service.list_visible_metrics(
        session, department, page, settings.as_of, viewer, priority=priority, state=state, key_only=key
    )
    return Page(items=items, total=total)


@router.post("", status_code=201, response_model=MetricPublic, responses=problem_responses(401, 403, 404, 409, 422))
def create_metric(
    body: MetricCreate, session: SessionDep, settings: SettingsDep, actor: StaffPrincipal
) -> MetricPublic:
    """A new draft metric (the performance office). One with a `rule` is computed from the raw records at once."""
    metric, _ = lifecycle.create_draft(session, body, actor)
    if metric.rule is not None:
        recompute(session, metric, None, settings=settings)
    return service.metric_public(session, metric.key, settings.as_of, actor)


@router.get("/{key}", response_model=MetricPublic, responses=problem_responses(404))
def read_metric(key: MetricKeyPath, session: SessionDep, settings: SettingsDep, viewer: OptionalStaff) -> MetricPublic:
    return service.metric_public(session, key, settings.as_of, viewer)


@router.patch("/{key}", response_model=MetricPublic, responses=problem_responses(401, 403, 404, 422))
def update_metric(
    key: MetricKeyPath, body: MetricUpdate, session: SessionDep, settings: SettingsDep, actor: StaffPrincipal
) -> MetricPublic:
    """Change a definition. Each change is a new version; one that alters what is measured marks a series break.
    A new `rule` recomputes the values of unlocked periods (POST .../recompute with force for the locked ones)."""
    metric, _ = lifecycle.update_definition(session, key, body, actor, settings.as_of)
    if "rule" in body.model_fields_set and metric.rule is not None:
        recompute(session, metric, None, settings=settings)
    return service.metric_public(session, key, settings.as_of, actor)


@router.post("/{key}/transitions", response_model=MetricPublic, responses=problem_responses(401, 403, 404, 422))
def transition_metric(
    key: MetricKeyPath, body: TransitionRequest, session: SessionDep, settings: SettingsDep, actor: StaffPrincipal
) -> MetricPublic:
    """draft → proposed → active (the department head's sign-off, or an analyst's on its behalf) → retired."""
    lifecycle.transition(session, key, body, actor)
    return service.metric_public(session, key, settings.as_of, actor)


@router.get("/{key}/versions", response_model=Page[MetricVersionPublic], responses=problem_responses(404))
def list_versions(key: MetricKeyPath, session: SessionDep, viewer: OptionalStaff) -> Page[MetricVersionPublic]:
    """Every version of the definition: who changed what, when and why, and the series breaks."""
    items = lifecycle.versions(session, key, viewer)
    return Page(items=items, total=len(items))


@router.get("/{key}/comments", response_model=Page[CommentPublic], responses=problem_responses(401, 404))
def list_comments(key: MetricKeyPath, session: SessionDep, actor: StaffPrincipal) -> Page[CommentPublic]:
    """The discussion of the metric with its department."""
    items = lifecycle.list_comments(session, key, actor)
    return Page(items=items, total=len(items))


@router.post(
    "/{key}/comments", status_code=201, response_model=CommentPublic, responses=problem_responses(401, 403, 404)
)
def add_comment(key: MetricKeyPath, body: CommentCreate, session: SessionDep, actor: StaffPrincipal) -> CommentPublic:
    return lifecycle.add_comment(session, key, body.body, actor)


@router.get("/{key}/targets", response_model=Page[TargetPublic], responses=problem_responses(404))
def list_targets(key: MetricKeyPath, session: SessionDep, viewer: OptionalStaff) -> Page[TargetPublic]:
    items = service.list_targets(session, key, viewer)
    return Page(items=items, total=len(items))
