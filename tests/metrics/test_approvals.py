"""A department head approves a month's values (or an analyst on the department's behalf); approval locks them, and
values lock by themselves some days after they were due. A locked value changes only by an analyst's correction
with a reason, which is audited. Values not approved yet read as provisional.

The test app's as_of is 2017-07-10 and lock_after_days 30; metrics are due 10 days after their period ends."""

import datetime as dt
import uuid

import pytest
from sqlmodel import select

from services.common.contracts import ObservationBatch
from services.common.periods import Period
from services.metrics.approvals.models import PeriodApproval
from services.metrics.approvals.service import approved_months, is_approved, lock_reason
from services.metrics.audit.models import AuditEvent
from services.metrics.definitions.models import Metric
from services.metrics.departments.service import get_department
from services.metrics.observations.models import Observation, ObservationRevision
from services.metrics.observations.service import apply_batch, apply_batches
from tests.conftest import DEMO_AS_OF
from tests.factories import make_department, make_metric, make_observation, make_token, make_user, sign_in

APPROVALS = "/api/metrics/departments/DPW/approvals"
SUBMISSIONS = "/api/ingest/submissions"
PROBLEM = "application/problem+json"
USERS = {
    "ana": ("analyst", None),
    "adm": ("admin", None),
    "hed": ("head", "DPW"),
    "lia": ("liaison", "DPW"),
    "vic": ("viewer", "DPW"),
    "city": ("viewer", None),
    "dwmhead": ("head", "DWM"),
}


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        potholes = make_metric(s, dpw, key="dpw.potholes", unit="count", min_value=0, max_value=None)
        weekly = make_metric(s, dpw, key="dpw.crews", unit="count", frequency="week", min_value=0, max_value=None)
        quarterly = make_metric(s, dpw, key="dpw.quarterly", unit="count", frequency="quarter", max_value=None)
        for period, value in [("2017-04", 4), ("2017-05", 5), ("2017-06", 6)]:
            make_observation(s, potholes, period, value)
        for period, value in [("2017-W21", 21), ("2017-W22", 22)]:
            make_observation(s, weekly, period, value)
        make_observation(s, quarterly, "2017-Q2", 2)
        make_department(s, "DWM", "Watershed")
    return City(make_token(ingest_db, "DPW"), ingest_db)


class City:
    def __init__(self, token, ingest_db):
        self.token, self.ingest_db = token, ingest_db
        # Staff accounts are made on first sign-in: hashing every password for every test would be most of its time.
        self.made: set[str] = set()


def _as(client, city, username):
    if username not in city.made:
        make_user(city.ingest_db, username, *USERS[username])
        city.made.add(username)
    client.cookies.clear()
    return sign_in(client, username)


def _approve(client, city, username, period="2017-05", **body):
    csrf = _as(client, city, username)
    response = client.post(APPROVALS, json={"period": period, **body}, headers=csrf)
    client.cookies.clear()
    return response


def _values(client, key):
    response = client.get(f"/api/metrics/metrics/{key}/observations")
    assert response.status_code == 200, response.text
    return {item["period"]: (item["value"], item["approved"]) for item in response.json()["items"]}


def _submit(client, city, rows, *, user=None, **params):
    """Through ingest, as a signed-in staff member or else with DPW's API token."""
    if user is not None:
        headers = _as(client, city, user)
        params.setdefault("department", "DPW")
    else:
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {city.token}"}
    headers["Idempotency-Key"] = uuid.uuid4().hex
    response = client.post(SUBMISSIONS, json={"observations": rows}, params=params, headers=headers)
    client.cookies.clear()
    return response


def _events(metrics_db, action):
    with metrics_db.session(write=False) as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _stored(metrics_db, period, key="dpw.potholes"):
    with metrics_db.session(write=False) as s:
        return list(
            s.exec(
                select(Observation.value)
                .join(Metric, Metric.id == Observation.metric_id)
                .where(Metric.key == key, Observation.period == period)
            )
        )


# ---------------------------------------------------------------------------------------------------------------
# Who approves, and when
# ---------------------------------------------------------------------------------------------------------------


