"""The access matrix's cases for open data and the budget: the budget is read by anyone; importing one, mapping its
departments and publishing a dataset are the performance office's; querying an open dataset is reporting's call."""

from __future__ import annotations

from tests.access_cases import B, Case, M, get, internal_only, office_only, signed_in_to_metrics

BUDGET_CSV = (
    b"budget_year,department,account_type,fund_code,account_category,amount\r\n"
    b"FY16-17,Matrix,Expense,1010,Supplies,10\r\n"
)

OPENDATA_CASES: list[Case] = [
    Case(
        "import a budget",
        ("metrics", "POST", "/budget/imports"),
        lambda w: {"url": f"{M}/budget/imports", "content": BUDGET_CSV, "headers": {"Content-Type": "text/csv"}},
        office_only(201),
        writes=True,
    ),
    Case(
        "budget imports", ("metrics", "GET", "/budget/imports"), get(f"{M}/budget/imports"), signed_in_to_metrics(200)
    ),
    Case(
        "a budget import that is not there",
        ("metrics", "GET", "/budget/imports/{import_id}"),
        get(f"{M}/budget/imports/{2**31 - 1}"),
        signed_in_to_metrics(404),
    ),
    Case(
        "map a budget department",
        ("metrics", "PUT", "/budget/departments/{name:path}"),
        lambda w: {"url": f"{M}/budget/departments/Nobody", "json": {"department": B}},
        office_only(404),
        writes=True,
    ),
    Case(
        "publish or withdraw a dataset",
        ("metrics", "PATCH", "/datasets/{key}"),
        lambda w: {"url": f"{M}/datasets/service_requests", "json": {"is_published": False}},
        office_only(200),
        writes=True,
    ),
    Case(
        "query an open dataset (reporting's call)",
        ("metrics", "POST", "/open-datasets/{id}/query"),
        lambda w: {"url": f"{M}/open-datasets/abcd-2345/query", "json": {}},
        internal_only,
    ),
]
