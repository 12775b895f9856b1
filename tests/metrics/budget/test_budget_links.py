"""A metric's links to the budget: anyone reads a published metric's; the performance office replaces the set, every
link checked against the budget's lines; an unpublished metric's are its department's staff's to read."""

from __future__ import annotations

from sqlmodel import select

from services.common.auth import OPERATOR
from services.metrics.audit.models import AuditEvent
from services.metrics.budget.service import import_budget
from tests.factories import make_department, make_metric, make_user, sign_in

BUDGET = (
    b"budget_year,department,account_type,fund_code,account_category,amount\n"
    b"FY16-17,Public Works,Expense,1010,Street Sweeping,1000\n"
    b"FY16-17,Public Works,Expense,2000,Parks,500\n"
    b"FY16-17,Police,Expense,1010,Patrol,800\n"
)
M = "/api/metrics/metrics"


def _world(metrics_db, ingest_db) -> None:
    with metrics_db.session() as session:
        import_budget(session, BUDGET, OPERATOR)
        dpw, other = make_department(session, "DPW"), make_department(session, "OPD")
        make_metric(session, dpw, key="dpw.swept")
        make_metric(session, dpw, key="dpw.secret", is_published=False)
        make_metric(session, other, key="opd.patrols")
    make_user(ingest_db, "ana.lyst", "analyst")
    make_user(ingest_db, "dpw.liaison", "liaison", "DPW")
    make_user(ingest_db, "opd.liaison", "liaison", "OPD")


def _links(client, key: str) -> list[tuple]:
    response = client.get(f"{M}/{key}/budget-links")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [(i["department"], i["department_code"], i["fund_code"], i["category"], i["note"]) for i in body["items"]]


def test_the_office_replaces_the_set_and_the_change_is_audited(client, metrics_db, ingest_db):
    _world(metrics_db, ingest_db)
    headers = sign_in(client, "ana.lyst")
    first = {
        "links": [
            {"department": "Public Works", "fund_code": "1010", "note": "the sweeping crews"},
            {"department": "Police", "category": "Patrol"},
        ]
    }
    response = client.put(f"{M}/dpw.swept/budget-links", json=first, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2
    linked_at = response.json()["items"][1]["linked_at"]
    # Mapping a budget department shows its CityStat code beside it.
    assert client.put(
        "/api/metrics/budget/departments/Public Works", json={"department": "DPW"}, headers=headers
    ).is_success
    response = client.put(
        f"{M}/dpw.swept/budget-links",
        json={"links": [{"department": "Public Works", "fund_code": "1010", "note": "the sweeping crews"}]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["linked_at"] == linked_at  # kept as it was: who linked it and when stay
    client.cookies.clear()
    assert _links(client, "dpw.swept") == [("Public Works", "DPW", "1010", None, "the sweeping crews")]
    assert _links(client, "opd.patrols") == []
    with metrics_db.session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "metric.budget_linked").order_by(AuditEvent.id)
        ).all()
    assert [(e.subject, e.department_code, e.actor_name) for e in events] == [("dpw.swept", "DPW", "Ana Lyst")] * 2
    assert events[1].detail["from"] == [["Police", None, "Patrol"], ["Public Works", "1010", None]]
    assert events[1].detail["to"] == [["Public Works", "1010", None]]
    # An empty list removes them all.
    headers = sign_in(client, "ana.lyst")
    assert client.put(f"{M}/dpw.swept/budget-links", json={"links": []}, headers=headers).json() == {
        "items": [],
        "total": 0,
    }


def test_links_the_budget_does_not_have_are_refused_by_name(client, metrics_db, ingest_db):
    _world(metrics_db, ingest_db)
    headers = sign_in(client, "ana.lyst")
    put = f"{M}/dpw.swept/budget-links"
    response = client.put(
        put,
        json={
            "links": [
                {"department": "Public Works"},
                {"department": "Pubic Works"},
                {"department": "Public Works", "fund_code": "9999"},
                {"department": "Police", "category": "Parks"},  # Parks is Public Works', not Police's
            ]
        },
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "'Pubic Works'" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["links[1].department", "links[2].fund_code", "links[3].category"]
    duplicate = client.put(put, json={"links": [{"department": "Police"}, {"department": "Police"}]}, headers=headers)
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "links[1]"
    for body in (
        {"links": [{"department": "Police", "amount": 5}]},
        {"links": [], "extra": True},
        {"links": [{"department": ""}]},
        {"links": [{"department": "Police", "fund_code": None, "category": "Patrol\x00"}]},
        {},
    ):
        assert client.put(put, json=body, headers=headers).status_code == 422, body
    assert _links(client, "dpw.swept") == []  # nothing was stored by any of them


def test_only_the_office_changes_links_and_unpublished_metrics_stay_hidden(client, metrics_db, ingest_db):
    _world(metrics_db, ingest_db)
    body = {"links": [{"department": "Police"}]}
    assert client.put(f"{M}/dpw.swept/budget-links", json=body).status_code == 401
    for key in ("dpw.secret", "no.such_metric"):
        assert client.get(f"{M}/{key}/budget-links").status_code == 404
        assert client.get(f"{M}/{key}/cost-per-output").status_code == 404
    headers = sign_in(client, "dpw.liaison")
    assert client.put(f"{M}/dpw.swept/budget-links", json=body, headers=headers).status_code == 403
    assert client.put(f"{M}/dpw.secret/budget-links", json=body, headers=headers).status_code == 403
    assert _links(client, "dpw.secret") == []  # its own department's staff read it
    assert client.get(f"{M}/dpw.secret/cost-per-output").status_code == 200
    headers = sign_in(client, "opd.liaison")
    assert client.put(f"{M}/dpw.secret/budget-links", json=body, headers=headers).status_code == 404
    assert client.get(f"{M}/dpw.secret/budget-links").status_code == 404
    assert client.get(f"{M}/dpw.secret/cost-per-output").status_code == 404
    headers = sign_in(client, "ana.lyst")
    assert client.put(f"{M}/dpw.secret/budget-links", json=body, headers=headers).status_code == 200
    assert client.put(f"{M}/dpw.secret/budget-links", json=body).status_code == 403  # a write without its CSRF header
