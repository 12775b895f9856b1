"""CKAN's datastore_search over a public dataset: the parameters become a typed query tree (never SQL text) that
metrics runs over the dataset's public rows, exactly as for SODA; a second tree counts the matching rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from services.common.errors import NotFound
from services.common.query_tree import (
    MAX_LIMIT,
    MAX_OFFSET,
    Binary,
    Boolean,
    Call,
    Column,
    In,
    IsNull,
    Logical,
    Number,
    OrderItem,
    Query,
    SelectItem,
    Text,
)
from services.common.query_types import find_type_problem
from services.reporting.clients.metrics import OpenDataset
from services.reporting.opendata.ckan_actions import (
    ActionCall,
    CkanError,
    bool_param,
    int_param,
    invalid,
    json_param,
    list_param,
    not_found,
    shown,
    text_param,
)
from services.reporting.opendata.soda import DATASET_ID

DATASTORE_LIMIT = 100
# A page is capped like a SODA page, at the query tree's own maximum; a larger limit is clamped, as CKAN does.
DATASTORE_MAX_LIMIT = MAX_LIMIT
# CKAN's datastore names for CityStat's column types.
DATASTORE_TYPES = {"text": "text", "number": "numeric", "boolean": "bool", "floating_timestamp": "timestamp"}
# The parameters a search's `_links` carry on: those that choose its records, not the offset.
LINKED_PARAMS = ("resource_id", "id", "q", "filters", "fields", "sort", "limit", "include_total", "records_format")
# Metrics' clause names, as the parameter a CKAN client wrote.
PARAM_OF_CLAUSE = {"select": "fields", "where": "filters", "order": "sort"}


def _literal(value: Any, datatype: str, name: str) -> Any:
    """A filter's value as a literal of its column's type (CKAN compares by the column's type too)."""
    try:
        if datatype == "number":
            if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
                raise ValueError
            return Number(value=value.strip() if isinstance(value, str) else str(value))
        if datatype == "boolean":
            word = str(value).strip().lower()
            if isinstance(value, bool) or word in ("true", "false"):
                return Boolean(value=value if isinstance(value, bool) else word == "true")
            raise ValueError
        if isinstance(value, dict | list | bool):
            raise ValueError
        return Text(value=str(value))
    except (ValueError, ValidationError):
        raise invalid("filters", f'invalid value for field "{shown(name)}": {shown(str(value))}') from None


def _condition(name: str, value: Any, datatype: str) -> Any:
    """`field: value` is equality, `field: [a, b]` any of them, and a null stands for a missing value."""
    column = Column(name=name)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise invalid("filters", f'no values given for field "{shown(name)}"')
    present = [_literal(v, datatype, name) for v in values if v is not None]
    parts: list[Any] = []
    if len(present) == 1:
        parts.append(Binary(op="=", left=column, right=present[0]))
    elif present:
        parts.append(In(arg=column, items=tuple(present)))
    if len(present) < len(values):
        parts.append(IsNull(arg=column))
    return parts[0] if len(parts) == 1 else Logical(op="or", args=tuple(parts))


def _known(name: Any, columns: Mapping[str, str], param: str) -> str:
    if not isinstance(name, str) or name not in columns:
        raise invalid(param, f'field "{shown(str(name))}" not in table')
    return name


def _where(data: Mapping[str, Any], columns: Mapping[str, str]) -> Any:
    filters = json_param(data, "filters")
    if filters is not None and not isinstance(filters, dict):
        raise invalid("filters", "Must be a dictionary of field names and values")
    conditions = [
        _condition(_known(name, columns, "filters"), value, columns[name]) for name, value in (filters or {}).items()
    ]
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else Logical(op="and", args=tuple(conditions))


def _search(data: Mapping[str, Any]) -> str | None:
    # Full text over every text column (metrics' $q). CKAN's per-field form (q as an object) is not offered.
    if isinstance(data.get("q"), dict):
        raise invalid("q", "Search every field with text; searching named fields is not supported")
    q = text_param(data, "q", "") or ""
    return q.strip() or None


def _order(data: Mapping[str, Any], columns: Mapping[str, str]) -> tuple[OrderItem, ...]:
    items = []
    for part in list_param(data, "sort"):
        words = part.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if len(words) > 2 or direction not in ("asc", "desc"):
            raise invalid("sort", f"cannot sort by {shown(part)}")
        name = _known(words[0].strip('"'), columns, "sort")
        items.append(OrderItem(expr=Column(name=name), direction=direction))
    return tuple(items)


def build_queries(data: Mapping[str, Any], columns: Mapping[str, str]) -> tuple[Query, Query]:
    """The page of records and the count of every matching row, as query trees over `columns` (name: type)."""
    fields = [_known(name, columns, "fields") for name in list_param(data, "fields")] or list(columns)
    if len(set(fields)) != len(fields):
        raise invalid("fields", "a field is named twice")
    where, search = _where(data, columns), _search(data)
    try:
        page = Query(
            select=tuple(SelectItem(expr=Column(name=name)) for name in fields),
            where=where,
            order=_order(data, columns),
            search=search,
            # limit=0 asks for the count and fields alone; the page query is then not run.
            limit=max(1, int_param(data, "limit", DATASTORE_LIMIT, DATASTORE_MAX_LIMIT)),
            offset=int_param(data, "offset", 0, MAX_OFFSET),
        )
        count = Query(select=(SelectItem(expr=Call(name="count"), alias="total"),), where=where, search=search, limit=1)
    except ValidationError as exc:
        raise CkanError(409, "Validation Error", f"Validation Error: {exc.errors()[0]['msg']}") from None
    problem = find_type_problem(page, columns)
    if problem is not None:
        param = PARAM_OF_CLAUSE.get(problem.clause, problem.clause)
        raise invalid(param, problem.message)
    return page, count


async def _resource(call: ActionCall, resource_id: str) -> OpenDataset:
    missing = not_found(f'Resource "{shown(resource_id)}" was not found.')
    if not DATASET_ID.fullmatch(resource_id):
        raise missing
    try:
        return await call.metrics.open_dataset(resource_id)
    except NotFound:
        raise missing from None


def _links(call: ActionCall, offset: int, limit: int) -> dict[str, str]:
    """Where this search starts and where its next page is, as CKAN gives them (paths, not whole URLs)."""
    params = {}
    for name, value in call.data.items():
        if name not in LINKED_PARAMS or value is None:
            continue
        # Values from a JSON body go back as a query string would carry them.
        params[name] = value if isinstance(value, str | list) else _as_text(value)
    # A lone surrogate (valid in JSON, not in UTF-8) in a parameter the search did not read must not fail it.
    start = f"{call.prefix}/datastore_search?{urlencode(params, doseq=True, errors='replace')}"
    return {"start": start, "next": f"{start}&{urlencode({'offset': offset + limit})}"}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value, default=str)


