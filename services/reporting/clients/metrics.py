"""Typed client for what reporting asks of metrics.

Reporting acts as someone: the staff member whose request it is serving (their session cookie is passed on, and
their CSRF token on writes), so that metrics applies its own permissions and its audit trail names the real actor; or,
for scheduled and command-line builds, a citywide viewer session reporting signs itself. Without either it reads
what the public may read.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from services.common.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Principal,
    PrincipalKind,
    Role,
    SessionCodec,
    principal_claims,
)
from services.common.errors import (
    CityStatError,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unprocessable,
    UpstreamError,
)
from services.common.http import ServiceClient
from services.common.query_tree import Query
from services.reporting.opendata.soql_lexer import SoqlError

PAGE = 500


@dataclass(frozen=True)
class Acting:
    """Who reporting speaks for when it calls metrics."""

    session: str | None = None
    csrf: str | None = None

    def headers(self, write: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.session:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.session}"
        if write and self.csrf:
            headers[CSRF_HEADER] = self.csrf
        return headers


ANONYMOUS = Acting()


def reporting_session(codec: SessionCodec, minutes: int = 30) -> Acting:
    """A citywide read-only session for builds nobody is waiting on (the memo scheduler, the command line)."""
    principal = Principal(kind=PrincipalKind.user, id="reporting", name="CityStat reporting", role=Role.viewer)
    return Acting(session=codec.issue(principal_claims(principal), dt.timedelta(minutes=minutes)))


class Status(StrEnum):
    on_target = "on_target"
    near = "near"
    off_target = "off_target"
    no_target = "no_target"
    missing = "missing"


class _Read(BaseModel):
    # Metrics may add fields; reporting reads the ones it knows.
    model_config = ConfigDict(extra="ignore")


class Department(_Read):
    code: str
    name: str


class Target(_Read):
    id: int | None = None
    value: float
    tolerance: float
    tolerance_kind: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    deadline: dt.date | None = None
    set_by: str
    reason: str


class Metric(_Read):
    key: str
    department: str
    name: str
    unit: str
    kind: str
    direction: str
    frequency: str
    methodology: str = ""
    is_published: bool = False
    is_computed: bool = False
    state: str = "active"
    # How its periods combine into longer ones: sum | mean | ratio | last.
    rollup: str = "sum"
    target: Target | None = None
    is_key: bool = False
    priorities: list[Any] = Field(default_factory=list)


class Change(_Read):
    base_period: str | None = None
    base_value: float | None = None
    absolute: float | None = None
    relative: float | None = None
    reason: str | None = None


class Trend(_Read):
    direction: str | None = None
    slope: float | None = None
    periods: list[str] = Field(default_factory=list)
    reason: str | None = None


class Signal(_Read):
    rule: str
    direction: str
    periods: list[str]


class Limits(_Read):
    centre: float | None = None
    lower: float | None = None
    upper: float | None = None
    moving_range: float | None = None
    baseline_periods: list[str] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)
    reason: str | None = None


class Streak(_Read):
    current: int
    longest: int


class Performance(_Read):
    metric: str
    department: str
    name: str
    unit: str
    kind: str
    direction: str
    frequency: str
    period: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    target: float | None
    tolerance: float | None
    status: Status
    previous_period: str
    previous_value: float | None
    change: float | None
    is_key: bool = False
    approved: bool | None = None
    vs_previous: Change | None = None
    vs_year_ago: Change | None = None
    trend: Trend | None = None
    limits: Limits | None = None
    streak: Streak | None = None
    series_breaks: list[str] = Field(default_factory=list)
    # The newest observation revision behind the value (null when metrics kept none, or for a rolled-up value).
    revision: int | None = None


class SeriesPoint(_Read):
    period: str
    value: float
    numerator: float | None = None
    denominator: float | None = None
    org_unit: str = ""
    comment: str | None = None
    approved: bool = True
    series_break: bool = False
    revision: int | None = None


# --- what the briefing builders read (services/reporting/briefings/build) ---------------------------------------


class RolledUp(_Read):
    period: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    parts: int = 0
    expected: int | None = None
    complete: bool = False
    reason: str | None = None


class UnitValue(_Read):
    org_unit: str
    name: str | None = None
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


class UnitsRollup(_Read):
    period: str
    rollup: str  # how units combine into the department: sum | mean | ratio | last
    units: list[UnitValue]
    department: RolledUp
    reported: float | None = None


class OrgUnit(_Read):
    code: str
    name: str
    kind: str
    department: str
    parent: str | None = None


class Revision(_Read):
    id: int
    period: str
    org_unit: str = ""
    kind: str
    value: float | None = None
    previous_value: float | None = None
    reason: str | None = None
    actor: str = ""
    changed_at: dt.datetime


class Priority(_Read):
    code: str
    name: str
    description: str = ""
    position: int = 0


class Annotation(_Read):
    id: int
    metric: str
    department: str
    period: str
    kind: str
    body: str
    actor: str = ""
    actor_name: str = ""
    at: dt.datetime
    answered_at: dt.datetime | None = None


class ScheduleEntry(_Read):
    period: str
    month: str
    due_date: dt.date
    arrived_on: dt.date | None = None
    status: str  # on_time | late | missing | due
    days_late: int = 0


class CompletenessCounts(_Read):
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    due: int = 0


class DepartmentCompleteness(_Read):
    department: str
    name: str
    totals: CompletenessCounts


class MetricCompleteness(_Read):
    metric: str
    name: str
    frequency: str
    values: list[ScheduleEntry] = Field(default_factory=list)


class Completeness(_Read):
    start: str
    end: str
    as_of: dt.date
    departments: list[DepartmentCompleteness]
    metrics: list[MetricCompleteness] | None = None


class Improved(_Read):
    rank: int
    metric: str
    department: str
    name: str
    improvement: float
    value: float
    value_year_ago: float
    target: float


class MostImproved(_Read):
    period: str | None = None
    items: list[Improved]
    total: int


class MetricsClient(ServiceClient):
    service = "metrics"

    def __init__(self, http: httpx.AsyncClient, acting: Acting = ANONYMOUS) -> None:
        super().__init__(http)
        self.acting = acting

    def acting_as(self, acting: Acting) -> MetricsClient:
        return MetricsClient(self.http, acting)

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.acting.headers(write=method not in ("GET", "HEAD")), **kwargs.pop("headers", {})}
        response = await self._request(method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise _error(response, url)
        return response

    async def _json(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._call("GET", url, params=params)
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

    # --- reads ---------------------------------------------------------------------------------------------------

    async def department(self, code: str) -> Department:
        return Department.model_validate(await self._json(f"/departments/{quote(code, safe='')}"))

    async def departments(self) -> list[Department]:
        return [Department.model_validate(d) for d in await self._all_pages("/departments", {})]

    async def metric(self, key: str) -> Metric:
        return Metric.model_validate(await self._json(f"/metrics/{quote(key, safe='')}"))

    async def metrics(
        self, department: str | None = None, priority: str | None = None, state: str | None = None
    ) -> list[Metric]:
        params = _present(department=department, priority=priority, state=state)
        return [Metric.model_validate(m) for m in await self._all_pages("/metrics", params)]

    async def performance(
        self, period: str | None, department: str | None = None, priority: str | None = None, key: str | None = None
    ) -> list[Performance]:
        params = _present(period=period, department=department, priority=priority, key=key)
        return [Performance.model_validate(p) for p in await self._all_pages("/performance", params)]

    async def metric_performance(self, key: str, period: str | None = None) -> Performance:
        url = f"/metrics/{quote(key, safe='')}/performance"
        return Performance.model_validate(await self._json(url, _present(period=period)))

    async def observations(
        self, key: str, start: str | None = None, end: str | None = None, org_unit: str | None = None
    ) -> list[SeriesPoint]:
        params = _present(start=start, end=end, org_unit=org_unit)
        url = f"/metrics/{quote(key, safe='')}/observations"
        return [SeriesPoint.model_validate(p) for p in await self._all_pages(url, params)]

    async def targets(self, key: str) -> list[Target]:
        """Every target the metric has had, oldest first: the one in force on a day is the latest started by then."""
        page = await self._json(f"/metrics/{quote(key, safe='')}/targets")
        return [Target.model_validate(t) for t in page["items"]]

    async def rollups(
        self, key: str, to: str, start: str | None = None, end: str | None = None, partial: bool = False
    ) -> list[RolledUp]:
        params = _present(to=to, start=start, end=end, partial="true" if partial else None)
        page = await self._json(f"/metrics/{quote(key, safe='')}/rollups", params)
        return [RolledUp.model_validate(r) for r in page["items"]]

    async def units_rollup(self, key: str, period: str) -> UnitsRollup:
        url = f"/metrics/{quote(key, safe='')}/observations/{quote(period, safe='')}/org-units"
        return UnitsRollup.model_validate(await self._json(url))

    async def revisions(self, key: str, period: str, org_unit: str = "") -> list[Revision]:
        """Every change written to one value, newest first."""
        url = f"/metrics/{quote(key, safe='')}/observations/{quote(period, safe='')}/revisions"
        return [Revision.model_validate(r) for r in await self._all_pages(url, {"org_unit": org_unit})]

    async def org_units(self, department: str) -> list[OrgUnit]:
        page = await self._json(f"/departments/{quote(department, safe='')}/org-units")
        return [OrgUnit.model_validate(u) for u in page["items"]]

    async def priorities(self) -> list[Priority]:
        page = await self._json("/priorities")
        return sorted((Priority.model_validate(p) for p in page["items"]), key=lambda p: (p.position, p.code))

    async def annotations(
        self, department: str | None = None, kind: str | None = None, open_only: bool | None = None
    ) -> list[Annotation]:
        """Notes across metrics, oldest first (staff only). `open_only` narrows to questions not yet answered."""
        opened = None if open_only is None else ("true" if open_only else "false")
        params = _present(department=department, kind=kind, open=opened)
        return [Annotation.model_validate(a) for a in await self._all_pages("/annotations", params)]

    async def completeness(
        self, department: str | None = None, start: str | None = None, end: str | None = None
    ) -> Completeness:
        """On time, late and missing values per department by month; each metric's values when one department."""
        params = _present(department=department, start=start, end=end)
        return Completeness.model_validate(await self._json("/completeness", params))

    async def most_improved(
        self, period: str | None = None, department: str | None = None, limit: int = 20
    ) -> MostImproved:
        params = _present(period=period, department=department, limit=limit)
        return MostImproved.model_validate(await self._json("/performance/most-improved", params))

    async def search(self, q: str, limit: int = 20) -> SearchResults:
        """Metrics, departments and datasets matching `q`, as the caller may see them, closest first."""
        return SearchResults.model_validate(await self._json("/search", {"q": q, "limit": limit}))

    # --- writes --------------------------------------------------------------------------------------------------

    async def create_target(
        self,
        key: str,
        *,
        value: float,
        tolerance: float,
        effective_from: dt.date,
        deadline: dt.date | None,
        set_by: str,
        reason: str,
        tolerance_kind: str = "absolute",
    ) -> Target:
        body = {
            "value": value,
            "tolerance": tolerance,
            "tolerance_kind": tolerance_kind,
            "effective_from": effective_from.isoformat(),
            "deadline": deadline.isoformat() if deadline else None,
            "set_by": set_by,
            "reason": reason,
        }
        response = await self._call("POST", f"/metrics/{quote(key, safe='')}/targets", json=body)
        return Target.model_validate(response.json())

    # --- public datasets (open data) -----------------------------------------------------------------------------

    async def open_datasets(self) -> list[OpenDataset]:
        """Every public dataset (no login needed)."""
        return [OpenDataset.model_validate(d) for d in await self._all_pages("/open-datasets", {})]

    async def open_dataset(self, dataset_id: str) -> OpenDataset:
        """One public dataset; NotFound when it is unknown or not public."""
        return OpenDataset.model_validate(await self._json(f"/open-datasets/{quote(dataset_id, safe='')}"))

    async def query_open_dataset(self, dataset_id: str, query: Query) -> QueryResult:
        """Run a query tree over a dataset's public rows.

        Sent with the internal token only (the client's default header), never with a caller's session: the answer
        is the public one whoever asks, which is what lets the open-data routes be cached by anyone."""
        url = f"/open-datasets/{quote(dataset_id, safe='')}/query"
        response = await self._request("POST", url, json=query.model_dump(mode="json"))
        if response.status_code in (400, 422):
            # Reporting checked the tree against the same columns; what metrics still refuses is told as SODA does.
            detail = _problem_detail(response)
            raise SoqlError(detail or "The query cannot run on this dataset.", code="query.execution.failed")
        if response.status_code >= 400:
            raise _error(response, url)
        if response.status_code != 200:
            raise UpstreamError(f"The metrics service answered {response.status_code} for {url}.")
        try:
            # Exact numbers: a float would turn 0.1 or a 17-digit sum into something else on the way to the client.
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise UpstreamError(f"The metrics service answered {url} with something that is not JSON.") from None
        return QueryResult.model_validate(body)