def test_the_head_approves_a_month_for_the_department_and_it_is_listed_and_audited(client, city, metrics_db):
    response = _approve(client, city, "hed", note="Checked against the CRM export.")
    assert response.status_code == 201, response.text
    approval = response.json()
    assert approval | {"at": None} == {
        "department": "DPW",
        "period": "2017-05",
        "note": "Checked against the CRM export.",
        "on_behalf": False,
        "actor": approval["actor"],
        "actor_name": "Hed",
        "at": None,
    }
    assert approval["actor"].startswith("user:")

    listed = client.get(APPROVALS)  # anonymous: the public site labels provisional values from it
    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    assert [(a["period"], a["on_behalf"]) for a in listed.json()["items"]] == [("2017-05", False)]

    (event,) = _events(metrics_db, "period.approved")
    assert (event.actor, event.department_code, event.subject) == (approval["actor"], "DPW", "2017-05")
    assert event.detail == {"period": "2017-05", "note": "Checked against the CRM export.", "on_behalf": False}


@pytest.mark.parametrize("username", ["ana", "adm"])
def test_the_performance_office_approves_on_the_departments_behalf(client, city, metrics_db, username):
    response = _approve(client, city, username, period="2017-06")
    assert response.status_code == 201, response.text
    assert response.json()["on_behalf"] is True
    (event,) = _events(metrics_db, "period.approved")
    assert event.detail["on_behalf"] is True


@pytest.mark.parametrize("username", ["lia", "vic", "city", "dwmhead"])
def test_nobody_else_approves(client, city, metrics_db, username):
    response = _approve(client, city, username)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    assert client.get(APPROVALS).json()["total"] == 0
    assert _events(metrics_db, "period.approved") == []


def test_an_anonymous_caller_or_a_department_token_must_sign_in(client, city):
    assert client.post(APPROVALS, json={"period": "2017-05"}).status_code == 401
    with_token = client.post(APPROVALS, json={"period": "2017-05"}, headers={"Authorization": f"Bearer {city.token}"})
    assert with_token.status_code == 401
    assert client.get(APPROVALS).json()["total"] == 0


@pytest.mark.parametrize("period", ["2017-07", "2017-12", "2018-01"])
def test_a_month_that_has_not_ended_cannot_be_approved(client, city, period):
    response = _approve(client, city, "hed", period=period)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "period", "reason": "the month has not ended"}]
    assert client.get(APPROVALS).json()["total"] == 0


@pytest.mark.parametrize("period", ["2017-Q2", "2017-W21", "2017", "2017-13", "May"])
def test_only_a_month_is_approved(client, city, period):
    assert _approve(client, city, "hed", period=period).status_code == 422


def test_a_month_is_approved_once(client, city, metrics_db):
    assert _approve(client, city, "hed").status_code == 201
    again = _approve(client, city, "ana")
    assert again.status_code == 409, again.text
    assert "already approved by Hed" in again.json()["detail"]
    assert [a["on_behalf"] for a in client.get(APPROVALS).json()["items"]] == [False]
    assert len(_events(metrics_db, "period.approved")) == 1


def test_an_unknown_department_is_404(client, city):
    csrf = _as(client, city, "ana")
    nope = "/api/metrics/departments/NOPE"
    assert client.post(f"{nope}/approvals", json={"period": "2017-05"}, headers=csrf).status_code == 404
    assert client.get(f"{nope}/approvals").status_code == 404
    assert client.get(f"{nope}/periods/2017-05/lock").status_code == 404


# ---------------------------------------------------------------------------------------------------------------
# Provisional values
# ---------------------------------------------------------------------------------------------------------------


def test_values_read_provisional_until_the_month_they_end_in_is_approved(client, city):
    assert _values(client, "dpw.potholes") == {
        "2017-04": (4.0, False),
        "2017-05": (5.0, False),
        "2017-06": (6.0, False),
    }
    assert _approve(client, city, "hed", period="2017-05").status_code == 201
    assert _values(client, "dpw.potholes") == {"2017-04": (4.0, False), "2017-05": (5.0, True), "2017-06": (6.0, False)}
    # W21 runs 22-28 May; W22 runs 29 May - 4 June, so June's approval covers it; the quarter ends in June.
    assert _values(client, "dpw.crews") == {"2017-W21": (21.0, True), "2017-W22": (22.0, False)}
    assert _values(client, "dpw.quarterly") == {"2017-Q2": (2.0, False)}

    assert _approve(client, city, "ana", period="2017-06").status_code == 201
    assert _values(client, "dpw.crews") == {"2017-W21": (21.0, True), "2017-W22": (22.0, True)}
    assert _values(client, "dpw.quarterly") == {"2017-Q2": (2.0, True)}


def test_another_departments_approval_does_not_approve_these_values(client, city):
    csrf = _as(client, city, "dwmhead")
    approved = client.post("/api/metrics/departments/DWM/approvals", json={"period": "2017-05"}, headers=csrf)
    assert approved.status_code == 201
    assert _values(client, "dpw.potholes")["2017-05"] == (5.0, False)


