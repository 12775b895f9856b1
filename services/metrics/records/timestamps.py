"""Timestamps of raw records: a cell of a feed, in one of its profile's formats and time zone, to an aware UTC
datetime. The common shapes are parsed without strptime: a cache maps the date-and-hour part of a cell to that
local hour's instant in UTC, and only the minutes and seconds are looked up per cell."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from services.metrics.records.profiles import ISO8601

__all__ = ["MINUTES_SECONDS", "Parse", "TimeReader", "time_parser", "time_reader"]

UTC = dt.UTC
# Hours a cache holds (about six years) before it starts again: a bound on memory, not a limit on files.
_CACHE_LIMIT = 50_000

# --- time parsing --------------------------------------------------------------------------------------------

# "MM:SS" -> its offset into the hour: one dict lookup both checks and converts a cell's minutes and seconds.
MINUTES_SECONDS = {f"{m:02d}:{s:02d}": dt.timedelta(minutes=m, seconds=s) for m in range(60) for s in range(60)}
_HOUR_END = dt.timedelta(minutes=59, seconds=59, microseconds=999_999)
_MIXED = object()
_SPACE_SEPARATED = "%Y-%m-%d %H:%M:%S"
_US_12_HOUR = "%m/%d/%Y %I:%M:%S %p"


class _Clock:
    """Naive local times to UTC. The offset is cached per local hour, unless the zone changes its offset inside
    that hour; a time skipped or repeated by a DST change follows zoneinfo's fold=0 rule either way (the offset
    in force before the change), so cached and uncached answers agree."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[dt.datetime, Any] = {}

    def _offset(self, hour: dt.datetime) -> Any:
        offset = self._offsets.get(hour)
        if offset is None:
            start = hour.replace(tzinfo=self.zone).utcoffset()
            end = (hour + _HOUR_END).replace(tzinfo=self.zone).utcoffset()
            offset = start if start == end else _MIXED
            if len(self._offsets) >= _CACHE_LIMIT:
                self._offsets.clear()
            self._offsets[hour] = offset
        return offset

    def to_utc(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        hour = moment.replace(minute=0, second=0, microsecond=0)
        offset = self._offset(hour)
        if offset is _MIXED:
            return moment.replace(tzinfo=self.zone).astimezone(UTC)
        return (moment - offset).replace(tzinfo=UTC)

    def hour_base(self, moment: dt.datetime) -> dt.datetime | None:
        """The UTC instant of the local hour `moment` falls in, or None in an hour whose offset changes."""
        hour = moment.replace(minute=0, second=0, microsecond=0)
        offset = self._offset(hour)
        if offset is _MIXED:
            return None
        return (hour - offset).replace(tzinfo=UTC)


Parse = Callable[[str], "dt.datetime | None"]


def _hour_key(cell: str, tail: bool) -> str:
    # "2020-01-01 00:" or, for 12-hour times, "06/26/2018 10:" + " AM".
    return cell[:14] + cell[19:] if tail else cell[:14]


@dataclass(slots=True)
class _Format:
    """One timestamp format: its strict reading (strptime's or fromisoformat's verdict) and, for the canonical
    shapes, a cache of local hours by the cell's date-and-hour characters, filled by the strict reading."""

    strict: Parse
    cache: dict[str, dt.datetime] | None = None
    width: int = 0
    tail: bool = False

    def cached(self, cell: str) -> dt.datetime | None:
        if self.cache is not None and len(cell) == self.width:
            base = self.cache.get(_hour_key(cell, self.tail))
            if base is not None:
                offset = MINUTES_SECONDS.get(cell[14:19])
                if offset is not None:
                    return base + offset
        return None


def _remember(step: _Format, cell: str, clock: _Clock, naive: dt.datetime) -> None:
    # Only a cell whose hour ends at [13] and whose minutes and seconds are [14:19] lets its date-and-hour
    # characters stand for its local hour: every cell sharing them then differs in minutes and seconds alone.
    if step.cache is not None and cell[13] == ":" and cell[16] == ":" and naive.tzinfo is None:
        base = clock.hour_base(naive)
        if base is not None:
            if len(step.cache) >= _CACHE_LIMIT:
                step.cache.clear()
            step.cache[_hour_key(cell, step.tail)] = base


# The canonical shapes, read without strptime (which costs ten times more) but with its exact verdict.
_YMD_HMS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_US_HMS = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([AaPp][Mm])")


def _ymd_hms(cell: str, fmt: str) -> dt.datetime:
    match = _YMD_HMS.fullmatch(cell)
    if match is None:
        return dt.datetime.strptime(cell, fmt)
    year, month, day, hour, minute, second = map(int, match.groups())
    return dt.datetime(year, month, day, hour, minute, second)


def _us_hms(cell: str, fmt: str) -> dt.datetime:
    match = _US_HMS.fullmatch(cell)
    if match is None:
        return dt.datetime.strptime(cell, fmt)
    month, day, year, hour, minute, second, half = match.groups()
    hour12 = int(hour)
    if not 1 <= hour12 <= 12:
        raise ValueError(f"{hour!r} is not an hour from 01 to 12")
    hour24 = hour12 % 12 + (12 if half.upper() == "PM" else 0)
    return dt.datetime(int(year), int(month), int(day), hour24, int(minute), int(second))


def _format(fmt: str, clock: _Clock) -> _Format:
    if fmt == ISO8601:
        step = _Format(strict=lambda cell: None, cache={}, width=19)

        def iso(cell: str) -> dt.datetime | None:
            try:
                moment = dt.datetime.fromisoformat(cell)
                if len(cell) == 19 and cell[4] == "-":
                    _remember(step, cell, clock, moment)
                return clock.to_utc(moment)
            except (ValueError, OverflowError):
                return None

        step.strict = iso
        return step

    if fmt in (_SPACE_SEPARATED, _US_12_HOUR):
        us = fmt == _US_12_HOUR
        read = _us_hms if us else _ymd_hms
        width = 22 if us else 19
        step = _Format(strict=lambda cell: None, cache={}, width=width, tail=us)

        def canonical(cell: str) -> dt.datetime | None:
            try:
                moment = read(cell, fmt)
                if len(cell) == width and (not us or cell[19:] in (" AM", " PM")):
                    _remember(step, cell, clock, moment)
                return clock.to_utc(moment)
            except (ValueError, OverflowError):
                return None

        step.strict = canonical
        return step

    def strict(cell: str) -> dt.datetime | None:
        try:
            return clock.to_utc(dt.datetime.strptime(cell, fmt))
        except (ValueError, OverflowError):
            return None

    return _Format(strict=strict)


@dataclass(slots=True)
class TimeReader:
    """The profile's timestamp rule: `parse` reads a stripped cell to an aware UTC datetime, or None when no
    format reads it (the first format, in the profile's order, that reads a cell gives its value). `hours`,
    `width` and `tail` expose the first format's cache so the row builder can inline it; `rest` is the rule
    without that first lookup."""

    parse: Parse
    rest: Parse
    hours: dict[str, dt.datetime] | None
    width: int
    tail: bool


def time_reader(formats: Sequence[str], zone: ZoneInfo) -> TimeReader:
    clock = _Clock(zone)
    steps = [_format(fmt, clock) for fmt in formats]
    # A cached answer from format k is format k's strict answer, and its cache only holds hours the earlier
    # formats refused; so caches may be consulted up to the first format that has none.
    cached: list[_Format] = []
    for step in steps:
        if step.cache is None:
            break
        cached.append(step)

    def rest(cell: str) -> dt.datetime | None:
        for step in cached[1:]:
            moment = step.cached(cell)
            if moment is not None:
                return moment
        for step in steps:
            moment = step.strict(cell)
            if moment is not None:
                return moment
        return None

    if not cached or cached[0].cache is None:
        return TimeReader(parse=rest, rest=rest, hours=None, width=0, tail=False)
    first = cached[0]
    hours = first.cache
    width = first.width
    tail = first.tail

    def parse(cell: str, _get=hours.get, _mmss=MINUTES_SECONDS.get) -> dt.datetime | None:
        if len(cell) == width:
            base = _get(cell[:14] + cell[19:] if tail else cell[:14])
            if base is not None:
                offset = _mmss(cell[14:19])
                if offset is not None:
                    return base + offset
        return rest(cell)

    return TimeReader(parse=parse, rest=rest, hours=hours, width=width, tail=tail)


def time_parser(formats: Sequence[str], zone: ZoneInfo) -> Parse:
    """A function from a stripped cell to an aware UTC datetime, or None when no format reads it."""
    return time_reader(formats, zone).parse
