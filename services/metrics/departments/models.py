import datetime as dt

from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class DepartmentBase(MetricsTable):
    code: str = Field(max_length=16, unique=True, index=True)
    name: str = Field(max_length=200)


class Department(DepartmentBase, table=True):
    __tablename__ = "department"
    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