# ---------------------------------------------------------------------------------------------------------------
# Locked periods in the write path
# ---------------------------------------------------------------------------------------------------------------


def test_a_department_cannot_change_an_approved_periods_values(client, city, metrics_db):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    response = _submit(
        client,
        city,
        [
            {"metric": "dpw.potholes", "period": "2017-06", "value": 60, "reason": "recount"},
            {"metric": "dpw.potholes", "period": "2017-07", "value": 7},
        ],
    )
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    assert (summary["accepted"], summary["updated"]) == (1, 0)
    (rejected,) = summary["rejected"]
    assert (rejected["row"], rejected["field"]) == (0, "period")
    assert "2017-06 was approved by the department on" in rejected["reason"]
    assert "only an analyst may correct it, giving a reason" in rejected["reason"]
    assert _stored(metrics_db, "2017-06") == [6.0]

    # A liaison signed in fares no better, reason or not.
    response = _submit(
        client, city, [{"metric": "dpw.potholes", "period": "2017-06", "value": 60, "reason": "recount"}], user="lia"
    )
    assert [r["field"] for r in response.json()["summary"]["rejected"]] == ["period"]
    assert _stored(metrics_db, "2017-06") == [6.0]


def test_resending_a_locked_value_unchanged_is_no_correction(client, city):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    response = _submit(client, city, [{"metric": "dpw.potholes", "period": "2017-06", "value": 6}])
    summary = response.json()["summary"]
    assert (summary["unchanged"], summary["rejected"]) == (1, [])
    # Nor is a row the strategy leaves alone.
    created = _submit(
        client,
        city,
        [{"metric": "dpw.potholes", "period": "2017-06", "value": 9}],
        importStrategy="create",
    )
    summary = created.json()["summary"]
    assert (summary["ignored"], summary["rejected"]) == (1, [])


def test_an_analyst_corrects_a_locked_value_with_a_reason_and_it_is_audited(client, city, metrics_db):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    response = _submit(
        client,
        city,
        [{"metric": "dpw.potholes", "period": "2017-06", "value": 60, "reason": "the CRM export missed a district"}],
        user="ana",
    )
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    assert (summary["updated"], summary["rejected"]) == (1, [])
    assert _stored(metrics_db, "2017-06") == [60.0]
    assert _values(client, "dpw.potholes")["2017-06"] == (60.0, True)

    (event,) = _events(metrics_db, "observation.locked_correction")
    assert event.actor.startswith("user:") and event.department_code == "DPW" and event.subject == "dpw.potholes"
    assert event.detail | {"locked": None, "submission_id": None} == {
        "metric": "dpw.potholes",
        "period": "2017-06",
        "org_unit": "",
        "kind": "updated",
        "value": 60.0,
        "previous_value": 6.0,
        "reason": "the CRM export missed a district",
        "locked": None,
        "submission_id": None,
    }
    assert event.detail["locked"].startswith("2017-06 was approved by the department on")
    assert event.detail["submission_id"] == response.json()["id"]
    with metrics_db.session(write=False) as s:
        revision = s.exec(select(ObservationRevision).where(ObservationRevision.kind == "updated")).one()
    assert (revision.reason, revision.previous_value, revision.actor) == (
        "the CRM export missed a district",
        6.0,
        event.actor,
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_an_analysts_correction_of_a_locked_value_without_a_reason_is_rejected(client, city, metrics_db, reason):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    row = {"metric": "dpw.potholes", "period": "2017-06", "value": 60}
    if reason is not None:
        row["reason"] = reason
    response = _submit(client, city, [row], user="ana")
    (rejected,) = response.json()["summary"]["rejected"]
    assert rejected["field"] == "period"
    assert "a correction must give its reason" in rejected["reason"]
    assert _stored(metrics_db, "2017-06") == [6.0]
    assert _events(metrics_db, "observation.locked_correction") == []


def test_a_locked_value_cannot_be_deleted_by_the_department(client, city, metrics_db):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    response = _submit(
        client,
        city,
        [{"metric": "dpw.potholes", "period": "2017-06", "reason": "wrong month"}],
        importStrategy="delete",
    )
    summary = response.json()["summary"]
    assert summary["deleted"] == 0 and [r["field"] for r in summary["rejected"]] == ["period"]
    assert _stored(metrics_db, "2017-06") == [6.0]


def test_an_atomic_submission_with_a_locked_change_stores_nothing(client, city, metrics_db):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    rows = [
        {"metric": "dpw.potholes", "period": "2017-07", "value": 7},
        {"metric": "dpw.potholes", "period": "2017-06", "value": 60},
    ]
    response = _submit(client, city, rows, atomic=True)
    assert response.status_code == 422, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, "period")]
    assert _stored(metrics_db, "2017-07") == [] and _stored(metrics_db, "2017-06") == [6.0]

    # The same batch resending the locked value unchanged is whole, and goes through.
    rows[1]["value"] = 6
    response = _submit(client, city, rows, atomic=True)
    assert response.status_code == 201, response.text
    assert _stored(metrics_db, "2017-07") == [7.0]


