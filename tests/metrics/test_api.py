import datetime as dt

from tests.factories import make_department, make_metric, make_observation, make_target

PROBLEM = "application/problem+json"


def _seed(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        on_time = make_metric(s, dpw, key="dpw.on_time", name="Requests on time")
        make_target(s, on_time, 0.80, 0.05, dt.date(2013, 1, 1))
        make_target(s, on_time, 0.90, 0.05, dt.date(2017, 6, 15))
        for period, value in [("2017-04", 0.84), ("2017-05", 0.86), ("2017-06", 0.87)]:
            make_observation(s, on_time, period, value)
        hidden = make_metric(s, dpw, key="dpw.draft", is_published=False)
        make_observation(s, hidden, "2017-06", 0.5)
        make_department(s, "DWM", "Watershed")


def test_departments_list_counts_published_metrics(client, metrics_db):
    _seed(metrics_db)
    body = client.get("/api/metrics/departments").json()
    assert body["total"] == 2
    assert {d["code"]: d["metric_count"] for d in body["items"]} == {"DPW": 1, "DWM": 0}


def test_unknown_department_and_metric_are_problem_404(client, metrics_db):
    _seed(metrics_db)
    for path in (
        "/api/metrics/departments/NOPE",
        "/api/metrics/metrics/nope",
        "/api/metrics/metrics/nope/performance",
        "/api/metrics/metrics?department=NOPE",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "urn:citystat:problem:not-found"


def test_unpublished_metric_is_not_readable_without_login(client, metrics_db):
    _seed(metrics_db)
    assert client.get("/api/metrics/metrics/dpw.draft").status_code == 404
    keys = [
        m["key"] for m in client.get("/api/metrics/metrics", params={"department": "DPW"}).json()["items"]
    ]
    assert keys == ["dpw.on_time"]


def test_metric_shows_the_target_in_force_today(client, metrics_db):
    _seed(metrics_db)
    metric = client.get("/api/metrics/metrics/dpw.on_time").json()
    assert metric["department"] == "DPW"
    assert metric["target"]["value"] == 0.90
    targets = client.get("/api/metrics/metrics/dpw.on_time/targets").json()["items"]
    assert [t["value"] for t in targets] == [0.80, 0.90]


def test_observations_filter_by_period_range(client, metrics_db):
    _seed(metrics_db)
    body = client.get(
        "/api/metrics/metrics/dpw.on_time/observations", params={"start": "2017-05", "end": "2017-06"}
    ).json()
    assert body["total"] == 2
    assert [o["period"] for o in body["items"]] == ["2017-05", "2017-06"]


def test_performance_uses_the_target_in_force_for_the_period(client, metrics_db):
    _seed(metrics_db)
    may = client.get("/api/metrics/metrics/dpw.on_time/performance", params={"period": "2017-05"}).json()
    june = client.get("/api/metrics/metrics/dpw.on_time/performance", params={"period": "2017-06"}).json()
    assert (may["target"], may["status"]) == (0.80, "on_target")
    assert (june["target"], june["status"]) == (0.90, "near")
    assert june["previous_value"] == 0.86 and abs(june["change"] - 0.01) < 1e-9
    march = client.get("/api/metrics/metrics/dpw.on_time/performance", params={"period": "2017-03"}).json()
    assert march["status"] == "missing" and march["value"] is None


def test_performance_defaults_to_the_last_complete_period(client, metrics_db):
    _seed(metrics_db)
    assert client.get("/api/metrics/metrics/dpw.on_time/performance").json()["period"] == "2017-06"


def test_malformed_period_is_a_422_with_the_field(client, metrics_db):
    response = client.get("/api/metrics/performance", params={"period": "2017-13"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    error = response.json()["errors"][0]
    assert error["field"] == "query.period"
    assert "'2017-13' is not a period" in error["reason"]


def test_limit_above_the_maximum_is_clamped(client, metrics_db, settings):
    with metrics_db.session() as s:
        for _ in range(3):
            make_department(s)
    body = client.get("/api/metrics/departments", params={"limit": 10**6}).json()
    assert body["total"] == 3 and len(body["items"]) == 3
    assert client.get("/api/metrics/departments", params={"limit": 2}).json()["items"].__len__() == 2


def test_batch_endpoint_needs_the_internal_token(client, metrics_db):
    response = client.post("/api/metrics/observations/batch", json={"department": "DPW", "rows": []})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
