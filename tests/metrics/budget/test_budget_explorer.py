"""Reading the budget back: anyone may; totals by department, fund and category are exact, year over year; budget
departments map to CityStat departments."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from services.metrics.audit.models import AuditEvent
from tests.factories import make_department, make_user, sign_in

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
HEADER = "budget_year,department,account_type,fund_code,account_category,amount\n"
# A made-up year before Oakland's: Police and Fire exist in both, "Office of the Past" only in this one, and no
# revenue at all, so that revenue has no year before to compare with.
FY2021 = (
    HEADER
    + "FY20-21,Police,Expense,1010,Sworn Salaries,300000000.25\n"
    + "FY20-21,Police,Expense,1010,Sworn Salaries,1000000\n"
    + "FY20-21,Fire,Expense,1010,Sworn Salaries,191512541\n"
    + "FY20-21,Office of the Past,Expense,1010,Contract Services,1234.56\n"
).encode()


def _cents(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def oakland_sums() -> dict[tuple[str, str, str], Decimal]:
    """(kind, by, group) -> the file's total, summed here with Decimal, independently of the importer."""
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    with OAKLAND.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["amount"].strip():
                continue
            kind, amount = row["account_type"].lower(), Decimal(row["amount"])
            sums[(kind, "department", row["department"])] += amount
            sums[(kind, "fund", row["fund_code"])] += amount
            sums[(kind, "category", " ".join(row["account_category"].split()))] += amount
            sums[(kind, "total", "")] += amount
            if row["department"] == "Police":
                sums[(kind, "police by category", " ".join(row["account_category"].split()))] += amount
    return sums


@pytest.fixture
def loaded(client, ingest_db):
    """Oakland's FY21-22 budget imported by an analyst; the client is left signed out."""
    make_user(ingest_db, "ana.lyst", "analyst")
    headers = sign_in(client, "ana.lyst")
    response = client.post(f"{API}/imports", content=OAKLAND.read_bytes(), headers={**headers, **CSV})
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return response.json()


def _summary(client, **params) -> dict:
    response = client.get(f"{API}/summary", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("kind", ["expense", "revenue"])
def test_totals_by_department_fund_and_category_equal_the_files_to_the_cent(client, loaded, oakland_sums, kind):
    for by in ("department", "fund", "category"):
        summary = _summary(client, year="FY2022", by=by, kind=kind)  # anonymous: the budget is public
        expected = {group: total for (k, b, group), total in oakland_sums.items() if (k, b) == (kind, by)}
        assert {item["name"]: _cents(item["amount"]) for item in summary["items"]} == expected
        assert _cents(summary["total"]) == oakland_sums[(kind, "total", "")]
        assert summary["prior_loaded"] is False and summary["prior_year"] == "FY2021"
        assert all(item["prior_amount"] is None and item["change"] is None for item in summary["items"])
        amounts = [item["amount"] for item in summary["items"]]
        assert amounts == sorted(amounts, reverse=True)
    police = _summary(client, by="category", kind=kind, department="Police")  # the newest year by default
    assert police["fiscal_year"] == "FY2022" and police["department"] == "Police"
    assert {item["name"]: _cents(item["amount"]) for item in police["items"]} == {
        group: total for (k, b, group), total in oakland_sums.items() if (k, b) == (kind, "police by category")
    }


def test_years_list_what_is_loaded(client, loaded, oakland_sums):
    response = client.get(f"{API}/years")
    assert response.status_code == 200
    (year,) = response.json()["items"]
    assert (year["fiscal_year"], year["labels"], year["sources"], year["departments"]) == (
        "FY2022",
        ["FY21-22"],
        ["budget"],
        27,
    )
    assert _cents(year["expense"]) == oakland_sums[("expense", "total", "")]
    assert _cents(year["revenue"]) == oakland_sums[("revenue", "total", "")]
    assert year["lines"] == loaded["accepted"]


def test_year_over_year_against_a_second_year(client, ingest_db, loaded, oakland_sums):
    headers = sign_in(client, "ana.lyst")
    earlier = client.post(f"{API}/imports", content=FY2021, headers={**headers, **CSV})
    assert earlier.status_code == 201 and earlier.json()["replaced"] == [], earlier.text
    client.cookies.clear()

    years = client.get(f"{API}/years").json()["items"]
    assert [y["fiscal_year"] for y in years] == ["FY2022", "FY2021"]

    summary = _summary(client, year="FY2022", by="department", kind="expense")
    assert summary["prior_loaded"] is True
    items = {item["name"]: item for item in summary["items"]}
    police_now = oakland_sums[("expense", "department", "Police")]
    police_then = Decimal("301000000.25")
    police = items["Police"]
    assert (_cents(police["amount"]), _cents(police["prior_amount"]), _cents(police["change"])) == (
        police_now,
        police_then,
        police_now - police_then,
    )
    assert police["change_fraction"] == pytest.approx(float((police_now - police_then) / police_then))
    fire = items["Fire"]
    assert _cents(fire["change"]) == oakland_sums[("expense", "department", "Fire")] - Decimal(191512541)
    # A department gone this year still shows, at 0, so that the cut is seen; a new one has no prior to divide by.
    gone = items["Office of the Past"]
    assert (gone["amount"], gone["lines"], gone["prior_amount"], gone["change"], gone["change_fraction"]) == (
        0,
        0,
        1234.56,
        -1234.56,
        -1.0,
    )
    new = items["Transportation"]
    assert (new["prior_amount"], new["change_fraction"]) == (0, None)
    assert _cents(summary["prior_total"]) == police_then + Decimal("191512541") + Decimal("1234.56")
    assert _cents(summary["change"]) == oakland_sums[("expense", "total", "")] - _cents(summary["prior_total"])

    # The year before has no revenue lines, so revenue's changes are unknown, not "everything is new".
    revenue = _summary(client, year="FY2022", kind="revenue")
    assert revenue["prior_loaded"] is False and revenue["prior_total"] is None
    older = _summary(client, year="FY2021")
    assert older["prior_loaded"] is False and _cents(older["total"]) == _cents(summary["prior_total"])


def test_summary_of_a_year_not_loaded_is_a_404(client):
    for params in ({}, {"year": "FY2022"}):
        response = client.get(f"{API}/summary", params=params)
        assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"{API}/summary", params={"year": "2022"}).status_code == 422
    assert client.get(f"{API}/summary", params={"by": "program"}).status_code == 422
    assert client.get(f"{API}/years").json() == {"items": [], "total": 0}


