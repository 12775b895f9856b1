from typing import Annotated

from fastapi import APIRouter, Path

from services.common.errors import problem_responses
from services.common.pagination import Page
from services.common.params import MetricKeyPath
from services.metrics.definitions.schemas import TargetPublic
from services.metrics.deps import OptionalStaff, SessionDep, StaffPrincipal
from services.metrics.targets import service
from services.metrics.targets.schemas import TargetChange, TargetCorrection, TargetCreate

router = APIRouter(prefix="/metrics/{key}/targets", tags=["targets"])

TargetId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("", status_code=201, response_model=TargetPublic, responses=problem_responses(401, 403, 404, 409))
def set_target(key: MetricKeyPath, body: TargetCreate, session: SessionDep, actor: StaffPrincipal) -> TargetPublic:
    """A new target from a date (the performance office). Performance uses the target in force for each period."""
    return service.set_target(session, key, body, actor)


@router.patch("/{target_id}", response_model=TargetPublic, responses=problem_responses(401, 403, 404, 422))
def correct_target(
    key: MetricKeyPath, target_id: TargetId, body: TargetCorrection, session: SessionDep, actor: StaffPrincipal
) -> TargetPublic:
    """Correct a wrongly entered target, with a reason; the old values stay in its history."""
    return service.correct_target(session, key, target_id, body, actor)


@router.get("/history", response_model=Page[TargetChange], responses=problem_responses(404))
def target_history(key: MetricKeyPath, session: SessionDep, viewer: OptionalStaff) -> Page[TargetChange]:
    """Every target set or corrected, with who did it, when and why."""
    items = service.target_changes(session, key, viewer)
    return Page(items=items, total=len(items))
