"""The access matrix's cases for reporting: briefings (drafts are the performance office's; a published one is read
by staff who may read its departments), commitments and meetings. The world adds, in reporting, B's published
roundtable pack, two drafts of B, a meeting with B and a commitment of B."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from tests.access_cases import PERIOD, B, Case, Who, get, never_shows, office_only, shows

R = "/api/reporting"
# Ids of what reporting_world made (reporting's ids restart with each clean database).
IDS: dict[str, int] = {}
B_TITLE = "Matrix roundtable of B"
B_MEETING_NOTE = "Matrix meeting notes for B"
B_ACTION = "Matrix action item of B"


def staff_reading_b(status: int = 200) -> Callable[[Who], int]:
    # Reporting knows staff sessions only; what concerns B is a 404 to whoever may not read B, as if it were not there.
    return lambda who: 401 if who.kind != "user" else status if who.reads_b else 404


def staff(status: int = 200) -> Callable[[Who], int]:
    return lambda who: 401 if who.kind != "user" else status


def first_office_member(status: int, then: int) -> Callable[[Who], int]:
    return lambda who: 401 if who.kind != "user" else (status if not who.admin else then) if who.writes_b else 403


def reporting_world(session) -> None:
    """What the reporting cases act on, all about department B."""
    from services.reporting.briefings.models import Briefing, BuildStatus
    from services.reporting.briefings.service import rendered, utcnow
    from services.reporting.briefings.snapshot import BriefingKind, Snapshot
    from services.reporting.commitments.models import Commitment
    from services.reporting.meetings.models import Meeting

    meeting = Meeting(
        kind="roundtable", held_on=dt.date(2031, 1, 15), title="Matrix roundtable", departments=["DPB"],
        attendees=["Matrix attendee"], notes=B_MEETING_NOTE, created_by="operator",
    )  # fmt: skip
    spare = Meeting(
        kind="cabinet", held_on=dt.date(2031, 2, 1), title="Matrix spare meeting", created_by="operator",
    )  # fmt: skip
    session.add_all([meeting, spare])
    session.flush()
    action = Commitment(
        kind="action", department="DPB", description=B_ACTION, deadline=dt.date(2031, 3, 1), meeting_id=meeting.id,
        created_by="operator",
    )  # fmt: skip
    session.add(action)
    session.flush()
    now = utcnow()
    snapshot = Snapshot(
        kind=BriefingKind.roundtable, title=B_TITLE, period=PERIOD, departments=["DPB"], as_of=now.date(), read_at=now
    )
    published = Briefing(
        kind="roundtable", title=B_TITLE, period=PERIOD, departments=["DPB"], meeting_id=meeting.id,
        state="published", snapshot=snapshot.model_dump(mode="json"), build_status=BuildStatus.ready,
        created_by="operator", published_at=now, published_by="operator",
    )  # fmt: skip
    session.add(published)
    session.flush()
    published.html = rendered(published)
    drafts = [
        Briefing(
            kind="roundtable",
            title=f"Matrix draft {n} of B",
            period=PERIOD,
            departments=["DPB"],
            snapshot=snapshot.model_dump(mode="json"),
            build_status=BuildStatus.ready,
            created_by="operator",
        )  # fmt: skip
        for n in (1, 2)
    ]
    session.add_all(drafts)
    session.flush()
    IDS.update(
        meeting=meeting.id, spare_meeting=spare.id, action=action.id, published=published.id, draft=drafts[0].id,
        doomed=drafts[1].id,
    )  # fmt: skip


REPORTING_CASES: list[Case] = [
    Case(
        "the briefings",
        ("reporting", "GET", "/briefings"),
        get(f"{R}/briefings"),
        staff(),
        check=shows(B_TITLE, lambda who: who.reads_b and who.kind == "user"),
    ),
    Case(
        "B's published roundtable pack",
        ("reporting", "GET", "/briefings/{briefing_id}"),
        lambda w: get(f"{R}/briefings/{IDS['published']}")(w),
        staff_reading_b(),
        same_as_missing=get(f"{R}/briefings/999999"),
    ),
    Case(
        "its HTML",
        ("reporting", "GET", "/briefings/{briefing_id}/html"),
        lambda w: get(f"{R}/briefings/{IDS['published']}/html")(w),
        staff_reading_b(),
        same_as_missing=get(f"{R}/briefings/999999/html"),
    ),
    Case(
        "its PDF",
        ("reporting", "GET", "/briefings/{briefing_id}/pdf"),
        lambda w: get(f"{R}/briefings/{IDS['published']}/pdf")(w),
        staff_reading_b(),
        same_as_missing=get(f"{R}/briefings/999999/pdf"),
    ),
    Case(
        "a draft of B (drafts are the office's)",
        ("reporting", "GET", "/briefings/{briefing_id}"),
        lambda w: get(f"{R}/briefings/{IDS['draft']}")(w),
        lambda who: 401 if who.kind != "user" else 200 if who.writes_b else 404,
        same_as_missing=get(f"{R}/briefings/999999"),
    ),
    Case(
        "suggestions for a Cabinet briefing",
        ("reporting", "GET", "/briefings/suggestions"),
        get(f"{R}/briefings/suggestions", period=PERIOD),
        office_only(200),
    ),
    Case(
        "a new memo",
        ("reporting", "POST", "/briefings"),
        lambda w: {"url": f"{R}/briefings", "json": {"kind": "memo", "period": PERIOD}},
        office_only(202),
        writes=True,
    ),
    Case(
        "retitle B's draft",
        ("reporting", "PATCH", "/briefings/{briefing_id}"),
        lambda w: {"url": f"{R}/briefings/{IDS['draft']}", "json": {"title": "Retitled by the matrix"}},
        office_only(200),
        writes=True,
    ),
    Case(
        "rebuild B's draft",
        ("reporting", "POST", "/briefings/{briefing_id}/rebuild"),
        lambda w: {"url": f"{R}/briefings/{IDS['draft']}/rebuild"},
        office_only(202),
        writes=True,
    ),
    Case(
        "publish B's draft",
        ("reporting", "POST", "/briefings/{briefing_id}/publish"),
        lambda w: {"url": f"{R}/briefings/{IDS['draft']}/publish"},
        first_office_member(200, 409),
        writes=True,
    ),
    Case(
        "delete B's other draft",
        ("reporting", "DELETE", "/briefings/{briefing_id}"),
        lambda w: {"url": f"{R}/briefings/{IDS['doomed']}"},
        first_office_member(204, 404),
        writes=True,
    ),
    # Meetings: the calendar is every staff member's; notes are for the office and the meeting's departments.
    Case(
        "the meetings",
        ("reporting", "GET", "/meetings"),
        get(f"{R}/meetings"),
        staff(),
        check=shows(B_MEETING_NOTE, lambda who: who.writes_b),
    ),
    Case(
        "the calendar feed",
        ("reporting", "GET", "/meetings.ics"),
        get(f"{R}/meetings.ics"),
        staff(),
        check=shows(B_MEETING_NOTE, lambda who: False),
    ),
    Case(
        "B's meeting",
        ("reporting", "GET", "/meetings/{meeting_id}"),
        lambda w: get(f"{R}/meetings/{IDS['meeting']}")(w),
        staff(),
        check=shows(B_MEETING_NOTE, lambda who: who.writes_b),
    ),
    Case(
        "a new meeting",
        ("reporting", "POST", "/meetings"),
        lambda w: {
            "url": f"{R}/meetings",
            "json": {"kind": "roundtable", "held_on": "2031-04-01", "title": "Matrix", "departments": ["DPB"]},
        },
        office_only(201),
        writes=True,
    ),
    Case(
        "B's meeting notes",
        ("reporting", "PATCH", "/meetings/{meeting_id}"),
        lambda w: {"url": f"{R}/meetings/{IDS['meeting']}", "json": {"notes": B_MEETING_NOTE + " (edited)"}},
        office_only(200),
        writes=True,
    ),
    Case(
        "remove a meeting nothing points to",
        ("reporting", "DELETE", "/meetings/{meeting_id}"),
        lambda w: {"url": f"{R}/meetings/{IDS['spare_meeting']}"},
        first_office_member(204, 404),
        writes=True,
    ),
    # Commitments: B's are read by B's readers; the office records and closes them.
    Case(
        "the commitments",
        ("reporting", "GET", "/commitments"),
        get(f"{R}/commitments"),
        staff(),
        check=shows(B_ACTION, lambda who: who.reads_b and who.kind == "user"),
    ),
    Case(
        "B's action item",
        ("reporting", "GET", "/commitments/{commitment_id}"),
        lambda w: get(f"{R}/commitments/{IDS['action']}")(w),
        staff_reading_b(),
        same_as_missing=get(f"{R}/commitments/999999"),
    ),
    Case(
        "a new action item for B",
        ("reporting", "POST", "/commitments"),
        lambda w: {
            "url": f"{R}/commitments",
            "json": {
                "kind": "action",
                "department": "DPB",
                "description": "Matrix",
                "deadline": "2031-05-01",
                "meeting_id": IDS["meeting"],
            },
        },  # fmt: skip
        office_only(201),
        writes=True,
    ),
    Case(
        "close B's action item",
        ("reporting", "PATCH", "/commitments/{commitment_id}"),
        lambda w: {"url": f"{R}/commitments/{IDS['action']}", "json": {"done": True, "done_note": "matrix"}},
        office_only(200),
        writes=True,
    ),
    Case(
        "the signed-in person's home board",
        ("reporting", "GET", "/home"),
        get(f"{R}/home"),
        staff(),
        # A's staff see their own department's board; nothing of B (its code, its meeting, its briefings) is on it.
        check=lambda who, response: never_shows(B)(who, response) or never_shows(B_TITLE)(who, response),
    ),
]
