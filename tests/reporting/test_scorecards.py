from tests.factories import make_department, make_metric, make_observation, make_target

PROBLEM = "application/problem+json"


def _seed(metrics_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        on_time = make_metric(s, dpw, key="dpw.on_time", name="On time")
        make_target(s, on_time, 0.9, 0.05)
        make_observation(s, on_time, "2017-06", 0.95)
        potholes = make_metric(
            s,
            dpw,
            key="dpw.pothole_days",
            unit="days",
            direction="lower_is_better",
            min_value=0,
            max_value=None,
        )
        make_target(s, potholes, 3.0, 1.0)
        make_observation(s, potholes, "2017-06", 5.0)
        make_metric(s, dpw, key="dpw.untargeted")
        quarterly = make_metric(s, dpw, key="dpw.quarterly", frequency="quarter")
        make_target(s, quarterly, 0.5, 0.1)
        make_observation(s, quarterly, "2017-Q2", 0.45)
        make_department(s, "DWM", "Watershed")


def test_scorecard_lists_each_metric_with_value_target_and_status(client, metrics_db):
    _seed(metrics_db)
    card = client.get("/api/reporting/departments/DPW/scorecard", params={"period": "2017-06"}).json()
    assert card["department"] == {"code": "DPW", "name": "Public Works"}
    assert card["period"] == "2017-06" and card["as_of"] == "2017-07-10"
    rows = {m["metric"]: (m["period"], m["value"], m["target"], m["status"]) for m in card["metrics"]}
    assert rows == {
        "dpw.on_time": ("2017-06", 0.95, 0.9, "on_target"),
        "dpw.pothole_days": ("2017-06", 5.0, 3.0, "off_target"),
        "dpw.untargeted": ("2017-06", None, None, "missing"),
        "dpw.quarterly": ("2017-Q2", 0.45, 0.5, "near"),
    }
    assert card["summary"] == {
        "total": 4,
        "on_target": 1,
        "near": 1,
        "off_target": 1,
        "no_target": 0,
        "missing": 1,
        "share_on_target": 0.25,
    }


def test_scorecards_summarise_every_department(client, metrics_db):
    _seed(metrics_db)
    body = client.get("/api/reporting/scorecards").json()
    assert body["period"] == "2017-06"
    summaries = {item["department"]["code"]: item["summary"] for item in body["items"]}
    assert summaries["DPW"]["on_target"] == 1 and summaries["DPW"]["total"] == 4
    assert summaries["DWM"] == {
        "total": 0,
        "on_target": 0,
        "near": 0,
        "off_target": 0,
        "no_target": 0,
        "missing": 0,
        "share_on_target": None,
    }


def test_unknown_department_is_404_problem(client, metrics_db):
    response = client.get("/api/reporting/departments/NOPE/scorecard")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "NOPE" in response.json()["detail"]


def test_bad_period_is_422(client, metrics_db):
    response = client.get("/api/reporting/departments/DPW/scorecard", params={"period": "June"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_health_reports_each_service(client):
    for service in ("ingest", "metrics", "reporting"):
        body = client.get(f"/api/{service}/health").json()
        assert (body["service"], body["status"], body["database"]) == (service, "ok", "ok")


def test_the_last_year_a_period_can_have_judges_each_metric_by_its_last_writable_period(client, metrics_db):
    # December 2199 falls in FY2200 (July start) and in ISO week 2200-W01, which no period can be written as; a
    # scorecard "for 2199" judges those metrics by the period before (FY2199, 2199-W52) instead of failing.
    with metrics_db.session() as s:
        finance = make_department(s, "FIN", "Finance")
        make_metric(s, finance, key="fin.audit", frequency="fiscal_year")
        make_metric(s, finance, key="fin.weekly", frequency="week")
    performance = client.get("/api/metrics/performance", params={"period": "2199"})
    assert performance.status_code == 200, performance.text
    periods = {item["metric"]: item["period"] for item in performance.json()["items"]}
    assert periods == {"fin.audit": "FY2199", "fin.weekly": "2199-W52"}
    card = client.get("/api/reporting/departments/FIN/scorecard", params={"period": "2199"})
    assert card.status_code == 200, card.text
    assert {m["metric"]: m["period"] for m in card.json()["metrics"]} == periods
