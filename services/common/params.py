"""Path and query parameters shared by the services, with the patterns their values must match."""

from typing import Annotated

from fastapi import Path, Query

from services.common.types import CODE_PATTERN, METRIC_KEY_PATTERN, WORDS_PATTERN

DepartmentCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Department code, e.g. DPW")]
MetricKeyPath = Annotated[
    str, Path(pattern=METRIC_KEY_PATTERN, description="Metric key, e.g. dpw.service_requests_on_time")
]
DepartmentFilter = Annotated[str | None, Query(pattern=CODE_PATTERN, description="Department code, e.g. DPW")]
# PostgreSQL text cannot hold a NUL byte: refused here as a 422 rather than failing in the database. Only white
# space is refused by the schema too, so that a client reading the OpenAPI document knows it is not a search.
SearchText = Annotated[
    str, Query(min_length=1, max_length=200, pattern=WORDS_PATTERN, description="Words to find, e.g. pothole")
]
SearchLimit = Annotated[int, Query(ge=1, le=100)]
