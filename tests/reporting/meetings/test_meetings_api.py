"""Meetings: the calendar every staff member sees, notes only for the meeting's departments and the performance
office, kept by the performance office, and a subscribable iCalendar feed (test settings: as_of 2017-07-10)."""

import pytest

from services.reporting.briefings.models import Briefing
from services.reporting.meetings.ical import escape_text, fold
from tests.factories import make_department, make_user, sign_in

URL = "/api/reporting/meetings"
PROBLEM = "application/problem+json"
USERS = {
    "ana": ("analyst", None),
    "adm": ("admin", None),
    "lia": ("liaison", "DPW"),
    "hed": ("head", "DPW"),
    "vic": ("viewer", "DPW"),
    "city": ("viewer", None),
    "wat": ("liaison", "DWM"),
}


class Office:
    def __init__(self, client, ingest_db):
        self.client, self.ingest_db, self.made = client, ingest_db, set()

    def as_(self, username):
        if username not in self.made:
            make_user(self.ingest_db, username, *USERS[username])
            self.made.add(username)
        self.client.cookies.clear()
        return sign_in(self.client, username)


@pytest.fixture
def office(client, metrics_db, ingest_db) -> Office:
    with metrics_db.session() as s:
        for code, name in [("DPW", "Public Works"), ("DWM", "Watershed"), ("APD", "Police"), ("AFR", "Fire")]:
            make_department(s, code, name)
    return Office(client, ingest_db)


def _meeting(**overrides):
    return {
        "kind": "roundtable",
        "held_on": "2017-07-20",
        "title": "Public Works roundtable",
        "departments": ["DPW"],
        "attendees": ["Commissioner Smith", "Ana Analyst"],
        "notes": "Potholes: crew schedule to follow.",
        **overrides,
    }


@pytest.fixture
def calendar(client, office):
    """A past DWM roundtable, an upcoming DPW one and an upcoming Cabinet meeting for the whole Cabinet."""
    csrf = office.as_("ana")
    ids = {}
    for name, body in [
        ("dwm", _meeting(held_on="2017-06-15", title="Watershed roundtable", departments=["DWM"], notes="Main breaks")),
        ("cabinet", _meeting(kind="cabinet", held_on="2017-08-02", title="Cabinet", departments=[], notes="Mayor")),
        ("dpw", _meeting()),
    ]:
        response = client.post(URL, json=body, headers=csrf)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    client.cookies.clear()
    return ids


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["title"] for m in response.json()["items"]]


def test_the_calendar_lists_meetings_in_date_order_with_filters(client, office, calendar):
    office.as_("wat")
    assert _titles(client.get(URL)) == ["Watershed roundtable", "Public Works roundtable", "Cabinet"]
    assert _titles(client.get(URL, params={"upcoming": "true"})) == ["Public Works roundtable", "Cabinet"]
    # A department's calendar: its meetings and the whole Cabinet's.
    assert _titles(client.get(URL, params={"department": "DWM"})) == ["Watershed roundtable", "Cabinet"]
    assert _titles(client.get(URL, params={"department": "DWM", "upcoming": "true"})) == ["Cabinet"]
    assert _titles(client.get(URL, params={"kind": "roundtable"})) == [
        "Watershed roundtable",
        "Public Works roundtable",
    ]
    assert _titles(client.get(URL, params={"start": "2017-07-01", "end": "2017-07-31"})) == ["Public Works roundtable"]
    # upcoming and start together: the later of the two.
    assert _titles(client.get(URL, params={"upcoming": "true", "start": "2017-07-21"})) == ["Cabinet"]
    page = client.get(URL, params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [m["title"] for m in page["items"]] == ["Public Works roundtable"]
    assert client.get(URL, params={"department": "dpw"}).status_code == 422
    client.cookies.clear()
    assert client.get(URL).status_code == 401


def test_notes_are_for_the_performance_office_and_the_meetings_departments(client, office, calendar):
    def notes(username):
        office.as_(username)
        return {m["title"]: m["notes"] for m in client.get(URL).json()["items"]}

    everything = {
        "Watershed roundtable": "Main breaks",
        "Public Works roundtable": _meeting()["notes"],
        "Cabinet": "Mayor",
    }
    assert notes("ana") == everything
    assert notes("adm") == everything
    for dpw_staff in ("lia", "hed", "vic"):
        assert notes(dpw_staff) == {
            "Watershed roundtable": None,
            "Public Works roundtable": _meeting()["notes"],
            "Cabinet": None,
        }
    assert notes("wat") == {"Watershed roundtable": "Main breaks", "Public Works roundtable": None, "Cabinet": None}
    assert notes("city") == {"Watershed roundtable": None, "Public Works roundtable": None, "Cabinet": None}
    office.as_("wat")
    one = client.get(f"{URL}/{calendar['dpw']}").json()
    assert one["notes"] is None and one["attendees"] == ["Commissioner Smith", "Ana Analyst"]
    assert client.get(f"{URL}/999999").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"departments": []}, "departments"),
        ({"departments": ["DPW", "DWM", "APD", "AFR"]}, "departments"),
        ({"departments": ["DPW", "DPW"]}, "departments"),
        ({"departments": ["DPW", "ZZZ"]}, "departments.1"),
        ({"departments": ["dpw"]}, "body.departments.0"),
        ({"title": "   "}, "body.title"),
        ({"kind": "memo"}, "body.kind"),
        ({"held_on": "2017-13-01"}, "body.held_on"),
        ({"notes": "a\u0000b"}, "body.notes"),
        ({"location": "City Hall"}, "body.location"),
    ],
)
def test_a_meeting_that_does_not_make_sense_is_refused(client, office, overrides, field):
    csrf = office.as_("ana")
    response = client.post(URL, json=_meeting(**overrides), headers=csrf)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in {e["field"] for e in response.json()["errors"]}
    assert client.get(URL).json()["total"] == 0


