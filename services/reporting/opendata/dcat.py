"""`/data.json`: the catalogue of public datasets as DCAT-US 1.1 (Project Open Data) describes one, which data.gov
and other harvesters read. One dataset per public dataset, with its CSV and JSON downloads (downloads.py), the SODA
API as an access point, and its Frictionless descriptor (datapackage.py) as its data dictionary.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from services.common.errors import problem_responses
from services.common.settings import Settings
from services.reporting.clients.metrics import OpenDataset
from services.reporting.opendata.datapackage import catalogue_headers, descriptor_url, keywords, license_url, utc
from services.reporting.opendata.downloads import base_url, download_url
from services.reporting.opendata.soda import JSON_MEDIA, OpenMetrics, PublicCaller, _PublicRoute, cached

router = APIRouter(tags=["open data"], route_class=_PublicRoute)

SCHEMA_VERSION = "https://project-open-data.cio.gov/v1.1/schema"
CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
CATALOG_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"


def dcat_dataset(dataset: OpenDataset, base: str, settings: Settings) -> dict[str, Any]:
    city = {"@type": "org:Organization", "name": settings.open_data_publisher}
    publisher = city
    if dataset.publisher and dataset.publisher != settings.open_data_publisher:
        publisher = {"@type": "org:Organization", "name": dataset.publisher, "subOrganizationOf": city}
    dictionary = descriptor_url(base, dataset.id)
    described_by = {"describedBy": dictionary, "describedByType": "application/json"}
    return {
        "@type": "dcat:Dataset",
        "title": dataset.name,
        # DCAT-US requires a description; a dataset without one is described by its name.
        "description": dataset.description or dataset.name,
        "keyword": keywords(dataset) or ["open data"],
        "modified": utc(dataset.updated_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publisher": publisher,
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": settings.open_data_contact_name,
            "hasEmail": f"mailto:{settings.open_data_contact_email}",
        },
        "identifier": f"{base}/api/views/{dataset.id}",
        "accessLevel": "public",
        "license": license_url(dataset.license),
        "landingPage": f"{base}/api/views/{dataset.id}.json",
        "theme": [dataset.category] if dataset.category else None,
        "describedBy": dictionary,
        "describedByType": "application/json",
        "distribution": [
            {
                "@type": "dcat:Distribution",
                "title": "CSV",
                "description": "Every row, with a header row of field names.",
                "downloadURL": download_url(base, dataset.id, "csv"),
                "mediaType": "text/csv",
                "format": "CSV",
                **described_by,
            },
            {
                "@type": "dcat:Distribution",
                "title": "JSON",
                "description": "Every row, as an array of objects keyed by field name.",
                "downloadURL": download_url(base, dataset.id, "json"),
                "mediaType": "application/json",
                "format": "JSON",
                **described_by,
            },
            {
                "@type": "dcat:Distribution",
                "title": "SODA API",
                "description": "Socrata's Open Data API: filter, sort and aggregate the rows with SoQL.",
                "accessURL": f"{base}/resource/{dataset.id}.json",
                "format": "API",
                "conformsTo": "https://dev.socrata.com/docs/endpoints.html",
            },
        ],
    }


def catalog(datasets: list[OpenDataset], base: str, settings: Settings) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@id": f"{base}/data.json",
        "@type": "dcat:Catalog",
        "conformsTo": SCHEMA_VERSION,
        "describedBy": CATALOG_SCHEMA,
        "dataset": [dcat_dataset(dataset, base, settings) for dataset in datasets],
    }


@router.get(
    "/data.json",
    response_class=Response,
    responses={
        200: {"description": "A DCAT-US 1.1 catalog", "content": {"application/json": {"schema": {"type": "object"}}}},
        304: {"description": "Not modified: the `If-None-Match` ETag is current"},
        **problem_responses(429),
    },
    summary="The catalogue of public datasets as DCAT-US 1.1 (Project Open Data data.json)",
)
async def data_json(request: Request, metrics: OpenMetrics, _: PublicCaller) -> Response:
    datasets = await metrics.open_datasets()
    body = json.dumps(catalog(datasets, base_url(request), request.app.state.settings), ensure_ascii=False).encode()
    return cached(request, body, JSON_MEDIA, catalogue_headers(datasets))
