from sqlalchemy import func
from sqlmodel import Session, select

from services.common.errors import NotFound
from services.common.pagination import PageParams
from services.metrics.definitions.models import Metric
from services.metrics.departments.models import Department
from services.metrics.departments.schemas import DepartmentPublic


def get_department(session: Session, code: str) -> Department:
    department = session.exec(select(Department).where(Department.code == code)).first()
    if department is None:
        raise NotFound(f"No department has the code '{code}'.")
    return department


def _published_counts(session: Session) -> dict[int, int]:
    rows = session.exec(
        select(Metric.department_id, func.count(Metric.id))
        .where(Metric.is_published)
        .group_by(Metric.department_id)
    ).all()
    return dict(rows)


def list_departments(session: Session, page: PageParams) -> tuple[list[DepartmentPublic], int]:
    total = session.exec(select(func.count(Department.id))).one()
    departments = session.exec(
        select(Department).order_by(Department.name).offset(page.offset).limit(page.limit)
    ).all()
    counts = _published_counts(session)
    items = [
        DepartmentPublic(code=d.code, name=d.name, metric_count=counts.get(d.id, 0)) for d in departments
    ]
    return items, total


def department_public(session: Session, code: str) -> DepartmentPublic:
    department = get_department(session, code)
    return DepartmentPublic(
        code=department.code,
        name=department.name,
        metric_count=_published_counts(session).get(department.id, 0),
    )


def create_department(session: Session, code: str, name: str) -> Department:
    department = Department(code=code, name=name)
    session.add(department)
    session.flush()
    return department
