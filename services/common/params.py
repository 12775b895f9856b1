"""Path and query parameters shared by the services, with the patterns their values must match."""

from typing import Annotated

from fastapi import Path, Query

from services.common.types import CODE_PATTERN, METRIC_KEY_PATTERN

DepartmentCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Department code, e.g. DPW")]
MetricKeyPath = Annotated[
    str, Path(pattern=METRIC_KEY_PATTERN, description="Metric key, e.g. dpw.service_requests_on_time")
]
DepartmentFilter = Annotated[str | None, Query(pattern=CODE_PATTERN, description="Department code, e.g. DPW")]
