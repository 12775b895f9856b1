"""A query tree (services.common.query_tree) run over one public dataset as parameterised SQLAlchemy Core.

Nothing in the tree becomes SQL text: a column is looked up in the dataset's own select (so only its public fields
exist), functions and operators map to fixed Core constructs, and every literal is a bound parameter typed by the
column it meets. The answers are the same on SQLite and PostgreSQL; where the two databases differ, SoQL's
behaviour (Socrata's 2.1 endpoints) is built from what both share:

- Text compares, sorts, groups and matches case-sensitively, by code point: on PostgreSQL every text column and
  literal carries COLLATE "C" (SQLite's own BINARY order is code-point order for UTF-8); upper() and lower() change
  ASCII letters only, as both do under those collations.
- `like` is case-sensitive with SoQL's `%` and `_` and no escape character: PostgreSQL's LIKE with its backslash
  escape disarmed, SQLite's GLOB with the pattern translated (SQLite's LIKE ignores ASCII case).
- `$q` matches text columns case-insensitively (ASCII case), the whole search text as a substring of any text column.
- Nulls sort where the tree says (it always says: SoQL's default, last ascending and first descending, is filled in by
  the tree). Rows with equal sort keys are put in the order of the dataset's key fields, so pages never overlap.
- Numbers come back as JSON numbers: integral values as integers, others as floats rounded to 15 significant digits
  (a double's reliable precision, so that the two databases' summation orders cannot differ in the last bit). Sums
  and averages of decimals (the budget's amounts) are exact on both: PostgreSQL's numeric, and on SQLite an
  aggregate that adds the decimals its doubles stand for (_ExactSum).
  Division by zero is null. A result beyond a double's range, or any other value the database cannot compute,
  is a 400 rather than an error.
- Floating timestamps come back as ISO text with milliseconds and no offset ('2017-06-01T00:00:00.000').
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import Grouping
from sqlmodel import Session

from services.common.errors import BadRequest
from services.common.query_tree import (
    ARITHMETIC_OPS,
    COMPARISON_OPS,
    LIKE_OPS,
    Between,
    Binary,
    Boolean,
    Call,
    Column,
    ExprNode,
    In,
    IsNull,
    Logical,
    Negate,
    Not,
    Null,
    Number,
    Query,
    Text,
    find_problem,
    output_names,
)
from services.common.query_types import find_type_problem, parse_floating_timestamp
from services.metrics.opendata.instants import MICROSECOND
from services.metrics.opendata.instants import at_or_after as at_or_after_ranges
from services.metrics.opendata.registry import (
    SQLITE_FLOATING_FORMAT,
    SQLITE_LOCAL_TIME,
    OpenDataset,
    SourceContext,
    instant_label,
)

STATEMENT_TIMEOUT_SECONDS = 10.0
_SQLITE_PROGRESS_STEPS = 10_000
_FLEXIBLE = (Text, Null)
# `literal op column` read as `column op' literal`.
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
# PostgreSQL's date_trunc unit, and on SQLite the length of the fixed-width text kept and what completes it.
_DATE_TRUNC = {
    "date_trunc_y": ("year", 4, "-01-01 00:00:00.000000"),
    "date_trunc_ym": ("month", 7, "-01 00:00:00.000000"),
    "date_trunc_ymd": ("day", 10, " 00:00:00.000000"),
}


@dataclass(frozen=True)
class QueryResult:
    columns: list[tuple[str, str]]
    rows: list[list[Any]]


class QueryError(BadRequest):
    slug = "bad-query"


def _problem(clause: str, message: str) -> QueryError:
    return QueryError(f"${clause}: {message}", errors=[{"row": None, "field": clause, "reason": message}])


# --- compiling ------------------------------------------------------------------------------------------------------


def _takes_hint(node: ExprNode) -> bool:
    """Whether the node's type comes from where it stands: a text or null literal, or min/max of one."""
    while isinstance(node, Call) and node.name in ("min", "max"):
        node = node.args[0]
    return isinstance(node, _FLEXIBLE)


