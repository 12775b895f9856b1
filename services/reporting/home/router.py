from fastapi import APIRouter

from services.common.errors import problem_responses
from services.reporting.deps import MetricsClientDep, SessionDep, SettingsDep, StaffPrincipal
from services.reporting.home import service
from services.reporting.home.schemas import Home

router = APIRouter(tags=["home"])


@router.get("/home", response_model=Home, responses=problem_responses(401, 403))
async def read_home(
    session: SessionDep, principal: StaffPrincipal, metrics: MetricsClientDep, settings: SettingsDep
) -> Home:
    """The signed-in staff member's board for the home page. A liaison, a head and a department's viewer get their
    department's: due, late, changed and open questions (a head also the scorecard and open commitments); analysts,
    administrators and citywide viewers the city's: off target, signals, missing data, meetings and briefings."""
    return await service.home(session, metrics, principal, settings.as_of)