def test_a_cabinet_meeting_may_name_any_number_of_departments(client, office):
    csrf = office.as_("ana")
    body = _meeting(kind="cabinet", departments=["DPW", "DWM", "APD", "AFR"])
    assert client.post(URL, json=body, headers=csrf).status_code == 201


def test_only_the_performance_office_keeps_meetings(client, office, calendar):
    for username in ("lia", "hed", "vic", "city"):
        csrf = office.as_(username)
        assert client.post(URL, json=_meeting(), headers=csrf).status_code == 403
        assert client.patch(f"{URL}/{calendar['dpw']}", json={"notes": "x"}, headers=csrf).status_code == 403
        assert client.delete(f"{URL}/{calendar['dpw']}", headers=csrf).status_code == 403
    office.as_("ana")
    assert client.get(f"{URL}/{calendar['dpw']}").json()["notes"] == _meeting()["notes"]
    client.cookies.clear()
    assert client.post(URL, json=_meeting()).status_code == 401
    csrf = office.as_("adm")
    assert client.post(URL, json=_meeting(), headers=csrf).status_code == 201
    # A signed-in write without the CSRF header is refused.
    assert client.post(URL, json=_meeting()).status_code == 403


def test_the_office_moves_a_meeting_and_records_what_was_said(client, office, calendar):
    csrf = office.as_("ana")
    url = f"{URL}/{calendar['dpw']}"
    changed = client.patch(
        url,
        json={"held_on": "2017-07-27", "notes": "Agreed: weekly crew schedule.", "attendees": ["A. Smith"]},
        headers=csrf,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["held_on"], body["notes"], body["attendees"], body["title"]) == (
        "2017-07-27",
        "Agreed: weekly crew schedule.",
        ["A. Smith"],
        "Public Works roundtable",
    )
    assert body["updated_at"] > body["created_at"]
    both = client.patch(url, json={"departments": ["DPW", "DWM"]}, headers=csrf)
    assert both.status_code == 200 and both.json()["departments"] == ["DPW", "DWM"]
    for change, status in [
        ({"departments": []}, 422),
        ({"departments": ["DPW", "NOPE"]}, 422),
        ({"title": None}, 422),
        ({"kind": "cabinet"}, 422),
    ]:
        assert client.patch(url, json=change, headers=csrf).status_code == status, change
    assert client.get(url).json()["departments"] == ["DPW", "DWM"]
    assert client.patch(f"{URL}/999999", json={"notes": "x"}, headers=csrf).status_code == 404


