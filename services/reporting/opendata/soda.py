"""SODA, Socrata's Open Data API, over the public datasets metrics owns: `/resource/{id}.json` and `.csv`,
`/api/views/{id}.json` (a view's metadata) and the Discovery API's `/api/catalog/v1`. The runner hands these
root paths to reporting, so Socrata clients (sodapy, RSocrata, Socrata's own JavaScript) work unchanged.

Reporting is the public face only: it reads SoQL into a query tree (soql.py) checked against the dataset's
columns, and metrics runs the tree over the dataset's public rows. Every answer here is the same whoever asks
(metrics is asked with the internal token alone, never with a caller's session), which is what makes
`Cache-Control: public`, an ETag and `Access-Control-Allow-Origin: *` safe; credentials are never allowed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.caching import etag_matches, etag_of
from services.common.errors import CityStatError, NotFound, TooManyRequests, problem_responses
from services.common.limits import public_wait
from services.reporting.clients.metrics import MetricsClient, OpenDataset
from services.reporting.opendata.formats import CATALOG_TYPES, SODA_TYPES, VIEW_TYPES, csv_rows, json_rows
from services.reporting.opendata.soql import parse_soql

# Socrata's "4x4": four characters, a dash, four more, from an alphabet without look-alikes (0/o, 1/l).
DATASET_ID = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}")
JSON_MEDIA = "application/json; charset=utf-8"
CSV_MEDIA = "text/csv; charset=utf-8"
CACHE_CONTROL = "public, max-age=60"
CORS = {
    "Access-Control-Allow-Origin": "*",
    # Browsers hide all but a few headers from scripts unless told; SODA clients read these.
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Retry-After, X-SODA2-Fields, X-SODA2-Types",
}
DATASET_MEMORY_SECONDS = 30.0
CATALOG_DEFAULT_LIMIT = 100
CATALOG_MAX_LIMIT = 10_000
# Relevance is name order: every match counts the same here. CityStat keeps no creation time apart from updates.
CATALOG_ORDERS = {"relevance": "name", "name": "name", "updatedat": "updated", "createdat": "updated"}
ORDER_PATTERN = r"^(relevance|name|updatedAt|createdAt)( (ASC|DESC|asc|desc))?$"


class _PublicRoute(APIRoute):
    """A public GET: CORS for any origin on every answer, errors and 429s included, so that a page on another
    site can read why it was refused. Never `Allow-Credentials`: nothing here depends on who is asking."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def public_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except CityStatError as error:
                error.headers = {**(error.headers or {}), **CORS}
                raise
            response.headers.update(CORS)
            return response

        return public_handler


router = APIRouter(tags=["open data"], route_class=_PublicRoute)

OPEN_DATA_PATHS = (
    "/resource/",
    "/api/views/",
    "/api/catalog/",
    "/data.json",
    "/datapackage.json",
    "/api/3/action/",
    "/api/action/",
)


