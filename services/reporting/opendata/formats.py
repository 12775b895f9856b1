"""Rows written the way Socrata writes them, so SODA clients read CityStat's datasets like any other.

JSON: an array of objects keyed by field name; numbers as strings ("0.95": SODA keeps arbitrary precision and
clients parse the text), booleans as true/false, floating timestamps as "2017-06-01T00:00:00.000", and a null
left out of its object. CSV: a header row of field names, then RFC 4180 rows (CRLF, quotes only where needed),
a null as an empty field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from services.common.query_types import parse_floating_timestamp

# CityStat's column types as Socrata names them: in X-SODA2-Types, and `dataTypeName` in view metadata.
SODA_TYPES = {"text": "text", "number": "number", "boolean": "checkbox", "floating_timestamp": "floating_timestamp"}
VIEW_TYPES = {"text": "text", "number": "number", "boolean": "checkbox", "floating_timestamp": "calendar_date"}
# How the Discovery API (`/api/catalog/v1`) shows them in `columns_datatype`.
CATALOG_TYPES = {"text": "Text", "number": "Number", "boolean": "Checkbox", "floating_timestamp": "Calendar date"}


def soda_number(value: Any) -> str:
    """A number as Socrata writes it: plain digits, no exponent, no trailing zeros after the point."""
    if isinstance(value, bool):
        return "1" if value else "0"
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def soda_timestamp(value: Any) -> str:
    moment = value if isinstance(value, dt.datetime) else parse_floating_timestamp(str(value))
    if moment is None:
        return str(value)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}"


def soda_value(value: Any, datatype: str) -> str | bool | None:
    """One value as it appears in SODA JSON (None: leave the field out)."""
    if value is None:
        return None
    if datatype == "number":
        return soda_number(value)
    if datatype == "floating_timestamp":
        return soda_timestamp(value)
    if datatype == "boolean":
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)
    return value if isinstance(value, str) else str(value)


def json_rows(names: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    objects = []
    for row in rows:
        item: dict[str, Any] = {}
        for name, datatype, value in zip(names, types, row, strict=True):
            written = soda_value(value, datatype)
            if written is not None:
                item[name] = written
        objects.append(item)
    return json.dumps(objects, ensure_ascii=False, separators=(",", ":")).encode()


def _csv_field(value: Any, datatype: str) -> str:
    written = soda_value(value, datatype)
    if written is None:
        return ""
    if isinstance(written, bool):
        return "true" if written else "false"
    return written


def csv_rows(names: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_field(value, datatype) for datatype, value in zip(types, row, strict=True)])
    return buffer.getvalue().encode()
