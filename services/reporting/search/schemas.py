from typing import Literal

from pydantic import BaseModel

SearchKind = Literal["metric", "department", "dataset", "briefing"]


class SearchResult(BaseModel):
    kind: SearchKind
    title: str
    subtitle: str
    key: str
    # The staff page that shows it, relative to the staff site's root (e.g. "briefing.html?id=4").
    url: str


class SearchResults(BaseModel):
    items: list[SearchResult]
    total: int