def test_a_meeting_something_points_to_stays(client, office, calendar, reporting_db):
    csrf = office.as_("ana")
    with reporting_db.session() as s:
        s.add(
            Briefing(
                kind="roundtable",
                title="Watershed pack",
                period="2017-05",
                created_by="test",
                meeting_id=calendar["dwm"],
            )
        )
    item = client.post(
        "/api/reporting/commitments",
        json={"kind": "action", "department": "DPW", "description": "Crew schedule.", "meeting_id": calendar["dpw"]},
        headers=csrf,
    )
    assert item.status_code == 201, item.text
    dpw = client.get(f"{URL}/{calendar['dpw']}").json()
    assert dpw["commitments"] == 1
    office.as_("wat")
    # Another department's action items are not counted for Watershed's staff, as they are not listed for them.
    assert client.get(f"{URL}/{calendar['dpw']}").json()["commitments"] == 0
    csrf = office.as_("ana")
    assert [b["title"] for b in client.get(f"{URL}/{calendar['dwm']}").json()["briefings"]] == ["Watershed pack"]
    for name in ("dwm", "dpw"):
        refused = client.delete(f"{URL}/{calendar[name]}", headers=csrf)
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    # Taking DPW off the roundtable would orphan its action item.
    assert client.patch(f"{URL}/{calendar['dpw']}", json={"departments": ["DWM"]}, headers=csrf).status_code == 409
    assert client.delete(f"{URL}/{calendar['cabinet']}", headers=csrf).status_code == 204
    assert client.get(f"{URL}/{calendar['cabinet']}").status_code == 404
    assert client.delete(f"{URL}/{calendar['cabinet']}", headers=csrf).status_code == 404
    assert client.get(URL).json()["total"] == 2


# --- iCalendar -------------------------------------------------------------------------------------------------------


def _unfold(body: bytes) -> list[str]:
    text = body.decode("utf-8")
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in physical), "bare CR or LF"
    assert all(len(line.encode()) <= 75 for line in physical), "a line longer than 75 octets"
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def _events(lines: list[str]) -> list[dict[str, str]]:
    events, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return events


def test_the_ics_feed_lists_upcoming_meetings_in_rfc_5545_form(client, office, calendar):
    csrf = office.as_("ana")
    title = "Roundtable; potholes, sidewalks \\ streetlights — Public Works & Watershed, a long title to fold"
    client.patch(f"{URL}/{calendar['dpw']}", json={"title": title, "departments": ["DPW", "DWM"]}, headers=csrf)
    office.as_("lia")
    response = client.get(f"{URL}.ics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    lines = _unfold(response.content)
    assert lines[:3] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//CityStat//Reporting meetings//EN"]
    assert lines[-1] == "END:VCALENDAR"
    events = _events(lines)
    assert [e["DTSTART;VALUE=DATE"] for e in events] == ["20170720", "20170802"]  # not June's, which is past
    dpw, cabinet = events
    assert dpw["UID"] == f"meeting-{calendar['dpw']}@citystat"
    assert dpw["DTEND;VALUE=DATE"] == "20170721"
    assert dpw["SUMMARY"] == escape_text(title)
    assert dpw["SUMMARY"].startswith("Roundtable\\; potholes\\, sidewalks \\\\ streetlights")
    assert dpw["DESCRIPTION"] == "Roundtable with DPW\\, DWM.\\nAttendees: Commissioner Smith\\, Ana Analyst."
    assert (
        cabinet["DESCRIPTION"]
        == "Cabinet meeting with the whole Cabinet.\\nAttendees: Commissioner Smith\\, Ana Analyst."
    )
    assert all(len(e["DTSTAMP"]) == 16 and e["DTSTAMP"].endswith("Z") for e in events)
    # Notes stay out of a feed that ends up on phones.
    assert b"Potholes" not in response.content and b"Mayor" not in response.content
    # The same meetings, the same bytes.
    assert client.get(f"{URL}.ics").content == response.content

    dwm_only = _events(_unfold(client.get(f"{URL}.ics", params={"department": "DWM"}).content))
    assert [e["UID"] for e in dwm_only] == [
        f"meeting-{calendar['dpw']}@citystat",
        f"meeting-{calendar['cabinet']}@citystat",
    ]
    apd = _events(_unfold(client.get(f"{URL}.ics", params={"department": "APD"}).content))
    assert [e["UID"] for e in apd] == [f"meeting-{calendar['cabinet']}@citystat"]
    client.cookies.clear()
    assert client.get(f"{URL}.ics").status_code == 401


def test_folding_cuts_between_characters_and_escaping_covers_rfc_5545_specials():
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
    assert fold("SHORT:x") == "SHORT:x"
    assert escape_text("a\\b;c,d\r\ne\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
