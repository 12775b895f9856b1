"""A metric's series as a download: each period of its own frequency at department level, with the target in force,
the status against it (performance's rule, not a copy of it) and whether the value is still provisional.

Which periods: from the first to the last period that has a value, over the whole series. A period between them
without a value is a row with status `missing`; no row is made up before the series began or after its latest value,
so a retired metric does not grow missing periods for ever and the download changes only when its data does (the
value not yet in for the last complete period is what /metrics/{key}/performance reports). `start` and `end` then keep
the periods whose first day falls from start's first day to end's last day, the window of /metrics/{key}/observations,
so a windowed download is always a slice of the whole one.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.periods import Frequency, Period, periods_between
from services.metrics.approvals.service import approved_months, is_approved
from services.metrics.definitions.models import Direction, Metric, Target
from services.metrics.definitions.service import get_visible_metric, target_in_force, targets_of
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation
from services.metrics.observations.service import newest_revision_ids
from services.metrics.performance.service import status_of
from services.metrics.priorities.models import MetricPriority
from services.metrics.series.schemas import CSV_FIELDS, SeriesDownload, SeriesMetric, SeriesRow


def _plain(number: float) -> float:
    # A percent tolerance becomes units by a product (5% of 0.9 is 0.045000000000000005): written with the 15
    # significant digits a double holds exactly, it reads as the 0.045 it means.
    return float(f"{number:.15g}")


def _metric(session: Session, metric: Metric, department: Department) -> SeriesMetric:
    is_key = session.exec(
        select(MetricPriority.metric_id).where(MetricPriority.metric_id == metric.id, MetricPriority.is_key)
    ).first()
    return SeriesMetric(
        key=metric.key,
        name=metric.name,
        department=department.code,
        unit=metric.unit,
        kind=metric.kind,
        direction=metric.direction,
        frequency=metric.frequency,
        methodology=metric.methodology or None,
        is_key=is_key is not None,
    )


def _row(period: Period, found: Any, targets: list[Target], direction: Direction, months) -> SeriesRow:
    target = target_in_force(targets, period.end)
    tolerance = target.tolerance_in_units() if target else None
    value = found.value if found else None
    return SeriesRow(
        period=str(period),
        period_start=period.start,
        period_end=period.end,
        value=value,
        numerator=found.numerator if found else None,
        denominator=found.denominator if found else None,
        target=target.value if target else None,
        tolerance=_plain(tolerance) if tolerance is not None else None,
        status=status_of(value, target.value if target else None, tolerance or 0.0, direction),
        # Only a value can be provisional: with none there is nothing to approve.
        provisional=None if found is None else not is_approved(period, months),
        revision=found.revision if found else None,
    )


def series_download(
    session: Session, key: str, start: str | None, end: str | None, viewer: Principal | None = None
) -> tuple[SeriesDownload, bool]:
    """The download, and whether the metric is published (its answer the same for everyone who may see it)."""
    metric, department = get_visible_metric(session, key, viewer)
    frequency = Frequency(metric.frequency)
    newest = newest_revision_ids([metric.id], "")
    rows = session.execute(
        select(Observation.period, Observation.value, Observation.numerator, Observation.denominator, newest.c.revision)
        .outerjoin(newest, newest.c.period == Observation.period)
        .where(Observation.metric_id == metric.id, Observation.org_unit == "")
    ).all()
    values = {Period.parse(r.period): r for r in rows}
    # Submissions only accept the metric's own periods; anything else would not step into one series.
    values = {period: r for period, r in values.items() if period.frequency is frequency}
    items: list[SeriesRow] = []
    if values:
        targets = targets_of(session, [metric.id])[metric.id]
        months = approved_months(session, [metric.department_id])[metric.department_id]
        low = Period.parse(start).start if start else None
        high = Period.parse(end).end if end else None
        direction = Direction(metric.direction)
        for period in periods_between(min(values), max(values)):
            if (low is not None and period.start < low) or (high is not None and period.start > high):
                continue
            items.append(_row(period, values.get(period), targets, direction, months))
    download = SeriesDownload(metric=_metric(session, metric, department), items=items, total=len(items))
    return download, metric.is_published


def to_json(download: SeriesDownload) -> bytes:
    # As FastAPI's JSONResponse writes it: floats by repr, which the CSV below writes the same way.
    return json.dumps(
        download.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # Numbers and booleans exactly as the JSON has them: 0.95, 12.0, 1e-05, true.
    return json.dumps(value)


def to_csv(download: SeriesDownload) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for item in download.items:
        fields = item.model_dump(mode="json")
        writer.writerow([_cell(fields[name]) for name in CSV_FIELDS])
    return out.getvalue().encode()
