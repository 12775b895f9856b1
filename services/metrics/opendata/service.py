"""Public datasets as the catalogue shows them, and queries over them."""

from __future__ import annotations

from sqlmodel import Session

from services.metrics.opendata.executor import count_rows
from services.metrics.opendata.registry import REGISTRY_EPOCH, OpenDataset, SourceContext, find_dataset, public_datasets
from services.metrics.opendata.schemas import OpenColumnPublic, OpenDatasetPublic


def source_context(session: Session, time_zone: str) -> SourceContext:
    return SourceContext(dialect=session.get_bind().dialect.name, time_zone=time_zone)


def dataset_public(session: Session, dataset: OpenDataset, ctx: SourceContext) -> OpenDatasetPublic:
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
        row_count=count_rows(session, dataset, ctx),
        updated_at=dataset.updated_at(session) or REGISTRY_EPOCH,
        license=dataset.license,
        publisher=dataset.publisher,
    )


def list_public(session: Session, ctx: SourceContext) -> list[OpenDatasetPublic]:
    return [dataset_public(session, dataset, ctx) for dataset in public_datasets(session)]


def get_public(session: Session, dataset_id: str, ctx: SourceContext) -> OpenDatasetPublic:
    return dataset_public(session, find_dataset(session, dataset_id), ctx)
