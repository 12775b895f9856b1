"""The demo city's raw service requests: the on-time metrics computed from them are, month by month, the demo's
own series (57% to 95% for Public Works, 50% to 91% for Watershed), and the records look like a city's."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import func, select

from services.metrics.definitions.models import Metric
from services.metrics.demo.city import build_demo_city
from services.metrics.demo.load import load_demo
from services.metrics.demo.records import COMPUTED_METRICS, expected_records
from services.metrics.observations.models import Observation
from services.metrics.records.models import RawRecord


@pytest.fixture
def loaded(metrics_db, settings):
    steps = []
    result = load_demo(metrics_db, settings=settings, multiplier=1, progress=lambda *step: steps.append(step))
    return result, steps


def test_the_computed_on_time_rates_are_the_demo_series_and_the_records_a_citys(loaded, metrics_db):
    result, steps = loaded
    city = build_demo_city(2017)
    assert result.records == expected_records(city, 1) > 100_000
    # Progress reached the end of both stages.
    assert steps[-1] == ("service requests", result.records, result.records)
    series = {m.key: m for d in city for m in d.metrics if m.key in COMPUTED_METRICS.values()}
    with metrics_db.session(write=False) as s:
        for key, demo in series.items():
            metric = s.exec(select(Metric).where(Metric.key == key)).one()
            assert metric.is_computed and metric.rule["measure"] == "on_time_rate"
            values = {
                o.period: o.value
                for o in s.exec(
                    select(Observation).where(Observation.metric_id == metric.id, Observation.org_unit == "")
                )
            }
            assert values == {o.period: pytest.approx(o.value, abs=1e-9) for o in demo.observations}, key
    dpw, dwm = series["dpw.service_requests_on_time"], series["dwm.service_requests_on_time"]
    assert (dpw.observations[0].value, dpw.observations[-1].value) == (0.57, 0.95)
    assert (dwm.observations[0].value, dwm.observations[-1].value) == (0.50, 0.91)

    # And the records look like a city's: places, a working day's hours, a backlog.
    with metrics_db.session(write=False) as s:
        still_open = s.exec(select(func.count()).select_from(RawRecord).where(RawRecord.closed_at.is_(None))).one()
        hours = Counter(s.exec(select(RawRecord.opened_hour).where(RawRecord.department == "DPW")))
        districts = set(s.exec(select(RawRecord.district).distinct()))
    assert still_open > 0
    assert len(districts) == 12
    # Requests come in during the working day.
    assert hours[10] > 3 * hours[3]
