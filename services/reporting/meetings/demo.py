"""The demo city's meeting calendar: the performance office's routine for the weeks after June 2017's data is due
(roundtables with one to three departments each, and a Cabinet briefing), so that every department sees its turn."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import Session, select

from services.reporting.meetings.models import Meeting, MeetingKind

DEMO_MEETINGS = [
    (MeetingKind.roundtable, dt.date(2017, 7, 13), "Public Works roundtable", ["DPW"]),
    (MeetingKind.roundtable, dt.date(2017, 7, 18), "Watershed Management roundtable", ["DWM"]),
    (MeetingKind.cabinet, dt.date(2017, 7, 19), "Cabinet briefing: June 2017", []),
    (MeetingKind.roundtable, dt.date(2017, 7, 25), "Public safety roundtable", ["APD", "AFRD", "OEP"]),
    (MeetingKind.roundtable, dt.date(2017, 8, 1), "Neighbourhoods roundtable", ["DPR", "OCE", "OHCD"]),
    (MeetingKind.roundtable, dt.date(2017, 8, 8), "ATL311 Customer Service roundtable", ["ATL311"]),
    (MeetingKind.cabinet, dt.date(2017, 8, 16), "Cabinet briefing: July 2017", []),
]
ATTENDEES = {
    MeetingKind.roundtable: ["Chief Operating Officer", "Performance office analyst", "Department head"],
    MeetingKind.cabinet: ["Mayor", "Chief Operating Officer", "Commissioners", "Performance office"],
}


def load_demo_meetings(session: Session) -> int:
    """The calendar above, once: nothing is added to a calendar that already has meetings. The count added."""
    if session.exec(select(func.count()).select_from(Meeting)).one():
        return 0
    for kind, day, title, departments in DEMO_MEETINGS:
        session.add(
            Meeting(
                kind=kind,
                held_on=day,
                title=title,
                departments=departments,
                attendees=ATTENDEES[kind],
                created_by="operator",
            )
        )
    session.flush()
    return len(DEMO_MEETINGS)
