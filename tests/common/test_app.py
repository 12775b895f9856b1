from fastapi.testclient import TestClient

from services.runner import create_single_service_app
from tests.conftest import free_port


def test_health_is_503_when_the_database_is_unreachable(settings):
    unreachable = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing"
    broken = settings.model_copy(update={"reporting_database_url": unreachable})
    with TestClient(create_single_service_app("reporting", broken)) as client:
        response = client.get("/api/reporting/health")
    assert response.status_code == 503
    assert (response.json()["status"], response.json()["database"]) == ("degraded", "unavailable")


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/metrics/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_sql_never_reaches_a_client(client, monkeypatch):
    from services.metrics.departments import service

    def explode(*_args, **_kwargs):
        raise RuntimeError("SELECT secret FROM department")

    monkeypatch.setattr(service, "list_departments", explode)
    response = client.get("/api/metrics/departments")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "SELECT" not in response.text and "Traceback" not in response.text