def test_a_dry_run_tells_of_locked_rows_and_of_an_analysts_allowed_correction(client, city):
    assert _approve(client, city, "hed", period="2017-06").status_code == 201
    row = {"metric": "dpw.potholes", "period": "2017-06", "value": 60, "reason": "recount"}
    by_department = _submit(client, city, [row], dry_run=True).json()["summary"]
    assert [r["field"] for r in by_department["rejected"]] == ["period"]
    by_analyst = _submit(client, city, [row], user="ana", dry_run=True).json()["summary"]
    assert (by_analyst["updated"], by_analyst["rejected"]) == (1, [])


def test_a_period_long_past_due_locks_without_approval(client, city, metrics_db):
    # 2017-04 was due on 2017-05-10: more than 30 days before 2017-07-10. 2017-05 was due 2017-06-10, exactly 30
    # days before, so it is still open today and locks tomorrow.
    response = _submit(
        client,
        city,
        [
            {"metric": "dpw.potholes", "period": "2017-04", "value": 40},
            {"metric": "dpw.potholes", "period": "2017-05", "value": 50},
        ],
    )
    summary = response.json()["summary"]
    assert summary["updated"] == 1
    (rejected,) = summary["rejected"]
    assert (rejected["row"], rejected["field"]) == (0, "period")
    assert "locked since 2017-06-10, more than 30 days after it was due on 2017-05-10" in rejected["reason"]
    assert _stored(metrics_db, "2017-04") == [4.0] and _stored(metrics_db, "2017-05") == [50.0]
    assert _values(client, "dpw.potholes")["2017-04"] == (4.0, False)  # locked, yet not approved

    # A value never sent for a locked period is late beyond correction by the department, too.
    late = _submit(client, city, [{"metric": "dpw.crews", "period": "2017-W10", "value": 1}])
    assert [r["field"] for r in late.json()["summary"]["rejected"]] == ["period"]

    fixed = _submit(
        client,
        city,
        [{"metric": "dpw.potholes", "period": "2017-04", "value": 40, "reason": "late recount"}],
        user="ana",
    )
    assert fixed.json()["summary"]["updated"] == 1
    (event,) = _events(metrics_db, "observation.locked_correction")
    assert event.detail["locked"].startswith("locked since 2017-06-10")


