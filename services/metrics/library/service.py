"""The library of other jurisdictions' measures: importing the San Francisco file, reading it, and adopting
a measure into a department as a draft metric that remembers where it came from."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.metrics.audit.service import record
from services.metrics.base import utcnow
from services.metrics.definitions.lifecycle import create_metric
from services.metrics.definitions.models import Direction, Metric, MetricBase, MetricState
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.library.schemas import (
    AdoptRequest,
    LibraryImportPublic,
    LibraryMeasurePublic,
    LibraryRejectionPublic,
)
from services.metrics.library.source import (
    SF_SOURCE,
    LibraryFileError,
    LibraryMeasureIn,
    LibraryRejection,
    read_sf_measures,
)
from services.metrics.observations.rollup import default_rollup

Progress = Callable[[int, int], None]

# The table's column widths. A code that does not fit cannot be cut (a later import would not find it
# again), so its row is rejected; a name that does not fit is cut and the measure's notes say so.
_CODE_WIDTHS = {"source_code": ("KPI_CODE", 64), "department_code": ("Dept", 32)}
_TEXT_WIDTHS = {"department_name": 200, "program": 300, "owner": 200, "unit_text": 100}
_METRIC_NAME_WIDTH = 200
_UNIT = re.compile(r"^[a-z][a-z_]{0,31}$")
_PROGRESS_EVERY = 50


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _row_values(measure: LibraryMeasureIn) -> dict[str, Any] | LibraryRejection:
    """The table's columns for one measure the reader accepted, or the rejection of a row the table cannot hold."""
    for name, (column, width) in _CODE_WIDTHS.items():
        value = getattr(measure, name)
        if len(value) > width:
            return LibraryRejection(
                measure.source_row, column, f"{column} {value[:80]!r} is {len(value)} characters; at most {width} fit."
            )
    notes = list(measure.notes)
    if measure.service_area:
        # The table has no column for the Controller's service area; it is worth keeping for research.
        notes.append(f"Major Service Area: {measure.service_area}.")
    values: dict[str, Any] = {
        "source": measure.source,
        "source_code": measure.source_code,
        "source_row": measure.source_row,
        "jurisdiction": measure.jurisdiction,
        "department_code": measure.department_code,
        "department_name": measure.department_name,
        "program": measure.program,
        "goal": measure.goal,
        "name": measure.name,
        "description": measure.description,
        "methodology": measure.methodology,
        "unit": measure.unit,
        "unit_text": measure.unit_original,
        "direction": str(measure.direction),
        "owner": measure.owner,
    }
    for name, width in _TEXT_WIDTHS.items():
        if len(values[name]) > width:
            notes.append(f"The {name.replace('_', ' ')} was cut to {width} characters.")
            values[name] = _cut(values[name], width)
    for name in ("actuals", "targets"):
        kept = {}
        for year, value in getattr(measure, name).items():
            if math.isfinite(value):
                kept[year] = value
            else:
                # JSON has no infinity; a number too long for a float is a typing slip, not a value.
                notes.append(f"The {year} {name[:-1]} is too large to be a number, so it is left out.")
        values[name] = kept
    values["notes"] = notes
    return values


