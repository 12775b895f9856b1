from fastapi import APIRouter

from services.common.contracts import SearchResults
from services.common.errors import problem_responses
from services.common.params import SearchLimit, SearchText
from services.metrics.deps import OptionalStaff, SessionDep
from services.metrics.search import service

router = APIRouter(prefix="/search", tags=["search"])


@router.get("", response_model=SearchResults, responses=problem_responses(422))
def search(session: SessionDep, viewer: OptionalStaff, q: SearchText, limit: SearchLimit = 20) -> SearchResults:
    """Metrics, departments and datasets whose names, keys or descriptions hold every word of `q`, closest first.
    Published metrics for anyone; signed-in staff also find their departments' unpublished ones."""
    return service.search(session, q, limit, viewer)
