from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from services.common.errors import CityStatError, Forbidden, problem_responses
from services.common.pagination import Page, PageDep
from services.common.types import NO_NUL_PATTERN
from services.metrics.definitions.models import Direction
from services.metrics.definitions.schemas import MetricPublic
from services.metrics.definitions.service import metric_public
from services.metrics.deps import SessionDep, SettingsDep, StaffPrincipal
from services.metrics.library import service
from services.metrics.library.schemas import AdoptRequest, LibraryImportPublic, LibraryMeasurePublic

router = APIRouter(prefix="/library", tags=["library"])

IMPORTS_PATH = "/library/imports"

_CSV_BODY = {
    "content": {
        "text/csv": {
            "schema": {
                "type": "string",
                "minLength": 1,
                "description": "The San Francisco Controller's Citywide Performance Measures export, UTF-8 CSV",
                "example": (
                    "Dept,Department,KPI_CODE,Performance Measure,Performance Pattern,Unit of Measure,"
                    "FY 2013 Total Actual Data,FY 2013 Total Target Data\n"
                    "AAM,ASIAN ART MUSEUM,AAM.1,Number of museum members,Above target is positive,General,17066,16000\n"
                ),
            }
        }
    },
    "required": True,
}
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL_PATTERN)]


class UnsupportedMediaType(CityStatError):
    status_code = 415
    slug = "unsupported-media-type"


@router.post(
    "/imports",
    status_code=201,
    response_model=LibraryImportPublic,
    responses=problem_responses(401, 403, 413, 415, 422),
    openapi_extra={"requestBody": _CSV_BODY},
)
async def import_measures(
    request: Request,
    session: SessionDep,
    actor: StaffPrincipal,
    file_name: Annotated[str, Query(max_length=300, pattern=NO_NUL_PATTERN, description="For the summary")] = "",
) -> LibraryImportPublic:
    """Import another jurisdiction's measures (the performance office). A measure already in the library
    (same source and KPI_CODE) is updated, not repeated; every row the library cannot use is listed with
    its row, column and reason."""
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) imports library measures.")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in ("text/csv", "application/csv"):
        raise UnsupportedMediaType("Send the file as Content-Type: text/csv.")
    data = await request.body()
    return await run_in_threadpool(service.import_library, session, data, actor, file_name)


@router.get("/imports", response_model=Page[LibraryImportPublic], responses=problem_responses(401))
def list_imports(session: SessionDep, page: PageDep, _viewer: StaffPrincipal) -> Page[LibraryImportPublic]:
    """Past imports, newest first, each with its rejected rows."""
    items, total = service.list_imports(session, page)
    return Page(items=items, total=total)


@router.get("/imports/{import_id}", response_model=LibraryImportPublic, responses=problem_responses(401, 404))
def read_import(import_id: Id, session: SessionDep, _viewer: StaffPrincipal) -> LibraryImportPublic:
    return service.get_import(session, import_id)


@router.get("/measures", response_model=Page[LibraryMeasurePublic], responses=problem_responses(401))
def list_measures(
    session: SessionDep,
    page: PageDep,
    viewer: StaffPrincipal,
    jurisdiction: Annotated[str | None, Query(max_length=100, pattern=NO_NUL_PATTERN)] = None,
    department: Annotated[
        str | None, Query(max_length=32, pattern=NO_NUL_PATTERN, description="The source's department code, e.g. DPW")
    ] = None,
    q: Annotated[Text, Query(description="Case-insensitive part of the measure's name or program")] = None,
    direction: Direction | None = None,
) -> Page[LibraryMeasurePublic]:
    """Other jurisdictions' measures, to research before defining a metric."""
    items, total = service.list_measures(
        session, page, viewer, jurisdiction=jurisdiction, department=department, q=q, direction=direction
    )
    return Page(items=items, total=total)


@router.get("/measures/{measure_id}", response_model=LibraryMeasurePublic, responses=problem_responses(401, 404))
def read_measure(measure_id: Id, session: SessionDep, viewer: StaffPrincipal) -> LibraryMeasurePublic:
    return service.measure_public(session, measure_id, viewer)


@router.post(
    "/measures/{measure_id}/adopt",
    status_code=201,
    response_model=MetricPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def adopt_measure(
    measure_id: Id, body: AdoptRequest, session: SessionDep, settings: SettingsDep, actor: StaffPrincipal
) -> MetricPublic:
    """A draft metric in the department, defined as the other jurisdiction defines the measure, with its
    provenance (source, code, row, targets and actuals) kept on the metric (the performance office)."""
    metric = service.adopt_measure(session, measure_id, body, actor)
    return metric_public(session, metric.key, settings.as_of, actor)