class _Compiler:
    """Tree nodes to Core expressions, each with its SoQL type ("null" for an untyped null).

    Compiled expressions are remembered by node: the same $group expression in $select, $having and $order is then the
    same Core object with the same bound parameters, which PostgreSQL needs to see that they are one expression."""

    def __init__(
        self,
        source: sa.Subquery,
        types: dict[str, str],
        is_sqlite: bool,
        instants: tuple[str, ...] = (),
        zone: str = "UTC",
    ) -> None:
        self.source = source
        self.types = types
        self.is_sqlite = is_sqlite
        self.instants = instants
        self.zone = zone
        self.memo: dict[tuple[Any, str | None], tuple[sa.ColumnElement, str]] = {}

    # literals: bound parameters, typed by what they meet

    def _bound(self, value: Any, type_: sa.types.TypeEngine) -> sa.ColumnElement:
        # An explicit cast on PostgreSQL: a parameter it sees as "unknown" (a null, a boolean) can leave an operator or
        # function ambiguous ("operator is not unique: - unknown").
        bound = sa.bindparam(None, value, type_)
        return bound if self.is_sqlite else sa.cast(bound, type_)

    def _text(self, value: str | None) -> sa.ColumnElement:
        bound = self._bound(value, sa.String())
        return bound if self.is_sqlite else sa.collate(bound, "C").self_group()

    def _number(self, value: Decimal | None) -> sa.ColumnElement:
        if value is not None and not math.isfinite(float(value)):
            raise QueryError(f"The number {value} is beyond the range this dataset's numbers can hold.")
        if self.is_sqlite:
            return self._bound(None if value is None else float(value), sa.Float())
        return self._bound(value, sa.Numeric())

    def _boolean(self, value: bool | None) -> sa.ColumnElement:
        return self._bound(value, sa.Boolean())

    def _timestamp(self, value: dt.datetime | None) -> sa.ColumnElement:
        if self.is_sqlite:
            return self._bound(None if value is None else value.strftime(SQLITE_FLOATING_FORMAT), sa.String())
        return self._bound(value, sa.DateTime())

    def _literal(self, kind: str, value: Any) -> sa.ColumnElement:
        return {"number": self._number, "boolean": self._boolean, "floating_timestamp": self._timestamp}.get(
            kind, self._text
        )(value)

    def _text_as(self, text: str, kind: str | None) -> tuple[sa.ColumnElement, str]:
        if kind == "number":
            return self._number(Decimal(text.strip())), "number"
        if kind == "boolean":
            return self._boolean(text.lower() == "true"), "boolean"
        if kind == "floating_timestamp":
            moment = parse_floating_timestamp(text)
            if moment is None:
                raise QueryError(f"'{text}' is not a valid floating_timestamp")
            return self._timestamp(moment), "floating_timestamp"
        return self._text(text), "text"

    # expressions

    def expr(self, node: ExprNode, hint: str | None = None) -> tuple[sa.ColumnElement, str]:
        key = (node, hint if _takes_hint(node) else None)
        found = self.memo.get(key)
        if found is None:
            sql, kind = self._compile(node, hint)
            if not isinstance(node, Column | Text | Number | Boolean | Null):
                # Always parenthesised: SQLAlchemy leaves `NOT a BETWEEN NOT b AND c IS NULL` and the like bare, which
                # PostgreSQL cannot parse.
                sql = Grouping(sql)
            found = self.memo[key] = (sql, kind)
        return found

    def _common(self, nodes: list[ExprNode]) -> tuple[list[sa.ColumnElement], str]:
        """Operands that must share a type: the first one that is not a text or null literal decides it."""
        compiled: dict[int, tuple[sa.ColumnElement, str]] = {}
        kind = None
        for i, node in enumerate(nodes):
            if not _takes_hint(node):
                compiled[i] = self.expr(node)
                if kind is None and compiled[i][1] != "null":
                    kind = compiled[i][1]
        if kind is None:
            kind = "text"
        for i, node in enumerate(nodes):
            if i not in compiled:
                compiled[i] = self.expr(node, kind)
        return [compiled[i][0] for i in range(len(nodes))], kind

    def _compile(self, node: ExprNode, hint: str | None) -> tuple[sa.ColumnElement, str]:
        if isinstance(node, Column):
            if node.name not in self.types:
                raise _problem("select", f"no such column: {node.name}")
            kind = self.types[node.name]
            column = self.source.c[node.name]
            if kind == "text" and not self.is_sqlite:
                column = sa.collate(column, "C").self_group()
            return column, kind
        if isinstance(node, Text):
            return self._text_as(node.value, hint)
        if isinstance(node, Number):
            return self._number(Decimal(node.value)), "number"
        if isinstance(node, Boolean):
            return self._boolean(node.value), "boolean"
        if isinstance(node, Null):
            return self._literal(hint or "text", None), "null"
        if isinstance(node, Call):
            return self._call(node, hint)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Logical):
            args = [self.expr(arg, "boolean")[0] for arg in node.args]
            return (sa.and_(*args) if node.op == "and" else sa.or_(*args)), "boolean"
        if isinstance(node, Not):
            return sa.not_(self.expr(node.arg, "boolean")[0]), "boolean"
        if isinstance(node, Negate):
            return -self.expr(node.arg, "number")[0], "number"
        if isinstance(node, Between):
            low_side = self._instant_comparison(node.arg, ">=", node.low)
            high_side = self._instant_comparison(node.arg, "<=", node.high)
            if low_side is not None and high_side is not None:
                condition = sa.and_(low_side, high_side)
                return (sa.not_(condition) if node.negated else condition), "boolean"
            (arg, low, high), _ = self._common([node.arg, node.low, node.high])
            condition = arg.between(low, high)
            return (sa.not_(condition) if node.negated else condition), "boolean"
        if isinstance(node, In):
            (arg, *items), _ = self._common([node.arg, *node.items])
            return (arg.not_in(items) if node.negated else arg.in_(items)), "boolean"
        if isinstance(node, IsNull):
            arg = self.expr(node.arg)[0]
            return (arg.is_not(None) if node.negated else arg.is_(None)), "boolean"
        raise QueryError(f"unsupported expression {type(node).__name__}")

    def _call(self, node: Call, hint: str | None) -> tuple[sa.ColumnElement, str]:
        name = node.name
        if name == "count":
            return (sa.func.count(self.expr(node.args[0])[0]) if node.args else sa.func.count()), "number"
        if name in ("sum", "avg"):
            arg = self.expr(node.args[0], "number")[0]
            if self.is_sqlite and isinstance(arg.type, sa.Numeric) and not isinstance(arg.type, sa.Float):
                return getattr(sa.func, _SQLITE_EXACT[name])(arg), "number"
            return getattr(sa.func, name)(arg), "number"
        if name in ("min", "max"):
            arg, kind = self.expr(node.args[0], hint)
            if (hint if kind == "null" else kind) == "boolean" and not self.is_sqlite:
                # PostgreSQL has no min/max of booleans; false < true, as on SQLite's 0 and 1.
                return (sa.func.bool_and(arg) if name == "min" else sa.func.bool_or(arg)), kind
            return getattr(sa.func, name)(arg), kind
        if name in ("upper", "lower"):
            return getattr(sa.func, name)(self.expr(node.args[0], "text")[0]), "text"
        if name == "starts_with":
            text, prefix = (self.expr(arg, "text")[0] for arg in node.args)
            return sa.func.substr(text, 1, sa.func.length(prefix)) == prefix, "boolean"
        unit, width, suffix = _DATE_TRUNC[name]
        arg = self.expr(node.args[0], "floating_timestamp")[0]
        if self.is_sqlite:
            kept = sa.func.substr(arg, 1, width, type_=sa.String())
            return kept.concat(sa.literal_column(f"'{suffix}'", sa.String())), "floating_timestamp"
        return sa.func.date_trunc(sa.literal_column(f"'{unit}'"), arg, type_=sa.DateTime()), "floating_timestamp"

    def _binary(self, node: Binary) -> tuple[sa.ColumnElement, str]:
        op = node.op
        if op in ARITHMETIC_OPS:
            left, right = self.expr(node.left, "number")[0], self.expr(node.right, "number")[0]
            if op == "+":
                return left + right, "number"
            if op == "-":
                return left - right, "number"
            if op == "*":
                return left * right, "number"
            # Decimal division on both databases (no integer division of counts), and null rather than an error
            # for a zero divisor, as SQLite answers.
            number = sa.Float() if self.is_sqlite else sa.Numeric()
            return sa.cast(left, number) / sa.func.nullif(sa.cast(right, number), 0), "number"
        if op in LIKE_OPS:
            text, pattern = self.expr(node.left, "text")[0], self.expr(node.right, "text")[0]
            matched = self._like(text, pattern)
            return (sa.not_(matched) if op == "not like" else matched), "boolean"
        if op in COMPARISON_OPS:
            on_instant = self._instant_comparison(node.left, op, node.right)
            if on_instant is not None:
                return on_instant, "boolean"
            (left, right), _ = self._common([node.left, node.right])
            return left.op(op, is_comparison=True)(right), "boolean"
        raise QueryError(f"unsupported operator {op}")

    def _instant_comparison(self, left: ExprNode, op: str, right: ExprNode) -> sa.ColumnElement | None:
        """A floating timestamp shown from a stored instant, compared with a literal time: the same rows, selected by
        ranges of the stored instant (instants.py). None when the comparison is not of that shape."""
        if isinstance(right, Column) and isinstance(left, Text):
            left, op, right = right, _FLIPPED.get(op, op), left
        if not (isinstance(left, Column) and left.name in self.instants and isinstance(right, Text)):
            return None
        moment = parse_floating_timestamp(right.value)
        if moment is None:
            return None  # the usual path says why it is not a time
        stored = self.source.c[instant_label(left.name)]

        def at_or_after(wall_clock: dt.datetime) -> sa.ColumnElement:
            ranges = []
            for start, end in at_or_after_ranges(_zone(self.zone), wall_clock):
                low = stored >= self._bound(start.replace(tzinfo=dt.UTC), stored.type)
                if end is not None:
                    low = sa.and_(low, stored < self._bound(end.replace(tzinfo=dt.UTC), stored.type))
                ranges.append(low)
            return sa.or_(*ranges)

        after = at_or_after(moment + MICROSECOND)
        if op == ">=":
            return at_or_after(moment)
        if op == ">":
            return after
        if op == "<":
            return sa.not_(at_or_after(moment))
        if op == "<=":
            return sa.not_(after)
        equal = sa.and_(at_or_after(moment), sa.not_(after))
        return equal if op == "=" else sa.not_(equal)

    def _like(self, text: sa.ColumnElement, pattern: sa.ColumnElement) -> sa.ColumnElement:
        if self.is_sqlite:
            # GLOB is case-sensitive: escape its own wildcards as one-character classes, then map % and _.
            glob = pattern
            for old, new in (("[", "[[]"), ("*", "[*]"), ("?", "[?]"), ("%", "*"), ("_", "?")):
                glob = sa.func.replace(glob, old, new)
            return text.op("GLOB", is_comparison=True)(glob)
        # SoQL has no escape character: a backslash in the pattern is a backslash.
        return text.like(sa.func.replace(pattern, "\\", "\\\\"))

    def search(self, text: str) -> sa.ColumnElement:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        needle = sa.func.lower(self._text(f"%{escaped}%"))
        columns = [self.expr(Column(name=name))[0] for name, kind in self.types.items() if kind == "text"]
        if not columns:
            return sa.false()
        return sa.or_(*(sa.func.lower(column).like(needle, escape="\\") for column in columns))


