"""DHIS2's dataValueSets, read as CityStat rows, and DHIS2's import summary written back.

A system that already reports to DHIS2 can send the same payload here: dataElement is the metric key,
orgUnit is passed on as the org unit, and DHIS2 periods become CityStat periods. What DHIS2 puts in the
payload but CityStat has no place for (category option combos, storedBy, followup...) is ignored,
as DHIS2 itself ignores what it does not need."""

from __future__ import annotations

import json
import re
from typing import Any

from services.common.contracts import ImportStrategy, ImportSummary
from services.common.errors import BadRequest, Unprocessable
from services.common.periods import Period, PeriodError
from services.ingest.formats.common import (
    CellProblem,
    ParsedRows,
    RowCollector,
    csv_records,
    decode_utf8,
    parse_number,
    shown,
    text_or_none,
)

# ---------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------

_SUPPORTED_PERIODS = (
    "supported are yearly 2017, monthly 201706, quarterly 2017Q2 and ISO-weekly 2017W23 (or 2017-06, 2017-Q2, "
    "2017-W23); daily, other weekly, bi-monthly, six-monthly and financial-year periods are not"
)
_DHIS2_YEAR = re.compile(r"([0-9]{4})")
_DHIS2_MONTH = re.compile(r"([0-9]{4})([0-9]{2})")
_DHIS2_QUARTER = re.compile(r"([0-9]{4})Q([0-9])")
_DHIS2_WEEK = re.compile(r"([0-9]{4})W([0-9]{1,2})")


def _candidate(text: str) -> str | None:
    """The CityStat form of a DHIS2 period; PeriodError for a month, quarter or week that does not exist."""
    if match := _DHIS2_YEAR.fullmatch(text):
        return match[1]
    if match := _DHIS2_MONTH.fullmatch(text):
        year, number, kind, last = match[1], int(match[2]), "month", 12
    elif match := _DHIS2_QUARTER.fullmatch(text):
        year, number, kind, last = match[1], int(match[2]), "quarter", 4
    elif match := _DHIS2_WEEK.fullmatch(text):
        year, number, kind, last = match[1], int(match[2]), "week", 53
    else:
        return None
    if not 1 <= number <= last:
        raise PeriodError(f"{shown(text)} is not a period: there is no {kind} {number}; {_SUPPORTED_PERIODS}")
    return {"month": f"{year}-{number:02d}", "quarter": f"{year}-Q{number}", "week": f"{year}-W{number:02d}"}[kind]


def dhis2_period(text: str) -> str:
    """A DHIS2 period (201706, 2017Q2, 2017W23, 2017) as CityStat writes it; CityStat forms pass through.

    Raises PeriodError (a ValueError) whose message says what is wrong and which forms are supported."""
    if not isinstance(text, str):
        raise PeriodError(f"the period must be text; {_SUPPORTED_PERIODS}")
    try:
        # Only the canonical text passes: Period.parse also takes non-ASCII digits and a trailing newline.
        if str(Period.parse(text)) == text:
            return text
    except ValueError:
        pass
    candidate = _candidate(text)
    if candidate is None:
        raise PeriodError(f"{shown(text)} is not a supported period; {_SUPPORTED_PERIODS}")
    try:
        return str(Period.parse(candidate))
    except PeriodError as exc:
        # What is left is a year outside the range CityStat keeps, or week 53 of a year without one.
        raise PeriodError(f"{shown(text)} is not a usable period: {exc}; {_SUPPORTED_PERIODS}") from exc


# ---------------------------------------------------------------------------------------------------------------
# Import strategy
# ---------------------------------------------------------------------------------------------------------------

_STRATEGIES = {
    "CREATE_AND_UPDATE": ImportStrategy.create_and_update,
    "NEW_AND_UPDATES": ImportStrategy.create_and_update,
    "CREATE": ImportStrategy.create,
    "NEW": ImportStrategy.create,
    "UPDATE": ImportStrategy.update,
    "UPDATES": ImportStrategy.update,
    "DELETE": ImportStrategy.delete,
    "DELETES": ImportStrategy.delete,
}


