"""Commitments through the whole app: a direction recorded in a Cabinet briefing sets the target in metrics as the
analyst; a refusal anywhere keeps nothing in reporting; statuses come from values submitted through ingest, as of
the test settings' 2017-07-10; action items are opened, closed and missed; staff see their own department's."""

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlmodel import func, select

from services.common.auth import Principal, PrincipalKind, Role
from services.common.errors import Forbidden
from services.common.http import create_service_client
from services.reporting.briefings.models import Briefing
from services.reporting.clients.metrics import Acting, MetricsClient, reporting_session
from services.reporting.commitments import service
from services.reporting.commitments.models import Commitment
from services.reporting.commitments.schemas import CommitmentCreate
from tests.conftest import DEMO_AS_OF
from tests.factories import make_department, make_metric, make_target, make_token, make_user, sign_in

URL = "/api/reporting/commitments"
MEETINGS = "/api/reporting/meetings"
PROBLEM = "application/problem+json"
USERS = {
    "ana": ("analyst", None),
    "lia": ("liaison", "DPW"),
    "vic": ("viewer", "DPW"),
    "city": ("viewer", None),
    "wat": ("liaison", "DWM"),
}
# Values through ingest, as DPW's system delivers them. The Cabinet met on 2017-03-08: March is the first month
# that counts for what it directed.
VALUES = {
    "dpw.on_time": [("2017-02", 0.80), ("2017-03", 0.85), ("2017-04", 0.91), ("2017-05", 0.89), ("2017-06", 0.88)],
    "dpw.rising": [("2017-03", 0.80), ("2017-04", 0.83), ("2017-05", 0.86), ("2017-06", 0.89)],
    "dpw.flat": [("2017-03", 0.80), ("2017-04", 0.80), ("2017-05", 0.81), ("2017-06", 0.80)],
    "dpw.latest": [("2017-05", 0.90), ("2017-06", 0.96)],
}


class City:
    def __init__(self, client, ingest_db, reporting_db):
        self.client, self.ingest_db, self.reporting_db = client, ingest_db, reporting_db
        self.made: set[str] = set()
        self.meeting = self.february = self.june = self.roundtable_pack = 0
        self.roundtable = 0

    def as_(self, username: str) -> dict[str, str]:
        if username not in self.made:
            make_user(self.ingest_db, username, *USERS[username])
            self.made.add(username)
        self.client.cookies.clear()
        return sign_in(self.client, username)


def _briefing(reporting_db, kind: str, title: str, period: str, meeting_id: int | None = None) -> int:
    with reporting_db.session() as s:
        briefing = Briefing(kind=kind, title=title, period=period, created_by="test", meeting_id=meeting_id)
        s.add(briefing)
        s.flush()
        return briefing.id


