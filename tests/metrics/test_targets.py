"""Targets with their history: set from a date by the performance office, corrected with a reason, and the
one in force for a period is the one performance uses."""

import datetime as dt

import pytest

from tests.factories import make_department, make_metric, make_observation, make_target, make_user, sign_in

URL = "/api/metrics/metrics/dpw.on_time"


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        metric = make_metric(s, dpw, key="dpw.on_time")
        make_target(s, metric, 0.90, 0.05, dt.date(2016, 1, 1))
        make_observation(s, metric, "2016-12", 0.88)
        make_observation(s, metric, "2017-02", 0.88)
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    return metrics_db


def _target(**overrides):
    return {
        "value": 0.95,
        "tolerance": 0.03,
        "effective_from": "2017-01-01",
        "deadline": "2017-12-31",
        "set_by": "Mayor (Cabinet briefing, December 2016)",
        "reason": "Public Works reached 90%; hold it to 95% by year end",
        **overrides,
    }


def _status(client, period):
    return client.get(f"{URL}/performance", params={"period": period}).json()


def test_performance_uses_the_target_in_force_for_each_period(client, city):
    csrf = sign_in(client, "ana")
    created = client.post(f"{URL}/targets", json=_target(), headers=csrf)
    assert created.status_code == 201, created.text
    assert created.json()["deadline"] == "2017-12-31"
    before, after = _status(client, "2016-12"), _status(client, "2017-02")
    # 0.88 against 0.90 - 0.05 is near; against 0.95 - 0.03 it is off target.
    assert (before["target"], before["status"]) == (0.90, "near")
    assert (after["target"], after["status"]) == (0.95, "off_target")
    history = client.get(f"{URL}/targets").json()["items"]
    assert [t["value"] for t in history] == [0.90, 0.95]


def test_a_target_with_an_end_date_leaves_no_target_after_it(client, city):
    csrf = sign_in(client, "ana")
    client.post(f"{URL}/targets", json=_target(effective_to="2017-01-31"), headers=csrf)
    assert _status(client, "2017-01")["target"] == 0.95
    assert _status(client, "2017-02")["status"] == "no_target"


def test_a_percent_tolerance_is_a_share_of_the_target(client, city):
    csrf = sign_in(client, "ana")
    # 5% of 0.95 is 0.0475: 0.88 is 0.07 short, beyond it (a tolerance of 5 in units would call it near).
    created = client.post(f"{URL}/targets", json=_target(tolerance=5, tolerance_kind="percent"), headers=csrf)
    assert _status(client, "2017-02")["status"] == "off_target"
    client.patch(f"{URL}/targets/{created.json()['id']}", json={"tolerance": 10, "reason": "Wider band"}, headers=csrf)
    # 10% of 0.95 is 0.095: 0.88 is within it.
    assert _status(client, "2017-02")["status"] == "near"
    assert _status(client, "2017-02")["tolerance"] == pytest.approx(0.095)


def test_only_the_performance_office_sets_targets_and_one_start_date_holds_one(client, city):
    csrf = sign_in(client, "lia")
    assert client.post(f"{URL}/targets", json=_target(), headers=csrf).status_code == 403
    client.cookies.clear()
    assert client.post(f"{URL}/targets", json=_target()).status_code == 401
    csrf = sign_in(client, "ana")
    assert client.post(f"{URL}/targets", json=_target(), headers=csrf).status_code == 201
    assert client.post(f"{URL}/targets", json=_target(value=0.97), headers=csrf).status_code == 409
    assert client.post(f"{URL}/targets", json=_target(effective_to="2016-01-01"), headers=csrf).status_code == 422
    assert client.post(f"{URL}/targets", json=_target(reason=""), headers=csrf).status_code == 422


def test_a_correction_keeps_the_old_values_in_the_targets_history(client, city):
    csrf = sign_in(client, "ana")
    target_id = client.post(f"{URL}/targets", json=_target(value=0.59), headers=csrf).json()["id"]
    assert client.patch(f"{URL}/targets/{target_id}", json={"value": 0.95}, headers=csrf).status_code == 422
    fixed = client.patch(f"{URL}/targets/{target_id}", json={"value": 0.95, "reason": "Typo: 59 for 95"}, headers=csrf)
    assert fixed.status_code == 200
    assert fixed.json()["value"] == 0.95
    history = client.get(f"{URL}/targets/history").json()["items"]
    assert [h["action"] for h in history] == ["target.set", "target.corrected"]
    assert history[1]["detail"]["before"]["value"] == 0.59
    assert history[1]["detail"]["after"]["value"] == 0.95
    assert history[1]["detail"]["reason"] == "Typo: 59 for 95"
    assert client.patch(f"{URL}/targets/999999", json={"value": 1, "reason": "x"}, headers=csrf).status_code == 404
