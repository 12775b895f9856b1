from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.common.errors import problem_responses
from services.common.pagination import Page
from services.common.params import MetricKeyPath
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep, StaffPrincipal
from services.metrics.priorities import service
from services.metrics.priorities.schemas import (
    PRIORITY_CODE_PATTERN,
    Alignment,
    PriorityCreate,
    PriorityDetail,
    PriorityPublic,
    PriorityUpdate,
)

router = APIRouter(tags=["priorities"])

PriorityCode = Annotated[str, Path(pattern=PRIORITY_CODE_PATTERN, description="e.g. public_safety")]
OutcomeKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_.-]{1,79}$", description="The outcome metric's key")]


@router.get("/priorities", response_model=Page[PriorityPublic])
def list_priorities(session: SessionDep, viewer: OptionalStaff) -> Page[PriorityPublic]:
    """Citywide priorities with how many (key) metrics are aligned to each."""
    items = service.list_priorities(session, viewer)
    return Page(items=items, total=len(items))


@router.post("/priorities", status_code=201, response_model=PriorityPublic, responses=problem_responses(401, 403, 409))
def create_priority(body: PriorityCreate, session: SessionDep, actor: StaffPrincipal) -> PriorityPublic:
    return service.create_priority(session, body, actor)


@router.get("/priorities/{code}", response_model=PriorityDetail, responses=problem_responses(404))
def read_priority(
    code: PriorityCode, session: SessionDep, settings: SettingsDep, viewer: OptionalStaff
) -> PriorityDetail:
    """The priority's outcomes, each with the outputs that drive it, and its other aligned outputs."""
    return service.priority_detail(session, code, settings.as_of, viewer)


@router.patch("/priorities/{code}", response_model=PriorityDetail, responses=problem_responses(401, 403, 404))
def update_priority(
    code: PriorityCode, body: PriorityUpdate, session: SessionDep, settings: SettingsDep, actor: StaffPrincipal
) -> PriorityDetail:
    service.update_priority(session, code, body, actor)
    return service.priority_detail(session, code, settings.as_of, actor)


@router.put("/priorities/{code}/metrics/{key}", status_code=204, responses=problem_responses(401, 403, 404))
def align_metric(
    code: PriorityCode, key: MetricKeyPath, body: Alignment, session: SessionDep, actor: StaffPrincipal
) -> Response:
    """Align a metric to the priority, marking it a key metric or not."""
    service.align(session, code, key, body, actor)
    return Response(status_code=204)


@router.delete("/priorities/{code}/metrics/{key}", status_code=204, responses=problem_responses(401, 403, 404))
def unalign_metric(code: PriorityCode, key: MetricKeyPath, session: SessionDep, actor: StaffPrincipal) -> Response:
    service.unalign(session, code, key, actor)
    return Response(status_code=204)


@router.put("/metrics/{key}/drives/{outcome}", status_code=204, responses=problem_responses(401, 403, 404, 422))
def link_driver(key: MetricKeyPath, outcome: OutcomeKey, session: SessionDep, actor: StaffPrincipal) -> Response:
    """Record that this output drives that outcome."""
    service.link_driver(session, key, outcome, actor)
    return Response(status_code=204)


@router.delete("/metrics/{key}/drives/{outcome}", status_code=204, responses=problem_responses(401, 403, 404))
def unlink_driver(key: MetricKeyPath, outcome: OutcomeKey, session: SessionDep, actor: StaffPrincipal) -> Response:
    service.unlink_driver(session, key, outcome, actor)
    return Response(status_code=204)
