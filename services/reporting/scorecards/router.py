from typing import Annotated

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.common.params import DepartmentCode
from services.common.periods import PeriodText
from services.reporting.deps import MetricsClientDep, SettingsDep
from services.reporting.scorecards import service
from services.reporting.scorecards.schemas import Scorecard, ScorecardList

router = APIRouter(tags=["scorecards"])

PeriodQuery = Annotated[
    PeriodText | None,
    Query(description="2017-06, 2017-Q2, ...; default: each metric's last complete period"),
]

_UPSTREAM = problem_responses(502, 503)


@router.get("/scorecards", response_model=ScorecardList, responses=_UPSTREAM)
async def list_scorecards(
    metrics: MetricsClientDep, settings: SettingsDep, period: PeriodQuery = None
) -> ScorecardList:
    return await service.all_scorecards(metrics, period, settings.as_of)


@router.get(
    "/departments/{code}/scorecard",
    response_model=Scorecard,
    responses={**problem_responses(404), **_UPSTREAM},
)
async def read_scorecard(
    code: DepartmentCode, metrics: MetricsClientDep, settings: SettingsDep, period: PeriodQuery = None
) -> Scorecard:
    return await service.department_scorecard(metrics, code, period, settings.as_of)
