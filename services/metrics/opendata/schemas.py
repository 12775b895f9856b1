"""The open-data API's shapes: a public dataset as the catalogue shows it, and a query's answer."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.common.query_tree import (
    ALIAS_PATTERN,
    MAX_GROUP,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_ORDER,
    MAX_SEARCH,
    MAX_SELECT,
)

ColumnType = Literal["text", "number", "boolean", "floating_timestamp"]


class OpenColumnPublic(BaseModel):
    field_name: str
    name: str
    datatype: ColumnType
    description: str


class OpenDatasetPublic(BaseModel):
    id: str = Field(description="Socrata-style 4x4 id, stable: derived from the key", examples=["abcd-2345"])
    key: str = Field(examples=["observations", "records.service_requests"])
    name: str
    description: str
    category: str
    columns: list[OpenColumnPublic]
    row_count: int
    updated_at: dt.datetime
    license: str
    publisher: str


class ResultColumn(BaseModel):
    name: str
    datatype: ColumnType


class QueryResultPublic(BaseModel):
    columns: list[ResultColumn]
    rows: list[list[Any]] = Field(
        description="Values as JSON: numbers as numbers, floating timestamps as '2017-06-01T00:00:00.000', or null"
    )


# The query body as OpenAPI documents it. The tree is recursive, and a fully inlined recursive schema grows without
# bound in the tools that read it, so an expression is documented one level deep: an object with a `kind`. The route
# validates the whole tree with `services.common.query_tree.Query`.
_EXPRESSION = {
    "type": "object",
    "description": "An expression node of services.common.query_tree, told apart by `kind`",
    "required": ["kind"],
    "properties": {
        "kind": {
            "type": "string",
            "enum": [
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
            ],
        }
    },
}
_OPTIONAL_EXPRESSION = {"anyOf": [_EXPRESSION, {"type": "null"}]}
QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Query",
    "additionalProperties": False,
    "properties": {
        "select": {
            "type": "array",
            "maxItems": MAX_SELECT,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["expr"],
                "properties": {
                    "expr": _EXPRESSION,
                    "alias": {"anyOf": [{"type": "string", "pattern": ALIAS_PATTERN}, {"type": "null"}]},
                },
            },
        },
        "where": _OPTIONAL_EXPRESSION,
        "group": {"type": "array", "maxItems": MAX_GROUP, "items": _EXPRESSION},
        "having": _OPTIONAL_EXPRESSION,
        "order": {
            "type": "array",
            "maxItems": MAX_ORDER,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["expr"],
                "properties": {
                    "expr": _EXPRESSION,
                    "direction": {"type": "string", "enum": ["asc", "desc"]},
                    "nulls": {"anyOf": [{"type": "string", "enum": ["first", "last"]}, {"type": "null"}]},
                },
            },
        },
        "search": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": MAX_SEARCH}, {"type": "null"}]},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 1000},
        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    },
}
