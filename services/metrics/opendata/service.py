"""Public datasets as the catalogue shows them, and queries over them."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlmodel import Session

from services.common.db import write_generation
from services.metrics.opendata.executor import count_rows
from services.metrics.opendata.registry import REGISTRY_EPOCH, OpenDataset, SourceContext, find_dataset, public_datasets
from services.metrics.opendata.schemas import OpenColumnPublic, OpenDatasetPublic


def source_context(session: Session, time_zone: str) -> SourceContext:
    return SourceContext(dialect=session.get_bind().dialect.name, time_zone=time_zone)


# A dataset's row count and last update scan it whole (a quarter of a second for the demo city's observations and
# service requests), and the catalogues and every public metric page ask for them. They are kept until this process
# writes to the database again, and for half a minute at most, for writes made by other processes (other workers,
# the command line): a catalogue's counts may lag that much, as Socrata's do.
FIGURES_FRESH_SECONDS = 30.0
_figures: dict[tuple, tuple[int, float, int, dt.datetime]] = {}
# One count at a time: the requests that find the figures out of date together wait for one count, not make their own.
_counting = threading.Lock()


def _figures_of(session: Session, dataset: OpenDataset, ctx: SourceContext) -> tuple[int, dt.datetime]:
    url = session.get_bind().url
    key = (url, dataset.id, ctx)

    def fresh(generation: int) -> tuple[int, dt.datetime] | None:
        kept = _figures.get(key)
        if kept is not None and kept[0] >= generation and time.monotonic() - kept[1] < FIGURES_FRESH_SECONDS:
            return kept[2], kept[3]
        return None

    # Read before counting: a write that lands meanwhile leaves this entry already out of date, never wrongly fresh.
    generation = write_generation(url)
    if (found := fresh(generation)) is not None:
        return found
    with _counting:
        if (found := fresh(generation)) is not None:
            return found
        counted_at = time.monotonic()
        rows, updated = count_rows(session, dataset, ctx), dataset.updated_at(session) or REGISTRY_EPOCH
        _figures[key] = (generation, counted_at, rows, updated)
    return rows, updated


def dataset_public(session: Session, dataset: OpenDataset, ctx: SourceContext) -> OpenDatasetPublic:
    row_count, updated_at = _figures_of(session, dataset, ctx)
    return OpenDatasetPublic(
        id=dataset.id,
        key=dataset.key,
        name=dataset.name,
        description=dataset.description,
        category=dataset.category,
        columns=[
            OpenColumnPublic(field_name=c.field_name, name=c.name, datatype=c.datatype, description=c.description)
            for c in dataset.columns
        ],
        row_count=row_count,
        updated_at=updated_at,
        license=dataset.license,
        publisher=dataset.publisher,
    )


def list_public(session: Session, ctx: SourceContext) -> list[OpenDatasetPublic]:
    return [dataset_public(session, dataset, ctx) for dataset in public_datasets(session)]


def get_public(session: Session, dataset_id: str, ctx: SourceContext) -> OpenDatasetPublic:
    return dataset_public(session, find_dataset(session, dataset_id), ctx)
