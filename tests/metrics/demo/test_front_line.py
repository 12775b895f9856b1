"""Org units and their weekly front-line values: Public Works' yards, Watershed's plants.

The department's weekly value must be the roll-up of its units (the sum of a count, the ratio of the summed
numerators and denominators of a rate), recomputed here with plain arithmetic rather than the roll-up module."""

import datetime as dt
import re
from collections import defaultdict

import pytest

from services.metrics.demo.city import build_demo_city
from services.metrics.orgunits.schemas import ORG_UNIT_PATTERN

KINDS = {"division", "facility", "plant", "yard", "district"}


@pytest.fixture(scope="module")
def city():
    return {d.code: d for d in build_demo_city()}


@pytest.fixture(scope="module")
def weekly(city):
    return {m.key: (d, m) for d in city.values() for m in d.metrics if m.frequency == "week"}


def week_days(period: str) -> list[dt.date]:
    year, week = int(period[:4]), int(period[6:])
    return [dt.date.fromisocalendar(year, week, day) for day in range(1, 8)]


def test_public_works_has_yards_and_watershed_has_plants(city):
    yards = [u for u in city["DPW"].org_units if u.kind == "yard"]
    plants = {u.code for u in city["DWM"].org_units if u.kind == "plant"}
    assert 3 <= len(yards) <= 6
    assert {"HEMPHILL", "CHATTAHOOCHEE", "RM-CLAYTON", "SOUTH-RIVER"} <= plants


def test_org_units_are_well_formed_and_their_parents_come_first(city):
    for department in city.values():
        seen: dict[str, str] = {}
        for unit in department.org_units:
            assert re.match(ORG_UNIT_PATTERN, unit.code) and unit.code != department.code, unit.code
            assert unit.kind in KINDS and unit.name and len(unit.name) <= 200, unit.code
            assert unit.code not in seen, unit.code
            if unit.parent is not None:
                assert seen.get(unit.parent) == "division", unit.code
            seen[unit.code] = unit.kind


def test_two_or_three_weekly_metrics_each_reported_by_every_front_line_unit_every_week(city, weekly):
    assert 2 <= len(weekly) <= 3
    assert {d.code for d, _ in weekly.values()} == {"DPW", "DWM"}
    for key, (department, metric) in weekly.items():
        leaves = {u.code for u in department.org_units if u.kind in ("yard", "plant")}
        by_week = defaultdict(list)
        for obs in metric.unit_observations:
            by_week[obs.period].append(obs.org_unit)
        assert list(by_week) == [o.period for o in metric.observations], key
        units = set(by_week[metric.observations[0].period])
        assert len(units) >= 2 and units <= leaves, key
        for period, reporting in by_week.items():
            assert sorted(reporting) == sorted(units), (key, period)


def test_each_weeks_department_value_is_the_roll_up_of_its_units(weekly):
    for key, (_, metric) in weekly.items():
        units = defaultdict(list)
        for obs in metric.unit_observations:
            units[obs.period].append(obs)
        for obs in metric.observations:
            parts = units[obs.period]
            if metric.unit == "percent":
                numerator = sum(p.numerator for p in parts)
                denominator = sum(p.denominator for p in parts)
                assert (obs.numerator, obs.denominator) == (numerator, denominator), (key, obs.period)
                assert obs.value == numerator / denominator, (key, obs.period)
                # The ratio of sums, not the mean of the units' ratios (which differ: the plants' sizes differ).
                assert min(p.value for p in parts) <= obs.value <= max(p.value for p in parts), (key, obs.period)
            else:
                assert obs.value == sum(p.value for p in parts), (key, obs.period)
                assert obs.numerator is None and obs.denominator is None, (key, obs.period)
    mean_of_ratios_differs = any(
        obs.value != sum(p.value for p in parts) / len(parts)
        for _, metric in weekly.values()
        if metric.unit == "percent"
        for obs in metric.observations
        for parts in [[u for u in metric.unit_observations if u.period == obs.period]]
    )
    assert mean_of_ratios_differs


def test_weekly_potholes_count_the_same_repairs_as_the_monthly_series(city, weekly):
    _, weekly_potholes = weekly["dpw.potholes_repaired_weekly"]
    monthly = {
        o.period: o.value for o in next(m for m in city["DPW"].metrics if m.key == "dpw.potholes_repaired").observations
    }
    weeks = {o.period: o.value for o in weekly_potholes.observations}
    checked = 0
    for month, total in monthly.items():
        year, number = int(month[:4]), int(month[5:])
        first = dt.date(year, number, 1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        touching = [w for w in weeks if any(first <= d <= last for d in week_days(w))]
        inside = [w for w in touching if all(first <= d <= last for d in week_days(w))]
        if not touching or min(week_days(min(touching))) > first or max(week_days(max(touching))) < last:
            continue  # the weekly series does not cover the whole month
        # The weeks inside the month hold some of its repairs; the weeks touching it hold all of them and more.
        assert sum(weeks[w] for w in inside) <= total <= sum(weeks[w] for w in touching), month
        checked += 1
    assert checked >= 15


def test_yards_share_the_work_and_plants_pass_most_samples(weekly):
    _, potholes = weekly["dpw.potholes_repaired_weekly"]
    totals = defaultdict(float)
    for obs in potholes.unit_observations:
        totals[obs.org_unit] += obs.value
    grand = sum(totals.values())
    assert all(0.1 <= t / grand <= 0.45 for t in totals.values()), totals
    for key in ("dwm.drinking_water_samples_passed", "dwm.effluent_samples_in_limits"):
        _, metric = weekly[key]
        assert all(0.85 <= o.value <= 1.0 for o in metric.unit_observations), key
        assert any(o.value < 1.0 for o in metric.unit_observations), key
