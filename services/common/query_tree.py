"""The typed query tree for public datasets: reporting builds it from SoQL, metrics runs it as parameterised SQL.

The tree never holds SQL text. Names of columns and aliases match a fixed identifier pattern, functions and
operators come from closed sets, and every list, string and nesting level has a bound, so that a tree sent
straight to the metrics query endpoint cannot ask for more than the parser would ever build.

Wire form (`Query.model_dump(mode="json")`), for `$select=department, count(*) AS n&$where=opened >= '2017-01-01'
&$group=department&$order=n DESC&$limit=10`:

    {"select": [{"expr": {"kind": "column", "name": "department"}, "alias": null},
                {"expr": {"kind": "call", "name": "count", "args": []}, "alias": "n"}],
     "where": {"kind": "binary", "op": ">=", "left": {"kind": "column", "name": "opened"},
               "right": {"kind": "text", "value": "2017-01-01"}},
     "group": [{"kind": "column", "name": "department"}], "having": null,
     "order": [{"expr": {"kind": "call", "name": "count", "args": []}, "direction": "desc", "nulls": "first"}],
     "search": null, "limit": 10, "offset": 0}

Conventions an executor relies on:
- Aliases are already resolved: `where`, `group`, `having` and `order` hold the aliased expressions themselves,
  so every `column` node names a dataset column.
- `count` with no arguments is `count(*)`.
- Numbers are exact decimal strings in Python's canonical `Decimal` form ("1.50", "1E+5", "-3"): SoQL numbers
  are arbitrary precision and a float would change 0.1 or a 17-digit identifier on the way. Bind them as
  `Decimal(value)`.
- Date literals stay `text` nodes ('2017-06-01' or '2017-06-01T00:00:00'); the executor casts them by the type
  of the column they meet, with `parse_floating_timestamp`.
- `and`/`or` are n-ary (`logical` with two or more args), so a long chain of conditions stays shallow.
- Every order item says where nulls go; when the query does not, SoQL's default applies (nulls sort as if larger
  than any value: last ascending, first descending), filled in here so the executor needs no default of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

__all__ = [
    "AGGREGATES",
    "ALIAS_PATTERN",
    "COLUMN_PATTERN",
    "COLUMN_TYPES",
    "DEFAULT_LIMIT",
    "FUNCTION_ARITY",
    "MAX_DEPTH",
    "MAX_LIMIT",
    "Between",
    "Binary",
    "Boolean",
    "Call",
    "Column",
    "Expr",
    "ExprNode",
    "In",
    "IsNull",
    "Logical",
    "Negate",
    "Not",
    "Null",
    "Number",
    "OrderItem",
    "Query",
    "QueryProblem",
    "SelectItem",
    "Text",
    "children",
    "find_problem",
    "is_aggregate",
    "output_names",
    "walk",
]

# SoQL field names, optionally a `:`-prefixed system field such as `:id`; the parser lowercases what it reads.
COLUMN_PATTERN = r"^:?[a-z_][a-z0-9_]{0,63}$"
# Socrata refuses aliases starting with a colon: system names belong to the dataset.
ALIAS_PATTERN = r"^[a-z_][a-z0-9_]{0,63}$"

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 50_000
MAX_OFFSET = 2**31 - 1
MAX_DEPTH = 64
MAX_NODES = 5_000
MAX_SELECT = 100
MAX_GROUP = 20
MAX_ORDER = 20
MAX_ARGS = 4
MAX_LOGICAL_ARGS = 500
MAX_IN_ITEMS = 1_000
MAX_TEXT = 4_096
MAX_SEARCH = 1_000
MAX_NUMBER_CHARS = 64
# Beyond this a decimal stops being a city's number and starts being a way to overflow a database's numeric type.
MAX_EXPONENT = 308

AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})
FUNCTION_ARITY: dict[str, tuple[int, int]] = {
    "count": (0, 1),
    "sum": (1, 1),
    "avg": (1, 1),
    "min": (1, 1),
    "max": (1, 1),
    "upper": (1, 1),
    "lower": (1, 1),
    "starts_with": (2, 2),
    "date_trunc_y": (1, 1),
    "date_trunc_ym": (1, 1),
    "date_trunc_ymd": (1, 1),
}
FunctionName = Literal[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "upper",
    "lower",
    "starts_with",
    "date_trunc_y",
    "date_trunc_ym",
    "date_trunc_ymd",
]
COMPARISON_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
ARITHMETIC_OPS = frozenset({"+", "-", "*", "/"})
LIKE_OPS = frozenset({"like", "not like"})
BinaryOp = Literal["=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "like", "not like"]
COLUMN_TYPES = frozenset({"text", "number", "boolean", "floating_timestamp"})


def _encodable(value: str) -> str:
    # JSON can carry lone surrogates and NUL; neither survives the trip into PostgreSQL text.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _canonical_number(value: str) -> str:
    if len(value) > MAX_NUMBER_CHARS or not re.fullmatch(r"-?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?", value):
        raise ValueError(f"not a SoQL number (digits, an optional fraction and exponent, at most {MAX_NUMBER_CHARS})")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_zero() and abs(number.adjusted()) > MAX_EXPONENT:
        raise ValueError(f"number out of range (|exponent| above {MAX_EXPONENT})")
    return str(number)


ColumnName = Annotated[str, StringConstraints(pattern=COLUMN_PATTERN)]
AliasName = Annotated[str, StringConstraints(pattern=ALIAS_PATTERN)]
TextValue = Annotated[StrictStr, Field(max_length=MAX_TEXT), AfterValidator(_encodable)]
NumberValue = Annotated[StrictStr, AfterValidator(_canonical_number)]

_NODE = ConfigDict(extra="forbid", frozen=True)


class Column(BaseModel):
    model_config = _NODE
    kind: Literal["column"] = "column"
    name: ColumnName


class Text(BaseModel):
    model_config = _NODE
    kind: Literal["text"] = "text"
    value: TextValue


class Number(BaseModel):
    model_config = _NODE
    kind: Literal["number"] = "number"
    value: NumberValue


class Boolean(BaseModel):
    model_config = _NODE
    kind: Literal["boolean"] = "boolean"
    value: StrictBool


class Null(BaseModel):
    model_config = _NODE
    kind: Literal["null"] = "null"


class Call(BaseModel):
    """A function from the closed set; `count` with no arguments is `count(*)`."""

    model_config = _NODE
    kind: Literal["call"] = "call"
    name: FunctionName
    args: tuple[Expr, ...] = Field(default=(), max_length=MAX_ARGS)

    @model_validator(mode="after")
    def _arity(self) -> Call:
        low, high = FUNCTION_ARITY[self.name]
        if not low <= len(self.args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise ValueError(f"{self.name} takes {wanted} argument(s), not {len(self.args)}")
        return self


class Binary(BaseModel):
    model_config = _NODE
    kind: Literal["binary"] = "binary"
    op: BinaryOp
    left: Expr
    right: Expr


class Logical(BaseModel):
    model_config = _NODE
    kind: Literal["logical"] = "logical"
    op: Literal["and", "or"]
    args: tuple[Expr, ...] = Field(min_length=2, max_length=MAX_LOGICAL_ARGS)


class Not(BaseModel):
    model_config = _NODE
    kind: Literal["not"] = "not"
    arg: Expr


class Negate(BaseModel):
    model_config = _NODE
    kind: Literal["negate"] = "negate"
    arg: Expr


class Between(BaseModel):
    model_config = _NODE
    kind: Literal["between"] = "between"
    arg: Expr
    low: Expr
    high: Expr
    negated: StrictBool = False


class In(BaseModel):
    model_config = _NODE
    kind: Literal["in"] = "in"
    arg: Expr
    items: tuple[Expr, ...] = Field(min_length=1, max_length=MAX_IN_ITEMS)
    negated: StrictBool = False


class IsNull(BaseModel):
    model_config = _NODE
    kind: Literal["is_null"] = "is_null"
    arg: Expr
    negated: StrictBool = False


Expr = Annotated[
    Column | Text | Number | Boolean | Null | Call | Binary | Logical | Not | Negate | Between | In | IsNull,
    Field(discriminator="kind"),
]
ExprNode = Column | Text | Number | Boolean | Null | Call | Binary | Logical | Not | Negate | Between | In | IsNull
LITERALS = (Text, Number, Boolean, Null)

for _model in (Call, Binary, Logical, Not, Negate, Between, In, IsNull):
    _model.model_rebuild()


class SelectItem(BaseModel):
    model_config = _NODE
    expr: Expr
    alias: AliasName | None = None


class OrderItem(BaseModel):
    model_config = _NODE
    expr: Expr
    direction: Literal["asc", "desc"] = "asc"
    nulls: Literal["first", "last"]

    @model_validator(mode="before")
    @classmethod
    def _default_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("nulls") is None:
            data = {**data, "nulls": "first" if data.get("direction") == "desc" else "last"}
        return data


class Query(BaseModel):
    """One read of one dataset. An empty `select` means every column, in the dataset's order."""

    model_config = _NODE
    select: tuple[SelectItem, ...] = Field(default=(), max_length=MAX_SELECT)
    where: Expr | None = None
    group: tuple[Expr, ...] = Field(default=(), max_length=MAX_GROUP)
    having: Expr | None = None
    order: tuple[OrderItem, ...] = Field(default=(), max_length=MAX_ORDER)
    # $q: free-text search over a row's text columns; how words match is the executor's to decide.
    search: Annotated[StrictStr, Field(min_length=1, max_length=MAX_SEARCH), AfterValidator(_encodable)] | None = None
    limit: StrictInt = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: StrictInt = Field(default=0, ge=0, le=MAX_OFFSET)

    @model_validator(mode="after")
    def _coherent(self) -> Query:
        problem = find_problem(self)
        if problem is not None:
            raise ValueError(f"{problem.clause}: {problem.message}")
        return self

    @property
    def aggregated(self) -> bool:
        """True when rows are grouped: a $group, or an aggregate anywhere it may appear."""
        return bool(self.group) or any(_contains_aggregate(expr) for expr in self._post_group_exprs())

    def _post_group_exprs(self) -> Iterator[ExprNode]:
        yield from (item.expr for item in self.select)
        if self.having is not None:
            yield self.having
        yield from (item.expr for item in self.order)


