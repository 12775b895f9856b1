"""Reading a city's budget CSV: bytes in, budget lines and rejected rows out; no database.

What Oakland's open-data export (FY21-22 adopted, by department, fund and account category) taught, read from the
file itself (22,236 rows):

- The fiscal year is written "FY21-22"; it is stored as FY2022, named like every fiscal year in CityStat by the
  calendar year it ends in, with the source's label kept beside it.
- A (department, fund, category, kind) key repeats with different amounts: the export lists line items without
  naming them. Every row is kept with its row number and summed when read, so nothing is lost or double counted.
- Amounts are whole dollars, some negative; one row has a blank amount. A blank is not a zero: that row is
  rejected and the receipt says so, rather than guessing.
- Some categories carry stray spaces (" Allowances & Premiums", "Sworn  Salaries"); spaces are trimmed and runs of
  them collapsed, so that one category is one group.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from services.common.errors import Unprocessable
from services.common.periods import MAX_YEAR, MIN_YEAR, Frequency, Period
from services.metrics.budget.models import BudgetKind
from services.metrics.budget.schemas import BudgetMapping

__all__ = [
    "BudgetFileError",
    "BudgetLineIn",
    "BudgetRead",
    "BudgetRejection",
    "parse_amount",
    "parse_fiscal_year",
    "parse_kind",
    "read_budget",
]

BLANK_AMOUNT = "blank amount: not guessed"
# SQLite keeps Numeric as a double, exact to 15 significant digits: 10 trillion dollars to the cent fits on both
# databases, and no city's budget line comes near it.
AMOUNT_LIMIT = Decimal("1e13")
_WIDTHS = {"department": 200, "fund": 32, "fund_name": 200, "category": 200, "fiscal_year": 32}
_KINDS = {
    "expense": BudgetKind.expense,
    "expenses": BudgetKind.expense,
    "expenditure": BudgetKind.expense,
    "expenditures": BudgetKind.expense,
    "revenue": BudgetKind.revenue,
    "revenues": BudgetKind.revenue,
}
# "FY21-22", "FY 2021-22", "2021-2022", "FY2021/22"
_SPAN = re.compile(r"^(?:FY)?([0-9]{2}|[0-9]{4})[-/–]([0-9]{2}|[0-9]{4})$")
# "FY2022", "FY22", "2022"
_SINGLE = re.compile(r"^(?:FY([0-9]{2}|[0-9]{4})|([0-9]{4}))$")
# Digits grouped by thousands or not grouped at all, an optional fraction.
_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]+)?")
# A sign before or after the currency sign: "-$1,234" or "$-1,234".
_SIGNED = re.compile(r"([+-]?)\$?([+-]?)([0-9.,]*)")
CENT = Decimal("0.01")


class BudgetFileError(Unprocessable):
    """The file as a whole cannot be read (not UTF-8 text, not CSV, or a named column is missing)."""

    slug = "budget-file-invalid"


@dataclass(frozen=True)
class BudgetRejection:
    row: int
    field: str
    reason: str


@dataclass(frozen=True)
class BudgetLineIn:
    source_row: int
    fiscal_year: str
    fiscal_year_label: str
    department: str
    fund_code: str
    fund_name: str
    category: str
    kind: BudgetKind
    amount: Decimal


@dataclass
class BudgetRead:
    lines: list[BudgetLineIn] = field(default_factory=list)
    rejected: list[BudgetRejection] = field(default_factory=list)
    rows: int = 0
    # {"department": "department", "fiscal_year": "FY2022 (every row)", ...}
    columns: dict[str, str] = field(default_factory=dict)


def _clean(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split())


def _full_year(two_or_four: str) -> int:
    year = int(two_or_four)
    # Two digits: budgets published from the 1970s onwards read unambiguously.
    return year if len(two_or_four) == 4 else (1900 + year if year >= 70 else 2000 + year)


def parse_fiscal_year(text: str, fiscal_start: int) -> str:
    """FY21-22 -> FY2022: the fiscal year named by the calendar year it ends in. Raises ValueError with a reason."""
    compact = re.sub(r"\s+", "", text).upper()
    if not compact:
        raise ValueError("blank fiscal year")
    if m := _SPAN.match(compact):
        start = _full_year(m.group(1))
        end = int(m.group(2)) if len(m.group(2)) == 4 else start // 100 * 100 + int(m.group(2))
        if len(m.group(2)) == 2 and end < start:
            end += 100  # FY99-00
        if end != start + 1:
            raise ValueError(f"fiscal year {text!r} does not run from one year into the next")
        if fiscal_start == 1:
            raise ValueError(
                f"fiscal year {text!r} spans two calendar years, but the city's fiscal year starts in January"
            )
    elif m := _SINGLE.match(compact):
        end = _full_year(m.group(1) or m.group(2))
    else:
        raise ValueError(f"{text!r} is not a fiscal year (write FY2022, FY21-22, 2021-22 or 2022)")
    if not MIN_YEAR <= end <= MAX_YEAR:
        raise ValueError(f"fiscal year {text!r} is outside {MIN_YEAR}-{MAX_YEAR}")
    return str(Period(Frequency.fiscal_year, end, 1, fiscal_start))


def parse_kind(text: str) -> BudgetKind:
    kind = _KINDS.get(_clean(text).lower())
    if kind is None:
        said = f"{_clean(text)!r}" if _clean(text) else "blank"
        raise ValueError(f"account type is {said}; it must say Expense (or Expenditure) or Revenue")
    return kind


def parse_amount(text: str) -> Decimal:
    """An exact amount: "1,234.50", "-$1,234", "$-1,234", "(1,234)" (an accountant's negative).

    Raises ValueError with a reason."""
    compact = re.sub(r"\s+", "", text)
    if not compact:
        raise ValueError(BLANK_AMOUNT)
    shown = text.strip()
    parenthesised = compact.startswith("(") and compact.endswith(")")
    m = _SIGNED.fullmatch(compact[1:-1] if parenthesised else compact)
    signs = (m.group(1) + m.group(2)) if m else ""
    if m is None or len(signs) > 1 or (parenthesised and signs) or not re.search(r"[0-9]", m.group(3)):
        raise ValueError(f"amount {shown!r} is not a number")
    if _AMOUNT.fullmatch(m.group(3)) is None:
        raise ValueError(f"amount {shown!r} is not a number (digits, grouped by thousands with commas or not at all)")
    amount = Decimal(m.group(3).replace(",", ""))
    if amount >= AMOUNT_LIMIT:
        raise ValueError(f"amount {shown!r} is 10 trillion or more, beyond any budget line")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError(f"amount {shown!r} has fractions of a cent; amounts are kept to the cent, not rounded")
    amount = amount.quantize(CENT)
    return -amount if (parenthesised or signs == "-") and amount else amount


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise BudgetFileError("The file holds NUL bytes, so it is not CSV text; export it again as CSV UTF-8.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BudgetFileError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as CSV UTF-8 and try again."
        ) from None


def _records(text: str) -> list[list[str]]:
    try:
        # strict: a stray quote means the columns cannot be trusted, so the file is refused rather than misread.
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise BudgetFileError(f"The file is not readable CSV: {exc}.") from None


@dataclass(frozen=True)
class _Columns:
    positions: dict[str, int]  # field -> position, for the fields read from a column
    names: dict[str, str]  # field -> the header as the file writes it
    width: int


def _columns(header: list[str], mapping: BudgetMapping) -> _Columns:
    wanted = {
        "fiscal_year": mapping.year_column if mapping.fiscal_year is None else "",
        "department": mapping.department_column,
        "fund": mapping.fund_column,
        "fund_name": mapping.fund_name_column,
        "category": mapping.category_column,
        "kind": mapping.kind_column if mapping.kind is None else "",
        "amount": mapping.amount_column,
    }
    found: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        found.setdefault(_clean(name).lower(), []).append(i)
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    missing: list[dict[str, str]] = []
    for name, column in wanted.items():
        column = _clean(column)
        if not column:
            if name in ("department", "amount"):
                missing.append({"field": name, "reason": f"every budget line needs a {name}: name its column"})
            elif name in ("fiscal_year", "kind") and getattr(mapping, name) is None:
                missing.append({"field": name, "reason": f"name the {name.replace('_', ' ')} column, or give '{name}'"})
            continue
        at = found.get(column.lower(), [])
        if not at:
            missing.append({"field": column, "reason": f"the {name.replace('_', ' ')} column is not in the header"})
        elif len(at) > 1:
            raise BudgetFileError(f"The column {column!r} appears {len(at)} times in the header; keep one of them.")
        else:
            positions[name] = at[0]
            names[name] = _clean(header[at[0]])
    if missing:
        shown = ", ".join(repr(_clean(h)) for h in header if _clean(h)) or "none"
        raise BudgetFileError(
            f"The file cannot be read as a budget with these columns; the columns found are {shown}. "
            "Name the file's columns with department_column, amount_column and the others.",
            errors=missing,
        )
    return _Columns(positions=positions, names=names, width=len(header))


def read_budget(data: bytes, mapping: BudgetMapping | None = None, *, fiscal_start: int = 7) -> BudgetRead:
    """Every data row becomes either one budget line or one rejection, never both, never neither.

    Raises BudgetFileError when the file as a whole cannot be read; nothing should be stored then."""
    mapping = mapping or BudgetMapping()
    fixed_year: tuple[str, str] | None = None
    if mapping.fiscal_year is not None:
        try:
            fixed_year = (parse_fiscal_year(mapping.fiscal_year, fiscal_start), _clean(mapping.fiscal_year))
        except ValueError as exc:
            raise BudgetFileError(
                f"The fiscal year given: {exc}.", errors=[{"field": "fiscal_year", "reason": str(exc)}]
            ) from None
    records = _records(_decode(data))
    if not records or not any(_clean(c) for c in records[0]):
        raise BudgetFileError("The file is empty; its first line should be the header (department, amount, ...).")
    columns = _columns(records[0], mapping)
    read = BudgetRead(columns=dict(columns.names))
    if fixed_year is not None:
        read.columns["fiscal_year"] = f"{fixed_year[0]} (every row)"
    if mapping.kind is not None:
        read.columns["kind"] = f"{mapping.kind} (every row)"
    # Spreadsheet numbering: the header is row 1, so the first record after it is row 2.
    rows = [(n, record) for n, record in enumerate(records[1:], start=2) if any(c.strip() for c in record)]
    read.rows = len(rows)
    for n, record in rows:
        outcome = _read_row(n, record, columns, mapping, fixed_year, fiscal_start)
        if isinstance(outcome, BudgetRejection):
            read.rejected.append(outcome)
        else:
            read.lines.append(outcome)
    return read


def _read_row(
    n: int,
    record: list[str],
    columns: _Columns,
    mapping: BudgetMapping,
    fixed_year: tuple[str, str] | None,
    fiscal_start: int,
) -> BudgetLineIn | BudgetRejection:
    if len(record) > columns.width and any(c.strip() for c in record[columns.width :]):
        return BudgetRejection(
            n,
            "row",
            f"The row has {len(record)} cells but the header has {columns.width}; a comma in an unquoted value "
            "probably split it. Quote that value and export the file again.",
        )

    def cell(name: str) -> str:
        i = columns.positions.get(name)
        # Spreadsheets drop trailing empty cells, so a short row reads as blanks, not as a broken row.
        return record[i] if i is not None and i < len(record) else ""

    def column(name: str) -> str:
        return columns.names.get(name, name)

    if fixed_year is not None:
        fiscal_year, label = fixed_year
    else:
        label = _clean(cell("fiscal_year"))
        try:
            fiscal_year = parse_fiscal_year(label, fiscal_start)
        except ValueError as exc:
            return BudgetRejection(n, column("fiscal_year"), str(exc))
    texts: dict[str, str] = {}
    for name in ("department", "fund", "fund_name", "category"):
        value = _clean(cell(name))
        if name in columns.positions and name != "fund_name" and not value:
            return BudgetRejection(n, column(name), f"blank {name}: not guessed")
        if len(value) > _WIDTHS[name]:
            # Cutting it could merge two groups that differ only at the end; the file should say it shorter.
            return BudgetRejection(
                n, column(name), f"{value[:60]!r}... is {len(value)} characters; at most {_WIDTHS[name]} are kept"
            )
        texts[name] = value
    if len(label) > _WIDTHS["fiscal_year"]:
        return BudgetRejection(n, column("fiscal_year"), f"the fiscal year is over {_WIDTHS['fiscal_year']} characters")
    if mapping.kind is not None:
        kind = mapping.kind
    else:
        try:
            kind = parse_kind(cell("kind"))
        except ValueError as exc:
            return BudgetRejection(n, column("kind"), str(exc))
    try:
        amount = parse_amount(cell("amount"))
    except ValueError as exc:
        return BudgetRejection(n, column("amount"), str(exc))
    return BudgetLineIn(
        source_row=n,
        fiscal_year=fiscal_year,
        fiscal_year_label=label,
        department=texts["department"],
        fund_code=texts["fund"],
        fund_name=texts["fund_name"],
        category=texts["category"],
        kind=kind,
        amount=amount,
    )


def totals(lines: Iterable[BudgetLineIn]) -> dict[tuple[str, BudgetKind], tuple[int, Decimal]]:
    """Lines and exact amount per (fiscal year, kind)."""
    out: dict[tuple[str, BudgetKind], tuple[int, Decimal]] = {}
    for line in lines:
        count, amount = out.get((line.fiscal_year, line.kind), (0, Decimal(0)))
        out[(line.fiscal_year, line.kind)] = (count + 1, amount + line.amount)
    return out
