"""The staff home page's board through the whole app, as of the test settings' 2017-07-10 (June's values are due that
day, ten days after the month ends): a liaison's department board (due, late, changed, open questions), a head's
(the same, with the scorecard and open commitments), the performance office's citywide one (off target, signals,
missing data, meetings, briefings in preparation), and who may not have one."""

from __future__ import annotations

import datetime as dt

import pytest

from services.metrics.annotations.models import Annotation
from services.reporting.briefings.models import Briefing, BriefingState
from services.reporting.commitments.models import Commitment
from services.reporting.meetings.models import Meeting
from tests.factories import make_department, make_metric, make_observation, make_target, make_token, make_user, sign_in

HOME = "/api/reporting/home"
USERS = {
    "ana": ("analyst", None),
    "adm": ("admin", None),
    "lee": ("liaison", "DPW"),
    "hed": ("head", "DPW"),
    "vic": ("viewer", "DPW"),
    "city": ("viewer", None),
    "wes": ("liaison", "DWM"),
}
# July 2016 to May 2017: eleven steady months, enough for process limits.
HISTORY = [f"{2016 + (6 + i) // 12}-{(6 + i) % 12 + 1:02d}" for i in range(11)]
DEPARTMENT_SECTIONS = {"due", "late", "changed", "questions", "meetings"}
CITYWIDE_SECTIONS = {"off_target", "signals", "missing", "meetings", "briefings"}
ALL_SECTIONS = DEPARTMENT_SECTIONS | CITYWIDE_SECTIONS | {"scorecard", "commitments"}


@pytest.fixture
def city(client, metrics_db, ingest_db, reporting_db) -> dict[str, int]:
    """DPW: on-time rate steady near 0.92, then 0.70 in June (off target, below its process limits); potholes with
    March never sent (late) and June not yet in (due). DWM: one metric complete, one with nothing since March."""
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        dwm = make_department(s, "DWM", "Watershed Management")
        on_time = make_metric(s, dpw, key="dpw.on_time", name="Requests closed on time")
        make_target(s, on_time, 0.9, 0.02)
        for i, period in enumerate(HISTORY):
            make_observation(s, on_time, period, 0.92 + (0.005 if i % 2 else -0.005))
        make_observation(s, on_time, "2017-06", 0.70)
        potholes = make_metric(s, dpw, key="dpw.potholes", name="Potholes filled", unit="count", max_value=None)
        make_target(s, potholes, 1000, 100)
        for period in HISTORY:
            if period != "2017-03":
                make_observation(s, potholes, period, 1000 + (20 if period.endswith(("1", "5", "9")) else -10))
        complete = make_metric(s, dwm, key="dwm.complete", name="Water main breaks fixed", unit="count", max_value=None)
        for period in [*HISTORY, "2017-06"]:
            make_observation(s, complete, period, 40)
        gone = make_metric(s, dwm, key="dwm.gone", name="Meters read", unit="count", max_value=None)
        for period in HISTORY[:-3]:  # nothing for March, April, May, June
            make_observation(s, gone, period, 100)
        asked = dt.datetime(2017, 7, 5, 9, 0, tzinfo=dt.UTC)
        for metric, kind, body, answered in (
            (on_time, "question", "Why did June drop to 70%?", None),
            (on_time, "question", "Was May's value final?", asked),  # answered: not open any more
            (on_time, "context", "A storm week.", None),  # a note, not a question
            (gone, "question", "Where are the meter reads?", None),  # DWM's
        ):
            s.add(
                Annotation(
                    metric_id=metric.id, period="2017-06", kind=kind, body=body, answered_at=answered,
                    actor="user:1", actor_name="Ana Analyst", at=asked,
                )
            )  # fmt: skip
    ids: dict[str, int] = {}
    with reporting_db.session() as s:
        for name, kind, held_on, title, departments in (
            ("past", "roundtable", dt.date(2017, 6, 1), "June roundtable", ["DPW"]),
            ("dpw", "roundtable", dt.date(2017, 7, 20), "Public Works roundtable", ["DPW"]),
            ("dwm", "roundtable", dt.date(2017, 7, 21), "Watershed roundtable", ["DWM"]),
            ("cabinet", "cabinet", dt.date(2017, 7, 26), "Cabinet: June", []),
        ):
            meeting = Meeting(kind=kind, held_on=held_on, title=title, departments=departments, created_by="ana")
            s.add(meeting)
            s.flush()
            ids[name] = meeting.id
        for name, title, state, meeting_id in (
            ("draft", "Memo draft", BriefingState.draft, None),
            ("pack", "Pack for the Public Works roundtable", BriefingState.published, ids["dpw"]),
            ("old", "May pack", BriefingState.published, ids["past"]),
        ):
            briefing = Briefing(
                kind="roundtable", title=title, period="2017-06", departments=["DPW"], state=state,
                meeting_id=meeting_id, created_by="ana",
            )  # fmt: skip
            s.add(briefing)
            s.flush()
            ids[name] = briefing.id
        for name, department, description, done_at in (
            ("open", "DPW", "Clear the pothole backlog", None),
            ("done", "DPW", "Hire two crews", dt.datetime(2017, 6, 20, tzinfo=dt.UTC)),
            ("dwm", "DWM", "Replace old meters", None),
        ):
            commitment = Commitment(
                kind="action", department=department, description=description, deadline=dt.date(2017, 9, 1),
                done_at=done_at, meeting_id=ids["past"], created_by="ana",
            )  # fmt: skip
            s.add(commitment)
            s.flush()
            ids[name] = commitment.id
    for username, (role, department) in USERS.items():
        make_user(ingest_db, username, role, department)
    return ids