# --- running --------------------------------------------------------------------------------------------------------


def check_query(query: Query, dataset: OpenDataset) -> None:
    """The tree's own coherence and its types against the dataset's public columns; a problem is a 400."""
    problem = find_problem(query) or find_type_problem(query, dataset.types)
    if problem is not None:
        raise _problem(problem.clause, problem.message)


def build_statement(
    query: Query, dataset: OpenDataset, session: Session, ctx: SourceContext
) -> tuple[sa.Select, list[tuple[str, str]]]:
    source = dataset.rows(session, ctx).subquery("rows")
    compiler = _Compiler(source, dataset.types, ctx.is_sqlite, dataset.instants, ctx.time_zone)
    group = [compiler.expr(node)[0] for node in query.group]
    if query.select:
        selected = [compiler.expr(item.expr) for item in query.select]
        names = output_names(query)
    else:
        selected = [compiler.expr(Column(name=column.field_name)) for column in dataset.columns]
        names = [column.field_name for column in dataset.columns]
    kinds = ["text" if kind == "null" else kind for _, kind in selected]
    statement = sa.select(*(expr.label(f"c{i}") for i, (expr, _) in enumerate(selected))).select_from(source)
    conditions = []
    if query.where is not None:
        conditions.append(compiler.expr(query.where, "boolean")[0])
    if query.search is not None:
        conditions.append(compiler.search(query.search))
    if conditions:
        statement = statement.where(*conditions)
    if group:
        statement = statement.group_by(*group)
    if query.having is not None:
        statement = statement.having(compiler.expr(query.having, "boolean")[0])
    order = []
    for item in query.order:
        expr = compiler.expr(item.expr)[0]
        ordered = expr.desc() if item.direction == "desc" else expr.asc()
        order.append(ordered.nulls_first() if item.nulls == "first" else ordered.nulls_last())
    # Ties (and no $order at all) fall back to what identifies a row, or a group, so that pages are stable.
    if not query.aggregated:
        order.extend(compiler.expr(Column(name=name))[0].asc().nulls_last() for name in dataset.key_fields)
    else:
        order.extend(expr.asc().nulls_last() for expr in group)
    if order:
        statement = statement.order_by(*order)
    statement = statement.limit(query.limit).offset(query.offset)
    return statement, list(zip(names, kinds, strict=True))


