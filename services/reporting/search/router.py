from fastapi import APIRouter

from services.common.contracts import SearchResults
from services.common.errors import problem_responses
from services.common.params import SearchLimit, SearchText
from services.reporting.deps import MetricsClientDep, OptionalStaff, SessionDep
from services.reporting.search import service

router = APIRouter(prefix="/search", tags=["search"])


@router.get("", response_model=SearchResults, responses=problem_responses(422))
async def search(
    session: SessionDep, viewer: OptionalStaff, metrics: MetricsClientDep, q: SearchText, limit: SearchLimit = 20
) -> SearchResults:
    """What the staff header's search box shows: metrics, departments and datasets (from metrics, as the caller may
    see them) and the briefings the caller may read, closest match first."""
    return await service.search(session, metrics, q, limit, viewer)
