"""A Cabinet briefing: the 3-6 metrics the analyst chose (from the suggestions, swapped, reordered or added), each
with its commissioner's explanation, in the order given."""

from __future__ import annotations

import asyncio

from services.common.periods import Period
from services.reporting.briefings.build.common import Reader, Selection, latest_within, refuse
from services.reporting.briefings.snapshot import MetricPanel
from services.reporting.clients.metrics import Performance

REASONS = {"off_target", "mover", "signal", "chosen"}


def check_selection(selection: list[Selection]) -> None:
    keys = [s.metric for s in selection]
    if len(set(keys)) != len(keys):
        raise refuse("selection", "a metric is selected twice")
    for item in selection:
        if item.reason is not None and item.reason not in REASONS:
            raise refuse("selection", f"'{item.reason}' is not a reason (one of {', '.join(sorted(REASONS))})")


async def cabinet_panels(reader: Reader, month: Period, selection: list[Selection]) -> list[MetricPanel]:
    check_selection(selection)
    performance = await asyncio.gather(*(_performance(reader, month, item.metric) for item in selection))
    extras = [{"explanation": item.explanation, "reason": item.reason} for item in selection]
    return await reader.panels(list(performance), extras)


async def _performance(reader: Reader, month: Period, key: str) -> Performance:
    # The definition first: its frequency says which period is the month's, and a metric that does not exist (or
    # that the reader may not see) is metrics' 404.
    reader.expect(1)
    metric = await reader.one(reader.metrics.metric(key))
    reader.expect(1)
    return await reader.one(reader.metrics.metric_performance(key, str(latest_within(month.end, metric.frequency))))
