"""In one process: a department system submits, and the scorecard shows the new status."""

from typer.testing import CliRunner

from services.cli import app as cli
from services.metrics.demo.load import load_demo
from tests.factories import make_department, make_metric, make_observation, make_target, make_token


def _status(client, code, key, period="2017-06"):
    card = client.get(f"/api/reporting/departments/{code}/scorecard", params={"period": period}).json()
    return next((m["value"], m["status"]) for m in card["metrics"] if m["metric"] == key)


def test_submission_changes_the_scorecard(client, metrics_db, ingest_db):
    with metrics_db.session() as s:
        dpw = make_department(s, "DPW", "Public Works")
        metric = make_metric(s, dpw, key="dpw.on_time")
        make_target(s, metric, 0.9, 0.05)
        make_observation(s, metric, "2017-06", 0.80)
    token = make_token(ingest_db, "DPW")
    assert _status(client, "DPW", "dpw.on_time") == (0.80, "off_target")

    response = client.post(
        "/api/ingest/submissions",
        json={
            "observations": [
                {"metric": "dpw.on_time", "period": "2017-06", "numerator": 931, "denominator": 980}
            ]
        },
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "june-correction"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["summary"]["updated"] == 1
    assert _status(client, "DPW", "dpw.on_time") == (0.95, "on_target")


def test_demo_city_and_a_cli_token_reach_the_public_works_scorecard(
    client, clean_db, metrics_db, monkeypatch, settings
):
    # The demo's on-time rate is computed from its raw service requests: 95% in June 2017, on target.
    assert load_demo(metrics_db, settings=settings, multiplier=1).loaded
    assert _status(client, "DPW", "dpw.service_requests_on_time") == (0.95, "on_target")

    for service, url in clean_db.urls.items():
        monkeypatch.setenv(f"CITYSTAT_{service.upper()}_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["token", "create", "--department", "DPW", "--name", "DPW work orders"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cst_") and len(token) >= 40

    response = client.post(
        "/api/ingest/submissions",
        json={
            "observations": [
                {"metric": "dpw.service_requests_on_time", "period": "2017-06", "value": 0.97},
                {"metric": "dpw.potholes_repaired", "period": "2017-06", "value": 1234},
            ]
        },
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "cli-token"},
    )
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    # A computed metric's value is not the department's to submit: that row is rejected, the other one kept.
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [(0, "metric")]
    assert "computed" in summary["rejected"][0]["reason"]
    assert _status(client, "DPW", "dpw.service_requests_on_time") == (0.95, "on_target")
    assert _status(client, "DPW", "dpw.potholes_repaired")[0] == 1234