def children(node: ExprNode) -> tuple[ExprNode, ...]:
    if isinstance(node, Call | Logical):
        return node.args
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Not | Negate | IsNull):
        return (node.arg,)
    if isinstance(node, Between):
        return (node.arg, node.low, node.high)
    if isinstance(node, In):
        return (node.arg, *node.items)
    return ()


def walk(node: ExprNode) -> Iterator[ExprNode]:
    """Every node, parents before children; iterative, so a deep tree from the wire cannot exhaust the stack."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def is_aggregate(node: ExprNode) -> bool:
    return isinstance(node, Call) and node.name in AGGREGATES


def _contains_aggregate(node: ExprNode) -> bool:
    return any(is_aggregate(sub) for sub in walk(node))


@dataclass(frozen=True)
class QueryProblem:
    """Why a tree cannot run: the clause ("select", "where", ...), a message, and the node at fault if any
    (the parser turns the node back into a position in the SoQL text)."""

    clause: str
    message: str
    node: Any = None


def _clauses(query: Query) -> Iterator[tuple[str, ExprNode]]:
    for item in query.select:
        yield "select", item.expr
    if query.where is not None:
        yield "where", query.where
    for expr in query.group:
        yield "group", expr
    if query.having is not None:
        yield "having", query.having
    for item in query.order:
        yield "order", item.expr


def _size_problem(query: Query) -> QueryProblem | None:
    total = 0
    for clause, root in _clauses(query):
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            total += 1
            if depth > MAX_DEPTH:
                return QueryProblem(clause, f"expression nested deeper than {MAX_DEPTH} levels", root)
            if total > MAX_NODES:
                return QueryProblem(clause, f"query larger than {MAX_NODES} terms", root)
            stack.extend((child, depth + 1) for child in children(node))
    return None


def _ungrouped_column(node: ExprNode, group: tuple[ExprNode, ...]) -> Column | None:
    """The first column read outside an aggregate and outside every $group expression, if any."""
    if node in group or is_aggregate(node):
        return None
    if isinstance(node, Column):
        return node
    for child in children(node):
        found = _ungrouped_column(child, group)
        if found is not None:
            return found
    return None


def find_problem(query: Query) -> QueryProblem | None:
    """The first reason the query is not one SQL SELECT can answer, in the order a reader would fix them."""
    problem = _size_problem(query)
    if problem is not None:
        return problem
    for clause, root in _clauses(query):
        for node in walk(root):
            if not is_aggregate(node):
                continue
            if clause in ("where", "group"):
                hint = "; filter on aggregates with $having" if clause == "where" else ""
                return QueryProblem(clause, f"aggregate {node.name}() is not allowed in ${clause}{hint}", node)
            inner = next((sub for arg in node.args for sub in walk(arg) if is_aggregate(sub)), None)
            if inner is not None:
                return QueryProblem(clause, f"aggregate {inner.name}() cannot be nested in {node.name}()", inner)
    if query.having is not None and not query.group:
        return QueryProblem("having", "$having needs a $group", query.having)
    if query.aggregated:
        if not query.select:
            return QueryProblem("select", "a grouped or aggregated query must list its columns in $select")
        for clause, root in _clauses(query):
            if clause in ("where", "group"):
                continue
            column = _ungrouped_column(root, query.group)
            if column is None:
                continue
            if query.group:
                message = f"column {column.name} must be in $group or inside an aggregate"
            else:
                message = f"column {column.name} is not aggregated: mixing aggregates and plain columns needs $group"
            return QueryProblem(clause, message, column)
    seen: set[str] = set()
    for item in query.select:
        name = item.alias or (item.expr.name if isinstance(item.expr, Column) else None)
        if name is None:
            continue
        if name in seen:
            return QueryProblem("select", f"column name {name} appears twice in $select", item.expr)
        seen.add(name)
    return None


def _implicit_name(expr: ExprNode) -> str:
    if isinstance(expr, Column):
        return expr.name
    if isinstance(expr, Call):
        parts = [expr.name, *(arg.name.lstrip(":") for arg in expr.args if isinstance(arg, Column))]
        return "_".join(parts)
    return "expr"


def output_names(query: Query) -> list[str]:
    """Result column names, Socrata style: the alias, else the column's name, else a name made from the function
    and its column (`count(*)` -> count, `sum(amount)` -> sum_amount), suffixed `_1`, `_2`... when taken."""
    explicit = {item.alias or item.expr.name for item in query.select if item.alias or isinstance(item.expr, Column)}
    names: list[str] = []
    taken: set[str] = set()
    for item in query.select:
        if item.alias or isinstance(item.expr, Column):
            name = item.alias or item.expr.name
        else:
            base = _implicit_name(item.expr)
            name, suffix = base, 0
            while name in taken or name in explicit:
                suffix += 1
                name = f"{base}_{suffix}"
        names.append(name)
        taken.add(name)
    return names
