import datetime
import math
import re
from collections import Counter

import pytest

from services.metrics.demo.city import AS_OF, DemoMetric, build_demo_city
from services.metrics.demo.programme import PUNCTUALITY

CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
KEY = re.compile(r"^[a-z][a-z0-9_.-]{1,79}$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4][0-9]|5[0-3])$")
UNITS = {"percent", "count", "days", "hours", "minutes", "dollars", "tons", "miles"}
DIRECTIONS = {"higher_is_better", "lower_is_better", "closer_is_better"}
JUNE_END = datetime.date(2017, 6, 30)


@pytest.fixture(scope="module")
def city():
    return build_demo_city()


@pytest.fixture(scope="module")
def all_metrics(city):
    return {m.key: m for d in city for m in d.metrics}


@pytest.fixture(scope="module")
def metrics(all_metrics):
    """The agreed monthly and quarterly metrics reported to June 2017: the series the roundtables read."""
    return {k: m for k, m in all_metrics.items() if m.state == "active" and m.frequency in ("month", "quarter")}


def status(value: float, target: float, tolerance: float, direction: str) -> str:
    if direction == "closer_is_better":
        gap = abs(value - target)
        return "on_target" if gap <= tolerance else "near" if gap <= 2 * tolerance else "off_target"
    if direction == "lower_is_better":
        value, target = -value, -target
    if value >= target:
        return "on_target"
    return "near" if value >= target - tolerance else "off_target"


def june_status(metric: DemoMetric) -> str:
    in_force = [t for t in metric.targets if t.effective_from <= JUNE_END]
    last = metric.observations[-1]
    assert last.period in ("2017-06", "2017-Q2")
    return status(last.value, in_force[-1].value, in_force[-1].tolerance, metric.direction)


def period_index(period: str, frequency: str) -> int:
    """Months or quarters since year 0, so that consecutive periods differ by one."""
    pattern, per_year = (MONTH, 12) if frequency == "month" else (QUARTER, 4)
    match = pattern.match(period)
    assert match, f"{period!r} is not a {frequency} period"
    return int(match.group(1)) * per_year + int(match.group(2)) - 1


def test_as_of_is_the_demo_today():
    assert AS_OF == datetime.date(2017, 7, 10)


def test_departments_and_metrics_have_the_expected_shape(city):
    assert 18 <= len(city) <= 22
    codes = [d.code for d in city]
    assert len(set(codes)) == len(codes)
    assert {"DPW", "DWM", "APD", "AFRD", "DPR"} <= set(codes)
    keys = [m.key for d in city for m in d.metrics]
    assert len(set(keys)) == len(keys)
    for department in city:
        assert CODE.match(department.code), department.code
        assert department.name and len(department.name) <= 200
        active = [m for m in department.metrics if m.state == "active"]
        assert 3 <= len(active) <= 8 and len(department.metrics) <= 10, department.code
        for metric in department.metrics:
            assert KEY.match(metric.key), metric.key
            assert metric.unit in UNITS, metric.key
            assert metric.kind in ("output", "outcome"), metric.key
            assert metric.direction in DIRECTIONS, metric.key
            assert metric.frequency in ("week", "month", "quarter"), metric.key
            assert metric.state in ("draft", "proposed", "active", "retired"), metric.key
            assert metric.is_published == (metric.state == "active"), metric.key
            assert (metric.state in ("draft", "proposed")) == (not metric.observations), metric.key
            assert metric.name and len(metric.name) <= 200 and metric.methodology, metric.key
            if metric.unit == "percent":
                assert (metric.min_value, metric.max_value) == (0.0, 1.0), metric.key


