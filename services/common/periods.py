"""Periods as DESIGN.md writes them: 2017-06, 2017-W23, 2017-Q2, 2017."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

MIN_YEAR, MAX_YEAR = 1900, 2199

PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-W(0[1-9]|[1-4][0-9]|5[0-3])|-Q[1-4])?$"
_PERIOD_RE = re.compile(PERIOD_PATTERN)
# What a query parameter advertises: only years we accept, and no week 53, which only some
# years have, so that everything the pattern admits is a real period.
QUERY_PERIOD_PATTERN = r"^(19|20|21)[0-9]{2}(-(0[1-9]|1[0-2])|-W(0[1-9]|[1-4][0-9]|5[0-2])|-Q[1-4])?$"


class Frequency(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    frequency: Frequency
    year: int
    number: int  # week, month or quarter within the year; 1 for a year

    @classmethod
    def parse(cls, text: str) -> Period:
        if not isinstance(text, str) or not _PERIOD_RE.fullmatch(text):
            raise PeriodError(f"'{text}' is not a period (write 2017-06, 2017-W23, 2017-Q2 or 2017)")
        year = int(text[:4])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
        rest = text[4:]
        if not rest:
            return cls(Frequency.year, year, 1)
        if rest.startswith("-W"):
            week = int(rest[2:])
            if week > dt.date(year, 12, 28).isocalendar().week:
                raise PeriodError(f"{year} has no ISO week {week}")
            return cls(Frequency.week, year, week)
        if rest.startswith("-Q"):
            return cls(Frequency.quarter, year, int(rest[2:]))
        return cls(Frequency.month, year, int(rest[1:]))

    @classmethod
    def containing(cls, day: dt.date, frequency: Frequency) -> Period:
        if frequency is Frequency.week:
            iso = day.isocalendar()
            return cls(frequency, iso.year, iso.week)
        if frequency is Frequency.month:
            return cls(frequency, day.year, day.month)
        if frequency is Frequency.quarter:
            return cls(frequency, day.year, (day.month - 1) // 3 + 1)
        return cls(frequency, day.year, 1)

    def __str__(self) -> str:
        if self.frequency is Frequency.week:
            return f"{self.year:04d}-W{self.number:02d}"
        if self.frequency is Frequency.month:
            return f"{self.year:04d}-{self.number:02d}"
        if self.frequency is Frequency.quarter:
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}"

    @property
    def start(self) -> dt.date:
        if self.frequency is Frequency.week:
            return dt.date.fromisocalendar(self.year, self.number, 1)
        if self.frequency is Frequency.month:
            return dt.date(self.year, self.number, 1)
        if self.frequency is Frequency.quarter:
            return dt.date(self.year, 3 * (self.number - 1) + 1, 1)
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the period (inclusive)."""
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        return self.shift(-1)

    def shift(self, steps: int) -> Period:
        if self.frequency is Frequency.week:
            return Period.containing(self.start + dt.timedelta(weeks=steps), Frequency.week)
        per_year = {Frequency.month: 12, Frequency.quarter: 4, Frequency.year: 1}[self.frequency]
        index = self.year * per_year + (self.number - 1) + steps
        return Period(self.frequency, index // per_year, index % per_year + 1)


def last_complete_period(as_of: dt.date, frequency: Frequency) -> Period:
    """The latest period that has fully ended before `as_of`."""
    return Period.containing(as_of, frequency).previous()


def periods_between(first: Period, last: Period) -> list[Period]:
    out = []
    current = first
    while current <= last:
        out.append(current)
        current = current.next()
    return out


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
