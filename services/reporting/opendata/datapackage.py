"""Frictionless Data Package (v1) descriptors: `/api/views/{id}/datapackage.json` for one public dataset and
`/datapackage.json` for the whole catalogue. Each resource is a tabular data resource whose `path` is the dataset's
CSV download (downloads.py), with a Table Schema that reads that CSV exactly as it is written: `frictionless
validate URL` checks every row against it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request, Response

from services.common.errors import problem_responses
from services.reporting.clients.metrics import OpenDataset
from services.reporting.opendata.downloads import base_url, download_url
from services.reporting.opendata.soda import (
    JSON_MEDIA,
    OpenMetrics,
    PublicCaller,
    _PublicRoute,
    cached,
    find_dataset,
    http_date,
)

router = APIRouter(tags=["open data"], route_class=_PublicRoute)

# Floating timestamps as formats.soda_timestamp writes them ("2017-06-01T00:00:00.000"); Python's %f reads the
# three digits of milliseconds.
FLOATING_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
FIELD_TYPES = {"text": "string", "number": "number", "boolean": "boolean", "floating_timestamp": "datetime"}

# Licences by the names metrics gives them: an Open Definition id (what Data Package `licenses[].name` wants) and the
# licence's URL. A name not listed here is left out of descriptors rather than given an id that may be wrong.
LICENSES = {
    "Open Data Commons Public Domain Dedication and License (PDDL)": (
        "ODC-PDDL-1.0",
        "https://opendatacommons.org/licenses/pddl/1-0/",
    ),
}


def license_url(name: str) -> str | None:
    known = LICENSES.get(name)
    return known[1] if known else None


def descriptor_url(base: str, dataset_id: str) -> str:
    return f"{base}/api/views/{dataset_id}/datapackage.json"


def package_name(text: str) -> str:
    # Data Package names allow lowercase letters, digits, '-', '.', '/' and, in v1's pattern, no '_'.
    return "".join(char if char.isascii() and (char.isalnum() or char in "-.") else "-" for char in text.lower())


def primary_key(dataset: OpenDataset) -> list[str]:
    """Fields whose values identify a row and are never empty. A raw record is identified by its record id, a
    budget line by its line number; an observation by metric, period and org unit, but an empty org unit (the
    department as a whole) rules that out as a Table Schema key, whose fields must all have values."""
    fields = {column.field_name for column in dataset.columns}
    if dataset.key.startswith("records.") and "record_id" in fields:
        return ["record_id"]
    if dataset.key == "budget" and "line" in fields:
        return ["line"]
    return []


def licenses(dataset: OpenDataset) -> list[dict[str, str]]:
    known = LICENSES.get(dataset.license)
    if known is None:
        return []
    return [{"name": known[0], "path": known[1], "title": dataset.license}]


def table_schema(dataset: OpenDataset) -> dict[str, Any]:
    fields = []
    for column in dataset.columns:
        field: dict[str, Any] = {
            "name": column.field_name,
            "title": column.name,
            "type": FIELD_TYPES.get(column.datatype, "string"),
        }
        if column.description:
            field["description"] = column.description
        if column.datatype == "floating_timestamp":
            field["format"] = FLOATING_FORMAT
        elif column.datatype == "boolean":
            field["trueValues"], field["falseValues"] = ["true"], ["false"]
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    key = primary_key(dataset)
    if key:
        schema["primaryKey"] = key
    return schema


def resource(dataset: OpenDataset, base: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "profile": "tabular-data-resource",
        "name": package_name(dataset.key),
        "title": dataset.name,
        "path": download_url(base, dataset.id, "csv"),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": table_schema(dataset),
    }
    if dataset.description:
        described["description"] = dataset.description
    if licenses(dataset):
        described["licenses"] = licenses(dataset)
    return described


def dataset_package(dataset: OpenDataset, base: str) -> dict[str, Any]:
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": package_name(dataset.key),
        "id": descriptor_url(base, dataset.id),
        "title": dataset.name,
        "homepage": f"{base}/api/views/{dataset.id}.json",
        "keywords": keywords(dataset),
        "resources": [resource(dataset, base)],
    }
    if dataset.description:
        package["description"] = dataset.description
    if licenses(dataset):
        package["licenses"] = licenses(dataset)
    if dataset.publisher:
        package["contributors"] = [{"title": dataset.publisher, "role": "publisher"}]
    return package


def catalogue_package(datasets: list[OpenDataset], base: str, publisher: str) -> dict[str, Any]:
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": "citystat-open-data",
        "id": f"{base}/datapackage.json",
        "title": f"{publisher}: open data" if publisher else "Open data",
        "description": "Every public dataset of the catalogue, one resource each.",
        "homepage": f"{base}/api/catalog/v1",
        "resources": [resource(dataset, base) for dataset in datasets],
    }
    shared = {json.dumps(licenses(dataset)) for dataset in datasets}
    if len(shared) == 1 and licenses(datasets[0]):
        # One licence for all: said for the package too. Otherwise each resource says its own.
        package["licenses"] = licenses(datasets[0])
    if publisher:
        package["contributors"] = [{"title": publisher, "role": "publisher"}]
    return package


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def catalogue_headers(datasets: list[OpenDataset]) -> dict[str, str]:
    """Last-Modified of a whole catalogue: its most recently changed dataset."""
    return {"Last-Modified": http_date(max(utc(d.updated_at) for d in datasets))} if datasets else {}


def keywords(dataset: OpenDataset) -> list[str]:
    """Words to find the dataset by: its category and the words of its key ("records.service_requests" ->
    "records", "service requests")."""
    words = [dataset.category.strip().lower(), *(part.replace("_", " ") for part in dataset.key.split("."))]
    return list(dict.fromkeys(word for word in words if word))


# --- routes ---------------------------------------------------------------------------------------------------------

_DESCRIPTOR = {
    200: {
        "description": "A Data Package (v1) descriptor",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_NOT_MODIFIED = {304: {"description": "Not modified: the `If-None-Match` ETag is current"}}


@router.get(
    "/api/views/{dataset_id}/datapackage.json",
    response_class=Response,
    responses={**_DESCRIPTOR, **_NOT_MODIFIED, **problem_responses(404, 429)},
    summary="A public dataset as a Frictionless Data Package",
)
async def view_datapackage(dataset_id: str, request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    dataset = await find_dataset(metrics, dataset_id)
    body = json.dumps(dataset_package(dataset, base_url(request)), ensure_ascii=False).encode()
    return cached(request, body, JSON_MEDIA, {"Last-Modified": http_date(dataset.updated_at)})


@router.get(
    "/datapackage.json",
    response_class=Response,
    responses={**_DESCRIPTOR, **_NOT_MODIFIED, **problem_responses(429)},
    summary="The whole catalogue of public datasets as one Frictionless Data Package",
)
async def catalogue_datapackage(request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    datasets = await metrics.open_datasets()
    publisher = request.app.state.settings.open_data_publisher
    body = json.dumps(catalogue_package(datasets, base_url(request), publisher), ensure_ascii=False).encode()
    return cached(request, body, JSON_MEDIA, catalogue_headers(datasets))
