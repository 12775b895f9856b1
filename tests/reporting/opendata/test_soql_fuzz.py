"""The SoQL parser under generated input: valid trees survive a trip through SoQL text, any text at all either
parses or fails with a SoqlError, and injection attempts end as literals or errors, never as SQL."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.query_tree import (
    COLUMN_PATTERN,
    FUNCTION_ARITY,
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
)
from services.reporting.opendata.soql import SoqlError, parse_soql, to_soql

# Aliases are drawn apart from column names: an alias read back in $where would stand for its expression.
COLUMN_NAMES = ["a", "status", "cost_2017", "_x", ":id", "order", "null", "count", "first", "desc_x"]
CLAUSE_PARAMS = ["$select", "$where", "$order", "$group", "$having", "$q", "$limit", "$offset", "status"]
COLUMNS = {"a": "number", "status": "text", "opened": "floating_timestamp", "flag": "boolean", ":id": "text"}
SCALARS = ["upper", "lower", "starts_with", "date_trunc_y", "date_trunc_ym", "date_trunc_ymd"]
BINARY_OPS = ["=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "like", "not like"]
SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)

numbers = st.one_of(
    st.integers(-(10**25), 10**25).map(str),
    st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1E+5", "2.5E-3", "0E-7", "-0", "0.10", "-1E+300"]),
).map(lambda value: Number(value=value))
leaves = st.one_of(
    st.sampled_from(COLUMN_NAMES).map(lambda name: Column(name=name)),
    numbers,
    SAFE_TEXT.map(lambda value: Text(value=value)),
    st.booleans().map(lambda value: Boolean(value=value)),
    st.just(Null()),
)


def _extend(inner: st.SearchStrategy) -> st.SearchStrategy:
    def scalar(name: str) -> st.SearchStrategy:
        return st.lists(inner, min_size=FUNCTION_ARITY[name][0], max_size=FUNCTION_ARITY[name][1]).map(
            lambda args: Call(name=name, args=tuple(args))
        )

    return st.one_of(
        st.builds(Binary, op=st.sampled_from(BINARY_OPS), left=inner, right=inner),
        st.builds(Logical, op=st.sampled_from(["and", "or"]), args=st.lists(inner, min_size=2, max_size=4).map(tuple)),
        st.builds(Not, arg=inner),
        st.builds(Negate, arg=inner),
        st.builds(Between, arg=inner, low=inner, high=inner, negated=st.booleans()),
        st.builds(In, arg=inner, items=st.lists(inner, min_size=1, max_size=3).map(tuple), negated=st.booleans()),
        st.builds(IsNull, arg=inner, negated=st.booleans()),
        st.sampled_from(SCALARS).flatmap(scalar),
    )


plain = st.recursive(leaves, _extend, max_leaves=10)
aggregates = st.one_of(
    st.just(Call(name="count")),
    st.builds(
        lambda name, arg: Call(name=name, args=(arg,)), st.sampled_from(["count", "sum", "avg", "min", "max"]), plain
    ),
)
orders = st.builds(
    OrderItem,
    expr=plain,
    direction=st.sampled_from(["asc", "desc"]),
    nulls=st.sampled_from([None, "first", "last"]),
)


def _named(exprs: list, draw) -> tuple[SelectItem, ...]:
    items, bare = [], set()
    for index, expr in enumerate(exprs):
        alias = draw(st.sampled_from([None, f"al_{index}", "desc" if index == 0 else "as_" + str(index)]))
        if alias is None and isinstance(expr, Column):
            if expr.name in bare:
                alias = f"al_{index}"
            else:
                bare.add(expr.name)
        items.append(SelectItem(expr=expr, alias=alias))
    return tuple(items)


@st.composite
def queries(draw) -> Query:
    fields: dict = {
        "where": draw(st.none() | plain),
        "search": draw(st.none() | SAFE_TEXT.filter(bool)),
        "limit": draw(st.integers(1, MAX_LIMIT)),
        "offset": draw(st.integers(0, 10**6)),
    }
    if draw(st.booleans()):
        fields["select"] = _named(draw(st.lists(plain, max_size=4)), draw)
        fields["order"] = tuple(draw(st.lists(orders, max_size=3)))
        return Query(**fields)
    group = draw(st.lists(plain, max_size=3))
    grouped = st.sampled_from(group) if group else aggregates
    over_groups = st.one_of(
        aggregates, grouped, st.builds(Binary, op=st.sampled_from(["+", "*"]), left=grouped, right=aggregates)
    )
    fields["select"] = _named(draw(st.lists(over_groups, min_size=1, max_size=4)), draw)
    fields["group"] = tuple(group)
    if group:
        comparison = st.builds(Binary, op=st.sampled_from(["=", ">", "<="]), left=aggregates, right=numbers)
        fields["having"] = draw(st.none() | comparison | st.builds(Not, arg=comparison))
    fields["order"] = tuple(
        draw(st.lists(st.builds(OrderItem, expr=over_groups, direction=st.sampled_from(["asc", "desc"])), max_size=2))
    )
    return Query(**fields)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_a_tree_written_as_soql_reads_back_as_the_same_tree(query):
    params = to_soql(query)
    assert parse_soql(params) == query, params


@settings(max_examples=60, deadline=None)
@given(queries())
def test_the_tree_travels_as_json_unchanged(query):
    assert Query.model_validate_json(query.model_dump_json()) == query


TOKENS = [
    "(",
    ")",
    ",",
    "*",
    "-",
    "+",
    "/",
    "=",
    "<>",
    "!=",
    "<=",
    ">",
    "'x'",
    "'it''s'",
    '"q\\"t"',
    "1",
    "-2.5",
    "1e3",
    "and",
    "OR",
    "not",
    "is",
    "null",
    "like",
    "between",
    "in",
    "true",
    "as",
    "desc",
    "nulls",
    "first",
    "count(*)",
    "sum(",
    "upper(",
    "a",
    "status",
    "opened",
    "`order`",
    ":id",
    "--",
    "/*",
    "*/",
    ";",
    "'",
    "`",
    ":",
    "\x00",
    "ＯＲ",
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)
any_text = st.one_of(st.text(max_size=200), token_soup)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(CLAUSE_PARAMS), any_text, st.booleans())
def test_any_text_in_any_parameter_parses_or_is_a_soql_error(param, text, typed):
    try:
        query = parse_soql({param: text}, columns=COLUMNS if typed else None)
    except SoqlError as problem:
        assert problem.param is not None and problem.message
        if problem.position is not None:
            assert 0 <= problem.position <= len(text)
        return
    assert isinstance(query, Query)


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({}, optional={param: token_soup for param in CLAUSE_PARAMS}))
def test_any_combination_of_parameters_parses_or_is_a_soql_error(params):
    try:
        parse_soql(params, columns=COLUMNS)
    except SoqlError:
        pass


def test_deep_nesting_is_an_error_and_not_a_recursion_error():
    for text in ("(" * 10_000, "(" * 5_000 + "a" + ")" * 5_000, "not (" * 2_000, "upper(" * 3_000, "-(" * 4_000):
        with pytest.raises(SoqlError, match="nested deeper"):
            parse_soql({"$where": text[:16_000]})


# Every string in a tree's JSON is structure (kinds, operators, function names, directions), a column or alias
# name matching the identifier pattern, an exact decimal, or the value of a text literal or of $q.
_STRUCTURE = {
    "column",
    "text",
    "number",
    "boolean",
    "null",
    "call",
    "binary",
    "logical",
    "not",
    "negate",
    "between",
    "in",
    "is_null",
    "and",
    "or",
    "asc",
    "desc",
    "first",
    "last",
    *BINARY_OPS,
    *FUNCTION_ARITY,
}


def _only_literals_carry_text(value, key: str = "") -> None:
    if isinstance(value, dict):
        for child_key, child in value.items():
            if value.get("kind") == "text" and child_key == "value":
                continue
            _only_literals_carry_text(child, child_key)
    elif isinstance(value, list):
        for child in value:
            _only_literals_carry_text(child, key)
    elif isinstance(value, str) and key != "search":
        if key in ("name", "alias") and value not in FUNCTION_ARITY:
            assert re.fullmatch(COLUMN_PATTERN, value), value
        elif key == "value":
            Decimal(value)
        else:
            assert value in _STRUCTURE, (key, value)


INJECTIONS = [
    "1; DROP TABLE x",
    "1; DROP TABLE observations; --",
    "' OR 1=1 --",
    "x' OR '1'='1",
    "status = 'x'' OR 1=1 --'",
    "status = 'x' OR 1=1 --",
    "x/**/OR/**/1=1",
    "a = 1 UNION SELECT password FROM users",
    "a = (SELECT 1)",
    "a = 1) OR (1=1",
    "pg_sleep(10) IS NULL",
    "a = 1 || 'x'",
    "`a; DROP TABLE x` = 1",
    '"a" = 1',
    'a = "x\\" OR 1=1 --"',
    "ＯＲ 1=1",
    "a ＝ 1",
    "a\u200b= 1",
    "\u0430 = 1",  # Cyrillic a
    "`\u212aey` = 1",  # Kelvin sign, which lowercases to k
    "a = 'x\x00' OR 1=1",
    "a\x00 = 1",
    "a = 1 -- \n OR 1=1",
    "status = $$ OR 1=1 $$",
    "a = 0x41",
    "a = 1e99999",
    "a = 'x' COLLATE \"C\"",
    "a = 1 ; SELECT 1",
    "a = '\\'; DROP TABLE x; --'",
]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("param", ["$where", "$select", "$order", "$group", "$having", "status"])
def test_injection_attempts_become_literals_and_columns_or_are_refused(param, payload):
    try:
        query = parse_soql({param: payload})
    except SoqlError:
        return
    _only_literals_carry_text(query.model_dump(mode="json"))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["status = '{}'", "{}", "status = {}", "`{}` = 1", "upper({}) = 'x'", "status in ('a', {})"]),
    st.sampled_from(INJECTIONS) | st.text(max_size=40),
    st.sampled_from(["$where", "$having", "$order", "status"]),
)
def test_injections_inside_larger_queries_stay_literals(template, payload, param):
    params = {param: template.replace("{}", payload)}
    if param == "$having":
        params |= {"$select": "status, count(*)", "$group": "status"}
    try:
        query = parse_soql(params)
    except SoqlError:
        return
    _only_literals_carry_text(query.model_dump(mode="json"))


def test_an_injection_in_a_string_is_kept_whole_as_text():
    query = parse_soql({"$where": "status = 'x'' OR 1=1 --'", "department": "DPW'; DROP TABLE x; --"})
    assert query.where == Logical(
        op="and",
        args=(
            Binary(op="=", left=Column(name="status"), right=Text(value="x' OR 1=1 --")),
            Binary(op="=", left=Column(name="department"), right=Text(value="DPW'; DROP TABLE x; --")),
        ),
    )
    # Comments are SoQL's own and vanish in the parser; what is left is columns and literals.
    assert parse_soql({"$where": "x/**/OR/**/1=1"}).where == Logical(
        op="or", args=(Column(name="x"), Binary(op="=", left=Number(value="1"), right=Number(value="1")))
    )