@pytest.fixture
def city(client, metrics_db, ingest_db, reporting_db) -> City:
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        for key in VALUES:
            make_metric(s, dpw, key=key, name=key.split(".")[1].replace("_", " ").title())
        make_metric(s, dpw, key="dpw.backlog", unit="days", direction="lower_is_better", min_value=0, max_value=None)
        targeted = make_metric(s, dpw, key="dpw.targeted")
        make_target(s, targeted, 0.9, 0.05, DEMO_AS_OF)
        dwm = make_department(s, "DWM", "Watershed")
        make_metric(s, dwm, key="dwm.on_time")
    c = City(client, ingest_db, reporting_db)
    csrf = c.as_("ana")
    # Months more than 30 days past due are locked: the analyst enters the history, with the reason a locked period
    # asks for.
    rows = [
        {"metric": key, "period": p, "value": v, "reason": "history from the department's reports"}
        for key, values in VALUES.items()
        for p, v in values
    ]
    delivered = client.post(
        "/api/ingest/submissions",
        params={"department": "DPW"},
        json={"observations": rows},
        headers={**csrf, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert delivered.status_code == 201 and not delivered.json()["summary"]["rejected"], delivered.text
    c.meeting = _meeting(client, csrf, kind="cabinet", held_on="2017-03-08", title="Cabinet, March 2017")
    c.roundtable = _meeting(
        client, csrf, kind="roundtable", held_on="2017-06-15", title="DPW roundtable", depts=["DPW"]
    )
    c.february = _briefing(reporting_db, "cabinet", "Cabinet briefing — February 2017", "2017-02", c.meeting)
    # Held in no recorded meeting: it counts from the end of the month it reviewed.
    c.june = _briefing(reporting_db, "cabinet", "Cabinet briefing — June 2017", "2017-06")
    c.roundtable_pack = _briefing(reporting_db, "roundtable", "DPW roundtable pack", "2017-05", c.roundtable)
    client.cookies.clear()
    return c


def _meeting(client, csrf, *, kind, held_on, title, depts=()) -> int:
    body = {"kind": kind, "held_on": held_on, "title": title, "departments": list(depts)}
    response = client.post(MEETINGS, json=body, headers=csrf)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def direction(city: City, **overrides) -> dict:
    return {
        "kind": "direction",
        "department": "DPW",
        "metric": "dpw.on_time",
        "description": "Get on-time completion to 90% by the end of the year.",
        "level": 0.90,
        "tolerance": 0.02,
        "deadline": "2017-12-31",
        "briefing_id": city.february,
        **overrides,
    }


def action(city: City, **overrides) -> dict:
    return {
        "kind": "action",
        "department": "DPW",
        "description": "Send the pothole crew schedule to the performance office.",
        "deadline": "2017-07-31",
        "meeting_id": city.roundtable,
        **overrides,
    }


def _stored(reporting_db) -> int:
    with reporting_db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(Commitment)).one()


def _targets(client, key: str) -> list[dict]:
    response = client.get(f"/api/metrics/metrics/{key}/targets")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_direction_sets_the_target_in_metrics_as_the_analyst_with_the_briefing_as_its_rationale(client, city):
    csrf = city.as_("ana")
    created = client.post(URL, json=direction(city), headers=csrf)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["made_in"] == "Cabinet briefing — February 2017" and body["made_on"] == "2017-03-08"
    assert body["target_id"] is not None

    [target] = _targets(client, "dpw.on_time")
    assert target["id"] == body["target_id"]
    assert (target["value"], target["tolerance"]) == (0.90, 0.02)
    assert (target["effective_from"], target["deadline"]) == ("2017-07-10", "2017-12-31")
    assert target["set_by"] == "Mayor (Cabinet briefing 'Cabinet briefing — February 2017', 2017-03-08)"
    assert f"Cabinet briefing {city.february}" in target["reason"]
    assert "Get on-time completion to 90%" in target["reason"]

    subject = f"dpw.on_time#target:{target['id']}"
    [event] = client.get("/api/metrics/audit", params={"subject": subject}).json()["items"]
    assert event["action"] == "target.set" and event["department"] == "DPW"
    me = client.get("/api/ingest/auth/me").json()
    assert event["actor_name"] == me["name"] == "Ana"
    assert event["actor"].startswith("user:")
    assert event["detail"]["set_by"] == target["set_by"]


def test_a_briefing_without_a_meeting_names_today_in_set_by_and_counts_from_the_end_of_its_period(client, city):
    csrf = city.as_("ana")
    created = client.post(
        URL, json=direction(city, metric="dpw.latest", level=0.95, briefing_id=city.june), headers=csrf
    )
    assert created.status_code == 201, created.text
    assert created.json()["made_on"] == "2017-06-30"
    [target] = _targets(client, "dpw.latest")
    assert target["set_by"] == "Mayor (Cabinet briefing 'Cabinet briefing — June 2017', 2017-07-10)"


@pytest.mark.parametrize(
    ("who", "overrides", "status", "field"),
    [
        ("lia", {}, 403, None),
        ("ana", {"metric": "dwm.on_time"}, 422, "metric"),
        ("ana", {"metric": "dpw.nothing"}, 422, "metric"),
        ("ana", {"department": "DWM"}, 422, "metric"),
        ("ana", {"briefing_id": 999999}, 422, "briefing_id"),
        ("ana", {"briefing_id": "roundtable_pack"}, 422, "briefing_id"),
        ("ana", {"briefing_id": None}, 422, "briefing_id"),
        ("ana", {"level": None}, 422, "level"),
        ("ana", {"deadline": None}, 422, "deadline"),
        ("ana", {"deadline": "2017-07-09"}, 422, "deadline"),
        ("ana", {"meeting_id": "roundtable"}, 422, "meeting_id"),
        ("ana", {"tolerance": -0.1}, 422, None),
        # Metrics keeps one target per start day: a second direction today for a metric that has one is a conflict.
        ("ana", {"metric": "dpw.targeted"}, 409, None),
    ],
)
def test_a_refused_direction_leaves_nothing_in_reporting_or_metrics(client, city, who, overrides, status, field):
    overrides = {k: getattr(city, v) if isinstance(v, str) and k.endswith("_id") else v for k, v in overrides.items()}
    before = _targets(client, overrides.get("metric", "dpw.on_time")) if status != 422 else []
    csrf = city.as_(who)
    response = client.post(URL, json=direction(city, **overrides), headers=csrf)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if field is not None:
        assert field in {e["field"] for e in response.json()["errors"]}, response.text
    assert _stored(city.reporting_db) == 0
    if status != 422:
        assert _targets(client, overrides.get("metric", "dpw.on_time")) == before
    client.cookies.clear()
    assert client.post(URL, json=direction(city)).status_code == 401


def test_when_metrics_refuses_the_target_the_flushed_commitment_is_rolled_back(client, city):
    """Reporting believes the caller is an analyst; metrics, asked with a liaison's session, refuses. The row was
    written before metrics was asked, and goes with the transaction."""
    client.cookies.clear()
    csrf = city.as_("lia")
    liaison = Acting(session=client.cookies["citystat_session"], csrf=csrf["X-CSRF-Token"])
    client.cookies.clear()
    analyst = Principal(kind=PrincipalKind.user, id="1", name="Ana", role=Role.analyst)
    settings = client.app.state.services["reporting"].state.settings
    seen_before_rollback = []

    async def attempt(session):
        transport = httpx.ASGITransport(app=client.app)
        async with create_service_client(settings, "metrics", transport) as http:
            metrics = MetricsClient(http, liaison)
            try:
                await service.create_commitment(
                    session, metrics, analyst, CommitmentCreate(**direction(city)), settings.as_of
                )
            except Forbidden:
                seen_before_rollback.append(session.exec(select(func.count()).select_from(Commitment)).one())
                raise

    with pytest.raises(Forbidden), city.reporting_db.session() as session:
        asyncio.run(attempt(session))
    assert seen_before_rollback == [1]
    assert _stored(city.reporting_db) == 0
    assert _targets(client, "dpw.on_time") == []


def _create_directions(client, city) -> dict[str, int]:
    csrf = city.as_("ana")
    made = {}
    for key, level in [("dpw.on_time", 0.90), ("dpw.rising", 0.95), ("dpw.flat", 0.95)]:
        response = client.post(URL, json=direction(city, metric=key, level=level), headers=csrf)
        assert response.status_code == 201, response.text
        made[key] = response.json()["id"]
    response = client.post(
        URL, json=direction(city, metric="dpw.latest", level=0.95, briefing_id=city.june), headers=csrf
    )
    assert response.status_code == 201, response.text
    made["dpw.latest"] = response.json()["id"]
    # A past deadline cannot be recorded through the API today; one recorded earlier reads like this.
    with city.reporting_db.session() as s:
        missed = Commitment(
            kind="direction",
            department="DPW",
            metric="dpw.flat",
            description="Reach 95% by June.",
            level=0.95,
            deadline=dt.date(2017, 6, 30),
            briefing_id=city.february,
            created_by="test",
        )
        s.add(missed)
        s.flush()
        made["missed"] = missed.id
    client.cookies.clear()
    return made


def test_statuses_follow_the_values_in_metrics(client, city):
    made = _create_directions(client, city)
    city.as_("vic")
    items = {c["id"]: c for c in client.get(URL).json()["items"]}
    status = {key: items[i]["status"] for key, i in made.items()}
    assert status == {
        "dpw.on_time": "met",  # April's 0.91 reached 0.90 (February's 0.80 came before the meeting)
        "dpw.rising": "on_track",  # +0.03 a month reaches 0.95 well before December
        "dpw.flat": "at_risk",  # flat at 0.80
        "dpw.latest": "on_track",  # June's 0.96 is there already, though it came before the briefing's month ended
        "missed": "missed",
    }
    met = items[made["dpw.on_time"]]
    assert "2017-04" in met["status_reason"]
    assert met["latest"]["period"] == "2017-06" and met["latest"]["value"] == 0.88
    observations = client.get("/api/metrics/metrics/dpw.on_time/observations").json()["items"]
    assert met["latest"]["revision"] == {o["period"]: o["revision"] for o in observations}["2017-06"]
    assert (met["metric_name"], met["unit"], met["direction"]) == ("On Time", "percent", "higher_is_better")
    assert items[made["dpw.rising"]]["projected"] > 0.95 > items[made["dpw.flat"]]["projected"]
    # Soonest deadline first.
    assert next(iter(items)) == made["missed"]

    at_risk = client.get(URL, params={"status": "at_risk"}).json()
    assert [c["id"] for c in at_risk["items"]] == [made["dpw.flat"]] and at_risk["total"] == 1
    paged = client.get(URL, params={"status": "on_track", "limit": 1, "offset": 1}).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1
    assert client.get(URL, params={"briefing_id": city.june}).json()["total"] == 1
    # The meeting's commitments include the directions given in the briefings held in it.
    assert client.get(URL, params={"meeting_id": city.meeting}).json()["total"] == 4
    assert client.get(f"{URL}/{made['dpw.flat']}").json()["status"] == "at_risk"


def test_a_value_corrected_through_ingest_changes_the_status(client, city):
    made = _create_directions(client, city)
    token = make_token(city.ingest_db, "DPW", "second system")
    client.cookies.clear()
    fixed = client.post(
        "/api/ingest/submissions",
        json={"observations": [{"metric": "dpw.flat", "period": "2017-06", "value": 0.96}]},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert fixed.status_code == 201, fixed.text
    city.as_("city")
    assert client.get(f"{URL}/{made['dpw.flat']}").json()["status"] == "met"
    # The one that was due in June is met too: June ends on its deadline.
    assert client.get(f"{URL}/{made['missed']}").json()["status"] == "met"


def test_staff_see_only_their_departments_commitments(client, city):
    made = _create_directions(client, city)
    csrf = city.as_("ana")
    dwm = client.post(
        URL,
        json=action(city, department="DWM", meeting_id=city.meeting, description="Watershed: report on main breaks."),
        headers=csrf,
    )
    assert dwm.status_code == 201, dwm.text
    assert client.get(URL).json()["total"] == 6
    city.as_("city")
    assert client.get(URL).json()["total"] == 6
    city.as_("wat")
    mine = client.get(URL).json()
    assert [c["department"] for c in mine["items"]] == ["DWM"]
    assert client.get(URL, params={"department": "DPW"}).json() == {"items": [], "total": 0}
    hidden = client.get(f"{URL}/{made['dpw.flat']}")
    assert hidden.status_code == 404 and hidden.headers["content-type"] == PROBLEM
    assert client.get(f"{URL}/999999").status_code == 404
    city.as_("lia")
    assert client.get(URL).json()["total"] == 5
    assert client.get(f"{URL}/{dwm.json()['id']}").status_code == 404
    client.cookies.clear()
    assert client.get(URL).status_code == 401


def test_action_items_open_close_and_miss(client, city):
    csrf = city.as_("ana")
    open_ = client.post(URL, json=action(city), headers=csrf)
    assert open_.status_code == 201, open_.text
    assert (open_.json()["status"], open_.json()["made_in"], open_.json()["made_on"]) == (
        "open",
        "DPW roundtable",
        "2017-06-15",
    )
    late = client.post(
        URL, json=action(city, deadline="2017-07-01", description="Fix the backlog report."), headers=csrf
    )
    assert late.json()["status"] == "missed"
    undated = client.post(URL, json=action(city, deadline=None), headers=csrf)
    assert undated.json()["status"] == "open" and undated.json()["deadline"] is None

    item = open_.json()["id"]
    closed = client.patch(f"{URL}/{item}", json={"done": True, "done_note": "Sent on 2017-07-07."}, headers=csrf)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "done" and closed.json()["done_at"] is not None
    assert closed.json()["done_note"] == "Sent on 2017-07-07."
    late_done = client.patch(f"{URL}/{late.json()['id']}", json={"done": True}, headers=csrf).json()
    assert late_done["status"] == "done"
    reopened = client.patch(f"{URL}/{late.json()['id']}", json={"done": False}, headers=csrf).json()
    assert (reopened["status"], reopened["done_at"], reopened["done_note"]) == ("missed", None, None)
    moved = client.patch(f"{URL}/{late.json()['id']}", json={"deadline": "2017-08-15"}, headers=csrf).json()
    assert moved["status"] == "open"
    meeting = client.get(f"{MEETINGS}/{city.roundtable}").json()
    assert meeting["commitments"] == 3

    for body, field in [
        (action(city, department="DWM"), "department"),  # not at this roundtable
        (action(city, metric="dpw.flat"), "metric"),
        (action(city, level=1), "level"),
        (action(city, meeting_id=None), "meeting_id"),
        (action(city, meeting_id=999999), "meeting_id"),
        (action(city, briefing_id=city.february), "briefing_id"),
        (action(city, deadline="2017-06-14"), "deadline"),
        (action(city, department="ZZZ"), "department"),
    ]:
        refused = client.post(URL, json=body, headers=csrf)
        assert refused.status_code == 422, (body, refused.text)
        assert field in {e["field"] for e in refused.json()["errors"]}, refused.text
    assert client.patch(f"{URL}/{item}", json={"level": 0.5}, headers=csrf).status_code == 422
    assert client.patch(f"{URL}/{item}", json={"description": None}, headers=csrf).status_code == 422
    assert client.patch(f"{URL}/999999", json={"done": True}, headers=csrf).status_code == 404
    assert _stored(city.reporting_db) == 3

    csrf = city.as_("lia")
    assert client.patch(f"{URL}/{item}", json={"done": False}, headers=csrf).status_code == 403
    assert client.post(URL, json=action(city), headers=csrf).status_code == 403
    assert client.get(f"{URL}/{item}").json()["status"] == "done"


def test_a_direction_only_takes_a_new_description(client, city):
    csrf = city.as_("ana")
    made = client.post(URL, json=direction(city), headers=csrf).json()
    for change in ({"level": 0.95}, {"tolerance": 0.01}, {"deadline": "2018-06-30"}):
        refused = client.patch(f"{URL}/{made['id']}", json=change, headers=csrf)
        assert refused.status_code == 422, refused.text
        assert "new commitment" in refused.json()["detail"]
    assert client.patch(f"{URL}/{made['id']}", json={"done": True}, headers=csrf).status_code == 422
    reworded = client.patch(f"{URL}/{made['id']}", json={"description": "90% on time by December."}, headers=csrf)
    assert reworded.status_code == 200 and reworded.json()["description"] == "90% on time by December."
    assert reworded.json()["level"] == 0.90 and reworded.json()["status"] == "met"
    [target] = _targets(client, "dpw.on_time")
    assert target["value"] == 0.90


def test_tracked_commitments_for_a_briefing(client, city):
    made = _create_directions(client, city)
    csrf = city.as_("ana")
    recent = client.post(URL, json=action(city, deadline="2017-07-31"), headers=csrf).json()["id"]
    old = client.post(URL, json=action(city, deadline="2017-07-31", description="Old item."), headers=csrf).json()["id"]
    water = client.post(
        URL, json=action(city, department="DWM", meeting_id=city.meeting, description="Main breaks."), headers=csrf
    ).json()["id"]
    client.cookies.clear()
    with city.reporting_db.session() as s:
        closed = s.get(Commitment, old)
        closed.done_at = dt.datetime(2017, 3, 1, tzinfo=dt.UTC)
        s.add(closed)
    reporting = client.app.state.services["reporting"]

    async def lines(departments, as_of):
        transport = httpx.ASGITransport(app=client.app)
        async with create_service_client(reporting.state.settings, "metrics", transport) as http:
            metrics = MetricsClient(http, reporting_session(reporting.state.session_codec))
            with city.reporting_db.session(write=False) as session:
                return await service.tracked_commitments(session, metrics, departments=departments, as_of=as_of)

    # Met with April's value (71 days before as_of): still listed. Closed in March: not any more.
    dpw = asyncio.run(lines(["DPW"], DEMO_AS_OF))
    ids = [line.id for line in dpw]
    assert old not in ids and water not in ids
    assert set(ids) == {*made.values(), recent}
    deadlines = [(line.deadline or dt.date.max, line.id) for line in dpw]
    assert deadlines == sorted(deadlines)
    by_id = {line.id: line for line in dpw}
    assert by_id[made["dpw.on_time"]].status == "met"
    assert by_id[made["dpw.on_time"]].made_in == "Cabinet briefing — February 2017"
    assert by_id[made["dpw.on_time"]].latest.period == "2017-06"
    assert by_id[recent].status == "open" and by_id[recent].made_on == dt.date(2017, 6, 15)

    # Three months on, what was met in April has dropped off; what is still open stays.
    later = {line.id for line in asyncio.run(lines(["DPW"], dt.date(2017, 8, 5)))}
    assert made["dpw.on_time"] not in later and made["dpw.flat"] in later
    citywide = {line.id for line in asyncio.run(lines(None, DEMO_AS_OF))}
    assert water in citywide and set(ids) <= citywide
    # A briefing as of a day before the roundtable does not list what was agreed in it.
    assert recent not in {line.id for line in asyncio.run(lines(["DPW"], dt.date(2017, 6, 1)))}
