"""SoQL, the query language of Socrata's SODA API, read into the typed query tree of `services.common.query_tree`.

`parse_soql` takes a SODA request's query parameters and answers a `Query`; metrics runs that tree as
parameterised SQL. A hand-written tokenizer and a precedence-climbing parser: no eval, and no SQL text is ever
built here. `to_soql` writes a tree back as parameters.

Choices where SoQL or Socrata leave room:
- `$limit` defaults to 1,000; above 50,000, or below 1, it is an error rather than clamped. SODA clients page by
  asking for N rows and stopping at the first shorter page (sodapy's `get_all`), so a clamped limit would end
  their paging early and silently; zero would make that loop spin forever.
- Column names, aliases and keywords are read case-insensitively and stored lowercase.
- An alias from `$select` may be used in `$where`, `$group`, `$having` and `$order`, and stands for its
  expression there. When the dataset's columns are known, an alias may not take the name of another column.
- A blank `$select`, `$where`, `$order`, `$group` or `$having` is the same as leaving it out; `$q` is kept as given.
- Parameters starting with `$$` (Socrata's `$$app_token`, `$$exclude_system_fields`) are left to the route; any
  other unknown `$` parameter, and `$query`, are errors.
- Precedence, loosest first: OR, AND, NOT, the postfix predicates (IS [NOT] NULL, [NOT] LIKE, [NOT] BETWEEN,
  [NOT] IN), comparisons, + and -, * and /, unary minus; as in Socrata's own grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from services.common.query_tree import (
    COLUMN_PATTERN,
    DEFAULT_LIMIT,
    FUNCTION_ARITY,
    MAX_DEPTH,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_SEARCH,
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
    QueryProblem,
    SelectItem,
    Text,
    find_problem,
    walk,
)
from services.common.query_types import find_type_problem
from services.reporting.opendata.soql_lexer import KEYWORDS, SoqlError, Token, tokenize
from services.reporting.opendata.soql_writer import to_soql

__all__ = ["SoqlError", "parse_soql", "to_soql"]

MAX_PARAM_CHARS = 16_384
CLAUSES = ("$select", "$where", "$group", "$having", "$order", "$q", "$limit", "$offset")
_PARAM_OF_FIELD = {clause.lstrip("$"): clause for clause in CLAUSES} | {"search": "$q"}
_COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
# Binding strength of the infix and postfix operators; prefix NOT binds at 3 and unary minus at 8.
_OR, _AND, _NOT, _PREDICATE, _COMPARISON, _ADDITIVE, _MULTIPLICATIVE, _UNARY = 1, 2, 3, 4, 5, 6, 7, 8


class _Context:
    """What every parameter of one request shares: the dataset's columns, the aliases, and where each node
    was read, so that a problem found in the finished tree can point back into the text."""

    def __init__(self, columns: Mapping[str, str] | None) -> None:
        self.columns = columns
        self.aliases: dict[str, Any] = {}
        self.positions: dict[int, tuple[str, int]] = {}
        self.nodes: list[Any] = []  # keeps every node alive, so no id() in `positions` is reused

    def record(self, node: Any, param: str, pos: int) -> Any:
        self.positions[id(node)] = (param, pos)
        self.nodes.append(node)
        return node


class _Parser:
    def __init__(self, text: str, param: str, context: _Context) -> None:
        self.tokens = tokenize(text, param)
        self.index = 0
        self.param = param
        self.context = context
        self.depth = 0

    # ---- token helpers ----

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def error(self, message: str, token: Token | None = None, code: str = "query.compiler.malformed") -> SoqlError:
        return SoqlError(message, param=self.param, position=(token or self.token).pos, code=code)

    def is_op(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.value in ops

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.error(f"`{op}` expected, found {self.token.printable()}")
        return self.advance()

    def expect_keyword(self, word: str) -> Token:
        if not self.token.is_keyword(word):
            raise self.error(f"`{word.upper()}` expected, found {self.token.printable()}")
        return self.advance()

    def expect_end(self) -> None:
        if self.token.kind != "eof":
            raise self.error(f"unexpected {self.token.printable()}")

    def node(self, model: type[BaseModel], token: Token, *, start: Any = None, **fields: Any) -> Any:
        """Build a node; an infix or postfix node is placed where its left operand (`start`) begins."""
        try:
            built = model(**fields)
        except ValidationError as exc:
            raise self.error(_reason(exc), token) from None
        position = token.pos
        if start is not None and id(start) in self.context.positions:
            position = self.context.positions[id(start)][1]
        return self.context.record(built, self.param, position)

    # ---- expressions ----

    def expression(self, min_prec: int = _OR) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH} levels")
        left = self.prefix(min_prec)
        while True:
            token = self.token
            prec = self.infix_precedence()
            if prec is None or prec < min_prec:
                break
            if prec in (_OR, _AND):
                left = self.logical(left, token)
            elif prec == _PREDICATE:
                left = self.predicate(left)
            else:
                self.advance()
                right = self.expression(prec + 1)
                left = self.node(Binary, token, start=left, op=token.value, left=left, right=right)
        self.depth -= 1
        return left

    def infix_precedence(self) -> int | None:
        token = self.token
        if token.is_keyword("or"):
            return _OR
        if token.is_keyword("and"):
            return _AND
        if token.is_keyword("is", "like", "between", "in"):
            return _PREDICATE
        if token.is_keyword("not") and self.peek().is_keyword("like", "between", "in"):
            return _PREDICATE
        if token.kind == "op":
            if token.value in _COMPARISONS:
                return _COMPARISON
            if token.value in ("+", "-"):
                return _ADDITIVE
            if token.value in ("*", "/"):
                return _MULTIPLICATIVE
        return None

    def logical(self, left: Any, token: Token) -> Any:
        word = token.value
        prec = _OR if word == "or" else _AND
        args = [left]
        while self.token.is_keyword(word):
            self.advance()
            args.append(self.expression(prec + 1))
        return self.node(Logical, token, start=left, op=word, args=tuple(args))

    def predicate(self, subject: Any) -> Any:
        negated = False
        if self.token.is_keyword("not"):
            negated = True
            self.advance()
        token = self.advance()
        if token.value == "is":
            negated = self.token.is_keyword("not")
            if negated:
                self.advance()
            self.expect_keyword("null")
            return self.node(IsNull, token, start=subject, arg=subject, negated=negated)
        if token.value == "like":
            pattern = self.expression(_COMPARISON)
            op = "not like" if negated else "like"
            return self.node(Binary, token, start=subject, op=op, left=subject, right=pattern)
        if token.value == "between":
            low = self.expression(_COMPARISON)
            self.expect_keyword("and")
            high = self.expression(_COMPARISON)
            return self.node(Between, token, start=subject, arg=subject, low=low, high=high, negated=negated)
        self.expect_op("(")
        items = [self.expression()]
        while self.is_op(","):
            self.advance()
            items.append(self.expression())
        self.expect_op(")")
        return self.node(In, token, start=subject, arg=subject, items=tuple(items), negated=negated)

    def prefix(self, min_prec: int) -> Any:
        token = self.token
        if token.is_keyword("not"):
            if min_prec > _NOT:
                raise self.error("NOT needs parentheses here")
            self.advance()
            return self.node(Not, token, arg=self.expression(_NOT))
        if self.is_op("-"):
            self.advance()
            if self.token.kind == "number":
                # A minus sign written against a number is part of the literal, so -5 is the number -5.
                return self.node(Number, token, value="-" + self.advance().value)
            return self.node(Negate, token, arg=self.expression(_UNARY))
        if self.is_op("+"):
            self.advance()
            return self.expression(_UNARY)
        return self.primary()

    def primary(self) -> Any:
        token = self.token
        if token.kind == "number":
            self.advance()
            return self.node(Number, token, value=token.value)
        if token.kind == "string":
            self.advance()
            return self.node(Text, token, value=token.value)
        if token.is_keyword("true", "false"):
            self.advance()
            return self.node(Boolean, token, value=token.value == "true")
        if token.is_keyword("null"):
            self.advance()
            return self.node(Null, token)
        if self.is_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        bare_name = token.kind == "name" and token.value not in KEYWORDS
        if bare_name and self.peek().kind == "op" and self.peek().value == "(":
            return self.call()
        if bare_name or token.kind == "quoted_name":
            self.advance()
            return self.column(token)
        raise self.error(f"expression expected, found {token.printable()}")

    def call(self) -> Any:
        token = self.advance()
        name = token.value
        if name not in FUNCTION_ARITY:
            supported = ", ".join(sorted(FUNCTION_ARITY))
            raise self.error(f"unknown function {name}(); supported: {supported}", token)
        self.expect_op("(")
        args: list[Any] = []
        if self.is_op("*"):
            if name != "count":
                raise self.error(f"only count takes *, not {name}")
            self.advance()
        elif self.is_op(")"):
            if name == "count":
                raise self.error("count needs an argument or *")
        else:
            args.append(self.expression())
            while self.is_op(","):
                self.advance()
                args.append(self.expression())
        self.expect_op(")")
        return self.node(Call, token, name=name, args=tuple(args))

    def column(self, token: Token) -> Any:
        name = token.value
        aliases = self.context.aliases
        if self.param in ("$where", "$group", "$having", "$order") and name in aliases:
            # The alias stands for its expression; a copy, so that problems found in it point here.
            copy = aliases[name].model_copy(deep=True)
            for sub in walk(copy):
                self.context.record(sub, self.param, token.pos)
            return copy
        columns = self.context.columns
        if columns is not None and name not in columns:
            raise self.error(f"no such column: {name}", token, code="query.soql.no-such-column")
        return self.node(Column, token, name=name)

    # ---- clauses ----

    def select_list(self) -> tuple[SelectItem, ...]:
        if self.is_op("*") and self.peek().kind == "eof":
            return ()
        items: list[SelectItem] = []
        while True:
            if self.is_op("*"):
                raise self.error("`*` cannot be combined with other columns in $select")
            expr = self.expression()
            alias = None
            if self.token.is_keyword("as"):
                self.advance()
                alias = self.alias_name(expr)
            items.append(SelectItem(expr=expr, alias=alias))
            if not self.is_op(","):
                break
            self.advance()
        self.expect_end()
        return tuple(items)

    def alias_name(self, expr: Any) -> str:
        token = self.advance()
        if token.kind not in ("name", "quoted_name") or (token.kind == "name" and token.value in KEYWORDS):
            raise self.error(f"alias expected after AS, found {token.printable()}", token)
        name = token.value
        if name.startswith(":"):
            raise self.error(f"an alias cannot start with a colon: {name}", token)
        columns = self.context.columns
        if columns is not None and name in columns and expr != Column(name=name):
            raise self.error(f"alias {name} is already a column of this dataset", token)
        if name in self.context.aliases:
            raise self.error(f"alias {name} is used twice", token)
        self.context.aliases[name] = expr
        return name

    def expression_list(self) -> tuple[Any, ...]:
        items = [self.expression()]
        while self.is_op(","):
            self.advance()
            items.append(self.expression())
        self.expect_end()
        return tuple(items)

    def order_list(self) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        while True:
            expr = self.expression()
            direction = "asc"
            if self.token.is_keyword("asc", "desc"):
                direction = self.advance().value
            nulls = None
            if self.token.is_keyword("null", "nulls"):
                self.advance()
                if not self.token.is_keyword("first", "last"):
                    raise self.error(f"`FIRST` or `LAST` expected, found {self.token.printable()}")
                nulls = self.advance().value
            items.append(OrderItem(expr=expr, direction=direction, nulls=nulls))
            if not self.is_op(","):
                break
            self.advance()
        self.expect_end()
        return tuple(items)

    def single_expression(self) -> Any:
        expr = self.expression()
        self.expect_end()
        return expr


def _count(text: str, param: str, low: int, high: int) -> int:
    digits = text.strip(" \t")
    if digits.startswith("-") and digits[1:].isascii() and digits[1:].isdigit():
        raise SoqlError(f"{param} must not be negative", param=param, position=0)
    if not digits or not digits.isascii() or not digits.isdigit():
        raise SoqlError(f"{param} must be a whole number", param=param, position=0)
    value = int(digits[:12])
    if len(digits) > 12 or not low <= value <= high:
        raise SoqlError(f"{param} must be between {low} and {high}", param=param, position=0)
    return value


def _filter(name: str, value: str, context: _Context) -> Any:
    """`column=value` from the query string: an equality, the value read as the column's type when known."""
    column = name.lower()
    if not name.isascii() or not _is_column_name(column):
        raise SoqlError(f"unknown parameter {_shown(name)}", param=_shown(name), position=0)
    columns = context.columns
    if columns is not None and column not in columns:
        raise SoqlError(f"no such column: {column}", param=name, position=0, code="query.soql.no-such-column")
    kind = columns.get(column) if columns is not None else None
    literal: BaseModel
    try:
        if kind == "number":
            literal = Number(value=value.strip())
        elif kind == "boolean" and value.lower() in ("true", "false"):
            literal = Boolean(value=value.lower() == "true")
        elif kind == "boolean":
            raise ValueError("expected true or false")
        else:
            literal = Text(value=value)
    except (ValidationError, ValueError) as exc:
        reason = _reason(exc) if isinstance(exc, ValidationError) else str(exc)
        raise SoqlError(f"bad value for {column}: {reason}", param=name, position=0) from None
    condition = Binary(op="=", left=Column(name=column), right=literal)
    for node in walk(condition):
        context.record(node, name, 0)
    return condition


