"""Periods as DESIGN.md writes them: 2017-06, 2017-W23, 2017-Q2, 2017, and fiscal years FY2017.

A fiscal year is named by the calendar year in which it ends: with start month 7 (Atlanta's) FY2017 runs
2016-07-01 .. 2017-06-30; with start month 1 it is calendar 2017. The text FY2017 does not say the start month, so
whoever parses it, or asks for the fiscal year containing a day, says which one is meant (by default
DEFAULT_FISCAL_START_MONTH), and the Period keeps it so that its dates and arithmetic need nothing more.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

MIN_YEAR, MAX_YEAR = 1900, 2199
DEFAULT_FISCAL_START_MONTH = 7

PERIOD_PATTERN = r"^([0-9]{4}(-(0[1-9]|1[0-2])|-W(0[1-9]|[1-4][0-9]|5[0-3])|-Q[1-4])?|FY[0-9]{4})$"
_PERIOD_RE = re.compile(PERIOD_PATTERN)
# What a query parameter advertises: only years we accept, and no week 53, which only some
# years have, so that everything the pattern admits is a real period.
QUERY_PERIOD_PATTERN = (
    r"^((19|20|21)[0-9]{2}(-(0[1-9]|1[0-2])|-W(0[1-9]|[1-4][0-9]|5[0-2])|-Q[1-4])?|FY(19|20|21)[0-9]{2})$"
)


class Frequency(StrEnum):
    # The values are stored in databases: add to them, never rename them.
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"
    fiscal_year = "fiscal_year"


PERIOD_EXAMPLES = {
    Frequency.week: "2017-W23",
    Frequency.month: "2017-06",
    Frequency.quarter: "2017-Q2",
    Frequency.year: "2017",
    Frequency.fiscal_year: "FY2017",
}


class PeriodError(ValueError):
    pass


def _check_fiscal_start(fiscal_start: int) -> None:
    if type(fiscal_start) is not int or not 1 <= fiscal_start <= 12:
        raise PeriodError(f"a fiscal year's start month is 1-12, not {fiscal_start!r}")


def _iso_weeks(year: int) -> int:
    return dt.date(year, 12, 28).isocalendar().week


# Months, quarters, years and fiscal years are runs of whole months: each frequency cuts the months at a fixed
# length and phase, and a period of one lies inside a single period of another exactly when every cut of the
# coarser is also a cut of the finer. ISO weeks are cut by days and straddle month, quarter and year boundaries, so
# a week rolls up into nothing but itself: assigning it by, say, its Thursday would count days in the wrong month.
_MONTHS_LONG = {Frequency.month: 1, Frequency.quarter: 3, Frequency.year: 12, Frequency.fiscal_year: 12}


def _phase(frequency: Frequency, fiscal_start: int) -> int:
    return fiscal_start - 1 if frequency is Frequency.fiscal_year else 0


def _nests(inner: Frequency, inner_start: int, outer: Frequency, outer_start: int) -> bool:
    if Frequency.week in (inner, outer):
        return inner is outer
    length = _MONTHS_LONG[inner]
    return _MONTHS_LONG[outer] % length == 0 and (_phase(outer, outer_start) - _phase(inner, inner_start)) % length == 0


def frequency_nests(inner: Frequency, outer: Frequency, fiscal_start: int = DEFAULT_FISCAL_START_MONTH) -> bool:
    """Whether every `inner` period lies inside one `outer` period, i.e. `inner` rolls up into `outer`.

    A frequency nests in itself. `fiscal_start` is the start month of whichever side is a fiscal year."""
    _check_fiscal_start(fiscal_start)
    return _nests(Frequency(inner), fiscal_start, Frequency(outer), fiscal_start)


_LAST_NUMBER = {Frequency.month: 12, Frequency.quarter: 4, Frequency.year: 1, Frequency.fiscal_year: 1}


@dataclass(frozen=True, order=True)
class Period:
    frequency: Frequency
    year: int  # the ISO year of a week; the year in which a fiscal year ends
    number: int  # week, month or quarter within the year; 1 for a year or a fiscal year
    # Only a fiscal year reads it; every other period holds the default, so that the same month is always equal.
    fiscal_start: int = DEFAULT_FISCAL_START_MONTH

    def __post_init__(self) -> None:
        if type(self.frequency) is not Frequency:
            try:
                object.__setattr__(self, "frequency", Frequency(self.frequency))
            except ValueError as exc:
                raise PeriodError(f"'{self.frequency}' is not a frequency") from exc
        _check_fiscal_start(self.fiscal_start)
        if self.frequency is not Frequency.fiscal_year:
            object.__setattr__(self, "fiscal_start", DEFAULT_FISCAL_START_MONTH)
        # One year of margin each side, so that start, end and next() of any Period are dates.
        if type(self.year) is not int or not dt.MINYEAR < self.year < dt.MAXYEAR:
            raise PeriodError(f"year {self.year!r} is beyond the calendar")
        last = _iso_weeks(self.year) if self.frequency is Frequency.week else _LAST_NUMBER[self.frequency]
        if type(self.number) is not int or not 1 <= self.number <= last:
            raise PeriodError(f"{self.year} has no {self.frequency} {self.number!r}")

    # ----------------------------------------------------------------------------------------------------------
    # Text and dates
    # ----------------------------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, fiscal_start: int = DEFAULT_FISCAL_START_MONTH) -> Period:
        """The period written `text`; `fiscal_start` is the start month FY2017 is read with."""
        # type() and not isinstance(): 7.0 and True hash like 7 and 1, and must still be refused.
        if type(text) is str and type(fiscal_start) is int and cls is Period:
            # Series analysis reads the same few hundred periods over and over; a Period never changes.
            return _parse_cached(text, fiscal_start)
        return cls._parse(text, fiscal_start)

    @classmethod
    def _parse(cls, text: str, fiscal_start: int) -> Period:
        _check_fiscal_start(fiscal_start)
        if not isinstance(text, str) or not _PERIOD_RE.fullmatch(text):
            raise PeriodError(f"'{text}' is not a period (write 2017-06, 2017-W23, 2017-Q2, 2017 or FY2017)")
        if text.startswith("FY"):
            year, rest = int(text[2:]), ""
        else:
            year, rest = int(text[:4]), text[4:]
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
        if text.startswith("FY"):
            return cls(Frequency.fiscal_year, year, 1, fiscal_start)
        if not rest:
            return cls(Frequency.year, year, 1)
        if rest.startswith("-W"):
            week = int(rest[2:])
            if week > _iso_weeks(year):
                raise PeriodError(f"{year} has no ISO week {week}")
            return cls(Frequency.week, year, week)
        if rest.startswith("-Q"):
            return cls(Frequency.quarter, year, int(rest[2:]))
        return cls(Frequency.month, year, int(rest[1:]))

    @classmethod
    def containing(cls, day: dt.date, frequency: Frequency, fiscal_start: int = DEFAULT_FISCAL_START_MONTH) -> Period:
        frequency = Frequency(frequency)
        if frequency is Frequency.week:
            iso = day.isocalendar()
            return cls(frequency, iso.year, iso.week)
        if frequency is Frequency.month:
            return cls(frequency, day.year, day.month)
        if frequency is Frequency.quarter:
            return cls(frequency, day.year, (day.month - 1) // 3 + 1)
        if frequency is Frequency.fiscal_year:
            _check_fiscal_start(fiscal_start)
            ends_next_year = fiscal_start != 1 and day.month >= fiscal_start
            return cls(frequency, day.year + ends_next_year, 1, fiscal_start)
        return cls(frequency, day.year, 1)

    def __str__(self) -> str:
        if self.frequency is Frequency.week:
            return f"{self.year:04d}-W{self.number:02d}"
        if self.frequency is Frequency.month:
            return f"{self.year:04d}-{self.number:02d}"
        if self.frequency is Frequency.quarter:
            return f"{self.year:04d}-Q{self.number}"
        if self.frequency is Frequency.fiscal_year:
            return f"FY{self.year:04d}"
        return f"{self.year:04d}"

    @property
    def start(self) -> dt.date:
        if self.frequency is Frequency.week:
            return dt.date.fromisocalendar(self.year, self.number, 1)
        if self.frequency is Frequency.month:
            return dt.date(self.year, self.number, 1)
        if self.frequency is Frequency.quarter:
            return dt.date(self.year, 3 * (self.number - 1) + 1, 1)
        if self.frequency is Frequency.fiscal_year and self.fiscal_start != 1:
            return dt.date(self.year - 1, self.fiscal_start, 1)
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the period (inclusive)."""
        return self.next().start - dt.timedelta(days=1)

    # ----------------------------------------------------------------------------------------------------------
    # Arithmetic within a frequency
    # ----------------------------------------------------------------------------------------------------------

    @property
    def index(self) -> int:
        """The period's place in an unbroken count of its frequency: `p.shift(n).index == p.index + n`."""
        if self.frequency is Frequency.week:
            # Day 1 of the proleptic calendar, 0001-01-01, is a Monday.
            return (self.start.toordinal() - 1) // 7
        return self.year * _LAST_NUMBER[self.frequency] + self.number - 1

    @classmethod
    def from_index(cls, frequency: Frequency, index: int, fiscal_start: int = DEFAULT_FISCAL_START_MONTH) -> Period:
        """The period of `frequency` whose `index` is `index`."""
        frequency = Frequency(frequency)
        if frequency is Frequency.week:
            try:
                monday = dt.date.fromordinal(index * 7 + 1)
            except (ValueError, OverflowError) as exc:
                raise PeriodError(f"week {index} is beyond the calendar") from exc
            return cls.containing(monday, frequency)
        year, number = divmod(index, _LAST_NUMBER[frequency])
        return cls(frequency, year, number + 1, fiscal_start)

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        return self.shift(-1)

    def shift(self, steps: int) -> Period:
        # Series analysis walks the same periods for every metric of a dashboard; a Period never changes.
        return _shift_cached(self, steps) if type(self) is Period and type(steps) is int else self._shift(steps)

    def _shift(self, steps: int) -> Period:
        return Period.from_index(self.frequency, self.index + steps, self.fiscal_start)

    def steps_to(self, other: Period) -> int:
        """How many shifts lead from this period to `other`: `p.shift(p.steps_to(q)) == q`."""
        self._check_comparable(other)
        return other.index - self.index

    def same_period_last_year(self) -> Period:
        """The period a year earlier: the same month, quarter or ISO week number, the year or fiscal year before.

        Week 53 becomes week 52, since a year with 53 ISO weeks never follows another."""
        if self.frequency is Frequency.week:
            return Period(Frequency.week, self.year - 1, min(self.number, _iso_weeks(self.year - 1)))
        return Period(self.frequency, self.year - 1, self.number, self.fiscal_start)

    def _check_comparable(self, other: Period) -> None:
        if (other.frequency, other.fiscal_start) != (self.frequency, self.fiscal_start):
            raise PeriodError(f"{self._described()} and {other._described()} are not counted in the same steps")

    def _described(self) -> str:
        if self.frequency is Frequency.fiscal_year:
            return f"{self} (starting in month {self.fiscal_start})"
        return str(self)

    # ----------------------------------------------------------------------------------------------------------
    # Nesting and roll-ups between frequencies
    # ----------------------------------------------------------------------------------------------------------

    def parent(self, frequency: Frequency, fiscal_start: int | None = None) -> Period:
        """The `frequency` period this one lies in: 2017-05 -> 2017-Q2, 2017, FY2017; a period is its own parent.

        `fiscal_start` is the start month of a fiscal-year parent (by default this period's own). PeriodError when
        periods of this frequency do not always lie inside one of `frequency`: a quarter in a fiscal year that
        starts mid-quarter, a week in anything but itself, a coarser frequency in a finer one."""
        frequency, fiscal_start = self._target(frequency, fiscal_start)
        self._check_nests(self.frequency, self.fiscal_start, frequency, fiscal_start)
        return Period.containing(self.start, frequency, fiscal_start)

    def children(self, frequency: Frequency, fiscal_start: int | None = None) -> list[Period]:
        """The `frequency` periods that make up this one, in order: 2017-Q2 -> [2017-04, 2017-05, 2017-06].

        `fiscal_start` is the start month of fiscal-year children (by default this period's own). PeriodError when
        `frequency` periods do not always lie inside one of this frequency (see parent)."""
        frequency, fiscal_start = self._target(frequency, fiscal_start)
        self._check_nests(frequency, fiscal_start, self.frequency, self.fiscal_start)
        return periods_between(
            Period.containing(self.start, frequency, fiscal_start), Period.containing(self.end, frequency, fiscal_start)
        )

    def contains(self, other: Period | dt.date) -> bool:
        """Whether every day of `other` (a period or a day) falls within this period."""
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other <= self.end

    def _target(self, frequency: Frequency, fiscal_start: int | None) -> tuple[Frequency, int]:
        frequency = Frequency(frequency)
        if frequency is not Frequency.fiscal_year:
            return frequency, DEFAULT_FISCAL_START_MONTH
        if fiscal_start is None:
            fiscal_start = self.fiscal_start
        _check_fiscal_start(fiscal_start)
        return frequency, fiscal_start

    @staticmethod
    def _check_nests(inner: Frequency, inner_start: int, outer: Frequency, outer_start: int) -> None:
        if _nests(inner, inner_start, outer, outer_start):
            return
        if Frequency.week in (inner, outer):
            raise PeriodError("ISO weeks straddle months, quarters and years, so weeks roll up into nothing but weeks")

        def named(frequency: Frequency, fiscal_start: int) -> str:
            if frequency is Frequency.fiscal_year:
                return f"fiscal year starting in month {fiscal_start}"
            return str(frequency)

        raise PeriodError(f"a {named(inner, inner_start)} does not always lie within one {named(outer, outer_start)}")


