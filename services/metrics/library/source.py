"""Reading the San Francisco Controller's citywide performance measures (FY13) as a reference library.

Pure: bytes in, dataclasses out; no database. The tables, API and CLI that store what this returns
live beside it. What the file holds, learnt from the file itself (1,002 rows) and its data dictionary:

- "Unit of Measure" is one of "General", "Percent" or "Currency". "General" says nothing about the
  unit (ratings on a 1-10 scale, seconds, counts, ratios), so it becomes "number", not "count".
- Percent measures are written as fractions (0.84 is 84%), and some honestly exceed 1 (1.49 = 149%
  of slots used, row 607). A bare number above ``PERCENT_POINTS_ABOVE`` in a percent measure can only
  have been typed in percentage points (row 195's FY2015 target 75 beside an FY2014 target of 0.75),
  so it is divided by 100 and the measure says so in its notes. "95%" with a sign is always 0.95.
- "FY 2013" is the fiscal year July 2012 - June 2013, labelled "FY2013". "FY 2013 June Actual Data"
  covers only January-June 2013 and "Total Projected Data" is a mid-year guess: neither is an annual
  actual, so neither is read.
- The export writes 0 where a department entered nothing (FY2011 actuals of 0 for measures first
  reported in FY2013); a 0 cannot be told from a real zero, so zeros are kept as written.
- Four rows have no "Dept" code; it is recovered from the Department name or the KPI_CODE prefix
  when another row of the file pairs them with a code, and the measure's notes say so.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from services.common.errors import Unprocessable
from services.metrics.definitions.models import Direction

__all__ = [
    "JURISDICTION",
    "PERCENT_POINTS_ABOVE",
    "SF_MEASURES_PATH",
    "SF_SOURCE",
    "LibraryFileError",
    "LibraryMeasureIn",
    "LibraryRead",
    "LibraryRejection",
    "read_sf_measures",
    "read_sf_measures_file",
]

# parents[3] is the repository (/work/main); the shared data sits beside it (/work/shared).
SF_MEASURES_PATH = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "measures"
    / "sf_citywide_performance_measures_FY13.csv"
)
SF_SOURCE = "San Francisco Controller, Citywide Performance Measures FY13 (DataSF 5x94-tptc)"
JURISDICTION = "San Francisco"
# The largest fraction in the file's percent measures is 1.49; 2 leaves room for 200% without
# mistaking a typed "75" for 7,500%.
PERCENT_POINTS_ABOVE = 2.0


class LibraryFileError(Unprocessable):
    """The file as a whole cannot be read (not UTF-8, not CSV, or a required column is missing)."""

    slug = "library-file-invalid"


@dataclass(frozen=True)
class LibraryMeasureIn:
    source: str
    source_code: str  # KPI_CODE
    source_row: int  # as a spreadsheet numbers it: the header is row 1
    jurisdiction: str
    department_code: str
    department_name: str  # "Asian Art Museum"
    department_name_original: str  # "ASIAN ART MUSEUM", as the file writes it
    program: str
    goal: str
    name: str
    description: str
    methodology: str
    unit: str  # "percent" (values are fractions), "dollars", "number", "count", "days"...
    unit_original: str
    direction: Direction
    owner: str
    service_area: str  # the Controller's Major Service Area, e.g. "Culture & Recreation"
    actuals: dict[str, float]  # {"FY2011": 14755.0, ...}: the fiscal year ending in that year
    targets: dict[str, float]  # {"FY2013": ..., "FY2014": ..., "FY2015": ...}
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LibraryRejection:
    row: int  # as a spreadsheet numbers it: the header is row 1
    field: str  # the column at fault, as the file names it
    reason: str


@dataclass(frozen=True)
class LibraryRead:
    measures: list[LibraryMeasureIn]
    rejected: list[LibraryRejection]
    rows: int  # data rows in the file, blank lines not counted

    def reasons(self) -> Counter[str]:
        """How many rows were rejected for each column, for an import summary."""
        return Counter(r.field for r in self.rejected)


# Columns as the file names them, after whitespace is collapsed; matched case-insensitively.
_DEPT = "Dept"
_DEPARTMENT = "Department"
_OWNER = "Owner"
_PROGRAM = "Program"
_GOAL = "Goal"
_CODE = "KPI_CODE"
_NAME = "Performance Measure"
_DESCRIPTION = "Description"
_TECHNICAL = "Technical Description"
_PATTERN = "Performance Pattern"
_UNIT = "Unit of Measure"
_SERVICE_AREA = "Major Service Area"
_REQUIRED = (_DEPT, _DEPARTMENT, _CODE, _NAME, _PATTERN, _UNIT)
_OPTIONAL = (_OWNER, _PROGRAM, _GOAL, _DESCRIPTION, _TECHNICAL, _SERVICE_AREA)
_ACTUAL_COLUMN = re.compile(r"^fy ?(\d{4}) total actual data$")
_TARGET_COLUMN = re.compile(r"^fy ?(\d{4}) total target data$")

_PATTERNS = {
    "above": Direction.higher_is_better,
    "below": Direction.lower_is_better,
    "on": Direction.closer_is_better,
}
_PATTERN_TEXT = re.compile(r"^(above|below|on)(?: target)?(?: is positive)?$")

_UNITS = {
    "percent": "percent",
    "percentage": "percent",
    "%": "percent",
    "currency": "dollars",
    "dollars": "dollars",
    "dollar": "dollars",
    "$": "dollars",
    "general": "number",
    "number": "count",
    "#": "count",
    "count": "count",
    "day": "days",
    "days": "days",
    "hour": "hours",
    "hours": "hours",
    "minute": "minutes",
    "minutes": "minutes",
    "second": "seconds",
    "seconds": "seconds",
}

_NUMBER = re.compile(
    r"^(?P<sign1>-)?\s*(?P<dollar>\$)?\s*(?P<sign2>-)?\s*"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)\s*(?P<percent>%)?$"
)
_SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"}
_SPACES = re.compile(r"\s+")


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _readable(upper: str) -> str:
    """Upper-case names become title case ("CHILDREN YOUTH & THEIR FAMILIES" -> "Children Youth & Their Families")."""
    if any(c.islower() for c in upper):
        return upper
    first = True

    def word(m: re.Match[str]) -> str:
        nonlocal first
        w = m.group(0).lower()
        out = w if (w in _SMALL_WORDS and not first) else w[:1].upper() + w[1:]
        first = False
        return out

    return re.sub(r"[A-Za-z][A-Za-z']*", word, upper)


def _unit(original: str) -> str:
    key = original.lower()
    if key in _UNITS:
        return _UNITS[key]
    # An unforeseen unit ("Miles") is still a unit: keep it, as a short lower-case word.
    return re.sub(r"[^a-z0-9]+", "_", key).strip("_")[:32] or "number"


def _number(text: str, unit: str, label: str, notes: list[str]) -> float | None:
    """The value of one cell, or None (with a note unless the cell was blank) when it has none."""
    raw = text.strip()
    if not raw:
        return None
    m = _NUMBER.match(raw)
    if m is None or (m.group("sign1") and m.group("sign2")):
        notes.append(f"{label} {raw!r} is not a number, so it is left out.")
        return None
    value = float(m.group("digits").replace(",", ""))
    if m.group("sign1") or m.group("sign2"):
        value = -value
    if m.group("percent"):
        if unit != "percent":
            # Is "95%" in a "number" measure 95 or 0.95? Guessing would be worse than leaving it out.
            notes.append(f"{label} {raw!r} is a percentage but the measure's unit is {unit}, so it is left out.")
            return None
        return value / 100
    if unit == "percent" and abs(value) > PERCENT_POINTS_ABOVE:
        notes.append(f"{label} {raw} was read as {raw}% ({value / 100:g}): this file writes percentages as fractions.")
        return value / 100
    return value


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LibraryFileError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as CSV UTF-8 and try again."
        ) from None


def _records(text: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise LibraryFileError(f"The file is not readable CSV: {exc}.") from None


@dataclass(frozen=True)
class _Columns:
    index: dict[str, int]  # canonical column name -> position
    actuals: dict[str, int]  # "FY2011" -> position
    targets: dict[str, int]
    width: int


def _columns(header: list[str]) -> _Columns:
    used = {name.lower() for name in (*_REQUIRED, *_OPTIONAL)}
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _clean(name).lower()
        if not key:
            continue
        read = key in used or _ACTUAL_COLUMN.match(key) or _TARGET_COLUMN.match(key)
        if key in positions and read:
            raise LibraryFileError(f"The column {_clean(name)!r} appears twice in the header; keep one of them.")
        positions.setdefault(key, i)
    index = {name: positions[name.lower()] for name in (*_REQUIRED, *_OPTIONAL) if name.lower() in positions}
    actuals = {f"FY{m.group(1)}": i for key, i in positions.items() if (m := _ACTUAL_COLUMN.match(key))}
    targets = {f"FY{m.group(1)}": i for key, i in positions.items() if (m := _TARGET_COLUMN.match(key))}
    missing = [name for name in _REQUIRED if name not in index]
    if not actuals:
        missing.append("FY <year> Total Actual Data")
    if not targets:
        missing.append("FY <year> Total Target Data")
    if missing:
        found = ", ".join(repr(_clean(h)) for h in header if _clean(h)) or "none"
        raise LibraryFileError(
            f"The file lacks the column(s) {', '.join(repr(m) for m in missing)}; the columns found are {found}. "
            "Is this the Controller's Citywide Performance Measures export?",
            errors=[{"field": m, "reason": "required column is missing"} for m in missing],
        )
    return _Columns(
        index=index, actuals=dict(sorted(actuals.items())), targets=dict(sorted(targets.items())), width=len(header)
    )


def _cell(record: list[str], columns: _Columns, name: str) -> str:
    i = columns.index.get(name)
    # Spreadsheets drop trailing empty cells, so a short row is read as blanks, not rejected.
    return record[i] if i is not None and i < len(record) else ""


@dataclass
class _Departments:
    """Which code goes with which name, learnt from the rows that carry both."""

    names: dict[str, str]  # code -> name as written
    codes: dict[str, set[str]]  # name -> codes

    @classmethod
    def learn(cls, rows: list[tuple[int, list[str]]], columns: _Columns) -> _Departments:
        names: dict[str, str] = {}
        codes: dict[str, set[str]] = {}
        for _, record in rows:
            code, name = _clean(_cell(record, columns, _DEPT)), _clean(_cell(record, columns, _DEPARTMENT))
            if code and name:
                names.setdefault(code, name)
                codes.setdefault(name.upper(), set()).add(code)
        return cls(names, codes)

    def resolve(self, code: str, name: str, kpi_code: str, notes: list[str]) -> tuple[str, str] | None:
        if code:
            return code, name or self.names.get(code, "")
        by_name = self.codes.get(name.upper(), set()) if name else set()
        if len(by_name) == 1:
            (found,) = by_name
            notes.append(f"Dept is blank; {found} was taken from other rows of the department {name!r}.")
            return found, name
        prefix = re.split(r"[.\-]", kpi_code, maxsplit=1)[0]
        if not name and prefix in self.names:
            notes.append(f"Dept and Department are blank; {prefix} was taken from the KPI_CODE {kpi_code!r}.")
            return prefix, self.names[prefix]
        return None


def read_sf_measures(data: bytes, *, source: str = SF_SOURCE) -> LibraryRead:
    """Every data row of the file becomes either one measure or one rejection, never both, never neither.

    Raises LibraryFileError when the file as a whole cannot be read.
    """
    records = _records(_decode(data))
    if not records or not any(_clean(c) for c in records[0]):
        raise LibraryFileError("The file is empty; its first line should be the header (Dept, Department, ...).")
    columns = _columns(records[0])
    # Spreadsheet numbering: the header is row 1, so the first record after it is row 2.
    rows = [(n, record) for n, record in enumerate(records[1:], start=2) if any(c.strip() for c in record)]
    departments = _Departments.learn(rows, columns)
    measures: list[LibraryMeasureIn] = []
    rejected: list[LibraryRejection] = []
    first_row: dict[str, int] = {}
    for n, record in rows:
        outcome = _read_row(n, record, columns, departments, first_row, source)
        if isinstance(outcome, LibraryRejection):
            rejected.append(outcome)
        else:
            first_row[outcome.source_code] = n
            measures.append(outcome)
    return LibraryRead(measures=measures, rejected=rejected, rows=len(rows))


def read_sf_measures_file(path: Path = SF_MEASURES_PATH) -> LibraryRead:
    return read_sf_measures(Path(path).read_bytes())


def _read_row(
    n: int,
    record: list[str],
    columns: _Columns,
    departments: _Departments,
    first_row: dict[str, int],
    source: str,
) -> LibraryMeasureIn | LibraryRejection:
    def cell(name: str) -> str:
        return _clean(_cell(record, columns, name))

    if len(record) > columns.width and any(c.strip() for c in record[columns.width :]):
        return LibraryRejection(
            n,
            "row",
            f"The row has {len(record)} cells but the header has {columns.width}; a comma in an unquoted "
            "value probably split it. Quote that value and export the file again.",
        )
    name = cell(_NAME)
    if not name:
        return LibraryRejection(n, _NAME, "The measure has no name; fill in Performance Measure or drop the row.")
    code = cell(_CODE)
    if not code:
        return LibraryRejection(
            n, _CODE, f"The measure {name!r} has no KPI_CODE, so a later import could not tell it apart; add one."
        )
    pattern = cell(_PATTERN)
    m = _PATTERN_TEXT.match(pattern.lower())
    if m is None:
        said = f"is {pattern!r}" if pattern else "is blank"
        return LibraryRejection(
            n,
            _PATTERN,
            f"Performance Pattern {said}; it must say 'Above target is positive', 'Below target is positive' "
            "or 'On target is positive', so that it is known which way is better.",
        )
    notes: list[str] = []
    department_name = cell(_DEPARTMENT)
    department = departments.resolve(cell(_DEPT), department_name, code, notes)
    if department is None:
        return LibraryRejection(
            n,
            _DEPT,
            "Dept is blank and no other row of the file gives the code of "
            + (f"the department {department_name!r}" if department_name else "this measure's department")
            + "; fill in the department's code.",
        )
    if code in first_row:
        return LibraryRejection(
            n,
            _CODE,
            f"KPI_CODE {code!r} was already imported from row {first_row[code]}; the row is a repeat. "
            "Remove it, or give it its own code if it is a different measure.",
        )
    unit_original = cell(_UNIT)
    unit = _unit(unit_original)
    if not unit_original:
        notes.append("Unit of Measure is blank; the values are read as plain numbers.")
    actuals = {
        fy: v for fy, i in columns.actuals.items() if (v := _value(record, i, unit, f"{fy} actual", notes)) is not None
    }
    targets = {
        fy: v for fy, i in columns.targets.items() if (v := _value(record, i, unit, f"{fy} target", notes)) is not None
    }
    department_code, department_original = department
    return LibraryMeasureIn(
        source=source,
        source_code=code,
        source_row=n,
        jurisdiction=JURISDICTION,
        department_code=department_code,
        department_name=_readable(department_original),
        department_name_original=department_original,
        program=cell(_PROGRAM),
        goal=cell(_GOAL),
        name=name,
        description=cell(_DESCRIPTION),
        methodology=cell(_TECHNICAL),
        unit=unit,
        unit_original=unit_original,
        direction=_PATTERNS[m.group(1)],
        owner=cell(_OWNER),
        # "E Culture & Recreation": the letter only orders the areas in the Controller's reports.
        service_area=re.sub(r"^[A-Z] (?=\S)", "", cell(_SERVICE_AREA)),
        actuals=actuals,
        targets=targets,
        notes=notes,
    )


def _value(record: list[str], i: int, unit: str, label: str, notes: list[str]) -> float | None:
    return _number(record[i] if i < len(record) else "", unit, label, notes)
