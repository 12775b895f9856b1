"""A metric's series, target and status as JSON and CSV downloads.

A published metric's download is the same for everyone, so the anonymous answer is cacheable by anyone
(`Cache-Control: public`, an ETag, 304 on If-None-Match) and readable from any site (`Access-Control-Allow-Origin: *`,
never with credentials). A signed-in request is answered `private, no-store` without CORS, published metric or not:
what it may see depends on who signed in, and a shared cache must never hand a department's unpublished series on.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.common.caching import etag_matches, etag_of
from services.common.errors import TooManyRequests, problem_responses
from services.common.limits import public_wait
from services.common.params import MetricKeyPath
from services.common.periods import PeriodText
from services.metrics.deps import OptionalStaff, SessionDep
from services.metrics.series import service
from services.metrics.series.schemas import SeriesDownload

router = APIRouter(tags=["metrics"])

JSON_MEDIA = "application/json"
CSV_MEDIA = "text/csv; charset=utf-8"
PUBLIC_CACHE = "public, max-age=60"
PRIVATE_CACHE = "private, no-store"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag, Content-Disposition"}
_NOT_MODIFIED = {304: {"description": "Not modified: the `If-None-Match` ETag is current (public answers only)"}}
_CSV = {
    200: {
        "description": "A header row of the items' fields, then one row per period; an empty cell for null",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

StartQuery = Annotated[PeriodText | None, Query(description="First period, e.g. 2013-01")]
EndQuery = Annotated[PeriodText | None, Query(description="Last period, e.g. 2017-06")]


def _limited(request: Request, viewer: OptionalStaff) -> None:
    """The public's downloads share the open-data routes' limit per address; staff signed in are not counted."""
    if viewer is not None:
        return
    retry_after = public_wait(request)
    if retry_after is not None:
        raise TooManyRequests(
            "Too many requests from this address; slow down and retry.",
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )


PublicLimit = Annotated[None, Depends(_limited)]


def _answer(request: Request, body: bytes, media_type: str, public: bool, headers: dict[str, str]) -> Response:
    if not public:
        return Response(body, media_type=media_type, headers={**headers, "Cache-Control": PRIVATE_CACHE})
    etag = etag_of(media_type, body)
    # Vary: a signed-in request gets another answer (private, without CORS) from the same URL.
    headers = {**headers, **CORS, "ETag": etag, "Cache-Control": PUBLIC_CACHE, "Vary": "Cookie"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/metrics/{key}/series.json",
    response_model=SeriesDownload,
    responses={**_NOT_MODIFIED, **problem_responses(404, 429)},
    summary="The metric's series with target and status, as JSON",
)
def series_json(
    key: MetricKeyPath,
    request: Request,
    session: SessionDep,
    viewer: OptionalStaff,
    _limit: PublicLimit,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """One item per period of the metric's frequency (department level) from its first to its last value; a period
    between them without a value is `missing`. Visible exactly as GET /metrics/{key} is."""
    download, published = service.series_download(session, key, start, end, viewer)
    return _answer(request, service.to_json(download), JSON_MEDIA, published and viewer is None, {})


@router.get(
    "/metrics/{key}/series.csv",
    response_class=Response,
    responses={**_CSV, **_NOT_MODIFIED, **problem_responses(404, 429)},
    summary="The metric's series with target and status, as CSV",
)
def series_csv(
    key: MetricKeyPath,
    request: Request,
    session: SessionDep,
    viewer: OptionalStaff,
    _limit: PublicLimit,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """The items of series.json as CSV rows: numbers written as the JSON writes them, an empty cell for null."""
    download, published = service.series_download(session, key, start, end, viewer)
    disposition = {"Content-Disposition": f'attachment; filename="{key}-series.csv"'}
    return _answer(request, service.to_csv(download), CSV_MEDIA, published and viewer is None, disposition)
