"""The access matrix's cases for open data and the budget: the budget is read by anyone; importing one, mapping its
departments and publishing a dataset are the performance office's; querying an open dataset is reporting's call."""

from __future__ import annotations

from tests.access_cases import (
    READER_OF_B,
    B,
    Case,
    M,
    get,
    internal_only,
    office_changes_b,
    office_only,
    public_read,
    read_b_in_metrics,
    shows,
    signed_in_to_metrics,
)

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
    Case(
        "B's unpublished metric's series as JSON",
        ("metrics", "GET", "/metrics/{key}/series.json"),
        get(f"{M}/metrics/dpb.hidden/series.json"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/series.json"),
    ),
    Case(
        "B's unpublished metric's series as CSV",
        ("metrics", "GET", "/metrics/{key}/series.csv"),
        get(f"{M}/metrics/dpb.hidden/series.csv"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/series.csv"),
    ),
    Case(
        "B's unpublished metric's budget links",
        ("metrics", "GET", "/metrics/{key}/budget-links"),
        get(f"{M}/metrics/dpb.hidden/budget-links"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/budget-links"),
    ),
    Case(
        "link B's unpublished metric to the budget",
        ("metrics", "PUT", "/metrics/{key}/budget-links"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/budget-links", "json": {"links": []}},
        office_changes_b(200),
        writes=True,
    ),
    Case(
        "B's unpublished metric's cost per output",
        ("metrics", "GET", "/metrics/{key}/cost-per-output"),
        get(f"{M}/metrics/dpb.hidden/cost-per-output"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/cost-per-output"),
    ),
    Case(
        "B's budget hearing",
        ("metrics", "GET", "/budget/hearings/{code}"),
        get(f"{M}/budget/hearings/{B}"),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "search metrics for B's unpublished one",
        ("metrics", "GET", "/search"),
        get(f"{M}/search", q="dpb hidden"),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "search everything for B's unpublished metric",
        ("reporting", "GET", "/search"),
        get("/api/reporting/search", q="dpb hidden"),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
]
