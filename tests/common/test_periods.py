import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.common.periods import (
    DEFAULT_FISCAL_START_MONTH,
    PERIOD_PATTERN,
    QUERY_PERIOD_PATTERN,
    Frequency,
    Period,
    PeriodError,
    PeriodText,
    frequency_nests,
    last_complete_period,
    periods_between,
)

# Deterministic so that CI fails or passes the same way every run; small enough that the file takes seconds.
PROPERTY = settings(max_examples=150, derandomize=True, deadline=None)
DAYS = st.dates(dt.date(1901, 1, 1), dt.date(2190, 12, 31))
FISCAL_STARTS = st.integers(1, 12)
FREQUENCIES = st.sampled_from(list(Frequency))


@st.composite
def periods(draw, frequencies=FREQUENCIES):
    return Period.containing(draw(DAYS), draw(frequencies), draw(FISCAL_STARTS))


def months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


@pytest.mark.parametrize(
    ("text", "frequency", "start", "end"),
    [
        ("2017-06", Frequency.month, dt.date(2017, 6, 1), dt.date(2017, 6, 30)),
        ("2017-Q2", Frequency.quarter, dt.date(2017, 4, 1), dt.date(2017, 6, 30)),
        ("2017-W23", Frequency.week, dt.date(2017, 6, 5), dt.date(2017, 6, 11)),
        ("2017", Frequency.year, dt.date(2017, 1, 1), dt.date(2017, 12, 31)),
        ("2016-02", Frequency.month, dt.date(2016, 2, 1), dt.date(2016, 2, 29)),
        ("FY2017", Frequency.fiscal_year, dt.date(2016, 7, 1), dt.date(2017, 6, 30)),
    ],
)
def test_parse_gives_frequency_and_bounds(text, frequency, start, end):
    period = Period.parse(text)
    assert (period.frequency, period.start, period.end, str(period)) == (frequency, start, end, text)


