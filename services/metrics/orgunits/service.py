from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, Unprocessable
from services.metrics.audit.service import record
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.orgunits.models import OrgUnit
from services.metrics.orgunits.schemas import OrgUnitCreate, OrgUnitPublic


def _public(unit: OrgUnit, department: Department, codes: dict[int, str]) -> OrgUnitPublic:
    return OrgUnitPublic(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        department=department.code,
        parent=codes.get(unit.parent_id) if unit.parent_id else None,
    )


def list_org_units(session: Session, department_code: str) -> list[OrgUnitPublic]:
    department = get_department(session, department_code)
    units = session.exec(select(OrgUnit).where(OrgUnit.department_id == department.id).order_by(OrgUnit.code)).all()
    codes = {unit.id: unit.code for unit in units}
    return [_public(unit, department, codes) for unit in units]


def create_org_unit(session: Session, department_code: str, body: OrgUnitCreate, actor: Principal) -> OrgUnitPublic:
    department = get_department(session, department_code)
    if not (actor.is_performance_office or actor.can_write(department.code)):
        raise Forbidden(f"Only the performance office or {department.code}'s staff may add its org units.")
    units = {u.code: u for u in session.exec(select(OrgUnit).where(OrgUnit.department_id == department.id))}
    if body.code in units:
        raise Conflict(f"{department.code} already has an org unit '{body.code}'.")
    if body.code == department.code:
        raise Unprocessable(
            "An org unit cannot have its department's code.",
            errors=[{"field": "code", "reason": "the department's own code"}],
        )
    parent = None
    if body.parent is not None:
        parent = units.get(body.parent)
        if parent is None:
            raise Unprocessable(
                f"{department.code} has no org unit '{body.parent}'.",
                errors=[{"field": "parent", "reason": "unknown org unit"}],
            )
    unit = OrgUnit(
        department_id=department.id,
        code=body.code,
        name=body.name,
        kind=body.kind,
        parent_id=parent.id if parent else None,
    )
    session.add(unit)
    session.flush()
    record(session, actor, "org_unit.created", department=department.code, subject=unit.code, detail=body.model_dump())
    return _public(unit, department, {parent.id: parent.code} if parent else {})