def test_lock_after_days_is_the_setting_and_the_due_date_itself_stays_open(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        make_metric(s, dpw, key="dpw.potholes", unit="count", min_value=0, max_value=None)
        make_metric(s, dpw, key="dpw.slow", unit="count", min_value=0, max_value=None, due_days=40)
    rows = [
        {"metric": "dpw.potholes", "period": "2017-06", "value": 6},  # due 2017-07-10: today
        {"metric": "dpw.potholes", "period": "2017-05", "value": 5},  # due 2017-06-10
        {"metric": "dpw.slow", "period": "2017-05", "value": 5},  # due 2017-07-10: today
    ]
    with metrics_db.session() as s:
        result = apply_batch(s, ObservationBatch(department="DPW", rows=rows), DEMO_AS_OF, lock_after_days=0)
    assert result.summary.accepted == 2
    assert [(r.row, r.field) for r in result.summary.rejected] == [(1, "period")]
    reason = result.summary.rejected[0].reason
    assert "locked since 2017-06-11, more than 0 days after it was due on 2017-06-10" in reason


def test_a_batch_of_many_departments_is_judged_against_each_ones_approvals(metrics_db):
    with metrics_db.session() as s:
        for code in ("DPW", "DWM"):
            make_metric(s, make_department(s, code), key=f"{code.lower()}.count", unit="count", max_value=None)
    batches = [
        ObservationBatch(department=code, rows=[{"metric": f"{code.lower()}.count", "period": "2017-06", "value": 1}])
        for code in ("DPW", "DWM")
    ]
    with metrics_db.session() as s:
        s.add(PeriodApproval(department_id=get_department(s, "DWM").id, period="2017-06", actor="operator"))
    with metrics_db.session() as s:
        dpw, dwm = apply_batches(s, batches, DEMO_AS_OF, lock_after_days=30)
    assert (dpw.summary.accepted, dpw.summary.rejected) == (1, [])
    assert dwm.summary.accepted == 0 and [r.field for r in dwm.summary.rejected] == ["period"]


# ---------------------------------------------------------------------------------------------------------------
# The lock of a period, and the service functions the rest of the code calls
# ---------------------------------------------------------------------------------------------------------------


def test_a_periods_lock_tells_approval_due_dates_and_lock_dates(client, city):
    open_june = client.get("/api/metrics/departments/DPW/periods/2017-06/lock")
    assert open_june.status_code == 200, open_june.text
    assert open_june.json() == {
        "department": "DPW",
        "period": "2017-06",
        "month": "2017-06",
        "approved": False,
        "approval": None,
        "locked": False,
        "metrics": [
            {"metric": "dpw.potholes", "due": "2017-07-10", "locks_on": "2017-08-10", "locked": False, "reason": None}
        ],
    }
    april = client.get("/api/metrics/departments/DPW/periods/2017-04/lock").json()
    assert april["approved"] is False and april["locked"] is True
    assert april["metrics"][0]["reason"] == "locked since 2017-06-10, more than 30 days after it was due on 2017-05-10"

    assert _approve(client, city, "ana", period="2017-05").status_code == 201
    may = client.get("/api/metrics/departments/DPW/periods/2017-05/lock").json()
    assert may["approved"] is True and may["locked"] is True
    assert (may["approval"]["period"], may["approval"]["on_behalf"]) == ("2017-05", True)
    assert may["metrics"][0]["reason"].startswith("2017-05 was approved by the department on ")

    week = client.get("/api/metrics/departments/DPW/periods/2017-W21/lock").json()
    assert (week["month"], week["approved"]) == ("2017-05", True)
    assert [(m["metric"], m["due"], m["locked"]) for m in week["metrics"]] == [("dpw.crews", "2017-06-07", True)]


def test_a_periods_lock_lists_unpublished_metrics_only_to_the_departments_staff(client, city, metrics_db):
    with metrics_db.session() as s:
        make_metric(s, get_department(s, "DPW"), key="dpw.hidden", unit="count", is_published=False, max_value=None)
    anonymous = client.get("/api/metrics/departments/DPW/periods/2017-06/lock").json()
    assert [m["metric"] for m in anonymous["metrics"]] == ["dpw.potholes"]
    _as(client, city, "lia")
    staff = client.get("/api/metrics/departments/DPW/periods/2017-06/lock").json()
    client.cookies.clear()
    assert [m["metric"] for m in staff["metrics"]] == ["dpw.hidden", "dpw.potholes"]


def test_approved_months_and_lock_reason_serve_many_departments_from_one_lookup(client, city, metrics_db):
    assert _approve(client, city, "hed", period="2017-05").status_code == 201
    with metrics_db.session(write=False) as s:
        dpw, dwm = get_department(s, "DPW"), get_department(s, "DWM")
        months = approved_months(s, [dpw.id, dwm.id, dpw.id])
        metric = s.exec(select(Metric).where(Metric.key == "dpw.potholes")).one()
    assert set(months) == {dpw.id, dwm.id}
    assert set(months[dpw.id]) == {"2017-05"} and months[dwm.id] == {}
    assert is_approved(Period.parse("2017-05"), months[dpw.id])
    assert is_approved(Period.parse("2017-W21"), months[dpw.id])
    assert not is_approved(Period.parse("2017-W22"), months[dpw.id])
    assert not is_approved(Period.parse("2017-05"), months[dwm.id])

    today = dt.date(2017, 7, 10)
    approved_on = months[dpw.id]["2017-05"].isoformat()
    assert lock_reason(metric, dpw.id, Period.parse("2017-05"), today, 30, months) == (
        f"2017-05 was approved by the department on {approved_on}"
    )
    assert lock_reason(metric, dpw.id, Period.parse("2017-06"), today, 30, months) is None
    assert lock_reason(metric, dpw.id, Period.parse("2017-06"), dt.date(2017, 8, 10), 30, months) == (
        "locked since 2017-08-10, more than 30 days after it was due on 2017-07-10"
    )
    assert lock_reason(metric, dpw.id, Period.parse("2017-06"), dt.date(2017, 8, 9), 30, months) is None
