"""Open data: the public datasets metrics owns (read by anyone), and the query endpoint reporting's SODA routes call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.common.errors import problem_responses
from services.common.pagination import Page
from services.common.query_tree import Query as QueryTree
from services.metrics.deps import InternalCaller, SessionDep, SettingsDep
from services.metrics.opendata import service
from services.metrics.opendata.executor import run_query
from services.metrics.opendata.registry import ID_PATTERN, OpenDataset, find_dataset
from services.metrics.opendata.schemas import QUERY_SCHEMA, OpenDatasetPublic, QueryResultPublic, ResultColumn

router = APIRouter(tags=["open data"])

DatasetId = Annotated[str, Path(pattern=ID_PATTERN, description="The dataset's 4x4 id, e.g. abcd-2345")]


@router.get("/open-datasets", response_model=Page[OpenDatasetPublic])
def list_open_datasets(session: SessionDep, settings: SettingsDep) -> Page[OpenDatasetPublic]:
    """Every dataset the city publishes (no login): published metric values, published raw records without their
    personal fields, with their columns and row counts."""
    items = service.list_public(session, service.source_context(session, settings.time_zone))
    return Page(items=items, total=len(items))


@router.get("/open-datasets/{id}", response_model=OpenDatasetPublic, responses=problem_responses(404))
def get_open_dataset(id: DatasetId, session: SessionDep, settings: SettingsDep) -> OpenDatasetPublic:
    return service.get_public(session, id, service.source_context(session, settings.time_zone))


def public_dataset(_caller: InternalCaller, id: DatasetId, request: Request) -> OpenDataset:
    # Resolved before the body is read: a dataset that is not public is a 404 whatever the tree says.
    with request.app.state.db.session(write=False) as session:
        return find_dataset(session, id)


def _run(request: Request, dataset: OpenDataset, query: QueryTree, time_zone: str) -> QueryResultPublic:
    # A read: no write lock on SQLite, however long the query runs.
    with request.app.state.db.session(write=False) as session:
        result = run_query(session, dataset, query, service.source_context(session, time_zone))
    return QueryResultPublic(
        columns=[ResultColumn(name=name, datatype=kind) for name, kind in result.columns], rows=result.rows
    )


@router.post(
    "/open-datasets/{id}/query",
    response_model=QueryResultPublic,
    responses=problem_responses(400, 401, 404, 422),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": QUERY_SCHEMA}}}},
)
async def query_open_dataset(
    dataset: Annotated[OpenDataset, Depends(public_dataset)], request: Request, settings: SettingsDep
) -> QueryResultPublic:
    """Run a query tree (reporting's parse of a SODA request, `services.common.query_tree.Query` as JSON) over the
    dataset's public rows, as parameterised SQL: for CityStat's own services (the public asks reporting's /resource
    routes). A tree that does not validate is a 422, one that does not fit the dataset's columns a 400."""
    # The body is read and validated here rather than by FastAPI: pydantic's own JSON parser bounds nesting (Python's
    # json module would hit its recursion limit), and the documented schema stays finite (the tree is recursive).
    try:
        query = QueryTree.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False, include_input=False)
        ]
        raise RequestValidationError(errors) from None
    return await run_in_threadpool(_run, request, dataset, query, settings.time_zone)
