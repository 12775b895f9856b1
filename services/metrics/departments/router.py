from fastapi import APIRouter

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentCode
from services.metrics.departments import service
from services.metrics.departments.schemas import DepartmentPublic
from services.metrics.deps import SessionDep

router = APIRouter(prefix="/departments", tags=["departments"])


@router.get("", response_model=Page[DepartmentPublic])
def list_departments(session: SessionDep, page: PageDep) -> Page[DepartmentPublic]:
    items, total = service.list_departments(session, page)
    return Page(items=items, total=total)


@router.get("/{code}", response_model=DepartmentPublic, responses=problem_responses(404))
def read_department(code: DepartmentCode, session: SessionDep) -> DepartmentPublic:
    return service.department_public(session, code)
