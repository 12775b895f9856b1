import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow


class LibraryImport(MetricsTable, table=True):
    """One import of another jurisdiction's measures, with its summary kept."""

    __tablename__ = "library_import"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=300)
    file_name: str = Field(default="", max_length=300)
    rows: int
    imported: int
    updated: int = 0
    # [{"row": 12, "field": "Performance Pattern", "reason": "..."}]
    rejected: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    actor: str = Field(max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)


class LibraryMeasure(MetricsTable, table=True):
    """A measure another jurisdiction uses: a reference to research, and to adopt as a draft metric."""

    __tablename__ = "library_measure"
    __table_args__ = (sa.UniqueConstraint("source", "source_code"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=300)
    source_code: str = Field(max_length=64)
    source_row: int
    jurisdiction: str = Field(max_length=100, index=True)
    department_code: str = Field(max_length=32, index=True)
    department_name: str = Field(max_length=200)
    program: str = Field(default="", max_length=300)
    goal: str = Field(default="", sa_type=sa.Text)
    name: str = Field(sa_type=sa.Text)
    description: str = Field(default="", sa_type=sa.Text)
    methodology: str = Field(default="", sa_type=sa.Text)
    unit: str = Field(max_length=32)
    unit_text: str = Field(default="", max_length=100)
    direction: str = Field(max_length=24)
    owner: str = Field(default="", max_length=200)
    # {"FY2013": 0.95}: fiscal years as the source counts them.
    actuals: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    targets: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    notes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    import_id: int = Field(foreign_key="library_import.id")
    imported_at: dt.datetime = Field(default_factory=utcnow)