def _route_path(scope: Scope) -> str:
    # The path below the app's mount: /resource/... whether it came in at the root or under /api/reporting.
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class OpenDataPreflight:
    """Answers browsers' CORS preflight for the open-data GETs. A page that sends Socrata's `X-App-Token` header
    (soda-js does) is asked first with OPTIONS; without this answer the browser never sends the GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS" and _route_path(scope).startswith(OPEN_DATA_PATHS):
            headers = {name.lower() for name, _ in scope.get("headers", ())}
            if b"access-control-request-method" in headers:
                preflight = {
                    **CORS,
                    "Access-Control-Allow-Methods": "GET, OPTIONS",
                    "Access-Control-Allow-Headers": "Accept, If-None-Match, X-App-Token",
                    "Access-Control-Max-Age": "86400",
                }
                await Response(status_code=204, headers=preflight)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def public_caller(request: Request) -> None:
    """Anyone may read; one address may not read without pause (per process, like the ingest limit)."""
    retry_after = public_wait(request)
    if retry_after is not None:
        message = "Too many requests from this address; slow down and retry."
        raise TooManyRequests(
            message,
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
            extra={"code": "too_many_requests", "error": True, "message": message},
        )


def open_metrics(request: Request) -> MetricsClient:
    # Anonymous on purpose: the caller's cookie is not passed on (see the module's docstring).
    return MetricsClient(request.app.state.metrics_http)


PublicCaller = Annotated[None, Depends(public_caller)]
OpenMetrics = Annotated[MetricsClient, Depends(open_metrics)]


# --- service --------------------------------------------------------------------------------------------------------


def _not_found(dataset_id: str) -> NotFound:
    shown = dataset_id if len(dataset_id) <= 40 else dataset_id[:40] + "..."
    message = f"No public dataset {shown}."
    return NotFound(message, extra={"code": "not_found", "error": True, "message": message})


async def find_dataset(metrics: MetricsClient, dataset_id: str) -> OpenDataset:
    if not DATASET_ID.fullmatch(dataset_id):
        raise _not_found(dataset_id)
    try:
        return await metrics.open_dataset(dataset_id)
    except NotFound:
        raise _not_found(dataset_id) from None


class DatasetMemory:
    """What a query needs to know of a dataset before it runs (its columns, its change time), remembered for a short
    while: fetching it costs metrics a count and a scan of the change times, as much as a query over a big dataset.
    Publication is not what is remembered: metrics checks it on every query, so a withdrawn dataset is a 404 at once;
    the change time in Last-Modified may lag by as long as the memory lasts, as a cached answer does."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._known: dict[str, tuple[float, OpenDataset]] = {}

    async def get(self, metrics: MetricsClient, dataset_id: str) -> OpenDataset:
        now = time.monotonic()
        known = self._known.get(dataset_id)
        if known is not None and known[0] > now:
            return known[1]
        dataset = await find_dataset(metrics, dataset_id)
        if len(self._known) >= 1_000:  # only published ids get here, but keep the memory bounded all the same
            self._known.clear()
        self._known[dataset_id] = (now + self.seconds, dataset)
        return dataset


def dataset_memory(request: Request) -> DatasetMemory:
    state = request.app.state
    memory = getattr(state, "open_dataset_memory", None)
    if memory is None:
        memory = state.open_dataset_memory = DatasetMemory(DATASET_MEMORY_SECONDS)
    return memory


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(_utc(moment).replace(microsecond=0), usegmt=True)


