"""A roundtable pack: for 1-3 departments, every active metric with its status and chart, how complete and timely
their data is, the data-quality notes and open questions on it, and the commitments and action items to review."""

from __future__ import annotations

import asyncio

from services.common.periods import Period
from services.reporting.briefings.build.common import ROUNDTABLE_MAX_DEPARTMENTS, Reader, refuse
from services.reporting.briefings.snapshot import AnnotationLine, CompletenessLine, MetricPanel
from services.reporting.clients.metrics import Annotation, Completeness, Performance

# A data-quality note has no "resolved" state: the pack shows those on the year up to its month, where they still
# bear on the numbers discussed. Questions to the department are open until it answers them, whenever asked.
NOTE_MONTHS = 12
NOT_IN = ("missing", "due")


def departments_of(codes: list[str]) -> list[str]:
    unique = list(dict.fromkeys(codes))
    if len(unique) != len(codes):
        raise refuse("departments", "a department is named twice")
    if not 1 <= len(unique) <= ROUNDTABLE_MAX_DEPARTMENTS:
        raise refuse("departments", f"a roundtable reviews 1 to {ROUNDTABLE_MAX_DEPARTMENTS} departments")
    return unique


async def roundtable_parts(
    reader: Reader, month: Period, departments: list[str]
) -> tuple[list[MetricPanel], list[CompletenessLine], list[AnnotationLine]]:
    metrics = reader.metrics
    performance = await asyncio.gather(*(reader.month_performance(month, code) for code in departments))
    ordered = [p for items in performance for p in _ordered(items)]
    first_note = str(month.shift(-(NOTE_MONTHS - 1)))
    panels, completeness, notes, questions = await asyncio.gather(
        reader.panels(ordered),
        reader.all(metrics.completeness(code, start=str(month), end=str(month)) for code in departments),
        reader.all(metrics.annotations(code, kind="data_quality") for code in departments),
        reader.all(metrics.annotations(code, kind="question", open_only=True) for code in departments),
    )
    lines = [_completeness(code, report) for code, report in zip(departments, completeness, strict=True)]
    window = (Period.parse(first_note).start, month.end)
    recent = [a for items in notes for a in items if _within(a.period, window)]
    annotations = [_annotation(a) for a in sorted(recent + [q for items in questions for q in items], key=_when)]
    return panels, lines, annotations


def _ordered(items: list[Performance]) -> list[Performance]:
    # Key metrics lead, as on the department's scorecard; metrics keeps the rest in key order.
    return sorted(items, key=lambda p: not p.is_key)


def _completeness(code: str, report: Completeness) -> CompletenessLine:
    entries = [(m.metric, e) for m in report.metrics or [] for e in m.values]
    counts = {status: sum(1 for _, e in entries if e.status == status) for status in ("on_time", "late")}
    return CompletenessLine(
        department=code,
        expected=len(entries),
        received=counts["on_time"] + counts["late"],
        on_time=counts["on_time"],
        late=counts["late"],
        missing=sorted(f"{metric} {e.period}" for metric, e in entries if e.status in NOT_IN),
    )


def _within(period: str, window) -> bool:
    parsed = Period.parse(period)
    return window[0] <= parsed.end <= window[1]


def _when(a: Annotation):
    return (a.at, a.id)


def _annotation(a: Annotation) -> AnnotationLine:
    return AnnotationLine(
        metric=a.metric, period=a.period, kind=a.kind, text=a.body, author=a.actor_name or a.actor, created_at=a.at
    )
