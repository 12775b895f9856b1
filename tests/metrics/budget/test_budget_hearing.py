"""A department's budget hearing: its mapped budget by year, and its active metrics, key ones first, with status as
the performance dashboard judges it, the recent series and the newest cost per output; unpublished ones for its
staff only."""

from __future__ import annotations

from services.common.auth import OPERATOR
from services.common.periods import Period, periods_between
from services.metrics.budget.links import replace_links
from services.metrics.budget.links_schemas import BudgetLinkIn
from services.metrics.budget.models import BudgetDepartment
from services.metrics.budget.service import import_budget
from services.metrics.priorities.models import MetricPriority, Priority
from tests.factories import make_department, make_metric, make_observation, make_target, make_user, sign_in

BUDGET = (
    b"budget_year,department,account_type,fund_code,account_category,amount\n"
    b"FY16-17,Public Works,Expense,1010,Street Sweeping,1200.50\n"
    b"FY16-17,Public Works,Revenue,1010,Fees,300\n"
    b"FY16-17,Sanitation,Expense,1010,Collection,99.50\n"
    b"FY15-16,Public Works,Expense,1010,Street Sweeping,1000\n"
    b"FY16-17,Police,Expense,1010,Patrol,5000\n"
)


def _world(metrics_db) -> None:
    with metrics_db.session() as session:
        import_budget(session, BUDGET, OPERATOR)
        dpw = make_department(session, "DPW", "Public Works")
        opd = make_department(session, "OPD")
        for name, department in (("Public Works", dpw), ("Sanitation", dpw), ("Police", opd)):
            session.add(BudgetDepartment(name=name, department_id=department.id, mapped_by="test"))
        plain = make_metric(session, dpw, key="dpw.a_plain")
        key = make_metric(session, dpw, key="dpw.z_key", unit="tons", rollup="sum", min_value=None, max_value=None)
        make_metric(session, dpw, key="dpw.hidden", is_published=False)
        make_metric(session, dpw, key="dpw.drafted", state="draft")
        make_metric(session, opd, key="opd.other")
        priority = Priority(code="clean_streets", name="Clean streets")
        session.add(priority)
        session.flush()
        session.add(MetricPriority(metric_id=key.id, priority_id=priority.id, is_key=True))
        make_target(session, key, 10.0, tolerance=1.0)
        # 30 months to July 2017; the tests' day is 2017-07-10, so June 2017 is the last complete month.
        months = periods_between(Period.parse("2015-02"), Period.parse("2017-07"))
        for n, month in enumerate(months):
            make_observation(session, key, str(month), float(n))
        make_observation(session, plain, "2017-06", 0.5)
        replace_links(session, "dpw.z_key", [BudgetLinkIn(department="Public Works")], OPERATOR)


def test_the_public_hearing_shows_budget_years_and_published_metrics(client, metrics_db):
    _world(metrics_db)
    response = client.get("/api/metrics/budget/hearings/DPW")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["department"] == {"code": "DPW", "name": "Public Works"}
    assert body["budget_departments"] == ["Public Works", "Sanitation"]
    assert body["years"] == [
        {"fiscal_year": "FY2016", "expense": 1000.0, "revenue": 0.0},
        {"fiscal_year": "FY2017", "expense": 1300.0, "revenue": 300.0},  # 1200.50 + 99.50
    ]
    # Key first; the unpublished and the draft are not shown to the public.
    assert [m["metric"] for m in body["metrics"]] == ["dpw.z_key", "dpw.a_plain"]
    key = body["metrics"][0]
    performance = client.get("/api/metrics/metrics/dpw.z_key/performance").json()
    assert key["is_key"] is True
    assert (key["period"], key["value"], key["target"], key["status"]) == ("2017-06", 28.0, 10.0, "on_target")
    assert key["trend"] == performance["trend"]
    # The last 24 values up to the period judged: 2015-07 (the 6th, value 5) to 2017-06; July 2017 is not in.
    assert [p["period"] for p in key["series"]] == [
        str(p) for p in periods_between(Period.parse("2015-07"), Period.parse("2017-06"))
    ]
    assert key["series"][0]["value"] == 5.0 and key["series"][-1]["value"] == 28.0
    # FY2017: 1200.50 over July 2016 (value 17) to June 2017 (28): (17 + 28) * 12 / 2 = 270 tons.
    assert key["cost_per_output"]["fiscal_year"] == "FY2017"
    assert (key["cost_per_output"]["output"], key["cost_per_output"]["cost_per_output"]) == (270.0, 4.45)
    plain = body["metrics"][1]
    assert (plain["is_key"], plain["cost_per_output"], plain["series"]) == (
        False,
        None,
        [{"period": "2017-06", "value": 0.5}],
    )


def test_the_departments_staff_also_see_its_unpublished_metrics(client, metrics_db, ingest_db):
    _world(metrics_db)
    make_user(ingest_db, "dpw.viewer", "viewer", "DPW")
    make_user(ingest_db, "opd.viewer", "viewer", "OPD")
    sign_in(client, "opd.viewer")
    assert [m["metric"] for m in client.get("/api/metrics/budget/hearings/DPW").json()["metrics"]] == [
        "dpw.z_key",
        "dpw.a_plain",
    ]
    sign_in(client, "dpw.viewer")
    assert [m["metric"] for m in client.get("/api/metrics/budget/hearings/DPW").json()["metrics"]] == [
        "dpw.z_key",
        "dpw.a_plain",
        "dpw.hidden",
    ]
    client.cookies.clear()
    assert client.get("/api/metrics/budget/hearings/NOPE").status_code == 404
    empty = client.get("/api/metrics/budget/hearings/OPD").json()
    assert (empty["budget_departments"], [m["metric"] for m in empty["metrics"]]) == (["Police"], ["opd.other"])
