"""Every change written to an observation is kept as a revision, and its history can be read back."""

import datetime as dt

from sqlalchemy import func
from sqlmodel import select

from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation, ObservationRevision
from services.metrics.orgunits.models import OrgUnit
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_metric

URL = "/api/metrics/observations/batch"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
HISTORY = "/api/metrics/metrics/dpw.potholes/observations/2017-06/revisions"
PROBLEM = "application/problem+json"


def _city(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        make_metric(s, dpw, key="dpw.potholes", unit="count", min_value=0, max_value=None)
        make_metric(s, dpw, key="dpw.draft", unit="count", min_value=0, max_value=None, is_published=False)


def _send(client, rows, **batch):
    response = client.post(URL, json={"department": "DPW", "rows": rows, **batch}, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def _row(value=None, **extra):
    row = {"metric": "dpw.potholes", "period": "2017-06", **extra}
    if value is not None:
        row["value"] = value
    return row


def _history(client, **params):
    response = client.get(HISTORY, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _count(metrics_db, model) -> int:
    with metrics_db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_a_new_value_is_kept_as_a_created_revision_with_its_actor_and_submission(client, metrics_db):
    _city(metrics_db)
    before = dt.datetime.now(dt.UTC)
    result = _send(client, [_row(10, comment="first count")], delivery_id="sub-1", actor="user:alice")
    assert result["applied"] is True and result["summary"]["accepted"] == 1

    history = _history(client)
    assert history["total"] == 1
    (revision,) = history["items"]
    with metrics_db.session(write=False) as s:
        assert revision["id"] == s.exec(select(ObservationRevision.id)).one()
    assert revision | {"changed_at": None, "id": None} == {
        "id": None,
        "period": "2017-06", "org_unit": "", "kind": "created", "value": 10.0, "numerator": None,
        "denominator": None, "comment": "first count", "previous_value": None, "reason": None,
        "submission_id": "sub-1", "actor": "user:alice", "changed_at": None,
    }
    changed_at = dt.datetime.fromisoformat(revision["changed_at"])
    assert changed_at.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=1) <= changed_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


def test_a_correction_keeps_its_reason_and_the_value_it_replaced_newest_first(client, metrics_db):
    _city(metrics_db)
    _send(client, [_row(numerator=9, denominator=10, comment="from the CRM")], delivery_id="sub-1")
    result = _send(client, [_row(numerator=19, denominator=20, reason="two requests were counted twice")],
                   delivery_id="sub-2", actor="token:12")
    assert result["summary"]["updated"] == 1

    newest, oldest = _history(client)["items"]
    assert oldest["kind"] == "created" and oldest["value"] == 0.9
    assert newest["kind"] == "updated"
    assert (newest["value"], newest["previous_value"]) == (0.95, 0.9)
    assert (newest["numerator"], newest["denominator"]) == (19.0, 20.0)
    assert newest["reason"] == "two requests were counted twice"
    assert (newest["actor"], newest["submission_id"]) == ("token:12", "sub-2")
    # The row gave no comment, so the stored one stays, and the revision says so.
    assert newest["comment"] == "from the CRM"


def test_an_unchanged_value_writes_no_revision(client, metrics_db):
    _city(metrics_db)
    _send(client, [_row(10)])
    result = _send(client, [_row(10, reason="resent by the nightly job")])
    assert result["summary"]["unchanged"] == 1
    assert result["applied"] is True
    assert _history(client)["total"] == 1
    assert _count(metrics_db, ObservationRevision) == 1


def test_a_deleted_value_leaves_its_history_behind(client, metrics_db):
    _city(metrics_db)
    _send(client, [_row(10)])
    _send(client, [_row(12)])
    result = _send(client, [_row(reason="entered for the wrong month")], strategy="delete", delivery_id="del-1",
                   actor="operator")
    assert result["summary"]["deleted"] == 1 and result["applied"] is True
    assert client.get("/api/metrics/metrics/dpw.potholes/observations").json()["total"] == 0
    assert _count(metrics_db, Observation) == 0

    history = _history(client)
    assert [r["kind"] for r in history["items"]] == ["deleted", "updated", "created"]
    deleted = history["items"][0]
    assert (deleted["value"], deleted["numerator"], deleted["denominator"], deleted["comment"]) == (None,) * 4
    assert deleted["previous_value"] == 12.0
    assert (deleted["reason"], deleted["actor"], deleted["submission_id"]) == (
        "entered for the wrong month", "operator", "del-1"
    )


def test_one_batch_writing_a_value_twice_keeps_both_changes(client, metrics_db):
    _city(metrics_db)
    _send(client, [_row(10), _row(12)])
    newest, oldest = _history(client)["items"]
    assert (oldest["kind"], oldest["value"]) == ("created", 10.0)
    assert (newest["kind"], newest["value"], newest["previous_value"]) == ("updated", 12.0, 10.0)


def test_a_dry_run_writes_no_revision(client, metrics_db):
    _city(metrics_db)
    _send(client, [_row(10)])
    upsert = _send(client, [_row(11), _row(period="2017-05", value=3)], dry_run=True)
    assert (upsert["summary"]["updated"], upsert["summary"]["accepted"], upsert["applied"]) == (1, 1, False)
    delete = _send(client, [_row()], dry_run=True, strategy="delete")
    assert (delete["summary"]["deleted"], delete["applied"]) == (1, False)
    assert _count(metrics_db, ObservationRevision) == 1
    assert [v["value"] for v in client.get("/api/metrics/metrics/dpw.potholes/observations").json()["items"]] == [10]


def test_history_is_per_org_unit_and_pages(client, metrics_db):
    _city(metrics_db)
    with metrics_db.session() as s:
        dpw = s.exec(select(Department).where(Department.code == "DPW")).one()
        s.add(OrgUnit(department_id=dpw.id, code="north", name="North yard", kind="yard"))
    for value in (1, 2, 3):
        _send(client, [_row(value, org_unit="north")])
    assert _history(client)["total"] == 0
    north = _history(client, org_unit="north")
    assert north["total"] == 3
    assert [r["value"] for r in north["items"]] == [3.0, 2.0, 1.0]
    assert all(r["org_unit"] == "north" for r in north["items"])
    page = _history(client, org_unit="north", limit=1, offset=1)
    assert (page["total"], [r["value"] for r in page["items"]]) == (3, [2.0])


def test_a_row_for_an_org_unit_the_department_does_not_have_is_rejected(client, metrics_db):
    _city(metrics_db)
    result = _send(client, [_row(5, org_unit="atlantis"), _row(6)])
    assert [(r["row"], r["field"]) for r in result["summary"]["rejected"]] == [(0, "org_unit")]
    assert "no org unit 'atlantis'" in result["summary"]["rejected"][0]["reason"]
    assert result["summary"]["accepted"] == 1
    assert _count(metrics_db, Observation) == 1


def test_history_of_a_period_without_changes_is_an_empty_page(client, metrics_db):
    _city(metrics_db)
    _send(client, [_row(10)])
    body = client.get("/api/metrics/metrics/dpw.potholes/observations/2017-05/revisions").json()
    assert body == {"items": [], "total": 0}


def test_history_of_a_hidden_or_unknown_metric_is_a_problem_404(client, metrics_db):
    _city(metrics_db)
    _send(client, [{"metric": "dpw.draft", "period": "2017-06", "value": 1}])
    assert _count(metrics_db, ObservationRevision) == 1
    for key in ("dpw.draft", "dpw.nope"):
        response = client.get(f"/api/metrics/metrics/{key}/observations/2017-06/revisions")
        assert response.status_code == 404, key
        assert response.headers["content-type"] == PROBLEM


def test_history_asks_for_a_real_period(client, metrics_db):
    _city(metrics_db)
    for period in ("2017-13", "June", "2017-W60"):
        response = client.get(f"/api/metrics/metrics/dpw.potholes/observations/{period}/revisions")
        assert response.status_code == 422, period
        assert response.headers["content-type"] == PROBLEM


def test_concurrent_corrections_form_one_unbroken_chain(client, metrics_db):
    from concurrent.futures import ThreadPoolExecutor

    _city(metrics_db)

    def deliver(i: int) -> int:
        batch = {"department": "DPW", "delivery_id": f"sub-{i}", "rows": [_row(100 + i)]}
        return client.post(URL, json=batch, headers=AUTH).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(deliver, range(16))) == [200] * 16
    # Each change must have seen the one before it, or a revision would name a value nobody replaced.
    oldest_first = list(reversed(_history(client)["items"]))
    assert [r["kind"] for r in oldest_first] == ["created"] + ["updated"] * (len(oldest_first) - 1)
    for earlier, later in zip(oldest_first, oldest_first[1:], strict=False):
        assert later["previous_value"] == earlier["value"]
    stored = client.get("/api/metrics/metrics/dpw.potholes/observations").json()["items"]
    assert stored[0]["value"] == oldest_first[-1]["value"]
