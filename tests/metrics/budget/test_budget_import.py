"""Importing a budget over HTTP: Oakland's real FY21-22 file, other cities' columns, and the refusals."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.metrics.audit.models import AuditEvent
from services.metrics.budget.models import BudgetImport, BudgetLine
from tests.factories import make_department, make_user, sign_in

# The real file lives beside the repository and is never copied into it; without it these tests fail.
OAKLAND = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "budget"
    / "oakland_budget_FY21-22_adopted_by_dept_fund_category.csv"
)
API = "/api/metrics/budget"
CSV = {"Content-Type": "text/csv"}
PROBLEM = "application/problem+json"
BLANK = "blank amount: not guessed"


@pytest.fixture(scope="module")
def oakland() -> bytes:
    return OAKLAND.read_bytes()


@pytest.fixture(scope="module")
def oakland_rows() -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The file read independently of the importer: its header, and its data rows numbered as a spreadsheet does."""
    with OAKLAND.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    return records[0], [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]


def _count(metrics_db, model) -> int:
    with metrics_db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _analyst(client, ingest_db) -> dict[str, str]:
    make_user(ingest_db, "ana.lyst", "analyst")
    return sign_in(client, "ana.lyst")


def _import(client, headers, data: bytes, **params):
    return client.post(f"{API}/imports", content=data, headers={**headers, **CSV}, params=params)


