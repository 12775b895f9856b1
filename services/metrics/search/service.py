"""One search over what metrics owns: metrics, departments and datasets, matched word by word.

Every word of the query must appear (case-insensitively) in at least one of a thing's searched texts. Matches rank
by how closely they fit: the query is exactly the key or code, then the title starts with it, then the rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from services.common.auth import Principal
from services.common.contracts import SearchResult, SearchResults
from services.common.errors import Unprocessable
from services.metrics.definitions.models import Metric
from services.metrics.definitions.service import visible_metrics_query
from services.metrics.departments.models import Department
from services.metrics.opendata.registry import public_datasets, published_record_datasets, record_datasets
from services.metrics.records.models import Dataset

ESCAPE = "\\"
EXACT, PREFIX, CONTAINS = 0, 1, 2
KIND_ORDER = {"metric": 0, "department": 1, "dataset": 2}


@dataclass(frozen=True)
class Terms:
    text: str  # the whole query, lower-cased and trimmed
    words: tuple[str, ...]


def terms_of(q: str) -> Terms:
    text = " ".join(q.split()).lower()
    if not text:
        raise Unprocessable("Type something to search for.", errors=[{"field": "q", "reason": "only spaces"}])
    return Terms(text=text, words=tuple(text.split(" ")))


def _escaped(text: str) -> str:
    # `%` and `_` typed by someone mean themselves, not LIKE's wildcards.
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _contains(column, word: str) -> sa.ColumnElement[bool]:
    return func.lower(column).like(f"%{_escaped(word)}%", escape=ESCAPE)


def _all_words(terms: Terms, columns: Iterable) -> sa.ColumnElement[bool]:
    columns = list(columns)
    return sa.and_(*(sa.or_(*(_contains(c, word) for c in columns)) for word in terms.words))


def _rank(terms: Terms, key_column, title_column) -> sa.ColumnElement[int]:
    return sa.case(
        (func.lower(key_column) == terms.text, EXACT),
        (func.lower(title_column).like(f"{_escaped(terms.text)}%", escape=ESCAPE), PREFIX),
        else_=CONTAINS,
    )


def _rank_text(terms: Terms, key: str, title: str) -> int:
    if key.lower() == terms.text:
        return EXACT
    return PREFIX if title.lower().startswith(terms.text) else CONTAINS


def _url(page: str, **params: str) -> str:
    return f"{page}?{urlencode(params)}" if params else page


def _metrics(session: Session, terms: Terms, viewer: Principal | None, limit: int) -> tuple[list, int]:
    # Who may see which metric is the definitions' rule, not a copy of it here.
    matching = visible_metrics_query(None, viewer).where(
        _all_words(terms, (Metric.name, Metric.key, Metric.methodology))
    )
    total = session.exec(select(func.count()).select_from(matching.subquery())).one()
    rank = _rank(terms, Metric.key, Metric.name)
    rows = session.exec(matching.add_columns(rank).order_by(rank, col(Metric.name), col(Metric.key)).limit(limit))
    items = [
        (
            row_rank,
            SearchResult(
                kind="metric",
                title=metric.name,
                subtitle=department.name if metric.is_published else f"{department.name} · not published",
                key=metric.key,
                url=_url("metric.html", key=metric.key),
            ),
        )
        for metric, department, row_rank in rows
    ]
    return items, total


def _departments(session: Session, terms: Terms, limit: int) -> tuple[list, int]:
    where = _all_words(terms, (Department.name, Department.code))
    total = session.exec(select(func.count(col(Department.id))).where(where)).one()
    rank = _rank(terms, Department.code, Department.name)
    rows = session.exec(select(Department, rank).where(where).order_by(rank, col(Department.name)).limit(limit))
    items = [
        (
            row_rank,
            SearchResult(
                kind="department",
                title=department.name,
                subtitle=f"Department {department.code}",
                key=department.code,
                url=_url("department.html", code=department.code),
            ),
        )
        for department, row_rank in rows
    ]
    return items, total


def _record_datasets(session: Session, viewer: Principal | None) -> list[Dataset]:
    """Raw-record datasets: the published ones for anyone, every one for signed-in staff (as records.html lists)."""
    return published_record_datasets(session) if viewer is None else record_datasets(session)


def _datasets(session: Session, terms: Terms, viewer: Principal | None) -> list:
    # A handful of datasets, partly defined in code (the built-ins, the open-data registry): matched here, with the
    # same word rule as the SQL above, rather than in SQL.
    def matches(*texts: str) -> bool:
        lowered = [t.lower() for t in texts]
        return all(any(word in t for t in lowered) for word in terms.words)

    found = []
    for dataset in _record_datasets(session, viewer):
        if matches(dataset.title, dataset.key, dataset.description):
            state = "published" if dataset.is_published else "not published"
            found.append(
                (
                    _rank_text(terms, dataset.key, dataset.title),
                    SearchResult(
                        kind="dataset",
                        title=dataset.title,
                        subtitle=f"Raw records · {state}",
                        key=dataset.key,
                        url="records.html",
                    ),
                )
            )
    for open_dataset in public_datasets(session):
        if open_dataset.key.startswith("records."):
            continue  # the raw-record datasets above, already listed under their own key
        if matches(open_dataset.name, open_dataset.key, open_dataset.description):
            found.append(
                (
                    _rank_text(terms, open_dataset.key, open_dataset.name),
                    SearchResult(
                        kind="dataset",
                        title=open_dataset.name,
                        subtitle=f"Open data · {open_dataset.category}",
                        key=open_dataset.key,
                        url="budget.html",
                    ),
                )
            )
    return found


def search(session: Session, q: str, limit: int, viewer: Principal | None) -> SearchResults:
    terms = terms_of(q)
    metrics, metric_total = _metrics(session, terms, viewer, limit)
    departments, department_total = _departments(session, terms, limit)
    datasets = _datasets(session, terms, viewer)
    ranked = sorted(
        [*metrics, *departments, *datasets],
        key=lambda pair: (pair[0], KIND_ORDER[pair[1].kind], pair[1].title.lower(), pair[1].key),
    )
    return SearchResults(
        items=[result for _, result in ranked[:limit]], total=metric_total + department_total + len(datasets)
    )