async def datastore_search(call: ActionCall) -> dict[str, Any]:
    """Records of a dataset (the resource id is the dataset's 4x4 id). Parameters: resource_id, q (text searched in
    every text field), filters (an object of field: value, or field: [values]), fields, sort ("field desc, ..."),
    limit (default 100, at most 50,000), offset, include_total, records_format (objects or lists)."""
    resource_id = text_param(call.data, "resource_id") or text_param(call.data, "id")
    if not resource_id:
        raise invalid("resource_id", "Missing value")
    records_format = text_param(call.data, "records_format", "objects")
    if records_format not in ("objects", "lists"):
        raise invalid("records_format", "Must be objects or lists")
    include_total = bool_param(call.data, "include_total", True)
    dataset = await _resource(call, resource_id)
    columns = {column.field_name: column.datatype for column in dataset.columns}
    page, count = build_queries(call.data, columns)
    fields = [item.expr.name for item in page.select]
    limit = int_param(call.data, "limit", DATASTORE_LIMIT, DATASTORE_MAX_LIMIT)
    rows = (await call.metrics.query_open_dataset(dataset.id, page)).rows if limit else []
    answer: dict[str, Any] = {
        "resource_id": dataset.id,
        "fields": [{"id": name, "type": DATASTORE_TYPES.get(columns[name], "text")} for name in fields],
        "records_format": records_format,
        "records": [list(row) if records_format == "lists" else dict(zip(fields, row, strict=True)) for row in rows],
        "limit": limit,
        "offset": page.offset,
        "include_total": include_total,
        "_links": _links(call, page.offset, limit),
    }
    if include_total:
        counted = await call.metrics.query_open_dataset(dataset.id, count)
        answer["total"] = int(counted.rows[0][0]) if counted.rows else 0
        answer["total_was_estimated"] = False
    for name in ("q", "filters", "sort"):
        if call.data.get(name) not in (None, ""):
            answer[name] = json_param(call.data, name) if name == "filters" else call.data[name]
    return answer
