"""Path and query parameters shared by the services, with the patterns their values must match."""

from collections import Counter
from collections.abc import Iterator
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

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


def _single_valued(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        if not field_annotation_is_sequence(field.field_info.annotation):
            yield field.alias
    for sub in dependant.dependencies:
        yield from _single_valued(sub)


# Worked out once per route and kept on it (routes are not hashable).
_SINGLE_VALUED = "_citystat_single_valued_query"


async def refuse_repeated_query_parameters(request: Request) -> None:
    """`?filename=a&filename=b` for a parameter that takes one value is a 422, not the last value silently kept:
    the client meant something the schema cannot say, and which value won would be an accident of the framework."""
    names = [name for name, _ in request.query_params.multi_items()]
    if len(names) == len(set(names)):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    single = getattr(route, _SINGLE_VALUED, None)
    if single is None:
        single = frozenset(_single_valued(route.dependant))
        setattr(route, _SINGLE_VALUED, single)
    counts = Counter(names)
    repeated = sorted(name for name in single if counts[name] > 1)
    if repeated:
        raise RequestValidationError(
            [
                {"type": "repeated", "loc": ("query", name), "msg": f"given {counts[name]} times; it takes one value"}
                for name in repeated
            ]
        )
