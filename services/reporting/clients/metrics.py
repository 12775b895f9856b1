"""Typed client for the metrics reads reporting makes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from services.common.errors import NotFound, UpstreamError
from services.common.http import ServiceClient

PAGE = 500


class Status(StrEnum):
    on_target = "on_target"
    near = "near"
    off_target = "off_target"
    no_target = "no_target"
    missing = "missing"


class Department(BaseModel):
    code: str
    name: str


class Performance(BaseModel):
    metric: str
    department: str
    name: str
    unit: str
    kind: str
    direction: str
    frequency: str
    period: str
    value: float | None
    target: float | None
    tolerance: float | None
    status: Status
    previous_period: str
    previous_value: float | None
    change: float | None


class MetricsClient(ServiceClient):
    service = "metrics"

    async def _json(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._request("GET", url, params=params)
        if response.status_code == 404:
            raise NotFound(response.json().get("detail") or "Not found in metrics.")
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service answered {response.status_code} for {url}.")
        return response.json()

    async def _all_pages(self, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = await self._json(url, {**params, "limit": PAGE, "offset": len(items)})
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items

    async def department(self, code: str) -> Department:
        return Department.model_validate(await self._json(f"/departments/{quote(code, safe='')}"))

    async def departments(self) -> list[Department]:
        return [Department.model_validate(d) for d in await self._all_pages("/departments", {})]

    async def performance(self, period: str | None, department: str | None = None) -> list[Performance]:
        params = {k: v for k, v in (("period", period), ("department", department)) if v is not None}
        return [Performance.model_validate(p) for p in await self._all_pages("/performance", params)]
