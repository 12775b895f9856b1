import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.periods import Frequency, Period, PeriodError, last_complete_period, periods_between


@pytest.mark.parametrize(
    ("text", "frequency", "start", "end"),
    [
        ("2017-06", Frequency.month, dt.date(2017, 6, 1), dt.date(2017, 6, 30)),
        ("2017-Q2", Frequency.quarter, dt.date(2017, 4, 1), dt.date(2017, 6, 30)),
        ("2017-W23", Frequency.week, dt.date(2017, 6, 5), dt.date(2017, 6, 11)),
        ("2017", Frequency.year, dt.date(2017, 1, 1), dt.date(2017, 12, 31)),
        ("2016-02", Frequency.month, dt.date(2016, 2, 1), dt.date(2016, 2, 29)),
    ],
)
def test_parse_gives_frequency_and_bounds(text, frequency, start, end):
    period = Period.parse(text)
    assert (period.frequency, period.start, period.end, str(period)) == (frequency, start, end, text)


@pytest.mark.parametrize(
    "text", ["2017-13", "2017-00", "2017-Q5", "2017-W54", "2017-W53", "17-06", "2017-6", "0000", ""]
)
def test_malformed_periods_are_refused(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_week_53_exists_only_in_long_years():
    assert str(Period.parse("2015-W53")) == "2015-W53"
    assert Period.parse("2015-W53").next() == Period.parse("2016-W01")


def test_last_complete_period_for_the_demo_date():
    as_of = dt.date(2017, 7, 10)
    assert str(last_complete_period(as_of, Frequency.month)) == "2017-06"
    assert str(last_complete_period(as_of, Frequency.quarter)) == "2017-Q2"
    assert str(last_complete_period(as_of, Frequency.year)) == "2016"


def test_periods_between_is_inclusive():
    months = periods_between(Period.parse("2016-11"), Period.parse("2017-02"))
    assert [str(p) for p in months] == ["2016-11", "2016-12", "2017-01", "2017-02"]


@given(day=st.dates(dt.date(1901, 1, 1), dt.date(2190, 12, 31)), frequency=st.sampled_from(list(Frequency)))
def test_periods_tile_the_calendar(day, frequency):
    period = Period.containing(day, frequency)
    assert period.start <= day <= period.end
    assert Period.parse(str(period)) == period
    assert period.next().start == period.end + dt.timedelta(days=1)
    assert period.next().previous() == period
