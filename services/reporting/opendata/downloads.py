"""Whole-dataset downloads, as Socrata's export gives them: `/api/views/{id}/rows.csv` and `/rows.json`
(`?accessType=DOWNLOAD` and any other parameter are accepted and ignored). The DCAT catalogue (dcat.py) and the
Frictionless descriptors (datapackage.py) point their download URLs here.

A dataset can be larger than one query may answer (50,000 rows), so the rows are fetched page by page from metrics
and streamed as they come: memory stays one page whatever the dataset's size. Pages are ordered by every column
(metrics breaks remaining ties by the dataset's key fields), so consecutive pages neither overlap nor skip a row.
The rows and their writing are those of `/resource/{id}.csv|.json` (formats.py), so a download reads the same.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from services.common.errors import problem_responses
from services.common.query_tree import MAX_LIMIT, MAX_ORDER, Column, OrderItem, Query
from services.reporting.clients.metrics import MetricsClient, OpenDataset, QueryResult
from services.reporting.opendata.formats import SODA_TYPES, csv_rows, json_rows
from services.reporting.opendata.soda import (
    CSV_MEDIA,
    JSON_MEDIA,
    OpenMetrics,
    PublicCaller,
    _PublicRoute,
    cached,
    find_dataset,
    http_date,
)

router = APIRouter(tags=["open data"], route_class=_PublicRoute)

PAGE_ROWS = MAX_LIMIT


def base_url(request: Request) -> str:
    """The site's address as the client reached it, for the absolute URLs descriptors must carry."""
    return f"{request.url.scheme}://{request.url.netloc}"


def download_url(base: str, dataset_id: str, form: str) -> str:
    return f"{base}/api/views/{dataset_id}/rows.{form}?accessType=DOWNLOAD"


def page_query(dataset: OpenDataset, offset: int) -> Query:
    order = tuple(
        OrderItem(expr=Column(name=column.field_name), direction="asc", nulls="last")
        for column in dataset.columns[:MAX_ORDER]
    )
    return Query(order=order, limit=PAGE_ROWS, offset=offset)


async def _pages(metrics: MetricsClient, dataset: OpenDataset, first: QueryResult) -> AsyncIterator[QueryResult]:
    page, offset = first, 0
    while True:
        yield page
        if len(page.rows) < PAGE_ROWS:
            return
        offset += len(page.rows)
        page = await metrics.query_open_dataset(dataset.id, page_query(dataset, offset))


async def _csv(metrics: MetricsClient, dataset: OpenDataset, first: QueryResult) -> AsyncIterator[bytes]:
    names = [column.field_name for column in dataset.columns]
    types = [column.datatype for column in dataset.columns]
    yield csv_rows(names, types, [])
    async for page in _pages(metrics, dataset, first):
        if page.rows:
            # The writer always starts with the header; field names hold no line breaks, so it is the first line.
            yield csv_rows(names, types, page.rows).split(b"\r\n", 1)[1]


async def _json(metrics: MetricsClient, dataset: OpenDataset, first: QueryResult) -> AsyncIterator[bytes]:
    names = [column.field_name for column in dataset.columns]
    types = [column.datatype for column in dataset.columns]
    yield b"["
    written = False
    async for page in _pages(metrics, dataset, first):
        if page.rows:
            if written:
                yield b","
            yield json_rows(names, types, page.rows)[1:-1]
            written = True
    yield b"]"


async def download(request: Request, metrics: MetricsClient, dataset_id: str, form: str) -> Response:
    dataset = await find_dataset(metrics, dataset_id)
    # The first page is read before answering: an error from metrics is then a proper status, not a cut-off body.
    first = await metrics.query_open_dataset(dataset.id, page_query(dataset, 0))
    media = CSV_MEDIA if form == "csv" else JSON_MEDIA
    headers = {
        "X-SODA2-Fields": json.dumps([column.field_name for column in dataset.columns]),
        "X-SODA2-Types": json.dumps([SODA_TYPES.get(c.datatype, c.datatype) for c in dataset.columns]),
        "Last-Modified": http_date(dataset.updated_at),
        "Content-Disposition": f'attachment; filename="{dataset.id}.{form}"',
    }
    # The body is not known before it is sent, so the tag is made from what describes it: the dataset as metrics
    # gives it (its columns, row count and change time) and the first page. Weak: it vouches for the content,
    # not for the bytes.
    described = dataset.model_dump_json().encode() + b"\0" + first.model_dump_json().encode()
    answer = cached(request, b"", media, headers, tagged=described)
    etag = "W/" + answer.headers["ETag"]
    answer.headers["ETag"] = etag
    if answer.status_code == 304:
        return answer
    writer = _csv if form == "csv" else _json
    return StreamingResponse(
        writer(metrics, dataset, first),
        media_type=media,
        headers={**headers, "ETag": etag, "Cache-Control": answer.headers["Cache-Control"]},
    )


_ERRORS = problem_responses(404, 429)
_NOT_MODIFIED = {304: {"description": "Not modified: the `If-None-Match` ETag is current"}}
_DOC = (
    "Every row of a public dataset, streamed (Socrata's export). Query parameters such as `accessType=DOWNLOAD` "
    "are accepted and ignored: a download is always the whole dataset."
)


@router.get(
    "/api/views/{dataset_id}/rows.csv",
    response_class=Response,
    responses={
        200: {
            "description": "The whole dataset as CSV, a header row of field names first",
            "content": {"text/csv": {}},
        },
        **_NOT_MODIFIED,
        **_ERRORS,
    },
    summary="Download a whole public dataset as CSV",
    description=_DOC,
)
async def rows_csv(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    return await download(request, metrics, dataset_id, "csv")


@router.get(
    "/api/views/{dataset_id}/rows.json",
    response_class=Response,
    responses={
        200: {
            "description": "The whole dataset as a JSON array of rows keyed by field name, as `/resource/{id}.json`",
            "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
        },
        **_NOT_MODIFIED,
        **_ERRORS,
    },
    summary="Download a whole public dataset as JSON",
    description=_DOC,
)
async def rows_json(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    return await download(request, metrics, dataset_id, "json")