@pytest.mark.parametrize(
    "text",
    [
        "2017-13", "2017-00", "2017-Q5", "2017-W54", "2017-W53", "17-06", "2017-6", "0000", "",
        "FY17", "fy2017", "Fy2017", "FY2017 ", " FY2017", "FY2017\n", "2017\n", "FY-2017", "FY 2017", "2017FY",
        "FY1899", "FY2200", "FY２０１７", "２０１７", "FY2017-06",
    ],
)  # fmt: skip
def test_malformed_periods_are_refused(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


@pytest.mark.parametrize("fiscal_start", [0, 13, -1, 7.0, "7", True])
def test_a_fiscal_start_month_outside_1_to_12_is_refused(fiscal_start):
    with pytest.raises(PeriodError):
        Period.parse("FY2017", fiscal_start=fiscal_start)
    with pytest.raises(PeriodError):
        Period.containing(dt.date(2017, 1, 1), Frequency.fiscal_year, fiscal_start)


def test_week_53_exists_only_in_long_years():
    assert str(Period.parse("2015-W53")) == "2015-W53"
    assert Period.parse("2015-W53").next() == Period.parse("2016-W01")


def test_last_complete_period_for_the_demo_date():
    as_of = dt.date(2017, 7, 10)
    assert str(last_complete_period(as_of, Frequency.month)) == "2017-06"
    assert str(last_complete_period(as_of, Frequency.quarter)) == "2017-Q2"
    assert str(last_complete_period(as_of, Frequency.year)) == "2016"
    assert last_complete_period(as_of, Frequency.fiscal_year) == Period.parse("FY2017")
    # The federal FY2017 runs until 2017-09-30, so on 2017-07-10 the last one over is FY2016.
    assert last_complete_period(as_of, Frequency.fiscal_year, fiscal_start=10) == Period.parse("FY2016", 10)
    assert last_complete_period(as_of, Frequency.fiscal_year, fiscal_start=1) == Period.parse("FY2016", 1)


def test_periods_between_is_inclusive():
    months = periods_between(Period.parse("2016-11"), Period.parse("2017-02"))
    assert [str(p) for p in months] == ["2016-11", "2016-12", "2017-01", "2017-02"]
    assert periods_between(Period.parse("2017-02"), Period.parse("2016-11")) == []


def test_periods_between_different_frequencies_is_refused_rather_than_endless():
    with pytest.raises(PeriodError):
        periods_between(Period.parse("2016-11"), Period.parse("2017-Q1"))
    with pytest.raises(PeriodError):
        periods_between(Period.parse("FY2016", 7), Period.parse("FY2017", 10))


# ---------------------------------------------------------------------------------------------------------------
# Fiscal years
# ---------------------------------------------------------------------------------------------------------------


def test_atlanta_fiscal_year_starts_in_july_and_is_named_by_the_year_it_ends():
    assert DEFAULT_FISCAL_START_MONTH == 7
    fy2017 = Period.parse("FY2017")
    assert (fy2017.start, fy2017.end, fy2017.fiscal_start) == (dt.date(2016, 7, 1), dt.date(2017, 6, 30), 7)
    assert Period.containing(dt.date(2016, 7, 1), Frequency.fiscal_year) == fy2017
    assert Period.containing(dt.date(2016, 6, 30), Frequency.fiscal_year) == Period.parse("FY2016")
    assert fy2017.next().start == dt.date(2017, 7, 1)
    assert str(fy2017.previous()) == "FY2016"


def test_a_month_rolls_up_into_the_fiscal_year_it_falls_in():
    assert Period.parse("2016-07").parent(Frequency.fiscal_year) == Period.parse("FY2017")
    assert Period.parse("2016-06").parent(Frequency.fiscal_year) == Period.parse("FY2016")
    assert Period.parse("2017-06").parent(Frequency.fiscal_year) == Period.parse("FY2017")
    assert Period.parse("2016-07").parent(Frequency.fiscal_year, fiscal_start=10) == Period.parse("FY2016", 10)


def test_fiscal_start_1_makes_the_fiscal_year_the_calendar_year():
    fy2017 = Period.parse("FY2017", fiscal_start=1)
    year = Period.parse("2017")
    assert (fy2017.start, fy2017.end) == (year.start, year.end)
    assert fy2017.children(Frequency.quarter) == year.children(Frequency.quarter)
    assert year.parent(Frequency.fiscal_year, fiscal_start=1) == fy2017
    assert fy2017.parent(Frequency.year) == year
    with pytest.raises(PeriodError):
        year.parent(Frequency.fiscal_year)  # Atlanta's fiscal years cut calendar years in two


def test_us_federal_fiscal_year_starts_in_october():
    fy2017 = Period.parse("FY2017", fiscal_start=10)
    assert (fy2017.start, fy2017.end) == (dt.date(2016, 10, 1), dt.date(2017, 9, 30))
    assert [str(q) for q in fy2017.children(Frequency.quarter)] == ["2016-Q4", "2017-Q1", "2017-Q2", "2017-Q3"]
    assert Period.parse("2016-Q4").parent(Frequency.fiscal_year, fiscal_start=10) == fy2017
    assert Period.parse("2016-Q3").parent(Frequency.fiscal_year, fiscal_start=10) == Period.parse("FY2016", 10)


def test_the_same_fiscal_year_text_with_different_start_months_is_different_periods():
    atlanta, federal = Period.parse("FY2017"), Period.parse("FY2017", fiscal_start=10)
    assert atlanta != federal
    assert str(atlanta) == str(federal) == "FY2017"
    with pytest.raises(PeriodError):
        atlanta.steps_to(federal)
    with pytest.raises(PeriodError):
        atlanta.parent(Frequency.fiscal_year, fiscal_start=10)


def test_the_start_month_only_matters_to_fiscal_years():
    assert Period(Frequency.month, 2017, 6, fiscal_start=10) == Period(Frequency.month, 2017, 6)
    assert Period.parse("2017-06", fiscal_start=10) == Period.parse("2017-06")
    assert Period("month", 2017, 6).frequency is Frequency.month


@pytest.mark.parametrize(
    ("frequency", "year", "number"),
    [
        (Frequency.month, 2017, 13), (Frequency.month, 2017, 0), (Frequency.quarter, 2017, 5),
        (Frequency.week, 2017, 53), (Frequency.year, 2017, 2), (Frequency.fiscal_year, 2017, 0),
        ("fortnight", 2017, 1), (Frequency.year, 10000, 1), (Frequency.month, 2017, 6.0),
    ],
)  # fmt: skip
def test_a_period_that_does_not_exist_cannot_be_built(frequency, year, number):
    with pytest.raises(PeriodError):
        Period(frequency, year, number)


# ---------------------------------------------------------------------------------------------------------------
# Nesting and arithmetic, by example
# ---------------------------------------------------------------------------------------------------------------


def test_a_quarter_is_three_months_and_a_year_four_quarters():
    assert [str(m) for m in Period.parse("2017-Q2").children(Frequency.month)] == ["2017-04", "2017-05", "2017-06"]
    assert [str(q) for q in Period.parse("2017").children(Frequency.quarter)] == [f"2017-Q{n}" for n in range(1, 5)]
    assert len(Period.parse("2017").children(Frequency.month)) == 12
    fy_months = Period.parse("FY2017").children(Frequency.month)
    assert [str(fy_months[0]), str(fy_months[-1]), len(fy_months)] == ["2016-07", "2017-06", 12]
    may = Period.parse("2017-05")
    assert [str(may.parent(f)) for f in Frequency if f is not Frequency.week] == [
        "2017-05", "2017-Q2", "2017", "FY2017"
    ]  # fmt: skip


def test_quarters_roll_up_into_fiscal_years_only_when_these_start_with_a_quarter():
    q = Period.parse("2017-Q2")
    assert [q.parent(Frequency.fiscal_year, fiscal_start=s).start for s in (1, 4, 7, 10)] == [
        dt.date(2017, 1, 1), dt.date(2017, 4, 1), dt.date(2016, 7, 1), dt.date(2016, 10, 1)
    ]  # fmt: skip
    for start in (2, 3, 5, 6, 8, 9, 11, 12):
        with pytest.raises(PeriodError):
            q.parent(Frequency.fiscal_year, fiscal_start=start)
        with pytest.raises(PeriodError):
            Period.parse("FY2017", fiscal_start=start).children(Frequency.quarter)


def test_weeks_roll_up_into_nothing_but_weeks():
    week = Period.parse("2017-W23")
    assert week.parent(Frequency.week) == week
    assert week.children(Frequency.week) == [week]
    for frequency in (Frequency.month, Frequency.quarter, Frequency.year, Frequency.fiscal_year):
        with pytest.raises(PeriodError, match="ISO weeks"):
            week.parent(frequency)
        with pytest.raises(PeriodError, match="ISO weeks"):
            Period.containing(week.start, frequency).children(Frequency.week)


def test_a_coarser_period_has_no_finer_parent():
    with pytest.raises(PeriodError):
        Period.parse("2017").parent(Frequency.quarter)
    with pytest.raises(PeriodError):
        Period.parse("2017-Q2").children(Frequency.year)
    with pytest.raises(PeriodError):
        Period.parse("FY2017").parent(Frequency.year)


def test_contains_takes_periods_and_days():
    fy2017 = Period.parse("FY2017")
    assert fy2017.contains(Period.parse("2016-07")) and fy2017.contains(Period.parse("2017-Q2"))
    assert not fy2017.contains(Period.parse("2016-Q2")) and not fy2017.contains(Period.parse("2017"))
    assert fy2017.contains(dt.date(2017, 6, 30)) and not fy2017.contains(dt.date(2017, 7, 1))
    # Days, not nesting rules: this week lies wholly in June although weeks never roll up into months.
    assert Period.parse("2017-06").contains(Period.parse("2017-W23"))
    assert not Period.parse("2017-06").contains(Period.parse("2017-W26"))


@pytest.mark.parametrize(
    ("text", "fiscal_start", "last_year"),
    [
        ("2017-06", 7, "2016-06"), ("2017-Q2", 7, "2016-Q2"), ("2017", 7, "2016"), ("FY2017", 10, "FY2016"),
        ("2017-W23", 7, "2016-W23"), ("2016-W01", 7, "2015-W01"),
        ("2015-W53", 7, "2014-W52"), ("2020-W53", 7, "2019-W52"),
    ],
)  # fmt: skip
def test_same_period_last_year(text, fiscal_start, last_year):
    assert Period.parse(text, fiscal_start).same_period_last_year() == Period.parse(last_year, fiscal_start)


def test_steps_to_counts_shifts():
    assert Period.parse("2016-11").steps_to(Period.parse("2017-02")) == 3
    assert Period.parse("2017-02").steps_to(Period.parse("2016-11")) == -3
    assert Period.parse("2015-W52").steps_to(Period.parse("2016-W02")) == 3
    assert Period.parse("FY2010").steps_to(Period.parse("FY2017")) == 7
    with pytest.raises(PeriodError):
        Period.parse("2017-06").steps_to(Period.parse("2017-Q2"))


@pytest.mark.parametrize(
    ("inner", "outer", "fiscal_start", "nests"),
    [
        (Frequency.month, Frequency.fiscal_year, 5, True), (Frequency.quarter, Frequency.fiscal_year, 5, False),
        (Frequency.quarter, Frequency.year, 7, True), (Frequency.year, Frequency.fiscal_year, 1, True),
        (Frequency.year, Frequency.fiscal_year, 7, False), (Frequency.week, Frequency.month, 7, False),
        (Frequency.week, Frequency.week, 7, True), (Frequency.year, Frequency.month, 7, False),
    ],
)  # fmt: skip
def test_frequency_nests(inner, outer, fiscal_start, nests):
    assert frequency_nests(inner, outer, fiscal_start) is nests


def test_period_text_takes_fiscal_years_and_advertises_them():
    adapter = TypeAdapter(PeriodText)
    assert adapter.validate_python("FY2017") == "FY2017"
    for text in ("FY1899", "FY17", "2015-W53"):
        with pytest.raises(ValidationError):
            adapter.validate_python(text)
    assert adapter.json_schema()["pattern"] == QUERY_PERIOD_PATTERN


# ---------------------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------------------


@PROPERTY
@given(day=DAYS, frequency=FREQUENCIES, fiscal_start=FISCAL_STARTS)
def test_periods_tile_the_calendar(day, frequency, fiscal_start):
    period = Period.containing(day, frequency, fiscal_start)
    assert period.start <= day <= period.end
    assert period.contains(day)
    assert Period.parse(str(period), fiscal_start=fiscal_start) == period
    assert period.next().start == period.end + dt.timedelta(days=1)
    assert period.next().previous() == period


@PROPERTY
@given(period=periods(), steps=st.integers(-600, 600))
def test_shifting_is_counting(period, steps):
    moved = period.shift(steps)
    assert moved.shift(-steps) == period
    assert period.steps_to(moved) == steps == moved.index - period.index
    assert Period.from_index(period.frequency, period.index, period.fiscal_start) == period
    assert (moved > period, moved == period) == (steps > 0, steps == 0)
    between = periods_between(min(period, moved), max(period, moved))
    assert len(between) == abs(steps) + 1
    assert all(a.next() == b for a, b in zip(between, between[1:], strict=False))


@PROPERTY
@given(period=periods())
def test_children_tile_their_parent(period):
    for frequency in Frequency:
        if not frequency_nests(frequency, period.frequency, period.fiscal_start):
            with pytest.raises(PeriodError):
                period.children(frequency, fiscal_start=period.fiscal_start)
            with pytest.raises(PeriodError):
                Period.containing(period.start, frequency, period.fiscal_start).parent(
                    period.frequency, fiscal_start=period.fiscal_start
                )
            continue
        children = period.children(frequency, fiscal_start=period.fiscal_start)
        assert children[0].start == period.start and children[-1].end == period.end
        assert all(a.end + dt.timedelta(days=1) == b.start for a, b in zip(children, children[1:], strict=False))
        assert all(child.parent(period.frequency, fiscal_start=period.fiscal_start) == period for child in children)
        assert all(period.contains(child) for child in children)


@PROPERTY
@given(day=DAYS, inner=FREQUENCIES, outer=FREQUENCIES, fiscal_start=FISCAL_STARTS)
def test_the_parent_of_the_period_containing_a_day_contains_that_day(day, inner, outer, fiscal_start):
    period = Period.containing(day, inner, fiscal_start)
    if frequency_nests(inner, outer, fiscal_start):
        assert period.parent(outer, fiscal_start=fiscal_start) == Period.containing(day, outer, fiscal_start)
    else:
        with pytest.raises(PeriodError):
            period.parent(outer, fiscal_start=fiscal_start)


@PROPERTY
@given(period=periods())
def test_same_period_last_year_is_a_year_earlier(period):
    last_year = period.same_period_last_year()
    assert (last_year.frequency, last_year.fiscal_start, last_year.year) == (
        period.frequency, period.fiscal_start, period.year - 1
    )  # fmt: skip
    if period.frequency is Frequency.week:
        assert (period.start - last_year.start).days in (364, 371)
        assert last_year.number == period.number or (period.number, last_year.number) == (53, 52)
    else:
        assert months_between(last_year.start, period.start) == 12
        assert months_between(last_year.end, period.end) == 12


@PROPERTY
@given(text=st.from_regex(QUERY_PERIOD_PATTERN, fullmatch=True))
def test_everything_the_query_pattern_admits_is_a_period(text):
    assert str(Period.parse(text)) == text
    assert TypeAdapter(PeriodText).validate_python(text) == text


@PROPERTY
@given(text=st.from_regex(PERIOD_PATTERN, fullmatch=True))
def test_the_period_pattern_admits_periods_or_out_of_range_years_and_weeks(text):
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        assert "outside" in str(exc) or "no ISO week" in str(exc)
    else:
        assert str(period) == text