@contextlib.contextmanager
def query_time_limit(session: Session, ctx: SourceContext, seconds: float) -> Iterator[None]:
    """Run away work is cut off: PostgreSQL's statement timeout for this transaction, SQLite's progress handler.

    SQLite runs the query in this thread, so its limit counts this thread's processor time, not the clock: on a
    busy server a query's wall time is mostly waiting for a core, and a clock would refuse ordinary queries (200
    users on 2 cores refused 0.6% of a cheap $where). What the limit guards against is a query's own work."""
    if not ctx.is_sqlite:
        session.execute(sa.select(sa.func.set_config("statement_timeout", f"{max(1, int(seconds * 1000))}", True)))
        yield
        return
    connection = session.connection().connection.driver_connection
    deadline = time.thread_time() + seconds
    connection.set_progress_handler(lambda: 1 if time.thread_time() > deadline else 0, _SQLITE_PROGRESS_STEPS)
    try:
        yield
    finally:
        connection.set_progress_handler(None, 0)


def _zone(zone_name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(zone_name)
    except ZoneInfoNotFoundError:
        return dt.UTC


def _local_time(zone_name: str):
    zone = _zone(zone_name)

    def local(value: str | None, _zone: str | None = None) -> str | None:
        if value is None:
            return None
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(zone).strftime(SQLITE_FLOATING_FORMAT)

    return local


class _ExactSum:
    """sum() and avg() on SQLite, adding what the stored doubles stand for rather than the doubles themselves.

    SQLite keeps Numeric as a double and adds doubles, so a total of thousands of amounts in cents drifts off the
    cent (PostgreSQL's numeric does not). A double stored from a decimal of up to 15 significant digits prints back
    as that decimal (repr), so adding those decimals gives the exact total that PostgreSQL gives. Used for decimal
    columns only: a float column's values are doubles on both databases, and a Python aggregate is ten times slower
    than SQLite's own over a million raw records. Never raises: an error here would be a 500."""

    def __init__(self) -> None:
        self.total = Decimal(0)
        self.count = 0
        self.special: float | None = None  # infinities, which Decimal would refuse to add to each other

    def step(self, value: Any) -> None:
        if value is None or isinstance(value, bytes):
            return
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = 0
        self.count += 1
        if isinstance(value, float) and not math.isfinite(value):
            self.special = value if self.special is None else self.special + value
        else:
            self.total += Decimal(value) if isinstance(value, int) else Decimal(repr(value))

    def result(self, total: Decimal) -> int | float | None:
        if not self.count:
            return None
        if self.special is not None:
            return None if math.isnan(self.special) else self.special
        if total == total.to_integral_value() and abs(total) < 2**63:
            return int(total)
        return float(total)

    def finalize(self) -> int | float | None:
        return self.result(self.total)


class _ExactAvg(_ExactSum):
    def finalize(self) -> int | float | None:
        return self.result(self.total / self.count) if self.count else None


_SQLITE_EXACT = {"sum": "citystat_exact_sum", "avg": "citystat_exact_avg"}


def prepare(session: Session, ctx: SourceContext) -> None:
    """SQLite has no time zone database: the city's clock is a Python function on this connection; nor exact
    decimal sums (_ExactSum)."""
    if ctx.is_sqlite:
        connection = session.connection().connection.driver_connection
        connection.create_function(SQLITE_LOCAL_TIME, 2, _local_time(ctx.time_zone), deterministic=True)
        connection.create_aggregate(_SQLITE_EXACT["sum"], 1, _ExactSum)
        connection.create_aggregate(_SQLITE_EXACT["avg"], 1, _ExactAvg)


def client_fault(exc: DBAPIError) -> str | None:
    """Why the database refused the query, when the query rather than the server is at fault."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or ""
    message = str(orig).lower()
    if sqlstate == "57014" or "interrupted" in message:
        return f"The query needed more than {STATEMENT_TIMEOUT_SECONDS:g} seconds of the database's time; ask for less."
    if sqlstate.startswith("22") or "overflow" in message:
        return "The query asks for a value the database cannot compute (out of range)."
    return None


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise QueryError("A value in the result is beyond the range of a number.")
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return float(f"{number:.15g}")


def _floating(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds")


def _boolean(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_CONVERT = {"number": _number, "floating_timestamp": _floating, "boolean": _boolean, "text": _text}


def run_query(
    session: Session,
    dataset: OpenDataset,
    query: Query,
    ctx: SourceContext,
    *,
    timeout_seconds: float = STATEMENT_TIMEOUT_SECONDS,
) -> QueryResult:
    check_query(query, dataset)
    statement, columns = build_statement(query, dataset, session, ctx)
    prepare(session, ctx)
    try:
        with query_time_limit(session, ctx, timeout_seconds):
            rows = session.execute(statement).all()
    except DBAPIError as exc:
        reason = client_fault(exc)
        if reason is None:
            raise
        raise QueryError(reason) from exc
    converters = [_CONVERT[kind] for _, kind in columns]
    return QueryResult(
        columns=columns,
        rows=[[convert(value) for convert, value in zip(converters, row, strict=True)] for row in rows],
    )


def count_rows(session: Session, dataset: OpenDataset, ctx: SourceContext) -> int:
    prepare(session, ctx)
    source = dataset.rows(session, ctx).subquery("rows")
    return session.execute(sa.select(sa.func.count()).select_from(source)).scalar_one()
