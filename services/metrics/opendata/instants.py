"""Comparisons of a floating timestamp shown in city time with a stored UTC instant, turned into ranges of the stored
instant, so that `$where=opened_at >= '2016-07-01'` reads the stored column (an index can serve it, and SQLite calls
no Python function per row) and gives exactly the rows the city-time comparison gives.

City time is not monotonic in the instant: when clocks go back, an hour of wall-clock times happens twice. So the
instants whose city time is at or after a given wall-clock time are a union of ranges, not always one; the ranges
are found from the zone's own offsets around that time, to the microsecond (the stored precision).
"""

from __future__ import annotations

import datetime as dt

# Offsets stay within -12 h and +14 h: an instant this far from the wall-clock time cannot be on its other side.
_REACH = dt.timedelta(hours=15)
_STEP = dt.timedelta(minutes=30)
MICROSECOND = dt.timedelta(microseconds=1)

# (start, end) in naive UTC; end None: no end.
Ranges = list[tuple[dt.datetime, dt.datetime | None]]


def _offset(zone: dt.tzinfo, instant: dt.datetime) -> dt.timedelta:
    return instant.replace(tzinfo=dt.UTC).astimezone(zone).utcoffset() or dt.timedelta(0)


def _transition(zone: dt.tzinfo, before: dt.datetime, after: dt.datetime) -> dt.datetime:
    """The first instant in (before, after] with `after`'s offset, to the microsecond."""
    target = _offset(zone, after)
    while after - before > MICROSECOND:
        middle = before + (after - before) // 2
        if _offset(zone, middle) == target:
            after = middle
        else:
            before = middle
    return after


def at_or_after(zone: dt.tzinfo, wall_clock: dt.datetime) -> Ranges:
    """The UTC instants whose wall-clock time in `zone` is at or after `wall_clock` (naive), as sorted ranges."""
    start, end = wall_clock - _REACH, wall_clock + _REACH
    # The zone's offset pieces over the window: (first instant, offset), a new piece at each transition.
    pieces = [(start, _offset(zone, start))]
    previous = start
    while previous < end:
        following = min(previous + _STEP, end)
        if _offset(zone, following) != pieces[-1][1]:
            moment = _transition(zone, previous, following)
            pieces.append((moment, _offset(zone, moment)))
        previous = following
    ranges: Ranges = []
    for i, (first, offset) in enumerate(pieces):
        last = pieces[i + 1][0] if i + 1 < len(pieces) else None  # the last piece runs on past the window
        low = max(first, wall_clock - offset)
        if last is not None and low >= last:
            continue
        if ranges and ranges[-1][1] == low:
            ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((low, last))
    return ranges