def _home(client, username: str) -> dict:
    client.cookies.clear()
    sign_in(client, username)
    answer = client.get(HOME)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _present(board: dict) -> set[str]:
    return {name for name in ALL_SECTIONS if board[name] is not None}


def test_a_liaison_sees_what_is_due_late_changed_and_asked(client, city):
    board = _home(client, "lee")
    assert (board["role"], board["board"], board["period"]) == ("liaison", "department", "2017-06")
    assert board["department"] == {"code": "DPW", "name": "Public Works"}
    assert _present(board) == DEPARTMENT_SECTIONS

    assert [(d["metric"], d["period"], d["due_date"], d["days_late"]) for d in board["due"]["items"]] == [
        ("dpw.potholes", "2017-06", "2017-07-10", 0)
    ]
    assert [(d["metric"], d["period"], d["due_date"], d["days_late"]) for d in board["late"]["items"]] == [
        ("dpw.potholes", "2017-03", "2017-04-10", 91)
    ]
    # Potholes' latest period is June, which has no value yet: only the on-time rate moved.
    [moved] = board["changed"]["items"]
    assert (moved["metric"], moved["period"], moved["previous_period"]) == ("dpw.on_time", "2017-06", "2017-05")
    assert moved["value"] == pytest.approx(0.70)
    assert moved["change"] == pytest.approx(0.70 - 0.915)  # May: 0.92 - 0.005
    assert (moved["judgement"], moved["status"], moved["arrived_on"]) == ("worsening", "off_target", "2017-07-10")

    [question] = board["questions"]["items"]  # not the answered one, not the note, not DWM's
    assert question["body"] == "Why did June drop to 70%?"
    assert (question["metric"], question["metric_name"], question["asked_by"]) == (
        "dpw.on_time",
        "Requests closed on time",
        "Ana Analyst",
    )
    assert question["url"] == "metric.html?key=dpw.on_time"
    assert board["questions"]["total"] == 1
    # Its own roundtable and the whole Cabinet's, from today on; not Watershed's, not June's.
    assert [m["id"] for m in board["meetings"]["items"]] == [city["dpw"], city["cabinet"]]