@functools.lru_cache(maxsize=65_536)
def _parse_cached(text: str, fiscal_start: int) -> Period:
    return Period._parse(text, fiscal_start)


@functools.lru_cache(maxsize=65_536)
def _shift_cached(period: Period, steps: int) -> Period:
    return period._shift(steps)


def last_complete_period(
    as_of: dt.date, frequency: Frequency, fiscal_start: int = DEFAULT_FISCAL_START_MONTH
) -> Period:
    """The latest period that has fully ended before `as_of`."""
    return Period.containing(as_of, frequency, fiscal_start).previous()


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period from `first` to `last`, both included; empty when `last` comes before `first`."""
    # Periods of different frequencies do not step into one another, and would loop for ever.
    return [first.shift(steps) for steps in range(first.steps_to(last) + 1)]


_QUERY_PERIOD_RE = re.compile(QUERY_PERIOD_PATTERN)


def _validate_period(text: str) -> str:
    # The same rule as the advertised pattern, said in words a person can act on.
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        raise ValueError(str(exc)) from exc
    if not _QUERY_PERIOD_RE.fullmatch(text):
        raise ValueError(f"'{text}' cannot be asked for here (years 1900-2199, ISO weeks 1-52)")
    return str(period)


PeriodText = Annotated[
    str,
    AfterValidator(_validate_period),
    WithJsonSchema({"type": "string", "pattern": QUERY_PERIOD_PATTERN, "examples": ["2017-06"]}),
]
