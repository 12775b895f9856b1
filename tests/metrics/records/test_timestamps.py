"""Timestamps of real feeds on their city's clock: every minute of a daylight-saving change follows zoneinfo's
fold=0 rule in every format the reader knows, the hour caches never decide an ambiguous cell, 12-hour edges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.metrics.records.timestamps import time_parser
from tests.metrics.records.test_normalize import NEW_YORK, UTC, ny, simple


def every_minute(day: dt.date):
    start = dt.datetime(day.year, day.month, day.day)
    return [start + dt.timedelta(minutes=m, seconds=m % 60) for m in range(24 * 60)]


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/New_York", dt.date(2017, 3, 12)),  # 02:00-02:59 does not exist
        ("America/New_York", dt.date(2017, 11, 5)),  # 01:00-01:59 happens twice
        ("America/Los_Angeles", dt.date(2020, 3, 8)),
        ("Australia/Lord_Howe", dt.date(2017, 10, 1)),  # a half-hour change, inside the hour
        ("Australia/Lord_Howe", dt.date(2017, 4, 2)),
        ("Asia/Kathmandu", dt.date(2017, 6, 1)),  # +05:45
    ],
)
@pytest.mark.parametrize("fmt", ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "iso8601", "%d.%m.%Y %H:%M:%S"])
def test_local_times_follow_zoneinfo_fold_0_at_every_minute_of_a_dst_change(zone, day, fmt):
    tz = ZoneInfo(zone)
    parse = time_parser([fmt], tz)
    text = "%Y-%m-%dT%H:%M:%S" if fmt == "iso8601" else fmt
    for _ in range(2):  # once filling the hour cache, once reading from it
        for moment in every_minute(day):
            expected = moment.replace(tzinfo=tz).astimezone(UTC)
            assert parse(moment.strftime(text)) == expected, moment


def test_dst_edges_in_new_york_by_the_numbers():
    (skipped, repeated, after) = [
        row.opened_at
        for row in simple(
            "A1,2017-03-12 02:30:00,,,,,,,",
            "A2,2017-11-05 01:30:00,,,,,,,",
            "A3,2017-11-05 02:30:00,,,,,,,",
        )
    ]
    # 02:30 on the spring-forward night does not exist: fold=0 reads it with the offset before the change (EST).
    assert skipped == dt.datetime(2017, 3, 12, 7, 30, tzinfo=UTC)
    # 01:30 on the fall-back night happens twice: fold=0 is the first, still in summer time.
    assert repeated == dt.datetime(2017, 11, 5, 5, 30, tzinfo=UTC)
    assert after == dt.datetime(2017, 11, 5, 7, 30, tzinfo=UTC)


def test_a_format_order_decides_ambiguous_cells_even_with_warm_caches():
    day_first = time_parser(["%d/%m/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p"], NEW_YORK)
    month_first = time_parser(["%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M:%S %p"], NEW_YORK)
    for _ in range(2):
        assert day_first("05/06/2018 10:00:00 AM") == ny(2018, 6, 5, 10)
        assert month_first("05/06/2018 10:00:00 AM") == ny(2018, 5, 6, 10)
        # Only one reading exists for the 25th.
        assert day_first("06/25/2018 10:00:00 AM") == month_first("06/25/2018 10:00:00 AM") == ny(2018, 6, 25, 10)


def test_12_hour_edges():
    parse = time_parser(["%m/%d/%Y %I:%M:%S %p"], NEW_YORK)
    assert parse("01/01/2018 12:00:00 AM") == ny(2018, 1, 1, 0)
    assert parse("01/01/2018 12:59:59 PM") == ny(2018, 1, 1, 12, 59, 59)
    assert parse("01/01/2018 01:00:00 pm") == ny(2018, 1, 1, 13)
    assert parse("1/1/2018 1:00:00 PM") == ny(2018, 1, 1, 13)
    for bad in ["01/01/2018 13:00:00 PM", "01/01/2018 00:30:00 AM", "01/01/2018 10:60:00 AM", "02/30/2018 10:00:00 AM"]:
        assert parse(bad) is None, bad
    # Same date and hour as a cached cell, but minutes no cache may answer.
    assert parse("01/01/2018 12:5x:00 AM") is None
