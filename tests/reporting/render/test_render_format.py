"""How a briefing writes numbers, changes, statuses and periods."""

from __future__ import annotations

import datetime as dt

import pytest

from services.reporting.briefings.snapshot import Change, Status
from services.reporting.render import format as fmt


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.95, "percent", "95%"),
        (0.874, "percent", "87.4%"),
        (1.0, "percent", "100%"),
        (1234.0, "count", "1,234"),
        (1234.56, "number", "1,234.6"),
        (3.2, "days", "3.2 days"),
        (1.0, "days", "1 day"),
        (6.4, "minutes", "6.4 minutes"),
        (1_234_567.0, "dollars", "$1,234,567"),
        (54.321, "dollars", "$54.32"),
        (-1200.0, "dollars", "-$1,200"),
        (12.0, "service_requests", "12 service requests"),
        (-0.01, "count", "0"),
        (None, "percent", "—"),
        (float("nan"), "count", "—"),
    ],
)
def test_values_are_written_in_their_unit(value, unit, shown):
    assert fmt.format_value(value, unit) == shown


@pytest.mark.parametrize(
    ("ticks", "unit", "step", "labels"),
    [
        ([0.0, 0.25, 0.5, 0.75, 1.0], "percent", 0.25, ["0%", "25%", "50%", "75%", "100%"]),
        ([0.86, 0.88, 0.9], "percent", 0.02, ["86%", "88%", "90%"]),
        ([0.9, 0.925, 0.95], "percent", 0.025, ["90%", "92.5%", "95%"]),
        ([0.0, 500.0, 1000.0, 1500.0], "count", 500.0, ["0", "500", "1,000", "1,500"]),
        ([0.0, 1e6, 2e6, 3e6], "count", 1e6, ["0", "1M", "2M", "3M"]),
        ([0.0, 2.0, 4.0, 6.0], "days", 2.0, ["0 d", "2 d", "4 d", "6 d"]),
        ([3.0, 3.2, 3.4], "days", 0.2, ["3 d", "3.2 d", "3.4 d"]),
        ([0.0, 5e5, 1e6, 1.5e6], "dollars", 5e5, ["$0", "$0.5M", "$1M", "$1.5M"]),
        ([1.1e6, 1.2e6, 1.3e6], "dollars", 1e5, ["$1.1M", "$1.2M", "$1.3M"]),
        ([0.0, 50.0, 100.0], "dollars", 50.0, ["$0", "$50", "$100"]),
    ],
)
def test_axis_ticks_are_short_and_as_precise_as_their_step(ticks, unit, step, labels):
    assert fmt.format_ticks(ticks, unit, step) == labels


def test_changes_read_as_points_for_rates_and_with_their_share_otherwise():
    assert fmt.format_absolute_change(0.031, "percent") == "+3.1 points"
    assert fmt.format_absolute_change(-0.026, "percent") == "-2.6 points"
    assert fmt.format_absolute_change(0.01, "percent") == "+1 point"
    assert fmt.format_absolute_change(0.0002, "percent") == "No change"
    assert fmt.format_absolute_change(-1200.0, "dollars") == "-$1,200"
    assert fmt.format_absolute_change(2.0, "days") == "+2 days"
    assert fmt.format_absolute_change(None, "days") is None
    assert fmt.format_relative_change(0.12) == "+12%"
    assert fmt.format_relative_change(-0.032) == "-3.2%"
    assert fmt.format_relative_change(None) is None

    rate = Change(base_period="2016", base_value=0.874, absolute=0.031, relative=0.0355, judgement="improving")
    assert fmt.format_change(rate, "percent") == "+3.1 points"  # a relative change of a rate only confuses
    count = Change(base_period="2017-05", base_value=2833.0, absolute=340.0, relative=0.12)
    assert fmt.format_change(count, "count") == "+340 (+12%)"
    flat = Change(base_period="2017-05", base_value=10.0, absolute=0.0, relative=0.0)
    assert fmt.format_change(flat, "count") == "No change"
    assert fmt.format_change(None, "count") is None


def test_tolerances_are_distances():
    assert fmt.format_tolerance(0.02, "percent") == "2 points"
    assert fmt.format_tolerance(0.5, "days") == "0.5 days"
    assert fmt.format_tolerance(None, "days") == "—"


def test_status_labels_cover_every_status():
    assert [fmt.status_label(s) for s in Status] == ["On target", "Near target", "Off target", "No target", "Missing"]
    assert all(fmt.status_icon(s) for s in Status)


@pytest.mark.parametrize(
    ("period", "long", "short"),
    [
        ("2017-06", "June 2017", "Jun 2017"),
        ("2017-Q2", "Q2 2017", "Q2 2017"),
        ("2017-W23", "Week 23, 2017", "W23 2017"),
        ("2017-W05", "Week 5, 2017", "W5 2017"),
        ("2017", "2017", "2017"),
        ("2017-13", "2017-13", "2017-13"),
        ("not a period", "not a period", "not a period"),
    ],
)
def test_periods_are_named_for_people(period, long, short):
    assert fmt.period_label(period) == long
    assert fmt.period_label(period, short=True) == short


def test_times_are_printed_in_utc_whatever_their_offset():
    eastern = dt.timezone(dt.timedelta(hours=-4))
    moment = dt.datetime(2017, 7, 10, 10, 5, tzinfo=eastern)
    assert fmt.datetime_label(moment) == "July 10, 2017, 14:05 UTC"
    assert fmt.datetime_label(dt.datetime(2017, 7, 10, 14, 5)) == "July 10, 2017, 14:05 UTC"
    assert fmt.iso_datetime(moment) == "2017-07-10T14:05:00Z"
    assert fmt.date_label(dt.date(2017, 1, 2)) == "January 2, 2017"
