"""The search box's one answer: briefings the caller may read, merged with what metrics finds for them.

Briefings match as metrics' things do: every word of the query somewhere in the title (case-insensitively), or the
query is the briefing's number; ranked exact number first, then titles that start with the query, then the rest."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from services.common.auth import Principal
from services.common.contracts import SearchResult, SearchResults
from services.common.errors import Unprocessable
from services.reporting.briefings.models import Briefing, BriefingState
from services.reporting.briefings.service import can_see
from services.reporting.clients.metrics import MetricsClient

ESCAPE = "\\"
EXACT, PREFIX, CONTAINS = 0, 1, 2
KIND_ORDER = {"metric": 0, "briefing": 1, "department": 2, "dataset": 3}


def _normalised(q: str) -> str:
    text = " ".join(q.split()).lower()
    if not text:
        raise Unprocessable("Type something to search for.", errors=[{"field": "q", "reason": "only spaces"}])
    return text


def _escaped(text: str) -> str:
    # `%` and `_` typed by someone mean themselves, not LIKE's wildcards.
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def rank_of(text: str, key: str, title: str) -> int:
    if key.lower() == text:
        return EXACT
    return PREFIX if title.lower().startswith(text) else CONTAINS


def _state(briefing: Briefing) -> str:
    return "Published" if briefing.state == BriefingState.published else "Draft"


def briefings(session: Session, text: str, principal: Principal | None) -> list[SearchResult]:
    # Briefings are for staff: the public reads none, as GET /briefings refuses them.
    if principal is None:
        return []
    words = text.split(" ")
    matches = sa.and_(*(func.lower(Briefing.title).like(f"%{_escaped(w)}%", escape=ESCAPE) for w in words))
    if text.isdecimal() and int(text) < 2**31:
        # Its number, as briefing.html?id= shows it.
        matches = sa.or_(matches, col(Briefing.id) == int(text))
    query = select(Briefing).where(matches)
    if not principal.is_performance_office:
        query = query.where(Briefing.state == BriefingState.published.value)
    # Departments are a JSON list, so the last word on who reads which is briefings' own can_see, in Python.
    rows = session.exec(query.order_by(col(Briefing.period).desc(), col(Briefing.id).desc())).all()
    return [
        SearchResult(
            kind="briefing",
            title=b.title,
            subtitle=f"{_state(b)} · {b.period}",
            key=str(b.id),
            url=f"briefing.html?id={b.id}",
        )
        for b in rows
        if can_see(principal, b)
    ]


async def search(
    session: Session, metrics: MetricsClient, q: str, limit: int, principal: Principal | None
) -> SearchResults:
    text = _normalised(q)
    found = briefings(session, text, principal)
    theirs = await metrics.search(q, limit)
    merged = [*(SearchResult.model_validate(item.model_dump()) for item in theirs.items), *found]
    merged.sort(key=lambda r: (rank_of(text, r.key, r.title), KIND_ORDER[r.kind], r.title.lower(), r.key))
    return SearchResults(items=merged[:limit], total=theirs.total + len(found))
