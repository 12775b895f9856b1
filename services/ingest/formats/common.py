"""What every submission format shares: decoding, CSV records, numbers, and turning cells into checked rows."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.common.contracts import ObservationRow, RejectedRow
from services.common.errors import BadRequest

ROW_FIELDS: tuple[str, ...] = tuple(ObservationRow.model_fields)
NUMERIC_FIELDS = ("value", "numerator", "denominator")

# float() also takes "1_000", "infinity", "nan" and non-ASCII digits such as "١٢"; a city's number is plain decimal.
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SHOWN_CHARS = 40


@dataclass
class ParsedRows:
    rows: list[ObservationRow] = field(default_factory=list)
    # For each usable row, where it sits in the source, so a rejection from metrics can be reported there.
    source_rows: list[int] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class CellProblem(Exception):
    """One cell a row cannot be built from; the row is rejected with this field and reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def shown(text: str) -> str:
    """A cell quoted in a reason, cut short so one huge cell does not swell the summary."""
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "…"
    return repr(text)


def decode_utf8(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"The {what} is not UTF-8 text (byte {exc.start} cannot be decoded); save the file as UTF-8.",
            errors=[{"field": "body", "reason": "not UTF-8"}],
        ) from exc
    if not text.strip():
        raise BadRequest(f"The {what} is empty.", errors=[{"field": "body", "reason": "empty"}])
    return text


def csv_records(text: str, what: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records, each with its record number counted from 1 (blank records count too).

    Record numbers are what a spreadsheet shows as row numbers: a quoted line break stays inside one
    record, so physical line numbers would drift from the rows a person sees."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadRequest(
                f"The {what} cannot be read as CSV near record {number + 1}: {exc}.",
                errors=[{"row": number + 1, "field": "body", "reason": str(exc)}],
            ) from exc
        number += 1
        cells = [cell.strip() for cell in record]
        if any(cells):
            yield number, cells


def text_or_none(text: str) -> str | None:
    return text or None


def parse_number(raw: Any, field: str) -> float | None:
    """A number from a CSV cell or a JSON value; empty means null. Anything not finite is refused."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise CellProblem(field, f"{field} must be a finite number, not {str(raw).lower()}")
    if isinstance(raw, int | float):
        try:
            number = float(raw)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise CellProblem(field, f"{field} must be a finite number; {shown(str(raw))} is too large")
        return number
    if not isinstance(raw, str):
        raise CellProblem(field, f"{field} must be a finite number, not a JSON {type(raw).__name__}")
    text = raw.strip()
    if not text:
        return None
    if not _DECIMAL_RE.fullmatch(text):
        raise CellProblem(field, f"{field} must be a finite number, not {shown(text)}")
    number = float(text)
    if not math.isfinite(number):
        raise CellProblem(field, f"{field} must be a finite number; {shown(text)} is too large")
    return number


def _readable(error: dict[str, Any], field: str) -> str:
    kind = error.get("type")
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_type" and error.get("input") is None):
        return f"{field} is required"
    if kind == "string_too_short":
        return f"{field} is required and may not be empty"
    if kind == "string_too_long":
        return f"{field} is longer than {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        # The only pattern on ObservationRow's text is "no NUL", which PostgreSQL text cannot hold.
        return f"{field} contains a NUL character"
    return f"{field}: {error.get('msg', 'invalid')}"


class RowCollector:
    """Builds ParsedRows one source row at a time, so one bad row is reported, not the whole file refused."""

    def __init__(self) -> None:
        self.parsed = ParsedRows()

    def reject(self, row: int, field: str, reason: str) -> None:
        self.parsed.rejected.append(RejectedRow(row=row, field=field, reason=reason))

    def add(self, row: int, values: dict[str, Any], problems: dict[str, str]) -> None:
        """`values` are ObservationRow fields; `problems` are cells already found unusable (field -> reason).

        A row is rejected once, for its first problem in ObservationRow's field order, so that every
        source row counts once in the summary."""
        found = dict(problems)
        try:
            observation = ObservationRow.model_validate({k: v for k, v in values.items() if k not in problems})
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = error.get("loc") or ("row",)
                name = str(loc[0])
                found.setdefault(name, _readable(error, name))
            observation = None
        if found or observation is None:
            order = {name: i for i, name in enumerate(("row", *ROW_FIELDS))}
            name = min(found, key=lambda n: order.get(n, len(order)))
            self.reject(row, name, found[name])
            return
        self.parsed.rows.append(observation)
        self.parsed.source_rows.append(row)
