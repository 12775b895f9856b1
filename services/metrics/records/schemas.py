"""The raw-records API's shapes: datasets, mapping profiles, import jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.records.models import ImportStatus
from services.metrics.records.profiles import ProfileDefinition

DATASET_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
PROFILE_NAME_PATTERN = r"^[a-z][a-z0-9_.-]{1,63}$"
FieldType = Literal["string", "number", "integer", "boolean", "datetime"]


class DatasetField(BaseModel):
    model_config = INPUT_CONFIG
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    type: FieldType = "string"
    required: bool = False
    description: str = Field(default="", max_length=2000, pattern=NO_NUL_PATTERN)


class DatasetCreate(BaseModel):
    """A record type beyond service requests: work orders, inspections. Every record still has an id, a department,
    opened/closed/due times, a category, status and place; `fields` are what this type adds."""

    model_config = INPUT_CONFIG
    key: str = Field(pattern=DATASET_KEY_PATTERN)
    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)
    description: str = Field(default="", max_length=4000, pattern=NO_NUL_PATTERN)
    fields: list[DatasetField] = Field(default_factory=list, max_length=100)
    is_published: bool = False


class DatasetUpdate(BaseModel):
    model_config = INPUT_CONFIG
    is_published: bool | None = Field(
        default=None, description="Publish the dataset's records as open data (never their extra fields), or withdraw"
    )


class DatasetPublic(BaseModel):
    key: str
    title: str
    description: str
    fields: list[dict[str, Any]]
    is_builtin: bool
    is_published: bool
    records: int


class ProfilePut(BaseModel):
    model_config = INPUT_CONFIG
    description: str = Field(default="", max_length=4000, pattern=NO_NUL_PATTERN)
    definition: ProfileDefinition


class ProfilePublic(BaseModel):
    name: str
    dataset: str
    description: str
    is_builtin: bool
    definition: dict[str, Any]
    created_by: str | None = None
    updated_at: dt.datetime | None = None
    last_pulled_at: dt.datetime | None = None


class RejectionPublic(BaseModel):
    row: int
    field: str
    reason: str
    record_id: str | None = None


class RecordImportPublic(BaseModel):
    id: str
    dataset: str
    mapping: str
    department: str | None
    status: ImportStatus
    # Progress: bytes of the uploaded file read so far, of its size.
    done: int
    total: int | None
    rows_read: int
    accepted: int
    updated: int
    unchanged: int
    rejected: int
    rejections_sample: list[RejectionPublic]
    departments_created: list[str]
    recomputed: dict[str, Any]
    error: str | None
    actor: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