def test_every_metric_with_values_has_one_or_two_ascending_targets(city, all_metrics):
    for metric in (m for m in all_metrics.values() if m.observations):
        assert 1 <= len(metric.targets) <= 2, metric.key
        dates = [t.effective_from for t in metric.targets]
        assert dates == sorted(dates) and len(set(dates)) == len(dates), metric.key
        assert dates[0] <= JUNE_END
        for target in metric.targets:
            assert target.tolerance > 0 and math.isfinite(target.value), metric.key
            assert target.set_by and len(target.set_by) <= 200 and target.reason, metric.key
    changed = [m for m in all_metrics.values() if len(m.targets) == 2]
    assert any("Mayor" in m.targets[1].set_by and "Cabinet briefing" in m.targets[1].reason for m in changed)


def test_public_works_on_time_goes_from_57_to_95_percent(metrics):
    series = metrics["dpw.service_requests_on_time"]
    assert (series.unit, series.direction, series.kind) == ("percent", "higher_is_better", "output")
    first, last = series.observations[0], series.observations[-1]
    assert (first.period, first.value) == ("2013-04", 0.57)
    assert (last.period, last.value) == ("2017-06", 0.95)
    assert series.targets[0].value == 0.90 and series.targets[0].tolerance == 0.05


def test_watershed_on_time_goes_from_50_to_91_percent(metrics):
    series = metrics["dwm.service_requests_on_time"]
    first, last = series.observations[0], series.observations[-1]
    assert (first.period, first.value) == ("2014-01", 0.50)
    assert (last.period, last.value) == ("2017-06", 0.91)


def test_both_anchored_series_are_on_target_in_june_2017(metrics):
    assert june_status(metrics["dpw.service_requests_on_time"]) == "on_target"
    assert june_status(metrics["dwm.service_requests_on_time"]) == "on_target"


def test_june_2017_has_problems_to_discuss(metrics):
    statuses = Counter(june_status(m) for m in metrics.values())
    assert statuses["off_target"] >= 3
    assert statuses["near"] >= 2
    assert statuses["on_target"] > statuses["off_target"]


def test_rates_are_exact_fractions_of_whole_numbers(all_metrics):
    for metric in all_metrics.values():
        for obs in metric.observations + metric.unit_observations:
            if metric.unit != "percent":
                assert obs.numerator is None and obs.denominator is None, metric.key
                continue
            assert obs.numerator is not None and obs.denominator is not None, (metric.key, obs.period)
            assert obs.numerator == int(obs.numerator) and obs.denominator == int(obs.denominator)
            assert 0 <= obs.numerator <= obs.denominator and obs.denominator > 0, (metric.key, obs.period)
            assert obs.value == obs.numerator / obs.denominator, (metric.key, obs.period)


def test_values_are_finite_and_within_their_range(all_metrics):
    for metric in all_metrics.values():
        for obs in metric.observations + metric.unit_observations:
            assert math.isfinite(obs.value), (metric.key, obs.period)
            if metric.min_value is not None:
                assert obs.value >= metric.min_value, (metric.key, obs.period)
            if metric.max_value is not None:
                assert obs.value <= metric.max_value, (metric.key, obs.period)
            if metric.unit == "percent":
                assert 0.0 <= obs.value <= 1.0, (metric.key, obs.period)
            if metric.unit == "count":
                assert obs.value >= 0 and obs.value == int(obs.value), (metric.key, obs.period)


def test_periods_are_well_formed_unique_and_end_in_june_2017(city, metrics):
    missed = {(code, month) for code, p in PUNCTUALITY.items() for month in p.missed}
    department_of = {m.key: d.code for d in city for m in d.metrics}
    gaps = 0
    for metric in metrics.values():
        indexes = [period_index(o.period, metric.frequency) for o in metric.observations]
        assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes), metric.key
        last = "2017-06" if metric.frequency == "month" else "2017-Q2"
        assert metric.observations[-1].period == last, metric.key
        first = "2013-01" if metric.frequency == "month" else "2013-Q1"
        assert period_index(metric.observations[0].period, metric.frequency) >= period_index(first, metric.frequency), (
            metric.key
        )
        seen = {o.period for o in metric.observations}
        code = department_of[metric.key]
        expected = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(indexes[0], indexes[-1] + 1)]
        unexplained = [p for p in expected if p not in seen and (code, p) not in missed]
        if metric.frequency == "month":
            # A department's missed month is a gap in every one of its monthly series.
            assert all(p not in seen for c, p in missed if c == code and p in expected), metric.key
            assert len(unexplained) <= 1, metric.key
            gaps += len(unexplained)
        else:
            assert indexes[-1] - indexes[0] + 1 == len(indexes), metric.key
    # Apart from the departments' missed months, a rare missing month keeps the demo honest about late data.
    assert 1 <= gaps <= 2
    assert sum(m.frequency == "quarter" for m in metrics.values()) >= 3


