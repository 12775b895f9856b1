import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.common.periods import Frequency
from services.common.types import CODE_PATTERN, INPUT_CONFIG, METRIC_KEY_PATTERN, NO_NUL_PATTERN
from services.metrics.definitions.models import Direction, MetricKind, RollupMethod


class LibraryRejectionPublic(BaseModel):
    row: int = Field(description="As a spreadsheet numbers it: the header is row 1")
    field: str = Field(description="The column at fault, as the file names it")
    reason: str


class LibraryImportPublic(BaseModel):
    """What one import did: every data row of the file is imported, updated or rejected with a reason."""

    id: int
    source: str
    file_name: str
    rows: int = Field(description="Data rows in the file, blank lines not counted")
    imported: int = Field(description="Measures new to the library")
    updated: int = Field(description="Measures already in the library (same source and code), refreshed")
    rejected: list[LibraryRejectionPublic]
    actor: str
    at: dt.datetime


class LibraryMeasurePublic(BaseModel):
    id: int
    source: str
    source_code: str
    source_row: int
    jurisdiction: str
    department_code: str
    department_name: str
    program: str
    goal: str
    name: str
    description: str
    methodology: str
    unit: str = Field(description="percent (values are fractions), dollars, number (unit not stated), count, ...")
    unit_text: str = Field(description="The unit as the source wrote it")
    direction: Direction
    owner: str
    actuals: dict[str, float] = Field(description='{"FY2013": 0.95}: fiscal years as the source counts them')
    targets: dict[str, float]
    notes: list[str]
    import_id: int
    imported_at: dt.datetime
    adopted_as: list[str] = Field(
        default_factory=list, description="Keys of the metrics adopted from this measure that the caller may see"
    )


class AdoptRequest(BaseModel):
    """Adopt a library measure into a department as a draft metric, keeping where it came from."""

    model_config = INPUT_CONFIG
    department: Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
    key: Annotated[str, StringConstraints(pattern=METRIC_KEY_PATTERN)]
    frequency: Frequency
    kind: MetricKind
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)] | None = Field(
        default=None, description="Default: the measure's name, cut to 200 characters"
    )
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")] | None = Field(
        default=None, description="Default: the measure's unit ('number' when the source did not say which)"
    )
    rollup: RollupMethod | None = Field(
        default=None,
        description="Default: the unit's (ratio for percent, sum for count and dollars, mean for durations); "
        "required when the unit does not say, as San Francisco's 'General' (number) does not",
    )
    reason: Annotated[str, StringConstraints(max_length=2_000, pattern=NO_NUL_PATTERN)] = ""
