"""The query tree's types, for when a dataset's columns are known: what each expression yields, and the mismatches
that would otherwise reach the database as an error (sum of text, a timestamp compared with 'last tuesday').
Both sides check them: reporting when it parses, metrics before it runs a tree it was sent."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from services.common.query_tree import (
    ARITHMETIC_OPS,
    LIKE_OPS,
    Between,
    Binary,
    Boolean,
    Call,
    Column,
    ExprNode,
    In,
    Logical,
    Negate,
    Not,
    Null,
    Number,
    Query,
    QueryProblem,
    Text,
    _canonical_number,
    _clauses,
    walk,
)

_FLOATING_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?")


def parse_floating_timestamp(text: str) -> dt.datetime | None:
    """A SoQL date literal ('2017-06-01' or '2017-06-01T08:30:00.000') as a naive datetime, or None.

    Floating timestamps carry no offset, like Socrata's; digits past microseconds are dropped."""
    if not _FLOATING_TIMESTAMP.fullmatch(text):
        return None
    head, _, fraction = text.partition(".")
    try:
        moment = dt.datetime.fromisoformat(head)
    except ValueError:
        return None
    if fraction:
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return moment


# ---- types, for when the dataset's columns are known -------------------------------------------------------------

_TEXT_COERCIONS = {
    "number": lambda text: _is_number(text),
    "floating_timestamp": lambda text: parse_floating_timestamp(text) is not None,
    "boolean": lambda text: text.lower() in ("true", "false"),
}


def _is_number(text: str) -> bool:
    try:
        _canonical_number(text.strip())
    except ValueError:
        return False
    return True


class _Mismatch(Exception):
    def __init__(self, message: str, node: ExprNode) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


def _unify(left: ExprNode, left_type: str, right: ExprNode, right_type: str) -> None:
    """Two sides of a comparison: same type, a null, or a text literal that reads as the other side's type."""
    if left_type == right_type or "null" in (left_type, right_type):
        return
    for literal, literal_type, other_type in ((left, left_type, right_type), (right, right_type, left_type)):
        if isinstance(literal, Text) and literal_type == "text":
            check = _TEXT_COERCIONS.get(other_type)
            if check is not None:
                if not check(literal.value):
                    raise _Mismatch(f"'{literal.value}' is not a valid {other_type}", literal)
                return
    raise _Mismatch(f"cannot compare {left_type} with {right_type}", right)


def _expect(node: ExprNode, actual: str, *wanted: str) -> None:
    if actual != "null" and actual not in wanted:
        raise _Mismatch(f"expected {' or '.join(wanted)}, found {actual}", node)


def _type_of(node: ExprNode, columns: Mapping[str, str]) -> str:
    """The SoQL type of an expression ("null" for the untyped null literal). Recursion is bounded by MAX_DEPTH."""
    if isinstance(node, Column):
        if node.name not in columns:
            raise _Mismatch(f"no such column: {node.name}", node)
        return columns[node.name]
    if isinstance(node, Text):
        return "text"
    if isinstance(node, Number):
        return "number"
    if isinstance(node, Boolean):
        return "boolean"
    if isinstance(node, Null):
        return "null"
    if isinstance(node, Call):
        arg_types = [_type_of(arg, columns) for arg in node.args]
        if node.name == "count":
            return "number"
        if node.name in ("sum", "avg"):
            _expect(node.args[0], arg_types[0], "number")
            return "number"
        if node.name in ("min", "max"):
            return arg_types[0]
        if node.name in ("upper", "lower"):
            _expect(node.args[0], arg_types[0], "text")
            return "text"
        if node.name == "starts_with":
            for arg, arg_type in zip(node.args, arg_types, strict=True):
                _expect(arg, arg_type, "text")
            return "boolean"
        if isinstance(node.args[0], Text):
            _unify(node.args[0], "text", node, "floating_timestamp")
        else:
            _expect(node.args[0], arg_types[0], "floating_timestamp")
        return "floating_timestamp"
    if isinstance(node, Binary):
        left, right = _type_of(node.left, columns), _type_of(node.right, columns)
        if node.op in ARITHMETIC_OPS:
            _expect(node.left, left, "number")
            _expect(node.right, right, "number")
            return "number"
        if node.op in LIKE_OPS:
            _expect(node.left, left, "text")
            _expect(node.right, right, "text")
            return "boolean"
        _unify(node.left, left, node.right, right)
        return "boolean"
    if isinstance(node, Logical):
        for arg in node.args:
            _expect(arg, _type_of(arg, columns), "boolean")
        return "boolean"
    if isinstance(node, Not):
        _expect(node.arg, _type_of(node.arg, columns), "boolean")
        return "boolean"
    if isinstance(node, Negate):
        _expect(node.arg, _type_of(node.arg, columns), "number")
        return "number"
    if isinstance(node, Between):
        arg = _type_of(node.arg, columns)
        for bound in (node.low, node.high):
            _unify(node.arg, arg, bound, _type_of(bound, columns))
        return "boolean"
    if isinstance(node, In):
        arg = _type_of(node.arg, columns)
        for item in node.items:
            _unify(node.arg, arg, item, _type_of(item, columns))
        return "boolean"
    _type_of(node.arg, columns)
    return "boolean"


def find_type_problem(query: Query, columns: Mapping[str, str]) -> QueryProblem | None:
    """The first type error against a dataset's columns (name -> text, number, boolean, floating_timestamp)."""
    try:
        for clause, root in _clauses(query):
            kind = _type_of(root, columns)
            if clause in ("where", "having"):
                _expect(root, kind, "boolean")
    except _Mismatch as error:
        return QueryProblem(_clause_of(query, error.node), error.message, error.node)
    return None


def _clause_of(query: Query, node: ExprNode) -> str:
    for clause, root in _clauses(query):
        if any(sub is node for sub in walk(root)):
            return clause
    return "select"


def result_types(query: Query, columns: Mapping[str, str]) -> list[str]:
    """The type of each result column (the dataset's own columns when `select` is empty); the query must
    already be free of type problems. A bare null literal is reported as text."""
    if not query.select:
        return list(columns.values())
    types = [_type_of(item.expr, columns) for item in query.select]
    return ["text" if kind == "null" else kind for kind in types]
