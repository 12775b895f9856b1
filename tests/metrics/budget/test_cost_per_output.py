"""Cost per output: the linked expense lines of a fiscal year (July to June), summed exactly, over the metric's output
in that year; sums small enough to check by hand."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from services.common.auth import OPERATOR
from services.metrics.approvals.models import PeriodApproval
from services.metrics.budget.links import replace_links
from services.metrics.budget.links_schemas import BudgetLinkIn
from services.metrics.budget.service import import_budget
from tests.factories import make_department, make_metric, make_observation

OAKLAND = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "budget"
    / "oakland_budget_FY21-22_adopted_by_dept_fund_category.csv"
)
HEADER = "budget_year,department,account_type,fund_code,account_category,amount\n"
BUDGET = (
    HEADER
    # FY2016 (July 2015 to June 2016): street sweeping 100000.25 + 50000.50 = 150000.75 over both funds.
    + "FY15-16,Public Works,Expense,1010,Street Sweeping,100000.25\n"
    + "FY15-16,Public Works,Expense,2000,Street Sweeping,50000.50\n"
    + "FY15-16,Public Works,Expense,1010,Parks,999\n"
    + "FY15-16,Public Works,Revenue,1010,Street Sweeping,7000\n"
    + "FY15-16,Police,Expense,1010,Patrol,8000\n"
    # FY2017: 120000 less a 20000 reversal.
    + "FY16-17,Public Works,Expense,1010,Street Sweeping,120000\n"
    + "FY16-17,Public Works,Expense,1010,Street Sweeping,-20000\n"
).encode()


def _cost(client, key: str) -> dict:
    response = client.get(f"/api/metrics/metrics/{key}/cost-per-output")
    assert response.status_code == 200, response.text
    return response.json()


def _world(metrics_db, **links) -> None:
    with metrics_db.session() as session:
        import_budget(session, BUDGET, OPERATOR)
        department = make_department(session, "DPW")
        tons = make_metric(
            session, department, key="dpw.tons_swept", unit="tons", rollup="sum", min_value=None, max_value=None
        )
        for period, value in [
            ("2015-06", 999.0),  # FY2015: no budget loaded, so no item
            ("2015-07", 100.0),  # FY2016 begins in July
            ("2016-06", 200.0),  # FY2016 ends in June
            ("2016-07", 250.0),  # FY2017
            ("2017-02", 50.0),
        ]:
            make_observation(session, tons, period, value)
        make_observation(session, tons, "2016-01", 40.0, org_unit="NORTH")  # an org unit's: not the department's
        rate = make_metric(session, department, key="dpw.on_time", rollup="ratio")
        make_observation(session, rate, "2015-08", 0.5, numerator=50.0, denominator=100.0)
        make_observation(session, rate, "2015-09", 0.75, numerator=30.0, denominator=40.0)
        make_observation(session, rate, "2015-10", 0.9)  # no numerator sent: not counted
        make_observation(session, rate, "2016-08", 0.0, numerator=0.0, denominator=10.0)  # no output in FY2017
        average = make_metric(
            session, department, key="dpw.days_to_repair", unit="days", rollup="mean", min_value=0.0, max_value=None
        )
        make_observation(session, average, "2015-08", 3.0)
        # Every month of FY2016 approved, none of FY2017.
        for month in range(1, 13):
            year = 2015 if month >= 7 else 2016
            session.add(PeriodApproval(department_id=department.id, period=f"{year}-{month:02d}", actor="test"))
        for key in ("dpw.tons_swept", "dpw.on_time", "dpw.days_to_repair"):
            replace_links(session, key, [BudgetLinkIn(**link) for link in links.get(key, [])], OPERATOR)


def test_a_count_metric_costs_its_linked_spending_over_the_sum_of_its_values(client, metrics_db):
    _world(metrics_db, **{"dpw.tons_swept": [{"department": "Public Works", "category": "Street Sweeping"}]})
    body = _cost(client, "dpw.tons_swept")
    assert (body["metric"], body["unit"], body["output_basis"], body["output_unit"]) == (
        "dpw.tons_swept",
        "tons",
        "sum of values",
        "tons",
    )
    assert body["items"] == [
        {
            "fiscal_year": "FY2016",
            "spending": 150000.75,  # both funds, expense only: the 7000 of revenue is not spending
            "output": 300.0,  # July 2015 + June 2016; the org unit's 40 is not the department's value
            "cost_per_output": 500.0,  # 500.0025 to the cent
            "periods": 2,
            "expected_periods": 12,
            "provisional": False,
        },
        {
            "fiscal_year": "FY2017",
            "spending": 100000.0,
            "output": 300.0,
            "cost_per_output": 333.33,
            "periods": 2,
            "expected_periods": 12,
            "provisional": True,
        },
    ]


def test_overlapping_links_count_a_line_once(client, metrics_db):
    _world(
        metrics_db,
        **{
            "dpw.tons_swept": [
                {"department": "Public Works", "category": "Street Sweeping"},
                {"department": "Public Works", "fund_code": "1010"},
            ]
        },
    )
    first = _cost(client, "dpw.tons_swept")["items"][0]
    # 100000.25 and 50000.50 (sweeping) + 999 (fund 1010's parks); 100000.25 is selected by both links.
    assert (first["fiscal_year"], first["spending"], first["cost_per_output"]) == ("FY2016", 150999.75, 503.33)


def test_a_rate_costs_its_spending_over_the_sum_of_its_numerators(client, metrics_db):
    _world(metrics_db, **{"dpw.on_time": [{"department": "Police"}]})
    body = _cost(client, "dpw.on_time")
    assert (body["output_basis"], body["output_unit"]) == ("sum of numerators", "count")
    # FY2017 has no Police spending and its only numerator is 0: neither becomes an item, nothing divides by zero.
    assert [
        (i["fiscal_year"], i["spending"], i["output"], i["cost_per_output"], i["periods"]) for i in body["items"]
    ] == [("FY2016", 8000.0, 80.0, 100.0, 2)]


def test_zero_output_and_no_output_give_no_item(client, metrics_db):
    _world(
        metrics_db,
        **{
            "dpw.on_time": [{"department": "Public Works", "category": "Street Sweeping"}],
            "dpw.days_to_repair": [{"department": "Public Works"}],
        },
    )
    # FY2017 has spending but a numerator of 0.
    assert [i["fiscal_year"] for i in _cost(client, "dpw.on_time")["items"]] == ["FY2016"]
    average = _cost(client, "dpw.days_to_repair")
    assert (average["output_basis"], average["output_unit"], average["items"]) == (None, None, [])
    assert "mean" in average["reason"]
    unlinked = _cost(client, "dpw.tons_swept")
    assert unlinked["items"] == [] and "not linked" in unlinked["reason"]


def test_oaklands_budget_costs_to_the_cent(client, metrics_db):
    """Oakland's FY21-22 file, linked to Police and to Fire's general fund, against a sum made here with Decimal."""
    spending = Decimal(0)
    with OAKLAND.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            police_or_fire = row["department"] == "Police" or (
                row["department"] == "Fire" and row["fund_code"] == "1010"
            )
            if row["account_type"] == "Expense" and row["amount"].strip() and police_or_fire:
                spending += Decimal(row["amount"])
    with metrics_db.session() as session:
        import_budget(session, OAKLAND.read_bytes(), OPERATOR)
        metric = make_metric(
            session,
            make_department(session),
            key="opd.calls",
            unit="count",
            rollup="sum",
            min_value=None,
            max_value=None,
        )
        for month in range(1, 13):
            make_observation(session, metric, f"{2021 if month >= 7 else 2022}-{month:02d}", 1000.0 + month)
        links = [BudgetLinkIn(department="Police"), BudgetLinkIn(department="Fire", fund_code="1010")]
        replace_links(session, "opd.calls", links, OPERATOR)
    output = sum(1000 + month for month in range(1, 13))
    [item] = _cost(client, "opd.calls")["items"]
    assert (item["fiscal_year"], item["output"], item["periods"]) == ("FY2022", output, 12)
    assert Decimal(str(item["spending"])) == spending
    assert Decimal(str(item["cost_per_output"])) == (spending / output).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