def _shown(name: str) -> str:
    # A parameter's name is echoed in errors; a name of any length from the query string is not.
    return name if len(name) <= 80 else name[:80] + "..."


def _is_column_name(name: str) -> bool:
    return re.fullmatch(COLUMN_PATTERN, name) is not None


def _items(params: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    # Starlette's QueryParams is a Mapping that keeps repeated keys; read them all so `a=1&a=2` is not half-read.
    multi: Callable[[], Iterable[tuple[str, str]]] | None = getattr(params, "multi_items", None)
    return multi() if multi is not None else params.items()


def parse_soql(params: Mapping[str, str], *, columns: Mapping[str, str] | None = None) -> Query:
    """Read a SODA request's parameters ($select, $where, $order, $group, $having, $q, $limit, $offset and plain
    `column=value` filters) into a query tree. `columns` (name -> text, number, boolean, floating_timestamp), when
    given, turns unknown names and type mismatches into errors. Raises `SoqlError` and nothing else."""
    clauses: dict[str, str] = {}
    filters: list[tuple[str, str]] = []
    for name, value in _items(params):
        if not isinstance(value, str):
            raise SoqlError(f"{_shown(name)} must be text", param=_shown(name))
        if len(value) > MAX_PARAM_CHARS:
            raise SoqlError(f"{_shown(name)} is longer than {MAX_PARAM_CHARS} characters", param=_shown(name))
        if name.startswith("$$"):
            continue
        if name == "$query":
            raise SoqlError("$query is not supported; use $select, $where, $group, $having, $order", param=name)
        if name.startswith("$"):
            if name not in CLAUSES:
                raise SoqlError(f"unknown parameter {_shown(name)}", param=_shown(name))
            if name in clauses:
                raise SoqlError(f"{name} is given more than once", param=name)
            clauses[name] = value
        else:
            filters.append((name, value))

    context = _Context(columns)

    def parser(param: str) -> _Parser | None:
        text = clauses.get(param, "")
        return _Parser(text, param, context) if text.strip() else None

    select_parser = parser("$select")
    select = select_parser.select_list() if select_parser else ()
    where_parser = parser("$where")
    conditions = [where_parser.single_expression()] if where_parser else []
    conditions.extend(_filter(name, value, context) for name, value in filters)
    where: Any = None
    if len(conditions) == 1:
        where = conditions[0]
    elif conditions:
        try:
            where = Logical(op="and", args=tuple(conditions))
        except ValidationError:
            raise SoqlError("too many conditions", param="$where") from None
    group_parser = parser("$group")
    having_parser = parser("$having")
    order_parser = parser("$order")
    search = clauses.get("$q") or None
    if search is not None and (len(search) > MAX_SEARCH or "\x00" in search):
        raise SoqlError(f"$q must be at most {MAX_SEARCH} characters, without NUL", param="$q")
    fields: dict[str, Any] = {
        "select": select,
        "where": where,
        "group": group_parser.expression_list() if group_parser else (),
        "having": having_parser.single_expression() if having_parser else None,
        "order": order_parser.order_list() if order_parser else (),
        "search": search,
        "limit": _count(clauses["$limit"], "$limit", 1, MAX_LIMIT) if "$limit" in clauses else DEFAULT_LIMIT,
        "offset": _count(clauses["$offset"], "$offset", 0, MAX_OFFSET) if "$offset" in clauses else 0,
    }
    problem = find_problem(Query.model_construct(**fields))
    if problem is not None:
        raise _located(problem, context)
    try:
        query = Query(**fields)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        field = str(loc[0]) if loc else ""
        raise SoqlError(_reason(exc), param=_PARAM_OF_FIELD.get(field)) from None
    if columns is not None:
        problem = find_type_problem(query, columns)
        if problem is not None:
            raise _located(problem, context, code="query.soql.type-mismatch")
    return query


def _reason(exc: ValidationError) -> str:
    """A model's refusal in SoQL's words rather than pydantic's."""
    first = exc.errors()[0]
    limit = (first.get("ctx") or {}).get("max_length")
    if first["type"] == "too_long":
        return f"too many items (at most {limit})"
    if first["type"] == "string_too_long":
        return f"text longer than {limit} characters"
    return str(first["msg"]).removeprefix("Value error, ")


def _located(problem: QueryProblem, context: _Context, code: str = "query.compiler.malformed") -> SoqlError:
    param, position = f"${problem.clause}", None
    if problem.node is not None and id(problem.node) in context.positions:
        param, position = context.positions[id(problem.node)]
    return SoqlError(problem.message, param=param, position=position, code=code)
