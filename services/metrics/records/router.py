"""Raw records: datasets, mapping profiles, and the bulk import jobs ingest hands spooled files to."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import ClientDisconnect

from services.common.app import SettingsDep
from services.common.auth import (
    AUTH_DEPENDENCIES,
    Principal,
    note_failure,
    read_session,
    refuse_while_failing,
    session_cookie,
)
from services.common.errors import BadRequest, PayloadTooLarge, Unauthorized, Unprocessable, problem_responses
from services.common.pagination import Page, PageParams, page_params
from services.metrics.deps import InternalCaller, SessionDep, StaffPrincipal
from services.metrics.records import service
from services.metrics.records.loader import LoadRequest, finish_job, load_spooled_file, start_job
from services.metrics.records.schemas import (
    PROFILE_NAME_PATTERN,
    DatasetCreate,
    DatasetPublic,
    DatasetUpdate,
    ProfilePublic,
    ProfilePut,
    RecordImportPublic,
    RejectionPublic,
)

router = APIRouter(tags=["raw records"])

IMPORTS_PATH = "/record-imports"
# The import jobs this process is loading now, each with the event its end sets. A hand-off sent again while the
# first one still loads (its sender was killed, and another took the job over) waits for that load: a second one
# running beside it would race it chunk by chunk and count its records afresh half-way.
_LOADING: dict[str, asyncio.Event] = {}
JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ProfileName = Annotated[str, Query(pattern=PROFILE_NAME_PATTERN)]
_bearer = HTTPBearer(auto_error=False, description="The platform's internal service token, or a staff session")


def staff_or_internal(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal | None:
    """None for ingest (the internal token), else the signed-in staff member."""
    expected = settings.internal_token.get_secret_value()
    if credentials is not None:
        refuse_while_failing(request)
        if secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
            return None
        note_failure(request)
    principal = read_session(request, cookie)
    if principal is None:
        raise Unauthorized("Sign in first: POST /api/ingest/auth/login.")
    return principal


AUTH_DEPENDENCIES.add(staff_or_internal)
StaffOrInternal = Annotated[Principal | None, Depends(staff_or_internal)]


# --- datasets ---------------------------------------------------------------------------------------------------


@router.get("/datasets", response_model=Page[DatasetPublic], responses=problem_responses(401))
def list_datasets(session: SessionDep, _staff: StaffPrincipal) -> Page[DatasetPublic]:
    """The kinds of raw record the city keeps, with how many records each holds."""
    items = service.list_datasets(session)
    return Page(items=items, total=len(items))


@router.get("/datasets/{key}", response_model=DatasetPublic, responses=problem_responses(401, 404))
def get_dataset(key: str, session: SessionDep, _staff: StaffPrincipal) -> DatasetPublic:
    return service.dataset_public(session, service.get_dataset(session, key))


@router.post(
    "/datasets", status_code=201, response_model=DatasetPublic, responses=problem_responses(401, 403, 409, 422)
)
def create_dataset(body: DatasetCreate, session: SessionDep, principal: StaffPrincipal) -> DatasetPublic:
    """Define a record type beyond service requests (work orders, inspections): performance office only."""
    return service.dataset_public(session, service.create_dataset(session, principal, body))


@router.patch("/datasets/{key}", response_model=DatasetPublic, responses=problem_responses(401, 403, 404, 422))
def update_dataset(key: str, body: DatasetUpdate, session: SessionDep, principal: StaffPrincipal) -> DatasetPublic:
    """Publish a dataset, built-in ones included, as open data, or withdraw it: performance office only."""
    return service.dataset_public(session, service.update_dataset(session, principal, key, body))


# --- mapping profiles -------------------------------------------------------------------------------------------


@router.get("/mapping-profiles", response_model=Page[ProfilePublic], responses=problem_responses(401))
def list_profiles(session: SessionDep, _staff: StaffPrincipal) -> Page[ProfilePublic]:
    """The built-in profiles for real feeds (open311, nyc311, boston311, la311) and those the city defined."""
    items = service.list_profiles(session)
    return Page(items=items, total=len(items))


@router.get("/mapping-profiles/{name}", response_model=ProfilePublic, responses=problem_responses(401, 404))
def get_profile(name: str, session: SessionDep, _staff: StaffPrincipal) -> ProfilePublic:
    return service.profile_public(session, name)


@router.put(
    "/mapping-profiles/{name}",
    response_model=ProfilePublic,
    responses={201: {"model": ProfilePublic, "description": "Defined"}, **problem_responses(401, 403, 404, 409, 422)},
)
def put_profile(
    name: Annotated[str, Path(pattern=PROFILE_NAME_PATTERN)],
    body: ProfilePut,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffPrincipal,
    response: Response,
) -> ProfilePublic:
    """Define (or replace) a profile for a feed no built-in one reads, without code: performance office only."""
    profile, created = service.put_profile(session, principal, name, body, allowed_hosts=settings.pull_allowed_hosts)
    if created:
        response.status_code = 201
    return profile


@router.delete("/mapping-profiles/{name}", status_code=204, responses=problem_responses(401, 403, 404, 409))
def delete_profile(name: str, session: SessionDep, principal: StaffPrincipal) -> Response:
    service.delete_profile(session, principal, name)
    return Response(status_code=204)


# --- bulk import jobs -------------------------------------------------------------------------------------------


@router.post(
    IMPORTS_PATH,
    response_model=RecordImportPublic,
    responses=problem_responses(401, 404, 413, 422),
)
async def run_record_import(
    request: Request,
    settings: SettingsDep,
    _caller: InternalCaller,
    id: Annotated[str, Query(pattern=JOB_ID_PATTERN, description="The job id ingest gave the upload")],
    dataset: Annotated[str, Query(max_length=64)],
    mapping: ProfileName,
    actor: Annotated[str, Query(min_length=1, max_length=200)],
    department: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")] = None,
    create_departments: bool = False,
    bytes_total: Annotated[int | None, Query(ge=0)] = None,
    format: Literal["csv", "ndjson", "json"] | None = None,
) -> RecordImportPublic:
    """Load a spooled file of raw records (ingest's hand-off; the body is the file as uploaded, gzipped or not).
    Answers when the job has ended; the same id again answers that job without loading anything twice, and the same
    id while it loads waits for that load and answers its end."""
    db = request.app.state.db
    loading = _LOADING.get(id)
    if loading is not None:
        await _drain(request)
        await loading.wait()
        return await run_in_threadpool(_public, db, id)
    ended = _LOADING[id] = asyncio.Event()
    try:
        return await _run_import(
            request, settings, id, dataset, mapping, actor, department, create_departments, bytes_total, format
        )
    finally:
        del _LOADING[id]
        ended.set()


async def _run_import(
    request: Request,
    settings,  # noqa: ANN001 - the service's Settings
    id: str,  # noqa: A002 - the query parameter's name
    dataset: str,
    mapping: str,
    actor: str,
    department: str | None,
    create_departments: bool,
    bytes_total: int | None,
    format: str | None,  # noqa: A002 - the query parameter's name
) -> RecordImportPublic:
    db = request.app.state.db

    def prepare() -> tuple[LoadRequest, object, bool]:
        with db.session() as session:
            fields = service.get_dataset(session, dataset).fields
            profile = service.get_profile(session, mapping)
        if profile.dataset != dataset:
            raise Unprocessable(
                f"The mapping profile '{mapping}' reads the dataset '{profile.dataset}', not '{dataset}'.",
                errors=[{"field": "mapping", "reason": "for another dataset"}],
            )
        load = LoadRequest(id, dataset, mapping, profile, department, create_departments, actor, format, fields)
        job, must_run = start_job(db, load, bytes_total)
        return load, job, must_run

    load, job, must_run = await run_in_threadpool(prepare)
    if must_run:
        spool = settings.spool_dir / "metrics"
        spool.mkdir(parents=True, exist_ok=True)
        # Its own file per hand-off: another one of the same job (sent again by a process that took the job over)
        # must never write into the file this one loads from.
        path = spool / f"{id}.{secrets.token_hex(8)}.part"
        try:
            try:
                await _receive(request, path, settings.max_bulk_upload_bytes)
            except PayloadTooLarge as exc:
                await run_in_threadpool(finish_job, db, id, error=exc.detail)
                raise
            except ClientDisconnect:
                detail = "The file stopped arriving; it can be sent again."
                await run_in_threadpool(finish_job, db, id, error=detail)
                # Nobody is left to hear it; said as a refusal rather than logged as an error of ours.
                raise BadRequest(detail) from None
            job = await run_in_threadpool(load_spooled_file, db, load, path, settings)
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    else:
        await _drain(request)
    return await run_in_threadpool(_public, db, job.id)


async def _drain(request: Request) -> None:
    """Read a body that is not needed before answering: a sender still writing a large file to an answer it did
    not wait for would find the connection closed, and send it again and again."""
    with contextlib.suppress(ClientDisconnect):
        async for _ in request.stream():
            pass


async def _receive(request: Request, path, limit: int) -> None:  # noqa: ANN001 - a pathlib.Path
    received = 0
    with path.open("wb") as spool:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
            spool.write(chunk)
        spool.flush()
        os.fsync(spool.fileno())


def _public(db, job_id: str) -> RecordImportPublic:  # noqa: ANN001 - services.common.db.Database
    with db.session(write=False) as session:
        return service.import_public(session, service.get_import(session, None, job_id))


@router.get(f"{IMPORTS_PATH}/{{job_id}}", response_model=RecordImportPublic, responses=problem_responses(401, 404))
def get_record_import(job_id: str, session: SessionDep, principal: StaffOrInternal) -> RecordImportPublic:
    """A bulk import's progress (done of total bytes, rows so far) and, once ended, its summary."""
    return service.import_public(session, service.get_import(session, principal, job_id))


@router.get(
    f"{IMPORTS_PATH}/{{job_id}}/rejections", response_model=Page[RejectionPublic], responses=problem_responses(401, 404)
)
def list_record_rejections(
    job_id: str,
    session: SessionDep,
    principal: StaffOrInternal,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[RejectionPublic]:
    """Every row of the import that could not be used, with row, field and reason."""
    items, total = service.list_rejections(session, service.get_import(session, principal, job_id), page)
    return Page(items=items, total=total)
