"""The budget as a public open dataset: listed once a line exists, every line with its exact amount, and sums to the
cent on SQLite (which keeps amounts as doubles) as on PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlmodel import select

from services.common.auth import OPERATOR
from services.metrics.budget.models import BudgetImport
from services.metrics.budget.schemas import BudgetDepartmentMap
from services.metrics.budget.service import import_budget, map_department
from services.metrics.opendata.registry import dataset_id
from tests.factories import make_department
from tests.metrics.opendata.opendata_city import INTERNAL, LISTING, run, tree
from tests.metrics.opendata.test_query_fuzz import FUZZ_SEED, FUZZ_TREES, TreeMaker

BUDGET_ID = dataset_id("budget")
BUDGET_TYPES = {
    "fiscal_year": "text",
    "fiscal_year_label": "text",
    "department": "text",
    "citystat_department": "text",
    "fund_code": "text",
    "fund_name": "text",
    "category": "text",
    "kind": "text",
    "amount": "number",
    "line": "number",
}
DEPARTMENTS = ("Police", "Fire", "Public Works", "Non-Departmental")
CATEGORIES = ("Salaries", "Contract Services", "Supplies")


def budget_rows(seed: int = 11, n: int = 4_000) -> list[tuple[str, str, str, str, str, Decimal]]:
    """(year label, department, fund, category, kind, amount): amounts to the cent, the same department, fund and
    category on many lines, and for each department a large transfer in first and out last, as budgets move money
    between funds. Added as doubles in file order, the small amounts are rounded against the large running total
    and the sum drifts off the cent."""
    rng = random.Random(seed)
    cent = Decimal("0.01")
    transfers = {department: Decimal(rng.randrange(10**12, 10**13)) / 100 for department in DEPARTMENTS}
    rows = [("FY21-22", d, "1010", "Transfers", "Expense", amount) for d, amount in transfers.items()]
    for _ in range(n):
        amount = (Decimal(rng.randrange(-(10**7), 10**9)) / 100).quantize(cent)
        year, fund, category = rng.choice(("FY20-21", "FY21-22")), rng.choice(("1010", "2210")), rng.choice(CATEGORIES)
        rows.append((year, rng.choice(DEPARTMENTS), fund, category, rng.choice(("Expense", "Revenue")), amount))
    rows += [
        ("FY21-22", d, "1010", "Transfers", "Expense", -amount + Decimal(rng.randrange(10**6)) / 100)
        for d, amount in transfers.items()
    ]
    return rows


def budget_csv(rows: list[tuple[str, str, str, str, str, Decimal]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("budget_year", "department", "fund_code", "account_category", "account_type", "amount"))
    writer.writerows((*row[:5], f"{row[5]:.2f}") for row in rows)
    return out.getvalue().encode()


@pytest.fixture
def budget(client, metrics_db):
    rows = budget_rows()
    with metrics_db.session() as session:
        make_department(session, "APD", "Atlanta Police Department")
        import_budget(session, budget_csv(rows), OPERATOR, file_name="budget.csv")
        map_department(session, "Police", BudgetDepartmentMap(department="APD"), OPERATOR)
    return rows


def _exact(value: int | float) -> Decimal:
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(repr(value))


def test_the_budget_is_public_only_once_a_line_exists(client, metrics_db):
    assert "budget" not in [item["key"] for item in client.get(LISTING).json()["items"]]
    assert client.get(f"{LISTING}/{BUDGET_ID}").status_code == 404
    assert client.post(f"{LISTING}/{BUDGET_ID}/query", json=tree({}, BUDGET_TYPES), headers=INTERNAL).status_code == 404

    rows = [("FY21-22", "Police", "1010", "Salaries", "Expense", Decimal(amount)) for amount in ("1.10", "2.20", "-3")]
    with metrics_db.session() as session:
        import_budget(session, budget_csv(rows), OPERATOR)
    with metrics_db.session(write=False) as session:
        imported_at = session.exec(select(BudgetImport.at)).one()
    listed = [item for item in client.get(LISTING).json()["items"] if item["key"] == "budget"]
    assert len(listed) == 1
    dataset = listed[0]
    assert dataset["id"] == BUDGET_ID
    assert (dataset["name"], dataset["category"]) == ("City budget", "Budget")
    assert {c["field_name"]: c["datatype"] for c in dataset["columns"]} == BUDGET_TYPES
    assert dataset["row_count"] == 3
    assert dataset["updated_at"].startswith(imported_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert client.get(f"{LISTING}/{BUDGET_ID}").json() == dataset


def test_sums_by_department_equal_the_exact_decimal_totals(budget, client):
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for _, department, _, _, kind, amount in budget:
        expected[(department, kind.lower())] += amount
    result = run(
        client,
        BUDGET_ID,
        {"$select": "department, kind, sum(amount) AS total, count(*) AS lines", "$group": "department, kind"},
        BUDGET_TYPES,
    )
    assert [c["datatype"] for c in result["columns"]] == ["text", "text", "number", "number"]
    got = {(department, kind): _exact(total) for department, kind, total, _ in result["rows"]}
    assert got == dict(expected)
    assert sum(lines for *_, lines in result["rows"]) == len(budget)

    everything = run(client, BUDGET_ID, {"$select": "sum(amount) AS total, avg(amount) AS mean"}, BUDGET_TYPES)
    total, mean = everything["rows"][0]
    exact_total = sum((row[5] for row in budget), Decimal(0))
    assert _exact(total) == exact_total
    assert mean == float(f"{float(exact_total / len(budget)):.15g}")

    police_salaries = run(
        client,
        BUDGET_ID,
        {"$select": "sum(amount) AS total", "$where": "citystat_department = 'APD' AND category = 'Salaries'"},
        BUDGET_TYPES,
    )["rows"][0][0]
    assert _exact(police_salaries) == sum(
        (row[5] for row in budget if row[1] == "Police" and row[3] == "Salaries"), Decimal(0)
    )


def test_every_line_comes_back_once_with_its_amount_and_types(budget, client):
    fields = list(BUDGET_TYPES)
    seen = []
    for offset in range(0, len(budget), 1_000):
        page = run(client, BUDGET_ID, {"$limit": "1000", "$offset": str(offset)}, BUDGET_TYPES)
        assert [c["name"] for c in page["columns"]] == fields
        seen += [dict(zip(fields, row, strict=True)) for row in page["rows"]]
    assert len(seen) == len(budget)
    assert len({row["line"] for row in seen}) == len(budget)  # no line skipped or repeated across pages
    assert all(isinstance(row["line"], int) for row in seen)
    wanted = sorted(
        (f"FY20{label[-2:]}", label, department, fund, category, kind.lower(), amount)
        for label, department, fund, category, kind, amount in budget
    )
    got = sorted(
        (r["fiscal_year"], r["fiscal_year_label"], r["department"], r["fund_code"], r["category"], r["kind"],
         _exact(r["amount"]))
        for r in seen
    )  # fmt: skip
    assert got == wanted
    assert {row["citystat_department"] for row in seen if row["department"] == "Police"} == {"APD"}
    assert {row["citystat_department"] for row in seen if row["department"] != "Police"} == {None}
    assert {row["fund_name"] for row in seen} == {None}  # the file has no fund names

    small = run(
        client,
        BUDGET_ID,
        {"$where": "amount between -5000 and 5000.5", "$select": "amount", "$order": "amount"},
        BUDGET_TYPES,
    )["rows"]
    assert [_exact(a) for (a,) in small] == sorted(row[5] for row in budget if -5000 <= row[5] <= Decimal("5000.5"))


def test_random_trees_over_the_budget_never_make_a_server_error(client, metrics_db):
    """The exact sum and average on SQLite take whatever SQLite hands them (huge, tiny, infinite, text)."""
    rows = [
        ("FY21-22", "Police", "1010", "Salaries", "Expense", Decimal("9999999999999.99")),
        ("FY21-22", "Police", "1010", "Salaries", "Expense", Decimal("-0.01")),
        ("FY20-21", "Fire", "2210", "Supplies", "Revenue", Decimal("0.10")),
        ("FY20-21", "Fire", "2210", "Supplies", "Revenue", Decimal("0.20")),
    ]
    with metrics_db.session() as session:
        import_budget(session, budget_csv(rows), OPERATOR)
    maker = TreeMaker(random.Random(f"budget-fuzz{FUZZ_SEED}"), BUDGET_TYPES)
    answered = 0
    for _ in range(FUZZ_TREES):
        body = maker.query()
        response = client.post(f"{LISTING}/{BUDGET_ID}/query", json=body, headers=INTERNAL)
        assert response.status_code in (200, 400, 422), (body, response.status_code, response.text)
        answered += response.status_code == 200
    assert answered > 100
    small = {"$select": "sum(amount) AS total", "$where": "amount < 1000"}
    # 0.1 + 0.2 - 0.01 as doubles is 0.29000000000000004
    assert _exact(run(client, BUDGET_ID, small, BUDGET_TYPES)["rows"][0][0]) == Decimal("0.29")
