"""SoQL read into the query tree: every construct the SODA endpoint supports, precedence, and errors with positions."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.common.errors import BadRequest, install_error_handlers
from services.common.query_tree import (
    MAX_DEPTH,
    MAX_LIMIT,
    Between,
    Binary,
    Boolean,
    Call,
    Column,
    In,
    IsNull,
    Logical,
    Negate,
    Not,
    Null,
    Number,
    OrderItem,
    Query,
    SelectItem,
    Text,
    output_names,
)
from services.common.query_types import parse_floating_timestamp, result_types
from services.reporting.opendata.soql import SoqlError, parse_soql, to_soql

COLUMNS = {
    "department": "text",
    "status": "text",
    "opened": "floating_timestamp",
    "days_open": "number",
    "cost": "number",
    "on_time": "boolean",
    ":id": "text",
}


def col(name: str) -> Column:
    return Column(name=name)


def num(value: str) -> Number:
    return Number(value=value)


def txt(value: str) -> Text:
    return Text(value=value)


def op(symbol: str, left, right) -> Binary:
    return Binary(op=symbol, left=left, right=right)


def both(*args) -> Logical:
    return Logical(op="and", args=args)


def either(*args) -> Logical:
    return Logical(op="or", args=args)


def where(text: str, **params: str):
    return parse_soql({"$where": text, **params}).where


def error(params: dict[str, str], **kwargs) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        parse_soql(params, **kwargs)
    return caught.value


# ---- $where: comparisons, logic, predicates, literals ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "symbol"),
    [("a = 1", "="), ("a == 1", "="), ("a != 1", "!="), ("a <> 1", "!="), ("a < 1", "<"), ("a <= 1", "<=")]
    + [("a > 1", ">"), ("a >= 1", ">=")],
)
def test_comparisons_read_into_binary_nodes_with_one_spelling_per_operator(text, symbol):
    assert where(text) == op(symbol, col("a"), num("1"))


def test_and_or_not_with_sql_precedence():
    # NOT binds looser than a comparison, tighter than AND; AND tighter than OR.
    assert where("a = 1 or b = 2 and not c = 3") == either(
        op("=", col("a"), num("1")), both(op("=", col("b"), num("2")), Not(arg=op("=", col("c"), num("3"))))
    )
    assert where("NOT a = 1 AND b") == both(Not(arg=op("=", col("a"), num("1"))), col("b"))
    assert where("not not a") == Not(arg=Not(arg=col("a")))


def test_chains_of_and_or_are_flat_but_parentheses_keep_their_shape():
    assert where("a and b and c and d") == both(col("a"), col("b"), col("c"), col("d"))
    assert where("(a and b) and c") == both(both(col("a"), col("b")), col("c"))
    assert where("a or (b or c)") == either(col("a"), either(col("b"), col("c")))


def test_arithmetic_precedence_and_left_associativity():
    assert where("a + b * c") == op("+", col("a"), op("*", col("b"), col("c")))
    assert where("(a + b) * c") == op("*", op("+", col("a"), col("b")), col("c"))
    assert where("a - b - c") == op("-", op("-", col("a"), col("b")), col("c"))
    assert where("a / b / c") == op("/", op("/", col("a"), col("b")), col("c"))
    assert where("a + 1 > b * 2") == op(">", op("+", col("a"), num("1")), op("*", col("b"), num("2")))


def test_unary_minus_is_part_of_a_number_and_a_negation_otherwise():
    assert where("a > -5") == op(">", col("a"), num("-5"))
    assert where("a - -5.25") == op("-", col("a"), num("-5.25"))
    assert where("-a * 2") == op("*", Negate(arg=col("a")), num("2"))
    assert where("-(5)") == Negate(arg=num("5"))
    assert where("+a") == col("a")


def test_numbers_stay_exact_decimal_strings():
    assert where("a = 0.1").right == num("0.1")
    assert where("a = 12345678901234567890.123456789").right.value == "12345678901234567890.123456789"
    assert where("a = 1.50").right.value == "1.50"
    assert where("a = 007").right.value == "7"
    assert where("a = 2.5e3").right.value == "2.5E+3"
    assert where("a = 1E-2").right.value == "0.01"


def test_text_boolean_and_null_literals():
    assert where("a = 'O''Brien'") == op("=", col("a"), txt("O'Brien"))
    assert where("a = ''") == op("=", col("a"), txt(""))
    assert where('a = "tab\\there \\u00e9 \\"q\\""') == op("=", col("a"), txt('tab\there é "q"'))
    assert where("a = TRUE or b = false") == either(
        op("=", col("a"), Boolean(value=True)), op("=", col("b"), Boolean(value=False))
    )
    assert where("a = null") == op("=", col("a"), Null())


def test_date_literals_are_kept_as_text_for_the_executor_to_cast():
    assert where("opened >= '2017-06-01T00:00:00' and opened < '2017-07-01'") == both(
        op(">=", col("opened"), txt("2017-06-01T00:00:00")), op("<", col("opened"), txt("2017-07-01"))
    )


def test_between_in_like_and_is_null_with_their_negations():
    assert where("a between 1 and 5") == Between(arg=col("a"), low=num("1"), high=num("5"))
    assert where("a not between 1 and 5 and b") == both(
        Between(arg=col("a"), low=num("1"), high=num("5"), negated=True), col("b")
    )
    assert where("a in ('x', 'y')") == In(arg=col("a"), items=(txt("x"), txt("y")))
    assert where("a NOT IN (1)") == In(arg=col("a"), items=(num("1"),), negated=True)
    assert where("a like 'Pot%'") == op("like", col("a"), txt("Pot%"))
    assert where("a not like '%hole'") == op("not like", col("a"), txt("%hole"))
    assert where("a is null") == IsNull(arg=col("a"))
    assert where("a IS NOT NULL") == IsNull(arg=col("a"), negated=True)
    assert where("not a is null") == Not(arg=IsNull(arg=col("a")))
    assert where("a = b is null") == IsNull(arg=op("=", col("a"), col("b")))


def test_keywords_are_case_insensitive_and_names_are_lowercased():
    assert where("Department = 'DPW' AnD Days_Open BETWEEN 1 aNd 2") == both(
        op("=", col("department"), txt("DPW")), Between(arg=col("days_open"), low=num("1"), high=num("2"))
    )


def test_backquoted_names_system_fields_and_comments():
    assert where("`order` = 1 and `:id` > 5 and :id < 9") == both(
        op("=", col("order"), num("1")), op(">", col(":id"), num("5")), op("<", col(":id"), num("9"))
    )
    assert where("`null` is null") == IsNull(arg=col("null"))
    assert where("a = 1 -- trailing note") == op("=", col("a"), num("1"))
    assert where("a /* why */ = 1") == op("=", col("a"), num("1"))


def test_scalar_functions():
    assert where("upper(status) = 'OPEN'") == op("=", Call(name="upper", args=(col("status"),)), txt("OPEN"))
    assert where("starts_with(lower(status), 'cl')") == Call(
        name="starts_with", args=(Call(name="lower", args=(col("status"),)), txt("cl"))
    )
    assert where("date_trunc_ym(opened) = '2017-06-01'").left == Call(name="date_trunc_ym", args=(col("opened"),))


def test_plain_column_filters_are_equalities_anded_after_where():
    query = parse_soql({"$where": "cost > 10", "department": "DPW", "Status": "open"})
    assert query.where == both(
        op(">", col("cost"), num("10")), op("=", col("department"), txt("DPW")), op("=", col("status"), txt("open"))
    )
    assert parse_soql({"department": "DPW"}).where == op("=", col("department"), txt("DPW"))


def test_plain_filters_take_the_column_type_when_columns_are_known():
    query = parse_soql({"days_open": "3.0", "on_time": "TRUE", "opened": "2017-06-01"}, columns=COLUMNS)
    assert query.where == both(
        op("=", col("days_open"), num("3.0")),
        op("=", col("on_time"), Boolean(value=True)),
        op("=", col("opened"), txt("2017-06-01")),
    )
    assert "not a SoQL number" in error({"days_open": "three"}, columns=COLUMNS).message
    assert error({"on_time": "yes"}, columns=COLUMNS).param == "on_time"


def test_repeated_plain_filters_from_a_multi_dict_are_all_kept():
    from starlette.datastructures import QueryParams

    query = parse_soql(QueryParams("status=open&status=closed&$limit=5"))
    assert query.where == both(op("=", col("status"), txt("open")), op("=", col("status"), txt("closed")))
    assert query.limit == 5
    assert "more than once" in error(QueryParams("$where=a&$where=b")).message


# ---- $select, $group, $having, $order, $q, $limit, $offset ------------------------------------------------------


def test_select_with_aliases_and_the_five_aggregates():
    query = parse_soql(
        {
            "$select": "department AS dept, count(*) AS n, count(status), sum(cost), avg(cost) AS mean, min(opened),"
            " max(opened) AS latest",
            "$group": "department",
        }
    )
    assert query.select == (
        SelectItem(expr=col("department"), alias="dept"),
        SelectItem(expr=Call(name="count"), alias="n"),
        SelectItem(expr=Call(name="count", args=(col("status"),))),
        SelectItem(expr=Call(name="sum", args=(col("cost"),))),
        SelectItem(expr=Call(name="avg", args=(col("cost"),)), alias="mean"),
        SelectItem(expr=Call(name="min", args=(col("opened"),))),
        SelectItem(expr=Call(name="max", args=(col("opened"),)), alias="latest"),
    )
    assert query.group == (col("department"),)
    assert output_names(query) == ["dept", "n", "count_status", "sum_cost", "mean", "min_opened", "latest"]


def test_star_is_every_column():
    assert parse_soql({"$select": "*"}).select == ()
    assert parse_soql({"$select": "  "}).select == ()
    assert "cannot be combined" in error({"$select": "*, a"}).message


def test_aliases_stand_for_their_expression_in_the_other_clauses():
    query = parse_soql(
        {
            "$select": "date_trunc_ym(opened) AS month, count(*) AS n",
            "$where": "month >= '2017-01-01'",
            "$group": "month",
            "$having": "n > 10",
            "$order": "n DESC, month",
        }
    )
    month, count = Call(name="date_trunc_ym", args=(col("opened"),)), Call(name="count")
    assert query.where == op(">=", month, txt("2017-01-01"))
    assert query.group == (month,)
    assert query.having == op(">", count, num("10"))
    assert query.order == (
        OrderItem(expr=count, direction="desc", nulls="first"),
        OrderItem(expr=month, direction="asc", nulls="last"),
    )


def test_order_directions_and_null_placement():
    query = parse_soql({"$order": "a, b DESC, c ASC NULL FIRST, d desc nulls last"})
    assert [(item.expr.name, item.direction, item.nulls) for item in query.order] == [
        ("a", "asc", "last"),
        ("b", "desc", "first"),
        ("c", "asc", "first"),
        ("d", "desc", "last"),
    ]


def test_search_limit_and_offset():
    query = parse_soql({"$q": "pot hole", "$limit": "25", "$offset": " 50 "})
    assert (query.search, query.limit, query.offset) == ("pot hole", 25, 50)
    assert parse_soql({}).limit == 1000
    assert parse_soql({"$limit": str(MAX_LIMIT)}).limit == MAX_LIMIT


@pytest.mark.parametrize(
    ("value", "reason"),
    [("50001", "between 1 and 50000"), ("0", "between 1 and 50000"), ("-1", "negative")]
    + [("1.5", "whole number"), ("ten", "whole number"), ("1_000", "whole number"), ("١٠", "whole number")]
    + [("99999999999999999999", "between")],
)
def test_a_limit_outside_one_to_fifty_thousand_is_refused_not_clamped(value, reason):
    problem = error({"$limit": value})
    assert reason in problem.message and problem.param == "$limit"


def test_negative_offset_is_refused():
    assert "negative" in error({"$offset": "-10"}).message


def test_socrata_system_parameters_are_left_to_the_route_and_unknown_ones_refused():
    assert parse_soql({"$$app_token": "abc", "$$exclude_system_fields": "false"}) == Query()
    assert error({"$selectt": "a"}).message == "unknown parameter $selectt"
    assert "not supported" in error({"$query": "SELECT *"}).message
    assert "unknown parameter" in error({"not-a-name": "1"}).message


# ---- errors, with the parameter and the position -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "param", "position", "fragment"),
    [
        ({"$where": "a = 1 garbage"}, "$where", 6, "unexpected `garbage`"),
        ({"$where": "a = "}, "$where", 4, "expression expected, found end of input"),
        ({"$where": "a = 'open"}, "$where", 4, "unterminated string"),
        ({"$where": "a in ()"}, "$where", 6, "expression expected"),
        ({"$where": "a between 1 or 2"}, "$where", 12, "`AND` expected"),
        ({"$where": "a is 5"}, "$where", 5, "`NULL` expected"),
        ({"$where": "(a = 1"}, "$where", 6, "`)` expected"),
        ({"$where": "a = 1; drop table x"}, "$where", 5, "unexpected character ';'"),
        ({"$where": "foo(a)"}, "$where", 0, "unknown function foo()"),
        ({"$where": "sum(*) > 1"}, "$where", 4, "only count takes *"),
        ({"$where": "upper(a, b) = 'x'"}, "$where", 0, "upper takes 1 argument(s), not 2"),
        ({"$where": "a::number > 1"}, "$where", 1, "casts are not supported"),
        ({"$where": "a = 1 /* open"}, "$where", 6, "unterminated /* comment"),
        ({"$where": "`bad-name` = 1"}, "$where", 0, "is not a field name"),
        ({"$where": 'a = "\\q"'}, "$where", 5, "unknown escape"),
        ({"$where": 'a = "\\ud800"'}, "$where", 5, "not a Unicode character"),
        ({"$where": "a = 1e999"}, "$where", 4, "out of range"),
        ({"$where": "a = a = NOT b"}, "$where", 8, "NOT needs parentheses"),
        ({"$order": "a DESC NULLS MIDDLE"}, "$order", 13, "`FIRST` or `LAST` expected"),
        ({"$select": "count(*) AS :n"}, "$select", 12, "cannot start with a colon"),
        ({"$select": "a AS x, b AS x"}, "$select", 13, "alias x is used twice"),
        ({"$select": "a AS and"}, "$select", 5, "alias expected"),
        ({"$select": "a, a"}, "$select", 3, "appears twice"),
        ({"$group": "count(*)", "$select": "count(*)"}, "$group", 0, "not allowed in $group"),
    ],
)
def test_malformed_soql_names_the_parameter_and_the_position(params, param, position, fragment):
    problem = error(params)
    assert (problem.param, problem.position) == (param, position), problem.detail
    assert fragment in problem.message
    assert problem.code == "query.compiler.malformed"
    assert problem.detail.endswith(f"(in {param} at position {position})")


def test_aggregates_belong_in_select_having_and_order_only():
    problem = error({"$select": "department, count(*)", "$where": "count(*) > 5", "$group": "department"})
    assert (problem.param, problem.position) == ("$where", 0)
    assert "use" not in problem.message and "$having" in problem.message
    assert "nested" in error({"$select": "max(count(*))"}).message


def test_mixing_aggregates_and_plain_columns_needs_a_group():
    problem = error({"$select": "count(*), department"})
    assert (problem.param, problem.position) == ("$select", 10)
    assert "needs $group" in problem.message
    problem = error({"$select": "status, count(*)", "$group": "department"})
    assert "status must be in $group" in problem.message
    problem = error({"$select": "department, count(*)", "$group": "department", "$order": "status"})
    assert (problem.param, problem.position) == ("$order", 0)
    assert "grouped or aggregated query must list its columns" in error({"$group": "department"}).message
    # An expression over grouped columns, or a group expression itself, is fine.
    query = parse_soql({"$select": "upper(department), count(*) + 1", "$group": "department"})
    assert query.aggregated


def test_having_needs_a_group():
    problem = error({"$select": "count(*)", "$having": "count(*) > 1"})
    assert (problem.param, problem.position, problem.message) == ("$having", 0, "$having needs a $group")


def test_unknown_columns_are_named_when_the_dataset_columns_are_known():
    problem = error({"$where": "cost > 1 and colour = 'red'"}, columns=COLUMNS)
    assert (problem.message, problem.param, problem.position) == ("no such column: colour", "$where", 13)
    assert problem.code == "query.soql.no-such-column"
    assert error({"$select": "department, shade"}, columns=COLUMNS).message == "no such column: shade"
    assert error({"colour": "red"}, columns=COLUMNS).param == "colour"
    # Without the columns any well-formed name is accepted; the executor knows its own table.
    assert parse_soql({"$where": "colour = 'red'"}).where == op("=", col("colour"), txt("red"))


def test_an_alias_cannot_take_another_columns_name():
    problem = error({"$select": "upper(status) AS department"}, columns=COLUMNS)
    assert (problem.param, problem.position) == ("$select", 17)
    assert parse_soql({"$select": "status AS status"}, columns=COLUMNS).select[0].alias == "status"


@pytest.mark.parametrize(
    ("params", "fragment", "position"),
    [
        ({"$where": "opened > 'last tuesday'"}, "'last tuesday' is not a valid floating_timestamp", 9),
        ({"$where": "opened > '2017-02-30'"}, "not a valid floating_timestamp", 9),
        ({"$where": "cost > 'ten'"}, "'ten' is not a valid number", 7),
        ({"$where": "department = 5"}, "cannot compare text with number", 13),
        ({"$where": "cost like '1%'"}, "expected text, found number", 0),
        ({"$where": "cost"}, "expected boolean, found number", 0),
        ({"$select": "sum(department)"}, "expected number, found text", 4),
        ({"$select": "upper(cost)"}, "expected text, found number", 6),
        ({"$where": "department + 1 = 2"}, "expected number, found text", 0),
        ({"$where": "cost in (1, 'x')"}, "'x' is not a valid number", 12),
        ({"$where": "opened between '2017-01-01' and 5"}, "cannot compare floating_timestamp with number", 32),
    ],
)
def test_type_mismatches_are_errors_when_columns_are_known(params, fragment, position):
    problem = error(params, columns=COLUMNS)
    assert fragment in problem.message and problem.position == position, problem.detail
    assert problem.code == "query.soql.type-mismatch"


def test_well_typed_queries_report_their_result_types():
    query = parse_soql(
        {
            "$select": "department, count(*) AS n, avg(cost), max(opened), date_trunc_y(opened) AS year",
            "$where": "opened between '2017-01-01' and '2017-06-30T23:59:59.999' and on_time = true and cost > '1.5'",
            "$group": "department, date_trunc_y(opened)",
        },
        columns=COLUMNS,
    )
    assert result_types(query, COLUMNS) == ["text", "number", "number", "floating_timestamp", "floating_timestamp"]
    assert output_names(query) == ["department", "n", "avg_cost", "max_opened", "year"]


def test_nesting_is_bounded_before_the_stack_is():
    for text in ("(" * 10_000, "(" * 65 + "a" + ")" * 65, "not " * 3_000 + "a", "- " * 5_000 + "a"):
        assert "nested deeper than 64" in error({"$where": text}).message
    chain = " + ".join(["a"] * 70)
    assert "nested deeper than 64" in error({"$where": chain + " > 1"}).message
    # A long AND/OR chain stays one level deep.
    assert len(where(" or ".join(f"a = {i}" for i in range(300))).args) == 300


def test_size_limits_are_reported_in_soql_words():
    assert (
        error({"$select": ", ".join(f"c{i}" for i in range(101))}).detail == "too many items (at most 100) (in $select)"
    )
    problem = error({"$where": "a in (" + ", ".join(["1"] * 1_001) + ")"})
    assert (problem.message, problem.position) == ("too many items (at most 1000)", 2)
    many = " or ".join(f"a in ({','.join(['1'] * 999)})" for _ in range(6))
    assert error({"$where": many}).message == "query larger than 5000 terms"


def test_over_long_parameters_are_refused():
    assert "longer than 16384" in error({"$where": "a = 1 or " * 3_000 + "a = 1"}).message
    assert "longer than 4096" in error({"$where": "a = '" + "x" * 5_000 + "'"}).message


# ---- the error is a 400 problem, with what Socrata clients read ----------------------------------------------------


def test_soql_error_is_a_bad_request_and_a_value_error_rendered_as_problem_json():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/resource")
    def resource(where: str) -> dict[str, str]:
        parse_soql({"$where": where})
        return {}

    answer = TestClient(app).get("/resource", params={"where": "a = "})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "query.compiler.malformed"
    assert body["message"] == body["detail"] == "expression expected, found end of input (in $where at position 4)"
    assert body["data"] == {"parameter": "$where", "position": 4}
    assert issubclass(SoqlError, BadRequest) and issubclass(SoqlError, ValueError)


# ---- the tree itself, as metrics will receive it --------------------------------------------------------------------


def test_the_tree_travels_as_json_and_comes_back_equal():
    query = parse_soql(
        {
            "$select": "department, count(*) AS n",
            "$where": "opened >= '2017-01-01' and not (cost between 1 and 2) and status in ('a', 'b') and x is null",
            "$group": "department",
            "$order": "n DESC",
            "$q": "pothole",
            "$limit": "10",
        }
    )
    wire = json.dumps(query.model_dump(mode="json"))
    assert Query.model_validate_json(wire) == query
    assert json.loads(wire)["order"] == [
        {"expr": {"kind": "call", "name": "count", "args": []}, "direction": "desc", "nulls": "first"}
    ]


def test_to_soql_writes_minimal_parentheses():
    query = parse_soql(
        {
            "$select": "department, sum(cost) AS total",
            "$where": "(a = 1 or b = 2) and not c and d - (e - f) > -3 and -(g) < 0 and (h and i)",
            "$group": "department",
            "$order": "total DESC NULLS LAST",
            "$limit": "5",
            "$offset": "10",
        }
    )
    assert to_soql(query) == {
        "$select": "department, sum(cost) AS total",
        "$where": "(a = 1 OR b = 2) AND NOT c AND d - (e - f) > -3 AND -(g) < 0 AND (h AND i)",
        "$group": "department",
        "$order": "sum(cost) DESC NULLS LAST",
        "$limit": "5",
        "$offset": "10",
    }
    assert parse_soql(to_soql(query)) == query


@pytest.mark.parametrize(
    "tree",
    [
        {"where": {"kind": "column", "name": "a; DROP TABLE x"}},
        {"where": {"kind": "column", "name": "A"}},
        {"where": {"kind": "raw_sql", "sql": "1=1"}},
        {"where": {"kind": "column", "name": "a", "sql": "1=1"}},
        {"where": {"kind": "call", "name": "pg_sleep", "args": [{"kind": "number", "value": "10"}]}},
        {"where": {"kind": "binary", "op": "||", "left": {"kind": "text", "value": "a"}, "right": {"kind": "null"}}},
        {"where": {"kind": "number", "value": "1 OR 1=1"}},
        {"where": {"kind": "number", "value": "NaN"}},
        {"where": {"kind": "number", "value": 5}},
        {"where": {"kind": "boolean", "value": "true"}},
        {"where": {"kind": "text", "value": "a\x00b"}},
        {"where": {"kind": "text", "value": "\ud800"}},
        {"select": [{"expr": {"kind": "column", "name": "a"}, "alias": ":id"}]},
        {"select": [{"expr": {"kind": "column", "name": "a"}}] * 101},
        {"where": {"kind": "in", "arg": {"kind": "null"}, "items": [{"kind": "null"}] * 1001}},
        {"where": {"kind": "logical", "op": "and", "args": [{"kind": "null"}]}},
        {"limit": 50_001},
        {"limit": "10"},
        {"offset": -1},
        {"search": ""},
    ],
)
def test_a_hostile_tree_is_refused_by_the_model(tree):
    with pytest.raises(ValidationError):
        Query.model_validate(tree)


def test_deep_and_large_trees_from_the_wire_are_refused_without_exhausting_the_stack():
    node: dict = {"kind": "column", "name": "a"}
    for _ in range(5_000):
        node = {"kind": "not", "arg": node}
    with pytest.raises(ValidationError):
        Query.model_validate({"where": node})
    deep_json = '{"where": ' + '{"kind": "not", "arg": ' * 5_000 + '{"kind": "column", "name": "a"}' + "}" * 5_001
    with pytest.raises(ValidationError):
        Query.model_validate_json(deep_json)
    node = {"kind": "column", "name": "a"}
    for _ in range(MAX_DEPTH):
        node = {"kind": "negate", "arg": node}
    with pytest.raises(ValidationError, match="nested deeper than 64"):
        Query.model_validate({"where": node})
    wide = {"kind": "in", "arg": {"kind": "null"}, "items": [{"kind": "number", "value": "1"}] * 1_000}
    with pytest.raises(ValidationError, match="larger than 5000"):
        Query.model_validate({"where": {"kind": "logical", "op": "or", "args": [wide] * 6}})


def test_model_rules_hold_for_trees_built_by_hand():
    with pytest.raises(ValidationError, match="needs a \\$group"):
        Query(select=(SelectItem(expr=Call(name="count")),), having=op(">", Call(name="count"), num("1")))
    with pytest.raises(ValidationError, match="not allowed in \\$where"):
        Query(where=op(">", Call(name="count"), num("1")))
    with pytest.raises(ValidationError, match="count takes 0 to 1"):
        Call(name="count", args=(col("a"), col("b")))
    # Order items say where nulls go, defaulting as SoQL does.
    assert OrderItem(expr=col("a")).nulls == "last"
    assert OrderItem(expr=col("a"), direction="desc").nulls == "first"
    assert hash(Query(where=col("a"))) == hash(Query(where=col("a")))


def test_floating_timestamps():
    assert str(parse_floating_timestamp("2017-06-01")) == "2017-06-01 00:00:00"
    assert str(parse_floating_timestamp("2017-06-01T08:30:15.1234567")) == "2017-06-01 08:30:15.123456"
    for bad in ("2017-06-01T08:30:00Z", "2017-06-01T08:30:00-04:00", "20170601", "2017-13-01", "2017-06-01 08:30"):
        assert parse_floating_timestamp(bad) is None
