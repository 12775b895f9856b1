"""SLA rules and the holiday calendar, recomputing computed metrics, and the drill-down to the records behind a
value."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from services.common.errors import Forbidden, problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.common.periods import PeriodText
from services.common.types import CODE_PATTERN, INPUT_CONFIG
from services.metrics.audit.service import record
from services.metrics.definitions.service import get_visible_metric
from services.metrics.deps import SessionDep, SettingsDep, StaffPrincipal
from services.metrics.records import compute, drilldown, sla
from services.metrics.records.compute import RecomputeResult
from services.metrics.records.drilldown import Outcome, RecordsPage
from services.metrics.records.rules import DATASET_KEY_PATTERN
from services.metrics.records.sla import HolidayPublic, HolidayPut, SlaRulePublic, SlaRulePut, get_dataset

router = APIRouter(tags=["computed metrics"])

DatasetPath = Annotated[str, Path(pattern=DATASET_KEY_PATTERN, description="Dataset key, e.g. service_requests")]
HolidayPath = Annotated[dt.date, Path(description="The day, e.g. 2017-07-04")]


# --- SLA rules and holidays ---------------------------------------------------------------------------------------


@router.get("/datasets/{dataset}/sla-rules", response_model=Page[SlaRulePublic], responses=problem_responses(401, 404))
def list_sla_rules(
    dataset: DatasetPath,
    session: SessionDep,
    page: PageDep,
    _staff: StaffPrincipal,
    department: DepartmentFilter = None,
) -> Page[SlaRulePublic]:
    """How long each category may take, for records whose feed gives no due time (department "" is citywide)."""
    items, total = sla.list_rules(session, dataset, page, department)
    return Page(items=items, total=total)


@router.put(
    "/datasets/{dataset}/sla-rules",
    response_model=SlaRulePublic,
    responses={201: {"model": SlaRulePublic, "description": "Created"}, **problem_responses(401, 403, 404, 422)},
)
def put_sla_rule(
    dataset: DatasetPath, body: SlaRulePut, session: SessionDep, actor: StaffPrincipal, response: Response
) -> SlaRulePublic:
    """Set a category's service level in calendar or business days (performance office). It applies to records
    loaded from now on."""
    rule, created = sla.put_rule(session, dataset, body, actor)
    if created:
        response.status_code = 201
    return rule


@router.delete("/datasets/{dataset}/sla-rules", status_code=204, responses=problem_responses(401, 403, 404))
def delete_sla_rule(
    dataset: DatasetPath,
    session: SessionDep,
    actor: StaffPrincipal,
    category: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")],
    department: Annotated[str, Query(pattern=f"{CODE_PATTERN}|^$", description='"" or absent: citywide')] = "",
) -> Response:
    sla.delete_rule(session, dataset, department, category, actor)
    return Response(status_code=204)


@router.get("/holidays", response_model=Page[HolidayPublic], responses=problem_responses(401))
def list_holidays(
    session: SessionDep,
    page: PageDep,
    _staff: StaffPrincipal,
    year: Annotated[int | None, Query(ge=1900, le=2199)] = None,
) -> Page[HolidayPublic]:
    """The city's holiday calendar, which business-day service levels skip."""
    items, total = sla.list_holidays(session, page, year)
    return Page(items=items, total=total)


@router.put(
    "/holidays/{day}",
    response_model=HolidayPublic,
    responses={201: {"model": HolidayPublic, "description": "Created"}, **problem_responses(401, 403)},
)
def put_holiday(
    day: HolidayPath, body: HolidayPut, session: SessionDep, actor: StaffPrincipal, response: Response
) -> HolidayPublic:
    holiday, created = sla.put_holiday(session, day, body.name, actor)
    if created:
        response.status_code = 201
    return holiday


@router.delete("/holidays/{day}", status_code=204, responses=problem_responses(401, 403, 404))
def delete_holiday(day: HolidayPath, session: SessionDep, actor: StaffPrincipal) -> Response:
    sla.delete_holiday(session, day, actor)
    return Response(status_code=204)


# --- recompute ----------------------------------------------------------------------------------------------------


class RecomputeRequest(BaseModel):
    model_config = INPUT_CONFIG
    periods: list[PeriodText] | None = Field(default=None, max_length=1000, description="Default: every period")
    force: bool = Field(default=False, description="Also change values of locked (approved or past due) periods")


class DatasetRecompute(BaseModel):
    dataset: str
    metrics: list[RecomputeResult]


def _office_only(actor, what: str) -> None:  # noqa: ANN001 - a Principal
    if not actor.is_performance_office:
        raise Forbidden(f"Only the performance office (analysts, administrators) may {what}.")


@router.post(
    "/metrics/{key}/recompute", response_model=RecomputeResult, responses=problem_responses(401, 403, 404, 422)
)
def recompute_metric(
    key: MetricKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    actor: StaffPrincipal,
    body: RecomputeRequest | None = None,
) -> RecomputeResult:
    """Recompute a computed metric's values from its records (performance office). With `force`, values of locked
    periods change too; without it they are listed in `locked_skipped`."""
    body = body or RecomputeRequest()
    metric, department = get_visible_metric(session, key, actor)
    _office_only(actor, "recompute metrics")
    periods = set(body.periods) if body.periods is not None else None
    result = compute.recompute(session, metric, periods, force=body.force, settings=settings)
    record(
        session,
        actor,
        "metric.recomputed",
        department=department.code,
        subject=metric.key,
        detail={"periods": sorted(periods) if periods else None, "force": body.force, **result.model_dump()},
    )
    return result


@router.post(
    "/datasets/{dataset}/recompute", response_model=DatasetRecompute, responses=problem_responses(401, 403, 404)
)
def recompute_dataset(
    dataset: DatasetPath,
    session: SessionDep,
    settings: SettingsDep,
    actor: StaffPrincipal,
    force: Annotated[bool, Query(description="Also change values of locked periods")] = False,
) -> DatasetRecompute:
    """Recompute every computed metric on the dataset, every period (performance office)."""
    _office_only(actor, "recompute metrics")
    get_dataset(session, dataset)
    results = compute.recompute_dataset(session, dataset, force=force, settings=settings)
    record(
        session,
        actor,
        "dataset.recomputed",
        subject=dataset,
        detail={"force": force, "metrics": {r.metric: r.model_dump(exclude={"metric"}) for r in results}},
    )
    return DatasetRecompute(dataset=dataset, metrics=results)


# --- drill-down ---------------------------------------------------------------------------------------------------


@router.get("/metrics/{key}/records", response_model=RecordsPage, responses=problem_responses(401, 403, 404, 422))
def list_records_behind(
    key: MetricKeyPath,
    session: SessionDep,
    page: PageDep,
    viewer: StaffPrincipal,
    period: Annotated[PeriodText, Query(description="The value's period, e.g. 2017-06 or 2017-W23")],
    outcome: Annotated[Outcome | None, Query(description="Default: what the metric's measure counts")] = None,
    org_unit: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[^\x00]*$")] = None,
) -> RecordsPage:
    """The records behind a computed value, e.g. Public Works' late requests of 2017-06 (staff of the department)."""
    return drilldown.records_behind(session, key, period, outcome, org_unit, page, viewer)
