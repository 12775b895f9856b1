"""CityStat's own CSV: a header row naming ObservationRow's fields, one observation per row."""

from __future__ import annotations

from typing import Any

from services.common.errors import BadRequest
from services.ingest.formats.common import (
    NUMERIC_FIELDS,
    CellProblem,
    ParsedRows,
    RowCollector,
    csv_records,
    decode_utf8,
    parse_number,
    text_or_none,
)

COLUMNS = ("metric", "period", "value", "numerator", "denominator", "org_unit", "comment", "reason")
REQUIRED_COLUMNS = ("metric", "period")
_WHAT = "CSV upload"


def _header(cells: list[str]) -> list[str]:
    names = [cell.lower() for cell in cells]
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if name not in COLUMNS:
            label = f"'{cells[position - 1]}'" if name else f"(empty, column {position})"
            errors.append({"field": cells[position - 1] or f"column {position}", "reason": f"unknown column {label}"})
        elif name in seen:
            errors.append({"field": name, "reason": f"duplicate column '{name}'"})
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append({"field": name, "reason": f"missing required column '{name}'"})
    if errors:
        raise BadRequest(
            "The CSV header is not usable: "
            + "; ".join(e["reason"] for e in errors)
            + f". Columns are {', '.join(COLUMNS)}; metric and period are required.",
            errors=errors,
        )
    return names


def parse_observation_csv(data: bytes) -> ParsedRows:
    records = csv_records(decode_utf8(data, _WHAT), _WHAT)
    first = next(records, None)
    if first is None:
        raise BadRequest("The CSV upload is empty.", errors=[{"field": "body", "reason": "empty"}])
    columns = _header(first[1])
    collector = RowCollector()
    for number, cells in records:
        if len(cells) > len(columns):
            collector.reject(
                number, "row", f"the row has {len(cells)} cells but the header names {len(columns)} columns"
            )
            continue
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        # A spreadsheet drops empty trailing cells, so a short row simply leaves the last columns empty.
        for name, cell in zip(columns, cells, strict=False):
            if name in NUMERIC_FIELDS:
                try:
                    values[name] = parse_number(cell, name)
                except CellProblem as problem:
                    problems[problem.field] = problem.reason
            else:
                # The period goes through as written: metrics knows each metric's frequency and judges it.
                values[name] = text_or_none(cell)
        collector.add(number, values, problems)
    if not collector.parsed.rows and not collector.parsed.rejected:
        raise BadRequest(
            "The CSV upload has a header but no data rows.", errors=[{"field": "body", "reason": "no data rows"}]
        )
    return collector.parsed
