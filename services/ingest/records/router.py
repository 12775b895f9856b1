import unicodedata
from collections.abc import AsyncIterator
from email.message import Message
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from starlette.requests import ClientDisconnect

from services.common.errors import BadRequest, problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter
from services.ingest.deps import (
    CurrentPrincipal,
    DatabaseDep,
    MetricsClientDep,
    RateLimitedPrincipal,
    SettingsDep,
)
from services.ingest.records import service
from services.ingest.records.schemas import RecordJobPublic, RejectionPublic, UploadStatus

router = APIRouter(tags=["raw records"])

# The names metrics gives datasets and mapping profiles; whether one exists is metrics' to say, when it loads.
DATASET_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
MAPPING_PATTERN = r"^[a-z][a-z0-9_.-]{1,63}$"
JobId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{32}$")]

# Any bytes but none: ingest stores the file as sent, and reading it is metrics' job (with the mapping profile).
_FILE_SCHEMA = {"format": "binary", "minLength": 1, "description": "The file's bytes"}
_TEXT_SCHEMA = {"minLength": 1, "description": "The file's text, UTF-8"}
_UPLOAD_BODY = {
    "description": "The file as it is: CSV or NDJSON, or either gzipped. It is streamed to disk, never held in memory.",
    "required": True,
    "content": {
        "text/csv": {"schema": _TEXT_SCHEMA},
        "application/x-ndjson": {"schema": _TEXT_SCHEMA},
        "application/jsonl": {"schema": _TEXT_SCHEMA},
        "application/gzip": {"schema": _FILE_SCHEMA},
        "application/octet-stream": {"schema": _FILE_SCHEMA},
    },
}
_JOB_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": RecordJobPublic,
        "description": "Spooled; the job (also at the Location header) loads in the background",
        "headers": {"Location": {"description": "The job: /api/ingest/jobs/{id}", "schema": {"type": "string"}}},
    },
    **problem_responses(401, 403, 413, 415, 429),
}


def _clean_filename(name: str | None) -> str | None:
    """Only the file's own name, printable, at most 255 characters: it is shown, never used as a path."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:255] or None


def _disposition_filename(request: Request) -> str | None:
    header = request.headers.get("content-disposition")
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    return message.get_filename()


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        # Nobody is left to hear it; said as a refusal rather than logged as an error of ours.
        raise BadRequest("The upload stopped before the end of the file; nothing was kept.") from None


@router.post(
    "/records",
    status_code=202,
    response_model=RecordJobPublic,
    responses=_JOB_RESPONSES,
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_records(
    request: Request,
    response: Response,
    principal: RateLimitedPrincipal,
    db: DatabaseDep,
    settings: SettingsDep,
    dataset: Annotated[str, Query(pattern=DATASET_PATTERN, description="The kind of record, e.g. service_requests")],
    mapping: Annotated[str, Query(pattern=MAPPING_PATTERN, description="The feed's mapping profile, e.g. nyc311")],
    create_departments: Annotated[
        bool, Query(description="Create departments for agencies no department maps (performance office only)")
    ] = False,
    department: Annotated[
        DepartmentFilter,
        Query(description="The department the records belong to (a token's or a liaison's own; any for analysts)"),
    ] = None,
    filename: Annotated[
        str | None, Query(max_length=1000, description="The file's name, to show (else Content-Disposition's)")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="Optional; a replay with the same key answers the first upload's job",
        ),
    ] = None,
) -> RecordJobPublic:
    """A bulk file of raw records (e.g. a city's 311 service requests), loaded as a background job.

    The file is spooled to disk as it arrives and answered at once (202) with its job; metrics then loads it in
    chunks. Follow the job at GET /jobs/{id}: progress (done/total bytes) and, when done, the import summary."""
    scope = service.upload_scope(principal, department, create_departments)
    options = service.UploadOptions(
        dataset=dataset,
        mapping=mapping,
        department=scope,
        create_departments=create_departments,
        media_type=request.headers.get("content-type", "").split(";")[0].strip().lower(),
        filename=_clean_filename(filename or _disposition_filename(request)),
    )
    job, created = await service.receive_upload(
        db,
        settings.spool_dir,
        principal,
        _body(request),
        options,
        idempotency_key=idempotency_key,
        max_bytes=settings.max_bulk_upload_bytes,
    )
    if created:
        request.app.state.record_handoff.wake()
    response.headers["Location"] = f"{request.scope.get('root_path', '')}/jobs/{job.id}"
    return service.to_public(job)


@router.get("/jobs", response_model=Page[RecordJobPublic], responses=problem_responses(401))
async def list_jobs(
    db: DatabaseDep,
    metrics: MetricsClientDep,
    principal: CurrentPrincipal,
    page: PageDep,
    department: DepartmentFilter = None,
    status: UploadStatus | None = None,
) -> Page[RecordJobPublic]:
    """Bulk upload jobs of the departments the caller may read, newest first."""
    items, total = await service.jobs_view(db, metrics, principal, department, status, page)
    return Page(items=items, total=total)


@router.get("/jobs/{job_id}", response_model=RecordJobPublic, responses=problem_responses(401, 404))
async def read_job(
    job_id: JobId, db: DatabaseDep, metrics: MetricsClientDep, principal: CurrentPrincipal
) -> RecordJobPublic:
    """A job's status and progress (done of total bytes); live counts while it loads, the summary once done."""
    return await service.job_view(db, metrics, principal, job_id)


@router.get(
    "/jobs/{job_id}/rejections",
    response_model=Page[RejectionPublic],
    responses=problem_responses(401, 404, 503),
)
async def list_job_rejections(
    job_id: JobId, db: DatabaseDep, metrics: MetricsClientDep, principal: CurrentPrincipal, page: PageDep
) -> Page[RejectionPublic]:
    """Every row of the upload that could not be used, with row, field and reason, in row order."""
    found = await service.rejections_view(db, metrics, principal, job_id, page)
    return Page(items=found.items, total=found.total)