def _present(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def _error(response: httpx.Response, url: str) -> CityStatError:
    """Metrics' refusal, passed on as the same kind of error (its detail is written for the user)."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    detail = problem.get("detail") if isinstance(problem, dict) else None
    if response.status_code == 404:
        return NotFound(detail or "Not found in metrics.")
    if response.status_code == 401:
        return Unauthorized(detail or "Sign in first: POST /api/ingest/auth/login.")
    if response.status_code == 403:
        return Forbidden(detail or "Metrics refused this for your account.")
    if response.status_code == 409:
        return Conflict(detail or "Metrics holds something that conflicts with this.")
    if response.status_code == 422:
        return Unprocessable(detail or "Metrics refused the values.", errors=problem.get("errors") or [])
    return UpstreamError(f"The metrics service answered {response.status_code} for {url}.")


def _problem_detail(response: httpx.Response) -> str | None:
    try:
        problem = response.json()
    except ValueError:
        return None
    return problem.get("detail") if isinstance(problem, dict) else None


# --- public datasets (open data): reporting serves them to SODA clients, metrics owns and queries them --------------


class OpenColumn(_Read):
    field_name: str
    name: str
    datatype: str  # text | number | boolean | floating_timestamp
    description: str = ""


class OpenDataset(_Read):
    id: str
    key: str
    name: str
    description: str = ""
    category: str = ""
    columns: list[OpenColumn]
    row_count: int = 0
    updated_at: dt.datetime
    license: str = ""
    publisher: str = ""


class ResultColumn(_Read):
    name: str
    datatype: str


class QueryResult(_Read):
    """Rows of one query; numbers arrive as `Decimal`, read exactly from the JSON text."""

    columns: list[ResultColumn]
    rows: list[list[Any]]


class SearchResult(_Read):
    kind: str
    title: str
    subtitle: str = ""
    key: str
    url: str


class SearchResults(_Read):
    items: list[SearchResult]
    total: int
