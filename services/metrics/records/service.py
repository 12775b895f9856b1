"""Datasets, mapping profiles (built in, or defined by an admin) and import jobs as the API shows them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.metrics.audit.service import record as audit
from services.metrics.base import utcnow
from services.metrics.records.models import (
    BUILTIN_DATASETS,
    Dataset,
    MappingProfile,
    RawRecord,
    RecordImport,
    RecordRejection,
)
from services.metrics.records.profiles import BUILTIN_PROFILES, ProfileDefinition
from services.metrics.records.pull import check_pull_source
from services.metrics.records.schemas import (
    DatasetCreate,
    DatasetPublic,
    DatasetUpdate,
    ProfilePublic,
    ProfilePut,
    RecordImportPublic,
    RejectionPublic,
)

REJECTIONS_SAMPLE = 100


def _office_only(principal: Principal, what: str) -> None:
    if not principal.is_performance_office:
        raise Forbidden(f"Only the performance office may {what}.")


# --- datasets ---------------------------------------------------------------------------------------------------


def get_dataset(session: Session, key: str) -> Dataset:
    builtin = BUILTIN_DATASETS.get(key)
    stored = session.get(Dataset, key)
    if builtin is not None:
        # A built-in's definition lives in code; its stored row, if any, only says whether the city published it.
        if stored is None:
            return builtin
        return Dataset(**{**builtin.model_dump(), "is_published": stored.is_published})
    if stored is None:
        raise NotFound(f"There is no dataset '{key}'.")
    return stored


def dataset_public(session: Session, dataset: Dataset) -> DatasetPublic:
    records = session.exec(select(func.count()).select_from(RawRecord).where(RawRecord.dataset == dataset.key)).one()
    return DatasetPublic(**dataset.model_dump(exclude={"created_by", "created_at"}), records=records)


def list_datasets(session: Session) -> list[DatasetPublic]:
    own = select(Dataset).where(col(Dataset.key).not_in(list(BUILTIN_DATASETS))).order_by(col(Dataset.key))
    stored = session.exec(own)
    builtins = [get_dataset(session, key) for key in BUILTIN_DATASETS]
    return [dataset_public(session, d) for d in [*builtins, *stored.all()]]


def create_dataset(session: Session, principal: Principal, body: DatasetCreate) -> Dataset:
    _office_only(principal, "define datasets")
    if body.key in BUILTIN_DATASETS or session.get(Dataset, body.key) is not None:
        raise Conflict(f"The dataset '{body.key}' exists already.")
    names = [f.name for f in body.fields]
    if len(set(names)) != len(names):
        raise Unprocessable(
            "Each field of a dataset needs its own name.", errors=[{"field": "fields", "reason": "duplicate names"}]
        )
    dataset = Dataset(
        key=body.key,
        title=body.title,
        description=body.description,
        fields=[f.model_dump() for f in body.fields],
        is_published=body.is_published,
        created_by=principal.actor,
    )
    session.add(dataset)
    session.flush()
    audit(session, principal, "dataset.create", subject=body.key, detail={"fields": names})
    return dataset


def update_dataset(session: Session, principal: Principal, key: str, body: DatasetUpdate) -> Dataset:
    """Publish a dataset (its records, without their extra fields, become open data) or withdraw it."""
    _office_only(principal, "publish datasets")
    dataset = get_dataset(session, key)
    if body.is_published is None or body.is_published == dataset.is_published:
        return dataset
    stored = session.get(Dataset, key)
    if stored is None:
        # The built-in's choice is kept as a row of its own beside the definition in code.
        stored = Dataset(**{**dataset.model_dump(), "created_by": principal.actor, "created_at": utcnow()})
        session.add(stored)
    stored.is_published = body.is_published
    session.flush()
    action = "dataset.publish" if body.is_published else "dataset.unpublish"
    audit(session, principal, action, subject=key, detail={"is_published": body.is_published})
    return get_dataset(session, key)


# --- mapping profiles -------------------------------------------------------------------------------------------


def get_profile(session: Session, name: str) -> ProfileDefinition:
    builtin = BUILTIN_PROFILES.get(name)
    if builtin is not None:
        return builtin
    row = session.get(MappingProfile, name)
    if row is None:
        known = ", ".join(sorted({*BUILTIN_PROFILES, *session.exec(select(MappingProfile.name))}))
        raise NotFound(f"There is no mapping profile '{name}' (there are: {known}).")
    return ProfileDefinition.model_validate(row.definition)


def _builtin_public(name: str, definition: ProfileDefinition) -> ProfilePublic:
    return ProfilePublic(
        name=name,
        dataset=definition.dataset,
        description="",
        is_builtin=True,
        definition=definition.model_dump(mode="json"),
    )


def _row_public(row: MappingProfile) -> ProfilePublic:
    return ProfilePublic(
        name=row.name,
        dataset=row.dataset,
        description=row.description,
        is_builtin=False,
        definition=row.definition,
        created_by=row.created_by,
        updated_at=row.updated_at,
        last_pulled_at=row.last_pulled_at,
    )


def list_profiles(session: Session) -> list[ProfilePublic]:
    builtins = [_builtin_public(name, definition) for name, definition in sorted(BUILTIN_PROFILES.items())]
    return builtins + [
        _row_public(row) for row in session.exec(select(MappingProfile).order_by(col(MappingProfile.name)))
    ]


def profile_public(session: Session, name: str) -> ProfilePublic:
    if name in BUILTIN_PROFILES:
        return _builtin_public(name, BUILTIN_PROFILES[name])
    row = session.get(MappingProfile, name)
    if row is None:
        raise NotFound(f"There is no mapping profile '{name}'.")
    return _row_public(row)


def put_profile(
    session: Session, principal: Principal, name: str, body: ProfilePut, *, allowed_hosts: Sequence[str]
) -> tuple[ProfilePublic, bool]:
    """Define or replace an admin's profile; whether it is new. A pull source must be on a host the operator allows
    (`allowed_hosts`, the pull_allowed_hosts setting)."""
    _office_only(principal, "define mapping profiles")
    if name in BUILTIN_PROFILES:
        raise Conflict(f"'{name}' is a built-in profile; define yours under another name.")
    get_dataset(session, body.definition.dataset)
    if body.definition.source_connector is not None:
        check_pull_source(body.definition.source_connector, allowed_hosts)
    definition = body.definition.model_dump(mode="json")
    row = session.get(MappingProfile, name)
    created = row is None
    if row is not None and _source(row.definition) != _source(definition):
        # Another source (or another way of asking it): where the old one's pulls got to means nothing here.
        row.pull_cursor = None
        row.last_pulled_at = None
    if row is None:
        row = MappingProfile(
            name=name, dataset=body.definition.dataset, definition=definition, created_by=principal.actor
        )
    row.dataset = body.definition.dataset
    row.description = body.description
    row.definition = definition
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit(session, principal, "mapping_profile.put", subject=name, detail={"created": created})
    return _row_public(row), created


def _source(definition: dict) -> dict | None:
    """What a pull asks and of whom; how often it asks is not part of it."""
    connector = definition.get("source_connector")
    return None if connector is None else {k: v for k, v in connector.items() if k != "every_minutes"}


def delete_profile(session: Session, principal: Principal, name: str) -> None:
    _office_only(principal, "remove mapping profiles")
    if name in BUILTIN_PROFILES:
        raise Conflict(f"'{name}' is a built-in profile and cannot be removed.")
    row = session.get(MappingProfile, name)
    if row is None:
        raise NotFound(f"There is no mapping profile '{name}'.")
    session.delete(row)
    session.flush()
    audit(session, principal, "mapping_profile.delete", subject=name)


# --- import jobs ------------------------------------------------------------------------------------------------


def get_import(session: Session, principal: Principal | None, job_id: str) -> RecordImport:
    """`principal` None is the internal caller (ingest); staff see their own department's jobs."""
    job = session.get(RecordImport, job_id)
    if job is None or (principal is not None and job.department is not None and not principal.can_read(job.department)):
        raise NotFound(f"There is no record import '{job_id}'.")
    if principal is not None and job.department is None and not principal.is_performance_office:
        raise NotFound(f"There is no record import '{job_id}'.")
    return job