def test_oaklands_file_imports_every_row_but_the_blank_amounts_which_are_reported(
    client, ingest_db, metrics_db, oakland, oakland_rows
):
    header, rows = oakland_rows
    amount, kind = header.index("amount"), header.index("account_type")
    blank = [n for n, r in rows if not r[amount].strip()]
    expected: dict[str, Decimal] = defaultdict(Decimal)
    counted: dict[str, int] = defaultdict(int)
    for _, r in rows:
        if r[amount].strip():
            expected[r[kind].lower()] += Decimal(r[amount])
            counted[r[kind].lower()] += 1
    assert len(rows) == 22236 and blank, "the shared file is not the one these tests were written against"

    response = _import(client, _analyst(client, ingest_db), oakland, file_name=OAKLAND.name)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["rows"] == len(rows)
    assert receipt["accepted"] + len(receipt["rejected"]) == receipt["rows"]
    assert receipt["accepted"] == len(rows) - len(blank)
    assert receipt["rejected"] == [{"row": n, "field": "amount", "reason": BLANK} for n in blank]
    assert receipt["fiscal_years"] == ["FY2022"] and receipt["replaced"] == []
    assert receipt["source"] == "budget" and receipt["file_name"] == OAKLAND.name
    assert receipt["actor"].startswith("user:")
    assert {t["kind"]: (t["lines"], Decimal(str(t["amount"]))) for t in receipt["totals"]} == {
        k: (counted[k], expected[k]) for k in ("expense", "revenue")
    }

    with metrics_db.session(write=False) as s:
        lines = s.exec(select(BudgetLine)).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "budget.imported")).all()
    assert len(lines) == receipt["accepted"]
    # Lossless: every accepted row is kept as it was, under its own row number, amounts exact.
    by_row = {line.source_row: line for line in lines}
    assert set(by_row) == {n for n, _ in rows} - set(blank)
    assert sum((line.amount for line in lines if line.kind == "expense"), Decimal(0)) == expected["expense"]
    for n, r in rows[:: len(rows) // 50]:
        if n in by_row:
            line = by_row[n]
            assert (line.fiscal_year, line.fiscal_year_label, line.department, line.fund_code) == (
                "FY2022",
                r[0],
                r[1],
                r[3],
            )
            assert (line.category, line.kind, line.amount) == (" ".join(r[4].split()), r[2].lower(), Decimal(r[5]))
    assert [(e.subject, e.detail["accepted"]) for e in events] == [(f"budget_import:{receipt['id']}", len(lines))]


def test_importing_the_same_year_again_from_the_same_source_replaces_it_and_says_so(
    client, ingest_db, metrics_db, oakland
):
    headers = _analyst(client, ingest_db)
    first = _import(client, headers, oakland).json()
    other = _import(
        client,
        headers,
        b"Dept,Amount\nPolice,100\n",
        source="mid-year revenue estimate",
        department_column="Dept",
        amount_column="Amount",
        fund_column="",
        category_column="",
        fiscal_year="FY2022",
        kind="revenue",
    )
    assert other.status_code == 201, other.text
    assert other.json()["replaced"] == []

    again = _import(client, headers, oakland)
    assert again.status_code == 201, again.text
    second = again.json()
    assert second["replaced"] == [
        {"fiscal_year": "FY2022", "source": "budget", "import_id": first["id"], "lines": first["accepted"]}
    ]
    assert second["rejected"] == first["rejected"] and second["accepted"] == first["accepted"]
    with metrics_db.session(write=False) as s:
        per_import = dict(s.exec(select(BudgetLine.import_id, func.count()).group_by(BudgetLine.import_id)).all())
    # The other source's line for the same year stays; the first import's lines are gone, not doubled.
    assert per_import == {other.json()["id"]: 1, second["id"]: first["accepted"]}
    assert _count(metrics_db, BudgetImport) == 3


def test_another_citys_columns_are_named_in_the_request(client, ingest_db, metrics_db):
    data = (
        b"Fiscal Year,Dept Name,Fund,Fund Description,Object Class,Type,Adopted\n"
        b'FY 2022-23,Public Works,100,General Fund,Salaries,Expenditure,"$1,234,567.89"\n'
        b"FY 2022-23,Public Works,100,General Fund,Salaries,Expenditure,(200.50)\n"
        b"\n"
        b'FY 2022-23,Parks,200,Parks Fund,Fees,Revenues,"-$1,000"\n'
    )
    params = {
        "year_column": "fiscal year",  # headers match without regard to case
        "department_column": "Dept Name",
        "fund_column": "Fund",
        "fund_name_column": "Fund Description",
        "category_column": "Object Class",
        "kind_column": "Type",
        "amount_column": "Adopted",
        "source": "Example City adopted",
    }
    response = _import(client, _analyst(client, ingest_db), data, **params)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert (receipt["rows"], receipt["accepted"], receipt["rejected"]) == (3, 3, [])
    assert receipt["columns"]["department"] == "Dept Name" and receipt["fiscal_years"] == ["FY2023"]
    with metrics_db.session(write=False) as s:
        lines = s.exec(select(BudgetLine).order_by(BudgetLine.source_row)).all()
    assert [(x.source_row, x.fiscal_year_label, x.fund_name, x.kind, x.amount) for x in lines] == [
        (2, "FY 2022-23", "General Fund", "expense", Decimal("1234567.89")),
        (3, "FY 2022-23", "General Fund", "expense", Decimal("-200.50")),
        (5, "FY 2022-23", "Parks Fund", "revenue", Decimal("-1000.00")),
    ]


def test_unusable_rows_are_rejected_one_by_one_and_the_rest_stored(client, ingest_db, metrics_db):
    data = (
        b"budget_year,department,account_type,fund_code,account_category,amount\n"
        b"FY21-22,Police,Expense,1010,Salaries,100\n"  # 2: fine
        b"FY21-22,Police,Transfer,1010,Salaries,100\n"  # 3: neither expense nor revenue
        b"FY21-22,,Expense,1010,Salaries,100\n"  # 4: no department
        b"FY21-22,Police,Expense,1010,Salaries,12abc\n"  # 5: not a number
        b"FY21-22,Police,Expense,1010,Salaries,1.005\n"  # 6: fractions of a cent
        b"FY21-23,Police,Expense,1010,Salaries,100\n"  # 7: not one fiscal year
        b"FY21-22,Police,Expense,1010,Salaries,100,extra\n"  # 8: more cells than columns
        b"FY21-22,Police,Expense,1010,Salaries,   \n"  # 9: blank amount
        b"FY21-22,Police,Revenue,,Fees,5\n"  # 10: no fund
        b"FY21-22,Police,Revenue,2000,Fees\n"  # 11: short row: the amount is blank
    )
    response = _import(client, _analyst(client, ingest_db), data)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["rows"] == 10 and receipt["accepted"] == 1
    assert [(r["row"], r["field"]) for r in receipt["rejected"]] == [
        (3, "account_type"),
        (4, "department"),
        (5, "amount"),
        (6, "amount"),
        (7, "budget_year"),
        (8, "row"),
        (9, "amount"),
        (10, "fund_code"),
        (11, "amount"),
    ]
    reasons = {r["row"]: r["reason"] for r in receipt["rejected"]}
    assert reasons[9] == reasons[11] == BLANK
    assert "Transfer" in reasons[3] and "12abc" in reasons[5] and "cent" in reasons[6]
    assert _count(metrics_db, BudgetLine) == 1


def test_atomic_true_stores_nothing_when_a_row_is_rejected(client, ingest_db, metrics_db):
    data = b"budget_year,department,account_type,fund_code,account_category,amount\nFY21-22,Police,Expense,1,A,\n"
    response = _import(client, _analyst(client, ingest_db), data, atomic="true")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"] == [{"row": 2, "field": "amount", "reason": BLANK}]
    assert _count(metrics_db, BudgetImport) == _count(metrics_db, BudgetLine) == 0


@pytest.mark.parametrize(
    ("data", "params", "status"),
    [
        (b"", {}, 422),
        (b"department,amount\nPolice,1\n", {}, 422),  # no year, kind, fund or category column
        (
            b"budget_year,department,account_type,fund_code,account_category,amount\nFY21-22,Pol\x00ice,Expense,1,A,1\n",
            {},
            422,
        ),
        (
            "budget_year,department,account_type,fund_code,account_category,amount\nFY21-22,Poliçe,Expense,1,A,1\n".encode(
                "latin-1"
            ),
            {},
            422,
        ),
        (
            b'budget_year,department,account_type,fund_code,account_category,amount\nFY21-22,"Pol"ice,Expense,1,A,1\n',
            {},
            422,
        ),
        (
            b"department,department,amount\nA,B,1\n",
            {"fiscal_year": "FY2022", "kind": "expense", "fund_column": "", "category_column": ""},
            422,
        ),
        (
            b"department,amount\nPolice,1\n",
            {"fiscal_year": "next year", "kind": "expense", "fund_column": "", "category_column": ""},
            422,
        ),
    ],
    ids=["empty", "columns missing", "NUL byte", "not UTF-8", "stray quote", "column twice", "bad fiscal year"],
)
def test_a_file_that_cannot_be_read_is_a_problem_that_stores_nothing(
    client, ingest_db, metrics_db, data, params, status
):
    headers = _analyst(client, ingest_db)
    good = b"budget_year,department,account_type,fund_code,account_category,amount\nFY20-21,Police,Expense,1,A,7\n"
    assert _import(client, headers, good).status_code == 201
    response = _import(client, headers, data, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"]
    assert _count(metrics_db, BudgetImport) == _count(metrics_db, BudgetLine) == 1


def test_only_the_performance_office_imports(client, ingest_db, metrics_db, oakland):
    department = "DPB"
    with metrics_db.session() as s:
        make_department(s, department)
    small = b"budget_year,department,account_type,fund_code,account_category,amount\nFY21-22,Police,Expense,1,A,7\n"
    assert _import(client, {}, small).status_code == 401
    for role in ("viewer", "liaison", "head"):
        make_user(ingest_db, f"{role}.user", role, department)
        headers = sign_in(client, f"{role}.user")
        response = _import(client, headers, small)
        assert response.status_code == 403, (role, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        client.cookies.clear()
    make_user(ingest_db, "city.viewer", "viewer")
    assert _import(client, sign_in(client, "city.viewer"), small).status_code == 403
    client.cookies.clear()
    make_user(ingest_db, "the.admin", "admin")
    admin = sign_in(client, "the.admin")
    wrong_type = client.post(f"{API}/imports", content=small, headers={**admin, "Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    assert _count(metrics_db, BudgetImport) == _count(metrics_db, BudgetLine) == 0
    assert _import(client, admin, small).status_code == 201
    # A signed-in write without the CSRF header is refused too.
    assert _import(client, {}, small).status_code == 403
    assert _count(metrics_db, BudgetLine) == 1


def test_receipts_are_kept_for_staff(client, ingest_db):
    headers = _analyst(client, ingest_db)
    small = b"budget_year,department,account_type,fund_code,account_category,amount\nFY21-22,Police,Expense,1,A,\n"
    made = _import(client, headers, small, file_name="small.csv").json()
    listed = client.get(f"{API}/imports")
    assert listed.status_code == 200 and listed.json() == {"items": [made], "total": 1}
    assert client.get(f"{API}/imports/{made['id']}").json() == made
    assert client.get(f"{API}/imports/{made['id'] + 1}").status_code == 404
    client.cookies.clear()
    assert client.get(f"{API}/imports").status_code == 401
    assert client.get(f"{API}/imports/{made['id']}").status_code == 401
