"""A query tree written back as SoQL parameters, with no more parentheses than the grammar needs.

`parse_soql(to_soql(query)) == query` for every valid tree whose aliases are not also names of columns it reads
(an alias would then stand for its expression when read back)."""

from __future__ import annotations

from typing import Any

from services.common.query_tree import (
    ARITHMETIC_OPS,
    DEFAULT_LIMIT,
    LIKE_OPS,
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
    Text,
)
from services.reporting.opendata.soql_lexer import KEYWORDS

__all__ = ["to_soql", "write_expression"]


def _precedence(node: Any) -> int:
    """How tightly a node binds, matching the parser: OR 1, AND 2, NOT 3, predicates 4, comparisons 5,
    + - 6, * / 7, unary minus 8, atoms 9."""
    if isinstance(node, Logical):
        return 1 if node.op == "or" else 2
    if isinstance(node, Not):
        return 3
    if isinstance(node, IsNull | Between | In):
        return 4
    if isinstance(node, Binary):
        if node.op in LIKE_OPS:
            return 4
        if node.op in ARITHMETIC_OPS:
            return 6 if node.op in ("+", "-") else 7
        return 5
    if isinstance(node, Negate) or (isinstance(node, Number) and node.value.startswith("-")):
        return 8
    return 9


def _name(name: str) -> str:
    return f"`{name}`" if name in KEYWORDS else name


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_expression(node: Any, min_prec: int = 1) -> str:
    text = _write(node)
    return f"({text})" if _precedence(node) < min_prec else text


def _write(node: Any) -> str:
    if isinstance(node, Column):
        return _name(node.name)
    if isinstance(node, Text):
        return _text(node.value)
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, Null):
        return "NULL"
    if isinstance(node, Call):
        args = ", ".join(write_expression(arg) for arg in node.args)
        return f"{node.name}({args or '*'})"
    if isinstance(node, Logical):
        own = _precedence(node)
        # One level tighter, so a nested AND inside an AND keeps its parentheses and its shape.
        return f" {node.op.upper()} ".join(write_expression(arg, own + 1) for arg in node.args)
    if isinstance(node, Not):
        return "NOT " + write_expression(node.arg, 3)
    if isinstance(node, Negate):
        # Parenthesised always: "-5" reads back as the number -5, and "--" would start a comment.
        return f"-({write_expression(node.arg)})"
    if isinstance(node, IsNull):
        return write_expression(node.arg, 4) + (" IS NOT NULL" if node.negated else " IS NULL")
    if isinstance(node, Between):
        keyword = "NOT BETWEEN" if node.negated else "BETWEEN"
        low, high = write_expression(node.low, 5), write_expression(node.high, 5)
        return f"{write_expression(node.arg, 4)} {keyword} {low} AND {high}"
    if isinstance(node, In):
        items = ", ".join(write_expression(item) for item in node.items)
        return f"{write_expression(node.arg, 4)} {'NOT IN' if node.negated else 'IN'} ({items})"
    own = _precedence(node)
    left = write_expression(node.left, own)
    right = write_expression(node.right, own + 1)
    return f"{left} {node.op.upper()} {right}"


def _order(item: OrderItem) -> str:
    text = write_expression(item.expr)
    if item.direction == "desc":
        text += " DESC"
    default_nulls = "first" if item.direction == "desc" else "last"
    if item.nulls != default_nulls:
        text += f" NULLS {item.nulls.upper()}"
    return text


def to_soql(query: Query) -> dict[str, str]:
    """The SODA parameters for a tree; defaults ($limit 1000, $offset 0, all columns) are left out."""
    params: dict[str, str] = {}
    if query.select:
        params["$select"] = ", ".join(
            write_expression(item.expr) + (f" AS {_name(item.alias)}" if item.alias else "") for item in query.select
        )
    if query.where is not None:
        params["$where"] = write_expression(query.where)
    if query.group:
        params["$group"] = ", ".join(write_expression(expr) for expr in query.group)
    if query.having is not None:
        params["$having"] = write_expression(query.having)
    if query.order:
        params["$order"] = ", ".join(_order(item) for item in query.order)
    if query.search is not None:
        params["$q"] = query.search
    if query.limit != DEFAULT_LIMIT:
        params["$limit"] = str(query.limit)
    if query.offset:
        params["$offset"] = str(query.offset)
    return params