def import_library(
    session: Session,
    data: bytes,
    actor: Principal,
    file_name: str = "",
    *,
    source: str = SF_SOURCE,
    progress: Progress | None = None,
) -> LibraryImportPublic:
    """Store every measure of the file, updating those already in the library (same source and code).

    Every data row is counted once: imported, updated or rejected with its reason.
    Raises LibraryFileError (422) when the file as a whole cannot be read; nothing is stored then."""
    if b"\x00" in data:
        raise LibraryFileError("The file holds NUL bytes, so it is not CSV text; export it again as CSV UTF-8.")
    read = read_sf_measures(data, source=source)
    run = LibraryImport(
        source=source,
        file_name=file_name[:300],
        rows=read.rows,
        imported=0,
        actor=actor.actor,
    )
    session.add(run)
    session.flush()
    known = {m.source_code: m for m in session.exec(select(LibraryMeasure).where(LibraryMeasure.source == source))}
    rejected = list(read.rejected)
    imported = updated = 0
    total = len(read.measures)
    now = utcnow()
    for done, measure in enumerate(read.measures, start=1):
        values = _row_values(measure)
        if isinstance(values, LibraryRejection):
            rejected.append(values)
        elif (row := known.get(measure.source_code)) is not None:
            for name, value in values.items():
                setattr(row, name, value)
            row.import_id = run.id
            row.imported_at = now
            session.add(row)
            updated += 1
        else:
            session.add(LibraryMeasure(**values, import_id=run.id, imported_at=now))
            imported += 1
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    rejected.sort(key=lambda r: r.row)
    run.imported, run.updated = imported, updated
    run.rejected = [{"row": r.row, "field": r.field, "reason": r.reason} for r in rejected]
    session.add(run)
    session.flush()
    record(
        session,
        actor,
        "library.imported",
        subject=f"library_import:{run.id}",
        detail={
            "source": run.source,
            "file_name": run.file_name,
            "rows": run.rows,
            "imported": imported,
            "updated": updated,
            "rejected": len(rejected),
        },
    )
    session.flush()
    return import_public(run)


def import_public(run: LibraryImport) -> LibraryImportPublic:
    return LibraryImportPublic(
        id=run.id,
        source=run.source,
        file_name=run.file_name,
        rows=run.rows,
        imported=run.imported,
        updated=run.updated,
        rejected=[LibraryRejectionPublic.model_validate(r) for r in run.rejected],
        actor=run.actor,
        at=run.at,
    )


def list_imports(session: Session, page: PageParams) -> tuple[list[LibraryImportPublic], int]:
    total = session.exec(select(func.count(LibraryImport.id))).one()
    runs = session.exec(select(LibraryImport).order_by(LibraryImport.id.desc()).offset(page.offset).limit(page.limit))
    return [import_public(run) for run in runs], total


def get_import(session: Session, import_id: int) -> LibraryImportPublic:
    run = session.get(LibraryImport, import_id)
    if run is None:
        raise NotFound(f"No library import has the id {import_id}.")
    return import_public(run)


def _adopted_as(session: Session, measure_ids: list[int], viewer: Principal) -> dict[int, list[str]]:
    """Metrics adopted from these measures, as far as the viewer may see them (drafts stay their department's)."""
    out: dict[int, list[str]] = {measure_id: [] for measure_id in measure_ids}
    if not measure_ids:
        return out
    rows = session.exec(
        select(Metric.library_measure_id, Metric.key, Metric.is_published, Department.code)
        .join(Department, Department.id == Metric.department_id)
        .where(Metric.library_measure_id.in_(measure_ids))
        .order_by(Metric.key)
    )
    for measure_id, key, published, code in rows:
        if published or viewer.can_read(code):
            out[measure_id].append(key)
    return out


def _measure_public(measure: LibraryMeasure, adopted_as: list[str]) -> LibraryMeasurePublic:
    return LibraryMeasurePublic.model_validate({**measure.model_dump(), "adopted_as": adopted_as})