def test_a_head_also_sees_the_scorecard_and_open_commitments(client, city):
    board = _home(client, "hed")
    assert board["role"] == "head"
    assert _present(board) == DEPARTMENT_SECTIONS | {"scorecard", "commitments"}
    card = board["scorecard"]
    assert {m["metric"]: m["status"] for m in card["items"]} == {"dpw.on_time": "off_target", "dpw.potholes": "missing"}
    assert (card["period"], card["total"], card["summary"]["off_target"], card["summary"]["missing"]) == (
        "2017-06",
        2,
        1,
        1,
    )
    # Open only: not the one done, not Watershed's.
    assert [(c["id"], c["status"]) for c in board["commitments"]["items"]] == [(city["open"], "open")]
    assert board["commitments"]["total"] == 1


def test_the_performance_office_sees_the_citywide_board(client, city):
    for username, role in (("ana", "analyst"), ("adm", "admin")):
        board = _home(client, username)
        assert (board["role"], board["board"], board["department"]) == (role, "citywide", None)
        assert _present(board) == CITYWIDE_SECTIONS

        assert [m["metric"] for m in board["off_target"]["items"]] == ["dpw.on_time"]
        signals = board["signals"]["items"]
        below = [s for s in signals if s["metric"] == "dpw.on_time" and s["rule"] == "beyond_limits"]
        assert [(s["direction"], s["periods"], s["new"]) for s in below] == [("below", ["2017-06"], True)]
        assert "below the lower process limit" in below[0]["text"]
        assert board["signals"]["total"] == len(signals)

        missing = board["missing"]
        assert (missing["start"], missing["end"]) == ("2017-01", "2017-06")
        # DWM's meters: March to May missing (June is only due); DPW: potholes' March.
        assert [(d["department"], d["missing"]) for d in missing["items"]] == [("DWM", 3), ("DPW", 1)]

        assert [m["id"] for m in board["meetings"]["items"]] == [city["dpw"], city["dwm"], city["cabinet"]]
        # The pack for the next meeting first, then the draft; not the pack of a past meeting.
        assert [(b["id"], b["meeting_on"]) for b in board["briefings"]["items"]] == [
            (city["pack"], "2017-07-20"),
            (city["draft"], None),
        ]


def test_viewers_get_the_board_of_what_they_may_read(client, city):
    department = _home(client, "vic")  # a department's viewer: the liaison's board, read-only
    assert (department["role"], department["board"], department["department"]["code"]) == (
        "viewer",
        "department",
        "DPW",
    )
    assert _present(department) == DEPARTMENT_SECTIONS
    assert department["questions"]["total"] == 1

    citywide = _home(client, "city")  # a citywide viewer: the office's board, without its drafts
    assert (citywide["board"], _present(citywide)) == ("citywide", CITYWIDE_SECTIONS)
    assert [b["id"] for b in citywide["briefings"]["items"]] == [city["pack"]]

    other = _home(client, "wes")  # another department's liaison sees Watershed, nothing of Public Works
    assert other["department"]["code"] == "DWM"
    assert [q["body"] for q in other["questions"]["items"]] == ["Where are the meter reads?"]
    assert {d["metric"] for d in other["late"]["items"]} == {"dwm.gone"}
    assert [d["period"] for d in other["late"]["items"]] == ["2017-03", "2017-04", "2017-05"]


def test_lists_are_cut_with_their_totals(client, metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        for n in range(12):
            make_metric(s, dpw, key=f"dpw.m{n:02d}", name=f"Metric {n:02d}", first_period="2017-06")
    make_user(ingest_db, "lee", "liaison", "DPW")
    board = _home(client, "lee")
    assert board["due"]["total"] == 12
    assert [d["metric"] for d in board["due"]["items"]] == [f"dpw.m{n:02d}" for n in range(8)]


def test_signed_out_and_system_tokens_have_no_board(client, city, ingest_db):
    anonymous = client.get(HOME)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    # Reporting knows staff sessions only: a department system's token is no session, as on every staff route here.
    token = make_token(ingest_db, "DPW")
    assert client.get(HOME, headers={"Authorization": f"Bearer {token}"}).status_code == 401
