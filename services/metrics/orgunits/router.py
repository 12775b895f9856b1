from fastapi import APIRouter

from services.common.errors import problem_responses
from services.common.pagination import Page
from services.common.params import DepartmentCode
from services.metrics.deps import SessionDep, StaffPrincipal
from services.metrics.orgunits import service
from services.metrics.orgunits.schemas import OrgUnitCreate, OrgUnitPublic

router = APIRouter(prefix="/departments/{code}/org-units", tags=["org units"])


@router.get("", response_model=Page[OrgUnitPublic], responses=problem_responses(404))
def list_org_units(code: DepartmentCode, session: SessionDep) -> Page[OrgUnitPublic]:
    """The department's divisions, facilities and plants; observations name them by code."""
    items = service.list_org_units(session, code)
    return Page(items=items, total=len(items))


@router.post("", status_code=201, response_model=OrgUnitPublic, responses=problem_responses(401, 403, 404, 409, 422))
def create_org_unit(
    code: DepartmentCode, body: OrgUnitCreate, session: SessionDep, actor: StaffPrincipal
) -> OrgUnitPublic:
    return service.create_org_unit(session, code, body, actor)