def list_measures(
    session: Session,
    page: PageParams,
    viewer: Principal,
    *,
    jurisdiction: str | None = None,
    department: str | None = None,
    q: str | None = None,
    direction: Direction | None = None,
) -> tuple[list[LibraryMeasurePublic], int]:
    query = select(LibraryMeasure)
    if jurisdiction:
        query = query.where(func.lower(LibraryMeasure.jurisdiction) == jurisdiction.lower())
    if department:
        query = query.where(func.upper(LibraryMeasure.department_code) == department.upper())
    if direction is not None:
        query = query.where(LibraryMeasure.direction == str(direction))
    if q:
        needle = q.lower()
        query = query.where(
            or_(
                func.lower(LibraryMeasure.name).contains(needle, autoescape=True),
                func.lower(LibraryMeasure.program).contains(needle, autoescape=True),
            )
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    measures = session.exec(
        query.order_by(LibraryMeasure.jurisdiction, LibraryMeasure.source_row, LibraryMeasure.id)
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    adopted = _adopted_as(session, [m.id for m in measures], viewer)
    return [_measure_public(m, adopted[m.id]) for m in measures], total


def get_measure(session: Session, measure_id: int) -> LibraryMeasure:
    measure = session.get(LibraryMeasure, measure_id)
    if measure is None:
        raise NotFound(f"No library measure has the id {measure_id}.")
    return measure


def measure_public(session: Session, measure_id: int, viewer: Principal) -> LibraryMeasurePublic:
    measure = get_measure(session, measure_id)
    return _measure_public(measure, _adopted_as(session, [measure_id], viewer)[measure_id])


def _methodology(measure: LibraryMeasure) -> str:
    parts = [measure.methodology, f"Description: {measure.description}" if measure.description else ""]
    return "\n\n".join(part for part in parts if part)


def adopt_measure(session: Session, measure_id: int, body: AdoptRequest, actor: Principal) -> Metric:
    """A draft metric in the department, defined as the other jurisdiction defines the measure."""
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) adopts library measures as metrics.")
    measure = get_measure(session, measure_id)
    department = get_department(session, body.department)
    if session.exec(select(Metric.id).where(Metric.key == body.key)).first() is not None:
        raise Conflict(f"A metric with the key '{body.key}' already exists.")
    unit = body.unit or measure.unit
    if not _UNIT.match(unit):
        raise Unprocessable(
            f"The measure's unit {unit!r} is not a metric unit (lower-case letters and '_'); say which unit to use.",
            errors=[{"field": "unit", "reason": "required for this measure"}],
        )
    if body.rollup is not None:
        rollup = body.rollup
    else:
        try:
            rollup = default_rollup(unit)
        except ValueError:
            # San Francisco's "General" unit covers counts, ratings and ratios alike: summing would be a guess.
            raise Unprocessable(
                f"The unit {unit!r} does not say how periods combine; choose 'rollup' (sum, mean, ratio or last), "
                "or give a 'unit' that does (count, dollars, percent, days...).",
                errors=[{"field": "rollup", "reason": f"required for the unit {unit!r}"}],
            ) from None
    definition = MetricBase(
        key=body.key,
        name=body.name or _cut(measure.name, _METRIC_NAME_WIDTH),
        unit=unit,
        kind=body.kind,
        direction=Direction(measure.direction),
        frequency=body.frequency,
        methodology=_methodology(measure),
        rollup=rollup,
        data_source=f"{measure.source}, {measure.source_code}",
        owner=measure.owner,
    )
    provenance = {
        "source": measure.source,
        "source_code": measure.source_code,
        "source_row": measure.source_row,
        "jurisdiction": measure.jurisdiction,
        "department": measure.department_code,
        "department_name": measure.department_name,
        "unit": measure.unit_text or measure.unit,
        "targets": dict(measure.targets),
        "actuals": dict(measure.actuals),
        "library_measure_id": measure.id,
        "import_id": measure.import_id,
    }
    reason = body.reason or f"Adopted from {measure.jurisdiction}'s measure {measure.source_code}."
    metric = create_metric(
        session,
        department,
        definition,
        state=MetricState.draft,
        actor=actor,
        action="adopted",
        provenance=provenance,
        library_measure_id=measure.id,
        reason=reason,
    )
    record(
        session,
        actor,
        "metric.adopted",
        department=department.code,
        subject=metric.key,
        detail={
            "library_measure_id": measure.id,
            "source": measure.source,
            "source_code": measure.source_code,
            "reason": reason,
        },
    )
    session.flush()
    return metric
