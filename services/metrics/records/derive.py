"""What the loader works out once per record so that computed metrics are plain GROUP BYs: the month and ISO
week a time falls in on the city's clock, days to close, and whether a closed record met its due time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_SECONDS_PER_DAY = 86_400.0


class CityClock:
    """Periods on the city's clock. Offsets are cached per UTC hour: zoneinfo's lookup is the costly part of
    deriving a million records, and an offset never changes within an hour of UTC."""

    def __init__(self, time_zone: str) -> None:
        self.zone = ZoneInfo(time_zone)
        self._offsets: dict[int, dt.timedelta] = {}
        self._stamps: dict[int, tuple[str, str, int, int]] = {}

    def local(self, moment: dt.datetime) -> dt.datetime:
        hour = int(moment.timestamp()) // 3600
        offset = self._offsets.get(hour)
        if offset is None:
            offset = moment.astimezone(self.zone).utcoffset() or dt.timedelta(0)
            self._offsets[hour] = offset
        return (moment + offset).replace(tzinfo=None)

    def stamp(self, moment: dt.datetime) -> tuple[str, str, int, int]:
        """As `opened`, cached per quarter-hour of UTC: every zone's offset is a whole number of quarter-hours, so
        nothing of the local month, week, hour or weekday changes within one."""
        key = int(moment.timestamp()) // 900
        stamp = self._stamps.get(key)
        if stamp is None:
            if len(self._stamps) > 1_000_000:
                self._stamps.clear()
            stamp = self._stamps[key] = self.opened(moment)
        return stamp

    def opened(self, moment: dt.datetime) -> tuple[str, str, int, int]:
        """The month and ISO week of `moment` in the city, and its local hour (0-23) and ISO weekday (1-7)."""
        local = self.local(moment)
        year, week, weekday = local.isocalendar()
        return f"{local.year:04d}-{local.month:02d}", f"{year:04d}-W{week:02d}", local.hour, weekday

    def periods(self, moment: dt.datetime) -> tuple[str, str]:
        """The month ("2017-06") and ISO week ("2017-W23") `moment` falls in, in the city."""
        local = self.local(moment)
        year, week, _ = local.isocalendar()
        return f"{local.year:04d}-{local.month:02d}", f"{year:04d}-W{week:02d}"


def days_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / _SECONDS_PER_DAY


def on_time(closed_at: dt.datetime | None, due_at: dt.datetime | None) -> int | None:
    """1 when closed on or before its due time, 0 when closed after it; None when open or without a due time."""
    if closed_at is None or due_at is None:
        return None
    return 1 if closed_at <= due_at else 0


def stored_time(moment: dt.datetime | None) -> str | None:
    """SQLAlchemy's text for a UTC time (what SQLite stores; PostgreSQL reads it in a UTC session), always with
    microseconds so that text order is time order."""
    if moment is None:
        return None
    if moment.utcoffset():
        moment = moment.astimezone(dt.UTC)
    # In UTC, the offset ("+00:00") is the last six characters.
    return moment.isoformat(" ", "microseconds")[:26]
