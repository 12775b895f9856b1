"""The demo city's calendar: each department can see when its roundtable comes."""

from services.reporting.meetings.demo import DEMO_MEETINGS, load_demo_meetings
from tests.factories import make_user, sign_in


def test_the_demo_calendar_is_loaded_once_and_shows_each_department_its_turn(client, reporting_db, ingest_db):
    with reporting_db.session() as session:
        assert load_demo_meetings(session) == len(DEMO_MEETINGS)
    with reporting_db.session() as session:
        assert load_demo_meetings(session) == 0  # a calendar that has meetings is left as it is

    make_user(ingest_db, "lee", "liaison", "DWM")
    sign_in(client, "lee")
    answer = client.get("/api/reporting/meetings", params={"upcoming": "true", "department": "DWM"})
    assert answer.status_code == 200, answer.text
    titles = [m["title"] for m in answer.json()["items"]]
    # Their own roundtable, and the Cabinet meetings every department attends; not the others' roundtables.
    assert titles == ["Watershed Management roundtable", "Cabinet briefing: June 2017", "Cabinet briefing: July 2017"]