def _iso(moment: dt.datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{_utc(moment).microsecond // 1000:03d}Z"


def cached(
    request: Request, body: bytes, media_type: str, headers: dict[str, str], tagged: bytes | None = None
) -> Response:
    """The answer with an ETag made from its bytes (or from `tagged`, what of them matters); a 304 without them
    when the client already has it."""
    source = body if tagged is None else tagged
    etag = etag_of(media_type, source)
    headers = {**headers, "ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def resource(request: Request, metrics: MetricsClient, dataset_id: str, form: str) -> Response:
    if not DATASET_ID.fullmatch(dataset_id):
        raise _not_found(dataset_id)
    dataset = await dataset_memory(request).get(metrics, dataset_id)
    columns = {column.field_name: column.datatype for column in dataset.columns}
    query = parse_soql(request.query_params, columns=columns)
    try:
        result = await metrics.query_open_dataset(dataset.id, query)
    except NotFound:
        raise _not_found(dataset_id) from None
    names = [column.name for column in result.columns]
    types = [column.datatype for column in result.columns]
    write, media = (csv_rows, CSV_MEDIA) if form == "csv" else (json_rows, JSON_MEDIA)
    headers = {
        "X-SODA2-Fields": json.dumps(names),
        "X-SODA2-Types": json.dumps([SODA_TYPES.get(kind, kind) for kind in types]),
        "Last-Modified": http_date(dataset.updated_at),
    }
    return cached(request, write(names, types, result.rows), media, headers)


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def view_of(dataset: OpenDataset, domain: str) -> dict[str, Any]:
    """A dataset as Socrata's `/api/views/{id}.json` describes one (what sodapy's get_metadata returns)."""
    updated = int(_utc(dataset.updated_at).timestamp())
    return {
        "id": dataset.id,
        "name": dataset.name,
        "assetType": "dataset",
        "attribution": dataset.publisher,
        "category": dataset.category,
        "description": dataset.description,
        "displayType": "table",
        "viewType": "tabular",
        "provenance": "official",
        "publicationStage": "published",
        "publicationDate": updated,
        "rowsUpdatedAt": updated,
        "viewLastModified": updated,
        "indexUpdatedAt": updated,
        "license": {"name": dataset.license},
        "domainCName": domain,
        "rights": ["read"],
        "tags": [],
        "owner": {"id": "citystat", "displayName": dataset.publisher},
        "columns": [
            {
                "id": position,
                "name": column.name,
                "fieldName": column.field_name,
                "dataTypeName": VIEW_TYPES.get(column.datatype, column.datatype),
                "renderTypeName": VIEW_TYPES.get(column.datatype, column.datatype),
                "position": position,
                "description": column.description,
                "format": {},
            }
            for position, column in enumerate(dataset.columns, start=1)
        ],
        "metadata": {"custom_fields": {"CityStat": {"key": dataset.key, "rowCount": str(dataset.row_count)}}},
    }


def catalog_entry(dataset: OpenDataset, base: str, domain: str) -> dict[str, Any]:
    """One result of the Discovery API."""
    updated = _iso(dataset.updated_at)
    owner = {"id": "citystat", "user_type": "organization", "display_name": dataset.publisher}
    return {
        "resource": {
            "name": dataset.name,
            "id": dataset.id,
            "parent_fxf": [],
            "description": dataset.description,
            "attribution": dataset.publisher,
            "attribution_link": None,
            "contact_email": None,
            "type": "dataset",
            "updatedAt": updated,
            "createdAt": updated,
            "metadata_updated_at": updated,
            "data_updated_at": updated,
            "publication_date": updated,
            "columns_name": [column.name for column in dataset.columns],
            "columns_field_name": [column.field_name for column in dataset.columns],
            "columns_datatype": [CATALOG_TYPES.get(c.datatype, c.datatype) for c in dataset.columns],
            "columns_description": [column.description for column in dataset.columns],
            "columns_format": [{} for _ in dataset.columns],
            "provenance": "official",
            "lens_view_type": "tabular",
            "lens_display_type": "table",
            "blob_mime_type": None,
            "hide_from_data_json": False,
        },
        "classification": {
            "categories": [],
            "tags": [],
            "domain_category": dataset.category,
            "domain_tags": [],
            "domain_metadata": [],
        },
        "metadata": {"domain": domain, "license": dataset.license},
        # CityStat has no per-dataset landing page: the permalink is the dataset's metadata, the link its rows.
        "permalink": f"{base}/api/views/{dataset.id}.json",
        "link": f"{base}/resource/{dataset.id}.json",
        "owner": owner,
        "creator": owner,
    }


def _searchable(dataset: OpenDataset) -> str:
    parts = [dataset.name, dataset.description, dataset.category, dataset.key]
    for column in dataset.columns:
        parts.extend((column.name, column.field_name, column.description))
    return " ".join(parts).lower()


def _order_key(order: str | None) -> tuple[str, bool]:
    """(field, descending) from an `order` that ORDER_PATTERN let through."""
    words = (order or "relevance").split()
    return CATALOG_ORDERS[words[0].lower()], len(words) == 2 and words[1].lower() == "desc"


def select_datasets(
    datasets: list[OpenDataset],
    *,
    q: str | None,
    categories: list[str],
    ids: list[str],
    only: list[str],
    tags: list[str],
    order: str | None,
) -> list[OpenDataset]:
    """The Discovery API's filters over CityStat's one domain: every word of `q` somewhere in the dataset's
    text, any of the categories, any of the ids; tags match nothing (CityStat datasets have none)."""
    field, descending = _order_key(order)
    wanted_categories = {category.strip().lower() for category in categories}
    words = (q or "").lower().split()
    chosen = []
    for dataset in datasets:
        if only and not {kind.lower() for kind in only} & {"dataset", "datasets"}:
            continue
        if tags:
            continue
        if ids and dataset.id not in ids:
            continue
        if wanted_categories and dataset.category.lower() not in wanted_categories:
            continue
        if words and not all(word in _searchable(dataset) for word in words):
            continue
        chosen.append(dataset)
    if field == "updated":
        chosen.sort(key=lambda d: (_utc(d.updated_at), d.name.lower(), d.id), reverse=descending)
    else:
        chosen.sort(key=lambda d: (d.name.lower(), d.id), reverse=descending)
    return chosen


# --- routes ---------------------------------------------------------------------------------------------------------

_ROWS_DOC = (
    "SoQL parameters, read from the query string: `$select` (aliases; count, sum, avg, min, max), `$where`, "
    "`$order`, `$group`, `$having`, `$q`, `$limit` (default 1,000, at most 50,000), `$offset`, and `column=value` "
    "filters. Errors are problem+json with Socrata's `code` and `message`."
)
_ERRORS = problem_responses(404, 429)
_NOT_MODIFIED = {304: {"description": "Not modified: the `If-None-Match` ETag is current"}}
_JSON_ROWS = {
    200: {
        "description": "Rows as JSON objects keyed by field name (numbers as strings, nulls left out)",
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
    }
}
_CSV_ROWS = {
    200: {
        "description": "Rows as CSV with a header row of field names",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
_OBJECT = {200: {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get(
    "/resource/{dataset_id}.json",
    response_class=Response,
    responses={**_JSON_ROWS, **_NOT_MODIFIED, **_ERRORS},
    summary="Rows of a public dataset as JSON (SODA)",
    description=_ROWS_DOC,
)
async def resource_json(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    return await resource(request, metrics, dataset_id, "json")


@router.get(
    "/resource/{dataset_id}.csv",
    response_class=Response,
    responses={**_CSV_ROWS, **_NOT_MODIFIED, **_ERRORS},
    summary="Rows of a public dataset as CSV (SODA)",
    description=_ROWS_DOC,
)
async def resource_csv(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    return await resource(request, metrics, dataset_id, "csv")


@router.get(
    "/resource/{dataset_id}",
    response_class=Response,
    responses={**_JSON_ROWS, **_NOT_MODIFIED, **_ERRORS},
    summary="Rows of a public dataset as JSON (SODA, no extension)",
    description=_ROWS_DOC,
)
async def resource_plain(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    return await resource(request, metrics, dataset_id, "json")


@router.get(
    "/api/views/{dataset_id}.json",
    response_class=Response,
    responses={**_OBJECT, **_NOT_MODIFIED, **_ERRORS},
    summary="A public dataset's metadata, as Socrata's views API gives it",
)
async def view_metadata(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    dataset = await find_dataset(metrics, dataset_id)
    body = json.dumps(view_of(dataset, request.url.netloc), ensure_ascii=False).encode()
    return cached(request, body, JSON_MEDIA, {"Last-Modified": http_date(dataset.updated_at)})


@router.get(
    "/api/catalog/v1",
    response_class=Response,
    responses={**_OBJECT, **_NOT_MODIFIED, **problem_responses(429)},
    summary="The catalogue of public datasets, as Socrata's Discovery API lists it",
)
async def catalog(
    request: Request,
    metrics: OpenMetrics,
    _: PublicCaller,
    q: Annotated[str | None, Query(max_length=1000)] = None,
    categories: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006 - FastAPI copies defaults
    ids: Annotated[list[str], Query(max_length=1000)] = [],  # noqa: B006
    only: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
    tags: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
    # Accepted for sodapy's `datasets()`, which always names its domain; this catalogue is one domain's.
    domains: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
    order: Annotated[str | None, Query(pattern=ORDER_PATTERN)] = None,
    limit: Annotated[int, Query(ge=0, le=2**31 - 1)] = CATALOG_DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    started = time.perf_counter()
    datasets = await metrics.open_datasets()
    chosen = select_datasets(datasets, q=q, categories=categories, ids=ids, only=only, tags=tags, order=order)
    # Lists clamp a limit above their maximum rather than refuse it (DESIGN.md).
    page = chosen[offset : offset + min(limit, CATALOG_MAX_LIMIT)]
    base = _base_url(request)
    millis = round((time.perf_counter() - started) * 1000)
    body = {
        "results": [catalog_entry(dataset, base, request.url.netloc) for dataset in page],
        "resultSetSize": len(chosen),
        "timings": {"serviceMillis": millis, "searchMillis": [millis]},
        "warnings": [],
    }
    headers = {}
    if datasets:
        headers["Last-Modified"] = http_date(max(_utc(dataset.updated_at) for dataset in datasets))
    # Timings change on every call; the ETag is made without them so an unchanged catalogue still answers 304.
    same_catalogue = json.dumps({**body, "timings": None}, ensure_ascii=False).encode()
    return cached(request, json.dumps(body, ensure_ascii=False).encode(), JSON_MEDIA, headers, same_catalogue)
