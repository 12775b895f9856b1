import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class OrgUnitKind(StrEnum):
    division = "division"
    facility = "facility"
    plant = "plant"
    yard = "yard"
    district = "district"


class OrgUnit(MetricsTable, table=True):
    """A part of a department for front-line views; observations name it by code."""

    __tablename__ = "org_unit"
    __table_args__ = (sa.UniqueConstraint("department_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: OrgUnitKind = Field(sa_type=sa.String(16))
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
