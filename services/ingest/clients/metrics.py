"""Typed client for the metrics calls ingest makes."""

from urllib.parse import quote

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

from services.common.contracts import BatchResult, BatchResultGroup, ObservationBatch, ObservationBatchGroup
from services.common.errors import UpstreamError, UpstreamUnavailable
from services.common.http import ServiceClient


class MetricsClient(ServiceClient):
    service = "metrics"

    async def apply_batch(self, batch: ObservationBatch, *, attempts: int = 1) -> BatchResult:
        """Deliver one submission's rows. Retrying is safe: metrics keys the upsert on the delivery id."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=3.0) + wait_random(0, 0.2),
            retry=retry_if_exception_type(UpstreamUnavailable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await self._request("POST", "/observations/batch", json=batch.model_dump(mode="json"))
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service refused a delivery ({response.status_code}).")
        return BatchResult.model_validate(response.json())

    async def apply_batches(self, batches: list[ObservationBatch]) -> list[BatchResult]:
        """Several submissions in one call and one transaction (group commit), applied in order."""
        group = ObservationBatchGroup(batches=batches)
        response = await self._request("POST", "/observations/batches", json=group.model_dump(mode="json"))
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service refused a group of deliveries ({response.status_code}).")
        results = BatchResultGroup.model_validate(response.json()).results
        if len(results) != len(batches):
            raise UpstreamError("The metrics service answered a group of deliveries with the wrong number of results.")
        return results

    async def department_exists(self, code: str) -> bool:
        response = await self._request("GET", f"/departments/{quote(code, safe='')}")
        if response.status_code not in (200, 404):
            raise UpstreamError(f"The metrics service answered {response.status_code} for a department.")
        return response.status_code == 200

    async def is_healthy(self, timeout: float) -> bool:
        try:
            response = await self._request("GET", "/health", timeout=timeout)
        except UpstreamUnavailable:
            return False
        return response.status_code == 200