def import_public(session: Session, job: RecordImport) -> RecordImportPublic:
    sample = session.exec(
        select(RecordRejection)
        .where(RecordRejection.import_id == job.id)
        .order_by(col(RecordRejection.row))
        .limit(REJECTIONS_SAMPLE)
    ).all()
    return RecordImportPublic(
        id=job.id,
        dataset=job.dataset,
        mapping=job.mapping,
        department=job.department,
        status=job.status,
        done=job.bytes_done,
        total=job.bytes_total,
        rows_read=job.rows_read,
        accepted=job.accepted,
        updated=job.updated,
        unchanged=job.unchanged,
        rejected=job.rejected,
        rejections_sample=[RejectionPublic(**r.model_dump(exclude={"import_id"})) for r in sample],
        departments_created=job.departments_created,
        recomputed=job.recomputed,
        error=job.error,
        actor=job.actor,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def list_rejections(session: Session, job: RecordImport, page: PageParams) -> tuple[list[RejectionPublic], int]:
    total = session.exec(
        select(func.count()).select_from(RecordRejection).where(RecordRejection.import_id == job.id)
    ).one()
    rows = session.exec(
        select(RecordRejection)
        .where(RecordRejection.import_id == job.id)
        .order_by(col(RecordRejection.row))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return [RejectionPublic(**r.model_dump(exclude={"import_id"})) for r in rows], total
