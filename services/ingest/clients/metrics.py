"""Typed client for the metrics calls ingest makes."""

from urllib.parse import quote

from services.common.contracts import BatchResult, ObservationBatch
from services.common.errors import UpstreamError
from services.common.http import ServiceClient


class MetricsClient(ServiceClient):
    service = "metrics"

    async def apply_batch(self, batch: ObservationBatch) -> BatchResult:
        response = await self._request("POST", "/observations/batch", json=batch.model_dump(mode="json"))
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service refused a delivery ({response.status_code}).")
        return BatchResult.model_validate(response.json())

    async def department_exists(self, code: str) -> bool:
        response = await self._request("GET", f"/departments/{quote(code, safe='')}")
        if response.status_code not in (200, 404):
            raise UpstreamError(f"The metrics service answered {response.status_code} for a department.")
        return response.status_code == 200
