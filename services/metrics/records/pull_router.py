"""Pull connectors over the API: pull a profile's source now, and read its pulls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import col, select

from services.common.auth import Principal
from services.common.db import Database
from services.common.errors import Forbidden, problem_responses
from services.common.pagination import PageParams, page_params
from services.metrics.deps import SessionDep, SettingsDep, StaffPrincipal
from services.metrics.records import service
from services.metrics.records.models import MappingProfile, RecordImport
from services.metrics.records.pull import Puller, host_allowed, next_pull_at, pull_actor
from services.metrics.records.schemas import PROFILE_NAME_PATTERN, RecordImportPublic

router = APIRouter(tags=["raw records"])

ProfileName = Annotated[str, Path(pattern=PROFILE_NAME_PATTERN)]


class PullHistory(BaseModel):
    """A profile's source, where its pulls have got to, and its pull jobs, newest first."""

    profile: str
    # The profile's source_connector as defined, or None when it has none (every built-in profile).
    source: dict[str, Any] | None
    # Whether the source's host is in the pull_allowed_hosts setting (a pull of a refused host is a 422).
    host_allowed: bool
    last_pulled_at: dt.datetime | None
    # The latest change time the pulls have seen, sent back as the source's since parameter next time.
    cursor: str | None
    # When the scheduler will pull next: the last pull (or failed try) plus every_minutes; None when never pulled
    # (it is due now) or when it has no source.
    next_pull_at: dt.datetime | None
    items: list[RecordImportPublic]
    total: int


@router.post(
    "/mapping-profiles/{name}/pull",
    response_model=RecordImportPublic,
    responses=problem_responses(401, 403, 404, 422),
)
async def pull_profile(
    request: Request,
    name: ProfileName,
    principal: StaffPrincipal,
    full: Annotated[
        bool, Query(description="Ignore where the last pull got to and fetch everything the source has")
    ] = False,
) -> RecordImportPublic:
    """Pull the profile's source now (performance office): what changed since the last pull is fetched and loaded
    as an upload is. Answers the import job once it has ended; a source that failed gives a failed job with the
    reason, and the next pull asks again from the same point."""
    if not principal.is_performance_office:
        raise Forbidden("Only the performance office may pull a feed.")
    puller: Puller = request.app.state.puller
    job = await puller.pull(name, full=full, principal=principal)
    return await run_in_threadpool(_public, request.app.state.db, job.id)


def _public(db: Database, job_id: str) -> RecordImportPublic:
    with db.session(write=False) as session:
        return service.import_public(session, session.get(RecordImport, job_id))


def _visible(query, principal: Principal):  # noqa: ANN001, ANN202 - a select, narrowed as get_import narrows one job
    if principal.is_performance_office:
        return query
    readable = principal.readable_departments()
    if readable is None:
        return query.where(col(RecordImport.department).is_not(None))
    return query.where(col(RecordImport.department).in_(sorted(readable)))


@router.get("/mapping-profiles/{name}/pulls", response_model=PullHistory, responses=problem_responses(401, 404))
def list_pulls(
    name: ProfileName,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffPrincipal,
    page: Annotated[PageParams, Depends(page_params)],
) -> PullHistory:
    """The profile's pulls, newest first, with where they have got to. Staff see the pulls of the departments they
    may read; pulls of a profile with no fixed department are the performance office's."""
    definition = service.get_profile(session, name)
    connector = definition.source_connector
    row = session.get(MappingProfile, name)
    jobs = _visible(select(RecordImport).where(RecordImport.actor == pull_actor(name)), principal)
    total = session.exec(select(func.count()).select_from(jobs.subquery())).one()
    items = session.exec(
        jobs.order_by(col(RecordImport.created_at).desc(), col(RecordImport.id).desc())
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    allowed = connector is not None and host_allowed(urlsplit(connector.url).hostname, settings.pull_allowed_hosts)
    return PullHistory(
        profile=name,
        source=None if connector is None else connector.model_dump(mode="json"),
        host_allowed=allowed,
        last_pulled_at=row.last_pulled_at if row else None,
        cursor=row.pull_cursor if row else None,
        next_pull_at=None if connector is None else next_pull_at(session, name, connector),
        items=[service.import_public(session, job) for job in items],
        total=total,
    )
