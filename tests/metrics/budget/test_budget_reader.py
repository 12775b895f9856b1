"""Reading a budget file without a database: amounts exactly or not at all, fiscal years named as CityStat does."""

from decimal import Decimal

import pytest

from services.metrics.budget.importer import BLANK_AMOUNT, parse_amount, parse_fiscal_year, parse_kind, read_budget
from services.metrics.budget.models import BudgetKind
from services.metrics.budget.schemas import BudgetMapping


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("252000", "252000.00"),
        ("-2500", "-2500.00"),
        (" 7 ", "7.00"),
        ("1,234,567.89", "1234567.89"),
        ("$1,234", "1234.00"),
        ("-$1,234.50", "-1234.50"),
        ("$-1,234.50", "-1234.50"),
        ("(1,234.50)", "-1234.50"),
        ("+5", "5.00"),
        (".5", "0.50"),
        ("1.230", "1.23"),
        ("-0", "0.00"),
        ("9999999999999.99", "9999999999999.99"),
    ],
)
def test_amounts_are_read_exactly(text, amount):
    assert parse_amount(text) == Decimal(amount)
    assert str(parse_amount(text)) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", BLANK_AMOUNT),
        ("   ", BLANK_AMOUNT),
        ("12abc", "not a number"),
        ("1e5", "not a number"),
        ("--5", "not a number"),
        ("(-5)", "not a number"),
        ("$", "not a number"),
        ("1,23", "grouped by thousands"),
        ("1.2.3", "not a number"),
        ("1.005", "fractions of a cent"),
        ("10000000000000", "10 trillion"),
        ("1" * 40, "10 trillion"),
    ],
)
def test_amounts_that_would_need_a_guess_are_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("FY21-22", "FY2022"),
        ("fy 2021-22", "FY2022"),
        ("2021-2022", "FY2022"),
        ("FY2021/22", "FY2022"),
        ("FY2022", "FY2022"),
        ("FY22", "FY2022"),
        ("2022", "FY2022"),
        ("FY99-00", "FY2000"),
        ("FY98-99", "FY1999"),
    ],
)
def test_fiscal_years_are_named_by_the_year_they_end_in(text, year):
    assert parse_fiscal_year(text, 7) == year


@pytest.mark.parametrize("text", ["", "FY21-23", "FY22-21", "next year", "FY1-2", "FY2300"])
def test_what_is_not_one_fiscal_year_is_refused(text):
    with pytest.raises(ValueError):
        parse_fiscal_year(text, 7)


def test_a_city_whose_fiscal_year_is_the_calendar_year_has_no_two_year_labels():
    assert parse_fiscal_year("2022", 1) == "FY2022"
    with pytest.raises(ValueError, match="starts in January"):
        parse_fiscal_year("FY21-22", 1)


def test_kinds():
    assert [parse_kind(t) for t in ("Expense", " expenditures ", "REVENUE", "Revenues")] == [
        BudgetKind.expense,
        BudgetKind.expense,
        BudgetKind.revenue,
        BudgetKind.revenue,
    ]
    for text in ("", "Transfer", "Exp"):
        with pytest.raises(ValueError):
            parse_kind(text)


def test_spaces_in_names_are_tidied_but_nothing_else_is_changed():
    data = (
        b"\xef\xbb\xbfBudget_Year , Department,account_type,fund_code,account_category,amount\r\n"
        b"FY21-22,  Police ,Expense,1010, Allowances & Premiums,1\r\n"
        b'FY21-22,Police,Expense,1010,"Sworn  Salaries",2\r\n'
    )
    read = read_budget(data)
    assert read.rows == 2 and read.rejected == []
    assert [(line.department, line.category, line.source_row) for line in read.lines] == [
        ("Police", "Allowances & Premiums", 2),
        ("Police", "Sworn Salaries", 3),
    ]
    assert read.columns["fiscal_year"] == "Budget_Year"


def test_a_file_without_a_year_or_kind_column_names_them_once():
    mapping = BudgetMapping(
        department_column="Dept",
        amount_column="Total",
        fund_column="",
        category_column="",
        fiscal_year="FY2019",
        kind="expense",
    )
    read = read_budget(b"Dept,Total\nFire,10\nFire,\n", mapping)
    assert [(line.fiscal_year, line.fiscal_year_label, line.kind, line.fund_code) for line in read.lines] == [
        ("FY2019", "FY2019", BudgetKind.expense, "")
    ]
    assert [(r.row, r.field, r.reason) for r in read.rejected] == [(3, "Total", BLANK_AMOUNT)]
    assert read.columns["kind"] == "expense (every row)"