def parse_import_strategy(text: str) -> ImportStrategy:
    """DHIS2's importStrategy names (and their old aliases), in any letter case."""
    strategy = _STRATEGIES.get(text.strip().upper()) if isinstance(text, str) else None
    if strategy is None:
        accepted = "CREATE_AND_UPDATE, CREATE, UPDATE, DELETE (or NEW_AND_UPDATES, NEW, UPDATES, DELETES)"
        raise BadRequest(
            f"importStrategy {shown(str(text))} is not supported; use {accepted}.",
            errors=[{"field": "importStrategy", "reason": f"not one of {accepted}"}],
        )
    return strategy


# ---------------------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------------------

_DELETED_REASON = (
    "deleted=true is not supported here; to remove values, send them with the query parameter importStrategy=DELETE"
)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", type(None): "null"}.get(type(value), type(value).__name__)


def _text(raw: Any, field: str, name: str, problems: dict[str, str]) -> str | None:
    # DHIS2 trims every identifier and comment and treats an empty one as absent; so does CityStat.
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.setdefault(field, f"{name} must be text, not a JSON {_json_kind(raw)}")
        return None
    return text_or_none(raw.strip())


def _is_true(raw: Any) -> bool:
    return raw is True or (isinstance(raw, str) and raw.strip().lower() == "true")


def _add_row(
    collector: RowCollector,
    number: int,
    *,
    data_element: str | None,
    period: str | None,
    org_unit: str | None,
    value: Any,
    comment: str | None,
    deleted: bool,
    problems: dict[str, str],
) -> None:
    values: dict[str, Any] = {"metric": data_element, "org_unit": org_unit, "comment": comment}
    if data_element is None:
        problems.setdefault("metric", "dataElement is required")
    if period is None:
        problems.setdefault("period", "period is required (on the data value, or on the data value set for all)")
    elif "period" not in problems:
        try:
            values["period"] = dhis2_period(period)
        except ValueError as exc:
            problems["period"] = str(exc)
    try:
        values["value"] = parse_number(value, "value")
    except CellProblem as problem:
        problems[problem.field] = problem.reason
    if deleted:
        problems["deleted"] = _DELETED_REASON
    collector.add(number, values, problems)


