"""Metric definitions iterated with departments: draft, proposal and its discussion, the head's sign-off
(or an analyst's on its behalf), agreed changes kept as versions, series breaks, publishing, retiring."""

import pytest
from sqlmodel import select

from services.metrics.audit.models import AuditEvent
from services.metrics.observations.models import Observation
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_department, make_metric, make_user, sign_in

METRICS = "/api/metrics/metrics"
NEW = {
    "key": "dpw.graffiti_removed_on_time",
    "department": "DPW",
    "name": "Graffiti removed within 48 hours",
    "unit": "percent",
    "kind": "output",
    "direction": "higher_is_better",
    "frequency": "month",
    "methodology": "Graffiti work orders closed within 48 hours of creation over all closed.",
}


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        make_department(s, "DPW", "Public Works")
        dwm = make_department(s, "DWM", "Watershed")
        make_metric(s, dwm, key="dwm.breaks", unit="count", min_value=0, max_value=None)
    for username, role, dept in [
        ("ana", "analyst", None),
        ("lia", "liaison", "DPW"),
        ("hed", "head", "DPW"),
        ("dwmhead", "head", "DWM"),
        ("vic", "viewer", "DPW"),
    ]:
        make_user(ingest_db, username, role, dept)
    return metrics_db


def _as(client, username):
    client.cookies.clear()
    return sign_in(client, username)


def _draft(client, **overrides):
    csrf = _as(client, "ana")
    response = client.post(METRICS, json={**NEW, **overrides}, headers=csrf)
    assert response.status_code == 201, response.text
    return response.json()


def _move(client, who, to, key=NEW["key"], reason=""):
    csrf = _as(client, who)
    return client.post(f"{METRICS}/{key}/transitions", json={"to": to, "reason": reason}, headers=csrf)


def _active(client, key=NEW["key"]):
    assert _move(client, "ana", "proposed", key).status_code == 200
    assert _move(client, "hed", "active", key).status_code == 200


def test_an_analyst_drafts_a_metric_that_only_staff_of_its_department_see(client, city):
    metric = _draft(client)
    assert (metric["state"], metric["version"], metric["rollup"], metric["is_published"]) == (
        "draft",
        1,
        "ratio",
        False,
    )
    client.cookies.clear()
    assert client.get(f"{METRICS}/{NEW['key']}").status_code == 404
    _as(client, "vic")
    assert client.get(f"{METRICS}/{NEW['key']}").json()["state"] == "draft"
    _as(client, "dwmhead")
    assert client.get(f"{METRICS}/{NEW['key']}").status_code == 404


def test_only_the_performance_office_drafts_and_keys_are_unique(client, city):
    csrf = _as(client, "lia")
    assert client.post(METRICS, json=NEW, headers=csrf).status_code == 403
    _draft(client)
    csrf = _as(client, "ana")
    assert client.post(METRICS, json=NEW, headers=csrf).status_code == 409
    assert client.post(METRICS, json={**NEW, "key": "dpw.other", "department": "NOPE"}, headers=csrf).status_code == 404
    client.cookies.clear()
    assert client.post(METRICS, json=NEW).status_code == 401


def test_a_proposal_is_discussed_then_signed_off_by_the_department_head(client, city):
    _draft(client)
    assert _move(client, "lia", "proposed").json()["state"] == "proposed"
    csrf = _as(client, "lia")
    assert (
        client.post(
            f"{METRICS}/{NEW['key']}/comments", json={"body": "48 hours is tight in winter."}, headers=csrf
        ).status_code
        == 201
    )
    csrf = _as(client, "ana")
    assert (
        client.post(
            f"{METRICS}/{NEW['key']}/comments", json={"body": "Atlanta did it in 2015."}, headers=csrf
        ).status_code
        == 201
    )
    thread = client.get(f"{METRICS}/{NEW['key']}/comments").json()["items"]
    assert [c["body"] for c in thread] == ["48 hours is tight in winter.", "Atlanta did it in 2015."]
    csrf = _as(client, "vic")
    assert client.post(f"{METRICS}/{NEW['key']}/comments", json={"body": "me too"}, headers=csrf).status_code == 403
    # A liaison may propose but not sign off; only the head (or an analyst on its behalf) does.
    assert _move(client, "lia", "active").status_code == 403
    assert _move(client, "dwmhead", "active").status_code in (403, 404)
    signed = _move(client, "hed", "active")
    assert signed.status_code == 200
    body = signed.json()
    assert (body["state"], body["signed_off_by"], body["signed_off_on_behalf"]) == ("active", "Hed", False)
    versions = client.get(f"{METRICS}/{NEW['key']}/versions").json()["items"]
    assert [v["action"] for v in versions] == ["created", "proposed", "signed_off"]
    assert [v["version"] for v in versions] == [1, 2, 3]


