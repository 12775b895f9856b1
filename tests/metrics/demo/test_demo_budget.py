"""The demo city's budget and open data: five adopted budgets imported with their receipts, budget departments
mapped to the demo's departments, output counts linked to their spending, and the 311 requests published."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.common.db import Database
from services.metrics.budget.models import BudgetDepartment, BudgetImport, BudgetLine, MetricBudgetLink
from services.metrics.definitions.models import Metric
from services.metrics.demo.budget import LINKS, SOURCE, UNITS, demo_budget_lines
from services.metrics.departments.models import Department
from services.metrics.opendata.registry import dataset_id
from services.metrics.records.models import SERVICE_REQUESTS
from services.metrics.records.service import get_dataset
from services.runner import create_root_app

YEARS = ["FY2013", "FY2014", "FY2015", "FY2016", "FY2017"]


@pytest.fixture(scope="module")
def demo_db(demo_database_set):
    """The session's demo databases (tests/conftest.py), read only."""
    db = Database(demo_database_set.urls["metrics"])
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def demo_client(demo_database_set, tmp_path_factory):
    with TestClient(create_root_app(demo_database_set.settings(tmp_path_factory.mktemp("demo-budget")))) as client:
        yield client


def test_the_budget_generator_is_deterministic_and_balanced():
    lines = demo_budget_lines()
    assert lines == demo_budget_lines()
    assert lines != demo_budget_lines(seed=1)
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in lines)
    assert any(line.amount < 0 for line in lines)  # recoveries between funds
    # The same department, fund and category on several lines, as a budget lists its accounts.
    keys = [(ln.fiscal_year, ln.department, ln.fund_code, ln.category, ln.kind) for ln in lines]
    assert len(set(keys)) < len(keys)


def test_five_adopted_budgets_each_with_its_import_receipt(demo_db):
    with demo_db.session(write=False) as s:
        runs = s.exec(select(BudgetImport).order_by(BudgetImport.at)).all()
        counts: dict[str, int] = defaultdict(int)
        sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for year, kind, amount in s.exec(select(BudgetLine.fiscal_year, BudgetLine.kind, BudgetLine.amount)):
            counts[year] += 1
            sums[(year, str(kind))] += Decimal(str(amount))
    assert [run.fiscal_years for run in runs] == [[year] for year in YEARS]
    assert {run.source for run in runs} == {SOURCE}
    assert all(run.rejected == [] and run.accepted == run.rows == counts[run.fiscal_years[0]] for run in runs)
    assert sorted(counts) == YEARS
    # Each budget reached the city's systems as its fiscal year began (July 1st), not on the day the demo loaded.
    assert [(run.at.year, run.at.month, run.at.day) for run in runs] == [(y, 7, 1) for y in range(2012, 2017)]
    for year in YEARS:
        assert sums[(year, "expense")] > 0 and sums[(year, "revenue")] > 0
    expenses = [sums[(year, "expense")] for year in YEARS]
    assert expenses == sorted(expenses) and expenses[-1] > expenses[0] * Decimal("1.1")


def test_budget_departments_are_mapped_to_the_demo_departments(demo_db):
    with demo_db.session(write=False) as s:
        mapped = {m.name: code for m, code in s.exec(select(BudgetDepartment, Department.code).join(Department))}
        names = set(s.exec(select(BudgetLine.department).distinct()))
        codes = set(s.exec(select(Department.code)))
    assert names == {unit.name for unit in UNITS}
    assert mapped == {unit.name: unit.code for unit in UNITS if unit.code is not None}
    assert mapped["Public Works"] == "DPW" and mapped["Watershed Management"] == "DWM"
    assert set(mapped.values()) == codes  # every demo department has its budget
    assert names - set(mapped) == {"Non-Departmental"}  # citywide accounts belong to no department


def test_output_counts_are_linked_to_their_departments_spending(demo_db):
    with demo_db.session(write=False) as s:
        links = s.exec(select(MetricBudgetLink, Metric.key, Metric.unit).join(Metric)).all()
        mapped = {m.name: m.department_id for m in s.exec(select(BudgetDepartment))}
        budget = set(s.exec(select(BudgetLine.department, BudgetLine.fund_code, BudgetLine.category).distinct()))
        metric_departments = dict(s.exec(select(Metric.key, Metric.department_id)).all())
    assert len(links) == len(LINKS) >= 1
    assert "dpw.potholes_repaired" in {key for _, key, _ in links}
    for link, key, unit in links:
        assert unit == "count", key
        assert mapped[link.department] == metric_departments[key], key  # the metric's own department's spending
        selected = [(d, f, c) for d, f, c in budget if d == link.department]
        assert any(link.fund_code in (None, f) and link.category in (None, c) for _, f, c in selected), key
        assert link.note


def test_the_demo_publishes_its_service_requests_and_budget(demo_db, demo_client):
    with demo_db.session(write=False) as s:
        assert get_dataset(s, SERVICE_REQUESTS).is_published
    listed = {item["key"]: item for item in demo_client.get("/api/metrics/open-datasets").json()["items"]}
    assert {"observations", f"records.{SERVICE_REQUESTS}", "budget"} <= set(listed)
    assert listed[f"records.{SERVICE_REQUESTS}"]["row_count"] > 100_000
    assert listed["budget"]["category"] == "Budget" and listed["budget"]["row_count"] == len(demo_budget_lines())
    assert listed["budget"]["updated_at"].startswith("2016-07-01")

    requests = demo_client.get(f"/resource/{dataset_id(f'records.{SERVICE_REQUESTS}')}.json", params={"$limit": 3})
    assert requests.status_code == 200, requests.text
    rows = requests.json()
    assert len(rows) == 3 and all(row["department"] in ("DPW", "DWM") for row in rows)
    assert all("attributes" not in row for row in rows)
    budget = demo_client.get(
        f"/resource/{dataset_id('budget')}.json",
        params={"$select": "fiscal_year, sum(amount) AS total", "$where": "kind = 'expense'", "$group": "fiscal_year"},
    )
    assert budget.status_code == 200, budget.text
    totals = {row["fiscal_year"]: Decimal(str(row["total"])) for row in budget.json()}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for line in demo_budget_lines():
        if line.kind == "expense":
            expected[f"FY{line.fiscal_year}"] += line.amount
    assert totals == expected