class _NonFiniteLiteral(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have and a city's number must not be.
    raise _NonFiniteLiteral(name)


_PAYLOAD_OPTIONS = ("importStrategy", "dryRun")


_SET_TEXT_KEYS = ("dataSet", "period", "orgUnit", "completeDate", "attributeOptionCombo")
_VALUE_TEXT_KEYS = ("dataElement", "period", "orgUnit", "comment", "categoryOptionCombo", "attributeOptionCombo")


def _check_types(payload: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """A JSON value of the wrong type, or a value without its dataElement, makes the request malformed
    as a whole (DESIGN.md), as the published schema says; unusable contents are judged row by row."""
    errors: list[dict[str, Any]] = [
        {"field": key, "reason": f"must be a string or null, not a JSON {_json_kind(payload[key])}"}
        for key in _SET_TEXT_KEYS
        if payload.get(key) is not None and not isinstance(payload[key], str)
    ]
    for index, item in enumerate(items):
        if "dataElement" not in item:
            errors.append({"row": index, "field": "dataElement", "reason": "is required"})
        errors += [
            {"row": index, "field": key, "reason": f"must be a string or null, not a JSON {_json_kind(item[key])}"}
            for key in _VALUE_TEXT_KEYS
            if item.get(key) is not None and not isinstance(item[key], str)
        ]
        value = item.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            errors.append(
                {
                    "row": index,
                    "field": "value",
                    "reason": f"must be a string or a number, not a JSON {_json_kind(value)}",
                }
            )
    if errors:
        raise Unprocessable(
            f"{len(errors)} part(s) of the dataValueSet have the wrong JSON type or are missing; nothing was stored.",
            errors=errors[:200],
            slug="validation-error",
        )


def parse_data_value_set_json(data: bytes) -> ParsedRows:
    """A DHIS2 dataValueSet in JSON. Row numbers are 0-based indexes into dataValues, as DHIS2 counts them."""
    text = decode_utf8(data, "dataValueSet")
    try:
        payload = json.loads(text, parse_constant=_refuse_constant)
    except _NonFiniteLiteral as exc:
        raise BadRequest(
            f"The JSON contains {exc}, which JSON does not allow; send numbers, or the value as a string.",
            errors=[{"field": "body", "reason": f"{exc} is not JSON"}],
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise BadRequest(
            f"The request body is not valid JSON: {exc}", errors=[{"field": "body", "reason": "not JSON"}]
        ) from exc
    if not isinstance(payload, dict):
        raise BadRequest(
            f"A dataValueSet must be a JSON object, not a JSON {_json_kind(payload)}.",
            errors=[{"field": "body", "reason": "not an object"}],
        )
    # Ignoring a dryRun=true written in the payload would store what the sender only meant to check.
    options = [key for key in _PAYLOAD_OPTIONS if key in payload]
    if options:
        raise BadRequest(
            f"{' and '.join(options)} inside the payload are not supported; give them as query parameters.",
            errors=[{"field": key, "reason": "give it as a query parameter"} for key in options],
        )
    items = payload.get("dataValues")
    if not isinstance(items, list):
        reason = "missing" if items is None else f"a JSON {_json_kind(items)}, not an array"
        raise BadRequest(
            f"A dataValueSet needs a dataValues array; it is {reason}.",
            errors=[{"field": "dataValues", "reason": reason}],
        )
    not_objects = [index for index, item in enumerate(items) if not isinstance(item, dict)]
    if not_objects:
        raise BadRequest(
            "Each entry of dataValues must be a JSON object; these are not: "
            + ", ".join(f"dataValues[{i}]" for i in not_objects[:20]),
            errors=[{"row": i, "field": "dataValues", "reason": "not an object"} for i in not_objects[:100]],
        )
    _check_types(payload, items)
    outer: dict[str, str] = {}
    set_period = _text(payload.get("period"), "period", "period", outer)
    set_org_unit = _text(payload.get("orgUnit"), "org_unit", "orgUnit", outer)
    collector = RowCollector()
    for index, item in enumerate(items):
        problems: dict[str, str] = {}
        period = _text(item.get("period"), "period", "period", problems)
        org_unit = _text(item.get("orgUnit"), "org_unit", "orgUnit", problems)
        # The data value set's period and orgUnit apply to values that do not name their own.
        if period is None and "period" not in problems:
            period = set_period
            if "period" in outer:
                problems["period"] = f"the data value set's {outer['period']}"
        if org_unit is None and "org_unit" not in problems:
            org_unit = set_org_unit
            if "org_unit" in outer:
                problems["org_unit"] = f"the data value set's {outer['org_unit']}"
        _add_row(
            collector,
            index,
            data_element=_text(item.get("dataElement"), "metric", "dataElement", problems),
            period=period,
            org_unit=org_unit,
            value=item.get("value"),
            comment=_text(item.get("comment"), "comment", "comment", problems),
            deleted=_is_true(item.get("deleted")),
            problems=problems,
        )
    return collector.parsed


# DHIS2 reads its CSV by position; the header row, when there is one, is skipped. These are the names each
# position has carried in DHIS2's exports and documentation over the years.
_CSV_POSITIONS: tuple[tuple[str, ...], ...] = (
    ("dataelement", "data_element", "data element", "de"),
    ("period", "pe"),
    ("orgunit", "org_unit", "org unit", "ou"),
    ("categoryoptioncombo", "catoptcombo", "co", "coc"),
    ("attributeoptioncombo", "attroptcombo", "aoc"),
    ("value",),
    ("storedby", "strby", "stored_by"),
    ("lastupdated", "lstupd", "lastupd", "timestamp", "last_updated"),
    ("comment", "cmt"),
    ("followup", "flwup", "follow_up"),
    ("deleted",),
)
_CSV_POSITION_OF = {name: position for position, names in enumerate(_CSV_POSITIONS) for name in names}
# Only long names mark a header: a short one such as "de" could be a metric key in a file without a header.
_CSV_HEADER_MARKERS = {"dataelement", "data_element", "data element"}
_DE, _PE, _OU, _VALUE, _COMMENT, _DELETED = 0, 1, 2, 5, 8, 10
_WHAT_CSV = "DHIS2 CSV"


def _check_csv_header(number: int, cells: list[str]) -> None:
    errors = []
    for position, cell in enumerate(cells):
        expected = _CSV_POSITION_OF.get(cell.lower())
        if expected is not None and expected != position:
            errors.append(
                {
                    "row": number,
                    "field": cell,
                    "reason": f"'{cell}' is column {position + 1}, but DHIS2 CSV has "
                    f"{_CSV_POSITIONS[expected][0]} as column {expected + 1}",
                }
            )
    if errors:
        order = ", ".join(names[0] for names in _CSV_POSITIONS)
        raise BadRequest(
            f"DHIS2 CSV is read by column position, in the order {order}; this header has its columns elsewhere.",
            errors=errors,
        )


def parse_data_value_set_csv(data: bytes) -> ParsedRows:
    """DHIS2's dataValueSets CSV. The header row is optional; row numbers count records from 1, header included."""
    records = csv_records(decode_utf8(data, _WHAT_CSV), _WHAT_CSV)
    collector = RowCollector()
    first = True
    for number, cells in records:
        if first and cells[0].lower() in _CSV_HEADER_MARKERS:
            _check_csv_header(number, cells)
            first = False
            continue
        first = False
        cells = cells + [""] * (len(_CSV_POSITIONS) - len(cells))
        _add_row(
            collector,
            number,
            data_element=text_or_none(cells[_DE]),
            period=text_or_none(cells[_PE]),
            org_unit=text_or_none(cells[_OU]),
            value=cells[_VALUE],
            comment=text_or_none(cells[_COMMENT]),
            deleted=_is_true(cells[_DELETED]),
            problems={},
        )
    if not collector.parsed.rows and not collector.parsed.rejected:
        raise BadRequest(
            "The DHIS2 CSV has a header but no data rows.", errors=[{"field": "body", "reason": "no data rows"}]
        )
    return collector.parsed


# ---------------------------------------------------------------------------------------------------------------
# Import summary
# ---------------------------------------------------------------------------------------------------------------

# Conflicts name DHIS2's properties, which is what a DHIS2 client looks for.
_DHIS2_PROPERTY = {"metric": "dataElement", "org_unit": "orgUnit"}


def dhis2_import_summary(
    summary: ImportSummary, *, strategy: ImportStrategy, dry_run: bool, aborted: bool = False
) -> dict[str, Any]:
    """DHIS2's WebMessage around an ImportSummary, as /api/dataValueSets answers.

    As in DHIS2, rejected rows make the status WARNING and the WebMessage a 409 Conflict, even though the
    other rows were stored; `aborted` (nothing stored because the request was all-or-nothing and a row was
    rejected) makes it ERROR. Rows count in importCount once each: unchanged and rejected rows are "ignored",
    as DHIS2 counts them."""
    rejected_rows = sorted({r.row for r in summary.rejected})
    conflicts: dict[tuple[str, str], dict[str, Any]] = {}
    # DHIS2 merges the same conflict on many values into one entry listing their indexes.
    for rejection in summary.rejected:
        prop = _DHIS2_PROPERTY.get(rejection.field, rejection.field)
        conflict = conflicts.setdefault(
            (prop, rejection.reason), {"object": prop, "property": prop, "value": rejection.reason, "indexes": []}
        )
        if rejection.row not in conflict["indexes"]:
            conflict["indexes"].append(rejection.row)
    if aborted:
        stored = summary.accepted + summary.updated + summary.unchanged + summary.ignored + summary.deleted
        total = stored + len(rejected_rows)
        count = {"imported": 0, "updated": 0, "ignored": total, "deleted": 0}
        status, web_status, http, message = "ERROR", "ERROR", 409, "An error occurred, please check import summary."
        description = "Import process was aborted: a value was rejected and nothing was stored"
    else:
        count = {
            "imported": summary.accepted,
            "updated": summary.updated,
            "ignored": summary.ignored + summary.unchanged + len(rejected_rows),
            "deleted": summary.deleted,
        }
        description = "Import process completed successfully"
        if rejected_rows:
            status, web_status, http = "WARNING", "WARNING", 409
            message = "One more conflicts encountered, please check import summary."
        else:
            status, web_status, http, message = "SUCCESS", "OK", 200, "Import was successful."
    return {
        "httpStatus": "OK" if http == 200 else "Conflict",
        "httpStatusCode": http,
        "status": web_status,
        "message": message,
        "response": {
            "responseType": "ImportSummary",
            "status": status,
            "importOptions": {"dryRun": dry_run, "async": False, "importStrategy": strategy.value.upper()},
            "description": description,
            "importCount": count,
            "conflicts": list(conflicts.values()),
            "rejectedIndexes": rejected_rows,
            "dataSetComplete": "false",
        },
    }
