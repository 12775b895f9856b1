from typing import Annotated

from fastapi import APIRouter, Query

from services.common.errors import problem_responses
from services.metrics.deps import OptionalStaff, SessionDep
from services.metrics.search import service
from services.metrics.search.schemas import SearchResults

router = APIRouter(prefix="/search", tags=["search"])

SearchText = Annotated[str, Query(min_length=1, max_length=200, description="Words to find, e.g. pothole")]
SearchLimit = Annotated[int, Query(ge=1, le=100)]


@router.get("", response_model=SearchResults, responses=problem_responses(422))
def search(session: SessionDep, viewer: OptionalStaff, q: SearchText, limit: SearchLimit = 20) -> SearchResults:
    """Metrics, departments and datasets whose names, keys or descriptions hold every word of `q`, closest first.
    Published metrics for anyone; signed-in staff also find their departments' unpublished ones."""
    return service.search(session, q, limit, viewer)