def test_an_analyst_signing_off_is_recorded_as_on_the_heads_behalf(client, city):
    _draft(client)
    _move(client, "ana", "proposed")
    body = _move(client, "ana", "active", reason="Agreed at the May roundtable").json()
    assert body["signed_off_on_behalf"] is True
    last = client.get(f"{METRICS}/{NEW['key']}/versions").json()["items"][-1]
    assert last["reason"].startswith("Signed off on behalf of DPW's head.")
    assert "May roundtable" in last["reason"]


def test_a_draft_cannot_skip_its_proposal_and_retiring_needs_a_reason(client, city):
    _draft(client)
    refused = _move(client, "ana", "active")
    assert refused.status_code == 422
    assert "proposed" in refused.json()["detail"]
    _active(client)
    assert _move(client, "ana", "retired").status_code == 422
    assert _move(client, "lia", "retired", reason="x").status_code == 403
    assert _move(client, "ana", "retired", reason="Replaced by a 311-based measure").json()["state"] == "retired"
    assert _move(client, "ana", "active", reason="Brought back").json()["state"] == "active"


def test_an_agreed_metric_changes_only_with_a_reason_and_each_change_is_a_version(client, city):
    _draft(client)
    _active(client)
    csrf = _as(client, "ana")
    url = f"{METRICS}/{NEW['key']}"
    assert client.patch(url, json={"name": "Graffiti removed within two days"}, headers=csrf).status_code == 422
    changed = client.patch(
        url, json={"name": "Graffiti removed within two days", "reason": "Plain words"}, headers=csrf
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 4
    last = client.get(f"{url}/versions").json()["items"][-1]
    assert last["changes"] == {"name": {"from": NEW["name"], "to": "Graffiti removed within two days"}}
    assert (last["reason"], last["series_break"], last["actor"]) == ("Plain words", False, last["actor"])
    # The department may not change what it agreed to.
    csrf = _as(client, "lia")
    assert client.patch(url, json={"name": "Easy", "reason": "x"}, headers=csrf).status_code == 403


def test_a_change_of_unit_or_a_declared_change_of_method_marks_a_series_break(client, city):
    _draft(client)
    _active(client)
    csrf = _as(client, "ana")
    url = f"{METRICS}/{NEW['key']}"
    client.patch(url, json={"unit": "count", "rollup": "sum", "reason": "Now counts removals"}, headers=csrf)
    client.patch(url, json={"owner": "Graffiti crew chief", "reason": "New owner"}, headers=csrf)
    client.patch(
        url,
        json={
            "methodology": "Includes private property",
            "reason": "Population widened",
            "series_break": True,
            "break_period": "2017-03",
        },
        headers=csrf,
    )
    versions = client.get(f"{url}/versions").json()["items"]
    breaks = [(v["changes"].keys() and sorted(v["changes"]), v["break_period"]) for v in versions if v["series_break"]]
    # as_of is 2017-07-10: an unannounced break starts in the current month.
    assert breaks == [(["rollup", "unit"], "2017-07"), (["methodology"], "2017-03")]
    bad = client.patch(
        url, json={"methodology": "x", "reason": "y", "series_break": True, "break_period": "2017-Q1"}, headers=csrf
    )
    assert bad.status_code == 422


def test_publishing_is_for_agreed_metrics_and_the_performance_office(client, city):
    _draft(client)
    csrf = _as(client, "ana")
    url = f"{METRICS}/{NEW['key']}"
    assert client.patch(url, json={"is_published": True}, headers=csrf).status_code == 422
    _active(client)
    csrf = _as(client, "hed")
    assert client.patch(url, json={"is_published": True, "reason": "x"}, headers=csrf).status_code == 403
    csrf = _as(client, "ana")
    assert client.patch(url, json={"is_published": True, "reason": "Ready"}, headers=csrf).status_code == 200
    client.cookies.clear()
    assert client.get(url).json()["is_published"] is True
    assert NEW["key"] in [m["key"] for m in client.get(METRICS, params={"state": "active"}).json()["items"]]
    assert NEW["key"] not in [m["key"] for m in client.get(METRICS, params={"state": "draft"}).json()["items"]]


def test_frequency_cannot_change_under_existing_values(client, city):
    csrf = _as(client, "ana")
    url = f"{METRICS}/dwm.breaks"
    # No values yet: the frequency may still change.
    with city.session() as s:
        assert s.exec(select(Observation.metric_id)).first() is None
    assert client.patch(url, json={"frequency": "quarter", "reason": "x"}, headers=csrf).status_code == 200
    client.patch(url, json={"frequency": "month", "reason": "back"}, headers=csrf)
    client.post(
        "/api/metrics/observations/batch",
        json={"department": "DWM", "rows": [{"metric": "dwm.breaks", "period": "2017-06", "value": 3}]},
        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
    )
    refused = client.patch(url, json={"frequency": "quarter", "reason": "x"}, headers=csrf)
    assert refused.status_code == 422, refused.text


def test_every_definition_change_is_in_the_metrics_audit_trail(client, city):
    _draft(client)
    _active(client)
    with city.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.subject == NEW["key"]).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["metric.created", "metric.proposed", "metric.signed_off"]
    assert all(e.department_code == "DPW" for e in events)
    assert events[-1].actor.startswith("user:")