def test_a_retired_metric_stops_before_june_2017(all_metrics):
    retired = [m for m in all_metrics.values() if m.state == "retired"]
    assert retired
    for metric in retired:
        assert metric.observations and period_index(metric.observations[-1].period, "month") < period_index(
            "2017-06", "month"
        ), metric.key


def test_weekly_series_are_iso_weeks_from_2016_to_the_week_of_june_30th(all_metrics):
    weekly = [m for m in all_metrics.values() if m.frequency == "week"]
    assert 2 <= len(weekly) <= 4
    for metric in weekly:
        periods = [o.period for o in metric.observations]
        assert all(WEEK.match(p) for p in periods), metric.key
        assert periods[0] == "2016-W01" and periods[-1] == "2017-W26", metric.key
        # 2016 has 52 ISO weeks, and 2017-W26 is the week that holds June 30th.
        assert len(periods) == len(set(periods)) == 52 + 26, metric.key
        assert datetime.date.fromisocalendar(2017, 26, 1) <= JUNE_END <= datetime.date.fromisocalendar(2017, 26, 7)


def test_the_anchored_series_have_no_gaps(metrics):
    for key in ("dpw.service_requests_on_time", "dwm.service_requests_on_time"):
        indexes = [period_index(o.period, "month") for o in metrics[key].observations]
        assert indexes == list(range(indexes[0], indexes[-1] + 1))


def test_same_seed_gives_the_same_city(city):
    assert build_demo_city() == city
    assert build_demo_city(7) == build_demo_city(7)


def test_another_seed_changes_the_noise_but_not_the_anchors(metrics):
    other = {m.key: m for d in build_demo_city(seed=99) for m in d.metrics if m.key in metrics}
    assert other.keys() == metrics.keys()

    def values(metric: DemoMetric) -> list[tuple[str, float]]:
        return [(o.period, o.value) for o in metric.observations]

    changed = [k for k in metrics if values(metrics[k]) != values(other[k])]
    assert len(changed) > len(metrics) // 2
    anchors = (("dpw.service_requests_on_time", 0.57, 0.95), ("dwm.service_requests_on_time", 0.50, 0.91))
    for key, start, end in anchors:
        assert other[key].observations[0].value == start
        assert other[key].observations[-1].value == end
        assert [o.period for o in other[key].observations] == [o.period for o in metrics[key].observations]


@pytest.mark.parametrize("seed", [0, 1, 42, 12345])
def test_june_2017_statuses_do_not_depend_on_the_seed(metrics, seed):
    other = {m.key: m for d in build_demo_city(seed) for m in d.metrics if m.key in metrics}
    assert {k: june_status(m) for k, m in other.items()} == {k: june_status(m) for k, m in metrics.items()}


def test_seasonal_series_swing_with_the_seasons(metrics):
    # Water mains break in the cold: winter months should average well above summer ones.
    breaks = metrics["dwm.water_main_breaks"].observations
    winter = [o.value for o in breaks if o.period[5:] in ("12", "01", "02")]
    summer = [o.value for o in breaks if o.period[5:] in ("06", "07", "08")]
    assert sum(winter) / len(winter) > 1.2 * sum(summer) / len(summer)
