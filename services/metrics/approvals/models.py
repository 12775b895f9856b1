import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class PeriodApproval(MetricsTable, table=True):
    """A department's values for a month, approved by its head (or an analyst on its behalf).

    Approving a month approves and locks every value whose period ends in it."""

    __tablename__ = "period_approval"
    __table_args__ = (sa.UniqueConstraint("department_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    period: str = Field(max_length=8)
    note: str = Field(default="", sa_type=sa.Text)
    on_behalf: bool = False
    actor: str = Field(max_length=200)
    actor_name: str = Field(default="", max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)
