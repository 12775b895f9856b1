"""The calendar of meetings as iCalendar (RFC 5545), for a department to subscribe to.

The same meetings give the same bytes: no clock is read (DTSTAMP is when the meeting was last changed, which RFC 5545
allows for a calendar without a METHOD), events come in calendar order, and nothing depends on the locale. Meetings
are all-day events: a meeting record has a date, not a time. Notes are left out: a calendar feed ends up on phones and
shared calendars, beyond who may read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from services.reporting.meetings.models import Meeting, MeetingKind

PRODID = "-//CityStat//Reporting meetings//EN"
MEDIA_TYPE = "text/calendar; charset=utf-8"
_LINE_OCTETS = 75
_KIND_NAMES = {MeetingKind.roundtable: "Roundtable", MeetingKind.cabinet: "Cabinet meeting"}


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets go on in continuation lines that start with a space (RFC 5545 3.1), cut between
    characters, never inside one's UTF-8 bytes."""
    parts: list[str] = []
    current, size, limit = [], 0, _LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            # A continuation line's leading space counts towards its 75 octets.
            current, size, limit = [], 0, _LINE_OCTETS - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _event(meeting: Meeting, host: str) -> list[str]:
    kind = _KIND_NAMES.get(meeting.kind, str(meeting.kind).title())
    about = ", ".join(meeting.departments) if meeting.departments else "the whole Cabinet"
    description = f"{kind} with {about}."
    if meeting.attendees:
        description += "\nAttendees: " + ", ".join(meeting.attendees) + "."
    return [
        "BEGIN:VEVENT",
        f"UID:meeting-{meeting.id}@{host}",
        f"DTSTAMP:{_utc(meeting.updated_at)}",
        f"CREATED:{_utc(meeting.created_at)}",
        f"LAST-MODIFIED:{_utc(meeting.updated_at)}",
        f"DTSTART;VALUE=DATE:{_date(meeting.held_on)}",
        f"DTEND;VALUE=DATE:{_date(meeting.held_on + dt.timedelta(days=1))}",
        f"SUMMARY:{escape_text(meeting.title)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"CATEGORIES:{escape_text(kind)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def calendar(meetings: Sequence[Meeting], *, name: str, host: str = "citystat") -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for meeting in sorted(meetings, key=lambda m: (m.held_on, m.id)):
        lines.extend(_event(meeting, host))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode()
