"""Typed client for the metrics calls ingest makes."""

from collections.abc import AsyncIterable
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

from services.common.auth import SESSION_COOKIE
from services.common.contracts import BatchResult, BatchResultGroup, ObservationBatch, ObservationBatchGroup
from services.common.errors import UpstreamError, UpstreamUnavailable
from services.common.http import ServiceClient
from services.ingest.clients.metrics_reads import DepartmentRef, DepartmentSchedule, MetricStanding
from services.ingest.records.schemas import RecordImportResult, RejectionPage

# Answers that say nothing about the file itself: a misconfigured token, a job already running, a busy service.
# The hand-off keeps the job and tries again later, as it does while metrics is down.
_TRY_LATER = frozenset({401, 403, 408, 409, 423, 425, 429})
# The API's hard maximum page size.
_PAGE = 500


class MetricsRefusal(UpstreamError):
    """Metrics answered with a 4xx problem about the request itself: sending the same again will not help."""

    def __init__(self, status: int, detail: str, errors: list | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.status = status


def _refusal(response: httpx.Response, what: str) -> MetricsRefusal:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    errors = problem.get("errors") if isinstance(problem.get("errors"), list) else None
    fallback = f"The metrics service refused {what} ({response.status_code})."
    return MetricsRefusal(response.status_code, detail or fallback, errors)


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

    async def load_records(
        self,
        job_id: str,
        body: AsyncIterable[bytes],
        *,
        bytes_total: int,
        dataset: str,
        mapping: str,
        department: str | None,
        create_departments: bool,
        actor: str,
        file_format: str | None = None,
    ) -> RecordImportResult:
        """Stream a spooled file to metrics and wait while it loads it; the answer is the import's summary.

        Sending a job id again is safe: metrics answers a finished job without loading it twice, and upserts
        records on their id, so a load cut off half-way and sent again doubles nothing."""
        params = {
            "id": job_id,
            "dataset": dataset,
            "mapping": mapping,
            "create_departments": str(create_departments).lower(),
            "actor": actor,
            "bytes_total": str(bytes_total),
        }
        if department is not None:
            params["department"] = department
        if file_format is not None:
            params["format"] = file_format
        configured = self.http.timeout
        # A million rows take minutes to load before metrics answers: no read timeout, the others as configured.
        timeout = httpx.Timeout(connect=configured.connect, read=None, write=configured.write, pool=configured.pool)
        response = await self._request(
            "POST",
            "/record-imports",
            params=params,
            content=body,
            # A declared length (instead of chunks) lets metrics refuse a file over its limit before reading it.
            headers={"Content-Length": str(bytes_total), "Content-Type": "application/octet-stream"},
            timeout=timeout,
        )
        if response.status_code == 200:
            return RecordImportResult.model_validate(response.json())
        if response.status_code in _TRY_LATER:
            raise UpstreamUnavailable(f"The metrics service answered {response.status_code}; the load is retried.")
        if 400 <= response.status_code < 500:
            raise _refusal(response, "the records")
        raise UpstreamError(f"The metrics service answered {response.status_code} to a load of records.")

    async def record_import(self, job_id: str, *, timeout: float | None = None) -> RecordImportResult | None:
        """An import's progress and counts as metrics has them now; None when metrics has not started it."""
        kwargs = {"timeout": timeout} if timeout is not None else {}
        response = await self._request("GET", f"/record-imports/{quote(job_id, safe='')}", **kwargs)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service answered {response.status_code} for a records import.")
        return RecordImportResult.model_validate(response.json())

    async def record_import_rejections(self, job_id: str, *, limit: int, offset: int) -> RejectionPage | None:
        response = await self._request(
            "GET",
            f"/record-imports/{quote(job_id, safe='')}/rejections",
            params={"limit": limit, "offset": offset},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service answered {response.status_code} for an import's rejections.")
        return RejectionPage.model_validate(response.json())

    async def department_exists(self, code: str) -> bool:
        response = await self._request("GET", f"/departments/{quote(code, safe='')}")
        if response.status_code not in (200, 404):
            raise UpstreamError(f"The metrics service answered {response.status_code} for a department.")
        return response.status_code == 200

    # --- reads for reminders and digests ---------------------------------------------------------------------
    # They name who reads (a staff session, usually ingest's own citywide reader) as the cookie metrics checks:
    # the internal token authorises writes only, and an anonymous read would see published metrics alone.

    async def _read(self, url: str, session: str, params: dict[str, str | int] | None = None) -> dict:
        response = await self._request("GET", url, params=params, headers={"Cookie": f"{SESSION_COOKIE}={session}"})
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service answered {response.status_code} for {url}.")
        return response.json()

    async def _all_pages(self, url: str, session: str, params: dict[str, str | int]) -> list[dict]:
        items: list[dict] = []
        while True:
            page = await self._read(url, session, {**params, "limit": _PAGE, "offset": len(items)})
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items

    async def departments(self, *, session: str) -> list[DepartmentRef]:
        return [DepartmentRef.model_validate(d) for d in await self._all_pages("/departments", session, {})]

    async def department_schedule(self, code: str, start: str, end: str, *, session: str) -> DepartmentSchedule:
        """Each active metric's expected values in the months start..end (YYYY-MM), with due date and arrival."""
        report = await self._read("/completeness", session, {"department": code, "start": start, "end": end})
        return DepartmentSchedule.model_validate({"as_of": report["as_of"], "metrics": report.get("metrics") or []})

    async def department_performance(self, code: str, *, session: str) -> list[MetricStanding]:
        """Each agreed metric's standing in its own last complete period."""
        items = await self._all_pages("/performance", session, {"department": code})
        return [MetricStanding.model_validate(item) for item in items]

    async def is_healthy(self, timeout: float) -> bool:
        try:
            response = await self._request("GET", "/health", timeout=timeout)
        except UpstreamUnavailable:
            return False
        return response.status_code == 200
