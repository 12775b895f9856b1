"""SLA clocks: calendar and business days on the city's clock, weekends and holidays skipped, a department's rule
before the citywide one; and the API the performance office keeps the SLA table and the holiday calendar with."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from services.metrics.audit.models import AuditEvent
from services.metrics.records.models import DayKind, Holiday, SlaRule
from services.metrics.records.sla import SlaClock
from tests.factories import make_department, make_user, sign_in
from tests.metrics.records.record_factory import CITY, local

M = "/api/metrics"
RULES = f"{M}/datasets/service_requests/sla-rules"
JULY_4 = dt.date(2017, 7, 4)


def _clock(*rules: tuple[str, str, float, DayKind], holidays=()) -> SlaClock:
    rows = [SlaRule(dataset="service_requests", department=d, category=c, days=n, day_kind=k) for d, c, n, k in rules]
    return SlaClock(rows, holidays, CITY)


BUSINESS = DayKind.business
CALENDAR = DayKind.calendar


def test_two_business_days_from_friday_afternoon_is_tuesday_afternoon():
    clock = _clock(("", "Pothole", 2, BUSINESS))
    # 2017-06-30 is a Friday.
    assert clock.due_at("DPW", "Pothole", local("2017-06-30 15:00")) == local("2017-07-04 15:00")
    # Opened on the weekend, the count starts from Monday all the same.
    assert clock.due_at("DPW", "Pothole", local("2017-07-01 10:00")) == local("2017-07-04 10:00")
    assert clock.due_at("DPW", "Pothole", local("2017-07-03 08:15")) == local("2017-07-05 08:15")


def test_a_holiday_is_not_a_business_day():
    clock = _clock(("", "Pothole", 2, BUSINESS), holidays=[JULY_4])
    # Friday + Monday (1) + [Tuesday the 4th, a holiday] + Wednesday (2).
    assert clock.due_at("DPW", "Pothole", local("2017-06-30 15:00")) == local("2017-07-05 15:00")
    assert clock.due_at("DPW", "Pothole", local("2017-07-03 15:00")) == local("2017-07-06 15:00")
    assert not clock.is_business_day(JULY_4)
    assert clock.is_business_day(dt.date(2017, 7, 5))


def test_business_days_keep_the_wall_clock_time_across_a_change_of_offset():
    clock = _clock(("", "Pothole", 1, BUSINESS))
    # Friday 2017-03-10 is on EST (UTC-5); Monday the 13th on EDT (UTC-4), still 15:00 in the city.
    due = clock.due_at("DPW", "Pothole", local("2017-03-10 15:00"))
    assert due == local("2017-03-13 15:00") == dt.datetime(2017, 3, 13, 19, 0, tzinfo=dt.UTC)


def test_calendar_days_are_elapsed_time_and_may_be_fractions():
    clock = _clock(("", "Graffiti", 0.5, CALENDAR), ("", "Streetlight", 3, CALENDAR))
    opened = local("2017-06-30 15:00")
    assert clock.due_at("DPW", "Graffiti", opened) == opened + dt.timedelta(hours=12)
    # Weekends count for calendar days.
    assert clock.due_at("DPW", "Streetlight", opened) == local("2017-07-03 15:00")


def test_a_department_rule_beats_the_citywide_one_and_unknown_categories_get_none():
    clock = _clock(("", "Pothole", 10, CALENDAR), ("DPW", "Pothole", 2, CALENDAR))
    opened = local("2017-06-01 09:00")
    assert clock.due_at("DPW", "Pothole", opened) == opened + dt.timedelta(days=2)
    assert clock.due_at("DWM", "Pothole", opened) == opened + dt.timedelta(days=10)
    assert clock.due_at("DPW", "Sinkhole", opened) is None
    assert clock.due_at("DPW", None, opened) is None


def test_the_clock_reads_the_dataset_rules_and_every_holiday(metrics_db):
    with metrics_db.session() as s:
        s.add(SlaRule(dataset="service_requests", category="Pothole", days=1, day_kind=BUSINESS))
        s.add(SlaRule(dataset="work_orders", category="Pothole", days=30, day_kind=CALENDAR))
        s.add(Holiday(day=dt.date(2017, 7, 3), name="Bridge day"))
    with metrics_db.session(write=False) as s:
        clock = SlaClock.load(s, "service_requests", CITY)
    # One business day from Friday, Monday the 3rd being a holiday: Tuesday. The work order rule is not read.
    assert clock.due_at("DPW", "Pothole", local("2017-06-30 15:00")) == local("2017-07-04 15:00")
    assert clock.rules == {("", "Pothole"): (1, BUSINESS)}


# --- the API -------------------------------------------------------------------------------------------------------


@pytest.fixture
def staff(metrics_db, ingest_db):
    with metrics_db.session() as s:
        make_department(s, "DPW", "Public Works")
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    return metrics_db


def _as(client, username):
    client.cookies.clear()
    return sign_in(client, username)


def test_the_office_sets_replaces_lists_and_removes_sla_rules(client, staff):
    csrf = _as(client, "ana")
    put = client.put(RULES, json={"category": "Pothole", "days": 2, "day_kind": "business"}, headers=csrf)
    assert put.status_code == 201, put.text
    assert put.json()["department"] == "" and put.json()["created_by"].startswith("user:")
    again = client.put(RULES, json={"category": "Pothole", "days": 3, "day_kind": "business"}, headers=csrf)
    assert (again.status_code, again.json()["days"]) == (200, 3)
    own = {"department": "DPW", "category": "Pothole", "days": 0.5}
    assert client.put(RULES, json=own, headers=csrf).status_code == 201
    listed = client.get(RULES).json()
    assert listed["total"] == 2
    assert [(r["department"], r["days"], r["day_kind"]) for r in listed["items"]] == [
        ("", 3, "business"),
        ("DPW", 0.5, "calendar"),
    ]
    assert client.get(RULES, params={"department": "DPW"}).json()["total"] == 1
    gone = client.delete(RULES, params={"department": "DPW", "category": "Pothole"}, headers=csrf)
    assert gone.status_code == 204
    assert client.delete(RULES, params={"department": "DPW", "category": "Pothole"}, headers=csrf).status_code == 404
    assert client.get(RULES).json()["total"] == 1
    with staff.session(write=False) as s:
        actions = s.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("sla_rule.set") == 3 and actions.count("sla_rule.deleted") == 1


def test_sla_rules_refuse_what_cannot_be_a_service_level(client, staff):
    csrf = _as(client, "ana")
    fraction = client.put(RULES, json={"category": "Pothole", "days": 1.5, "day_kind": "business"}, headers=csrf)
    assert fraction.status_code == 422
    assert any("whole" in e["reason"] for e in fraction.json()["errors"])
    for bad in (
        {"category": "Pothole", "days": -1},
        {"category": "Pothole", "days": True},
        {"category": "", "days": 1},
    ):
        assert client.put(RULES, json=bad, headers=csrf).status_code == 422, bad
    unknown = client.put(RULES, json={"department": "NOPE", "category": "Pothole", "days": 1}, headers=csrf)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "department"
    missing = client.put(f"{M}/datasets/no_such/sla-rules", json={"category": "Pothole", "days": 1}, headers=csrf)
    assert missing.status_code == 404
    assert client.get(f"{M}/datasets/no_such/sla-rules").status_code == 404


def test_only_the_office_changes_sla_rules_and_only_staff_read_them(client, staff):
    assert client.get(RULES).status_code == 401
    csrf = _as(client, "lia")
    assert client.get(RULES).status_code == 200
    assert client.put(RULES, json={"category": "Pothole", "days": 1}, headers=csrf).status_code == 403
    assert client.delete(RULES, params={"category": "Pothole"}, headers=csrf).status_code == 403
    assert client.put(f"{M}/holidays/2017-07-04", json={"name": "Independence Day"}, headers=csrf).status_code == 403


def test_the_office_keeps_the_holiday_calendar(client, staff):
    csrf = _as(client, "ana")
    first = client.put(f"{M}/holidays/2017-07-04", json={"name": "Independence Day"}, headers=csrf)
    assert (first.status_code, first.json()) == (201, {"day": "2017-07-04", "name": "Independence Day"})
    assert client.put(f"{M}/holidays/2017-07-04", json={"name": "Fourth of July"}, headers=csrf).status_code == 200
    assert (
        client.put(f"{M}/holidays/2016-12-26", json={"name": "Christmas (observed)"}, headers=csrf).status_code == 201
    )
    assert client.put(f"{M}/holidays/2017-02-30", json={"name": "No such day"}, headers=csrf).status_code == 422
    listed = client.get(f"{M}/holidays").json()
    assert [h["name"] for h in listed["items"]] == ["Christmas (observed)", "Fourth of July"]
    assert client.get(f"{M}/holidays", params={"year": 2017}).json()["total"] == 1
    assert client.delete(f"{M}/holidays/2017-07-04", headers=csrf).status_code == 204
    assert client.delete(f"{M}/holidays/2017-07-04", headers=csrf).status_code == 404
    client.cookies.clear()
    assert client.get(f"{M}/holidays").status_code == 401