def test_lines_page_through_the_rows_as_imported(client, loaded):
    with OAKLAND.open(newline="", encoding="utf-8") as handle:
        rows = {n: r for n, r in enumerate(csv.reader(handle), start=1)}
    police = [n for n, r in rows.items() if r[1] == "Police" and r[2] == "Revenue" and r[5].strip()]
    seen = []
    for offset in range(0, len(police), 7):
        response = client.get(
            f"{API}/lines",
            params={"year": "FY2022", "department": "Police", "kind": "revenue", "limit": 7, "offset": offset},
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(police)
        seen += page["items"]
    assert [line["source_row"] for line in seen] == police
    for line in seen:
        r = rows[line["source_row"]]
        assert (line["fiscal_year_label"], line["fund_code"], line["category"]) == (r[0], r[3], " ".join(r[4].split()))
        assert _cents(line["amount"]) == Decimal(r[5]) and line["import_id"] == loaded["id"]
    clamped = client.get(f"{API}/lines", params={"limit": 100_000}).json()
    assert clamped["total"] == loaded["accepted"] and len(clamped["items"]) == 500
    assert client.get(f"{API}/lines", params={"category": "No such category"}).json() == {"items": [], "total": 0}


def test_the_office_maps_a_budget_department_to_a_citystat_department(client, ingest_db, metrics_db, loaded):
    with metrics_db.session() as s:
        make_department(s, "OPD", "Oakland Police Department")
    listed = client.get(f"{API}/departments", params={"limit": 500}).json()
    assert listed["total"] == 27 and all(d["department_code"] is None for d in listed["items"])

    police = "/api/metrics/budget/departments/Police"
    assert client.put(police, json={"department": "OPD"}).status_code == 401
    make_user(ingest_db, "li.aison", "liaison", "OPD")
    liaison = sign_in(client, "li.aison")
    refused = client.put(police, json={"department": "OPD"}, headers=liaison)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)
    client.cookies.clear()

    analyst = sign_in(client, "ana.lyst")
    assert client.put(police, json={"department": "NOPE"}, headers=analyst).status_code == 422
    assert client.put(police, json={"department": "opd"}, headers=analyst).status_code == 422
    missing = client.put(f"{API}/departments/Polic", json={"department": "OPD"}, headers=analyst)
    assert missing.status_code == 404
    mapped = client.put(police, json={"department": "OPD"}, headers=analyst)
    assert mapped.status_code == 200, mapped.text
    body = mapped.json()
    assert (body["name"], body["department_code"], body["department_name"]) == (
        "Police",
        "OPD",
        "Oakland Police Department",
    )
    assert body["mapped_by"].startswith("user:") and body["years"][0]["fiscal_year"] == "FY2022"
    client.cookies.clear()

    # Seen by anyone, in every view; the unmapped departments stay, unmapped.
    listed = {d["name"]: d for d in client.get(f"{API}/departments", params={"limit": 500}).json()["items"]}
    assert listed["Police"]["department_code"] == "OPD" and listed["Fire"]["department_code"] is None
    assert len(listed) == 27
    summary = {i["name"]: i["department_code"] for i in _summary(client, by="department")["items"]}
    assert summary["Police"] == "OPD" and summary["Fire"] is None and len(summary) == 27
    line = client.get(f"{API}/lines", params={"department": "Police", "limit": 1}).json()["items"][0]
    assert line["department_code"] == "OPD"

    analyst = sign_in(client, "ana.lyst")
    unmapped = client.put(police, json={"department": None}, headers=analyst)
    assert unmapped.status_code == 200 and unmapped.json()["department_code"] is None
    assert client.put(police, json={}, headers=analyst).status_code == 422  # null must be said, not implied
    with metrics_db.session(write=False) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "budget.department_mapped")).all()
    assert [(e.detail["from"], e.detail["to"]) for e in events] == [(None, "OPD"), ("OPD", None)]


def test_a_department_name_with_a_slash_can_be_mapped(client, ingest_db, metrics_db):
    with metrics_db.session() as s:
        make_department(s, "PRK", "Parks")
    make_user(ingest_db, "ana.lyst", "analyst")
    headers = sign_in(client, "ana.lyst")
    data = (HEADER + "FY21-22,Parks/Recreation,Expense,1010,Supplies,10\n").encode()
    assert client.post(f"{API}/imports", content=data, headers={**headers, **CSV}).status_code == 201
    mapped = client.put(f"{API}/departments/Parks/Recreation", json={"department": "PRK"}, headers=headers)
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["name"] == "Parks/Recreation" and mapped.json()["department_code"] == "PRK"
