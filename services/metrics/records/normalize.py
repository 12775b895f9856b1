"""The streaming row reader: a department's file of raw records, read through a mapping profile into `Row`s (the
common columns, times in UTC) or `Rejection`s (which row, which field, why), in constant memory.

The reader is on the hot path of a million-row load, so the profile is compiled once into column indexes and
time parsers (timestamps.py)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import itertools
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from services.common.errors import Unprocessable
from services.metrics.records.profiles import FIELD_TARGETS, ProfileDefinition, RecordFormat
from services.metrics.records.timestamps import MINUTES_SECONDS, time_reader

__all__ = [
    "HeaderMatch",
    "Rejection",
    "Row",
    "RowReader",
    "format_for_upload",
    "header_variant",
    "match_header",
    "read_rows",
]

UTC = dt.UTC
GZIP_MAGIC = b"\x1f\x8b"
# The raw_record columns' widths: a longer value is refused here rather than cut, or failing a whole chunk later.
MAX_LENGTHS = {"record_id": 128, "category": 200, "status": 64, "org_unit": 64, "district": 64, "source": 64}
_TEXT_TARGETS = ("agency", "agency_name", "category", "status", "org_unit", "district", "source")
_BLOCK = 1 << 16
_MAX_LEADING_BAD_LINES = 100


@dataclass(slots=True)
class Row:
    row: int
    record_id: str
    agency: str | None  # the feed's value; the loader maps it to a department
    agency_name: str | None
    category: str | None
    status: str | None
    opened_at: dt.datetime  # aware, UTC
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    org_unit: str | None
    district: str | None
    latitude: float | None
    longitude: float | None
    source: str | None
    attributes: dict | None


@dataclass(slots=True)
class Rejection:
    row: int
    field: str
    reason: str
    record_id: str | None = None


@dataclass(slots=True, frozen=True)
class HeaderMatch:
    """What a file's header matched: the profile's named variant if one fits, and the column used per target."""

    variant: str | None
    columns: dict[str, str]
    kept: dict[str, str]

    def describe(self) -> str:
        if self.variant:
            return self.variant
        return ", ".join(f"{target}={column}" for target, column in self.columns.items())


# --- header -------------------------------------------------------------------------------------------------


def _first_present(variants: Sequence[str], names: dict[str, int]) -> str | None:
    for name in variants:
        if name in names:
            return name
    return None


def match_header(profile: ProfileDefinition, header: Sequence[str]) -> HeaderMatch:
    """Which column each target reads in a file with this header; Unprocessable when the record id or the
    opened time has none (the file is most likely not this feed)."""
    names: dict[str, int] = {}
    for index, name in enumerate(header):
        names.setdefault(name.strip().lstrip("\ufeff").strip(), index)
    columns: dict[str, str] = {}
    errors = []
    for target in FIELD_TARGETS:
        variants = profile.fields.get(target)
        if not variants:
            continue
        found = _first_present(variants, names)
        if found is not None:
            columns[target] = found
        elif target in ("record_id", "opened_at"):
            errors.append({"field": target, "reason": f"the header has none of the columns {', '.join(variants)}"})
    if profile.closed_by_status is not None:
        found = _first_present(profile.closed_by_status.time, names)
        if found is not None:
            columns["closed_by_status"] = found
    if errors:
        raise Unprocessable("The file's header does not match the mapping profile.", errors=errors)
    kept = {}
    for attribute, variants in profile.keep.items():
        found = _first_present(variants, names)
        if found is not None:
            kept[attribute] = found
    variant = next((v.name for v in profile.header_variants if all(c in names for c in v.columns)), None)
    return HeaderMatch(variant=variant, columns=columns, kept=kept)


def header_variant(profile: ProfileDefinition, header: Sequence[str]) -> str:
    """For an import summary: the named header variant a file used (e.g. "CamelCase header (earlier exports)"),
    or the columns it matched when the profile names none."""
    return match_header(profile, header).describe()


# --- bytes in -----------------------------------------------------------------------------------------------


class _Bytes(io.RawIOBase):
    """The upload's bytes, after the few already read to sniff it. When `watch` is on it also notices, a block
    at a time, bytes no row should hold (NUL, which PostgreSQL text refuses, or invalid UTF-8): only then do the
    rows get checked one by one."""

    def __init__(self, inner: Any, head: bytes = b"", *, watch: bool = False) -> None:
        super().__init__()
        self._inner = inner
        self._head = head
        self._utf8 = codecs.getincrementaldecoder("utf-8")() if watch else None
        self.suspect = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            data, self._head = self._head[: len(buffer)], self._head[len(buffer) :]
            if len(data) < len(buffer):
                data += self._inner.read(len(buffer) - len(data)) or b""
        else:
            data = self._inner.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        if self._utf8 is not None and not self.suspect:
            if b"\x00" in data:
                self.suspect = True
            else:
                try:
                    self._utf8.decode(data, final=count == 0)
                except UnicodeDecodeError:
                    self.suspect = True
        return count

    def close(self) -> None:
        # The caller's stream stays theirs to close.
        super().close()


def _open(stream: BinaryIO) -> tuple[_Bytes, io.BufferedReader]:
    head = b""
    while len(head) < len(GZIP_MAGIC):
        more = stream.read(len(GZIP_MAGIC) - len(head))
        if not more:
            break
        head += more
    if head == GZIP_MAGIC:
        inner: Any = gzip.GzipFile(fileobj=io.BufferedReader(_Bytes(stream, head), _BLOCK), mode="rb")
        source = _Bytes(inner, watch=True)
    else:
        source = _Bytes(stream, head, watch=True)
    return source, io.BufferedReader(source, _BLOCK)


def _sniff(buffered: io.BufferedReader) -> RecordFormat:
    start = buffered.peek(4096)[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if start == b"[" else "ndjson" if start == b"{" else "csv"


def format_for_upload(content_type: str | None, filename: str | None = None) -> RecordFormat | None:
    """The format an upload declares by its media type or, failing that, its file name; None when neither says
    (then `read_rows(..., format="auto")` looks at the first bytes)."""
    media = (content_type or "").split(";")[0].strip().lower()
    by_media = {
        "text/csv": "csv",
        "application/csv": "csv",
        "text/comma-separated-values": "csv",
        "application/x-ndjson": "ndjson",
        "application/ndjson": "ndjson",
        "application/jsonl": "ndjson",
        "application/x-jsonlines": "ndjson",
        "application/jsonlines": "ndjson",
        "application/json": "json",
    }
    if media in by_media:
        return by_media[media]  # type: ignore[return-value]
    name = (filename or "").lower().removesuffix(".gz")
    for suffix, found in ((".csv", "csv"), (".ndjson", "ndjson"), (".jsonl", "ndjson"), (".json", "json")):
        if name.endswith(suffix):
            return found  # type: ignore[return-value]
    return None


# --- rows ---------------------------------------------------------------------------------------------------


def _suspect_reason(cells: Sequence[str]) -> str | None:
    joined = "".join(cells)
    if "\x00" in joined:
        return "the row holds a NUL character"
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return "the row is not UTF-8 text"
    return None


def _builder(profile: ProfileDefinition, index: dict[str, int], keep: dict[str, int]) -> Callable:
    """A function (row number, cells) -> Row | Rejection, for cells laid out as `index` and `keep` say.

    It is generated as straight-line Python for this profile and this header, the way dataclasses writes its
    __init__: a column the file lacks costs nothing, a present one is one index, one strip and one set lookup.
    Only integers and fixed target names are written into the source; every string from the profile (null
    values, kept names, statuses) reaches the function as a value in its namespace, never as code."""
    times = time_reader(profile.timestamp_formats, ZoneInfo(profile.time_zone))
    tried = "; ".join(profile.timestamp_formats)

    def bad_time(n: int, target: str, cell: str, record_id: str) -> Rejection:
        return Rejection(n, target, f"unparseable time {cell!r} (formats tried: {tried})", record_id)

    def too_long(n: int, target: str, record_id: str | None) -> Rejection:
        return Rejection(n, target, f"longer than {MAX_LENGTHS[target]} characters", record_id)

    def bad_coordinate(n: int, target: str, cell: str, record_id: str) -> Rejection:
        low, high = (-90, 90) if target == "latitude" else (-180, 180)
        return Rejection(n, target, f"{cell!r} is not a {target} between {low} and {high}", record_id)

    def closed_early(n: int, closed_cell: str, opened_cell: str, record_id: str) -> Rejection:
        reason = f"closed before opened: closed {closed_cell!r}, opened {opened_cell!r}"
        return Rejection(n, "closed_at", reason, record_id)

    by_status = profile.closed_by_status
    namespace: dict[str, Any] = {
        "parse": times.parse,
        "rest": times.rest,
        "HOURS": times.hours.get if times.hours is not None else None,
        "MMSS": MINUTES_SECONDS.get,
        "Row": Row,
        "Rejection": Rejection,
        "NULLS": frozenset([*profile.null_values, ""]),
        "CLOSED_STATUSES": frozenset(s.strip().lower() for s in by_status.statuses) if by_status else frozenset(),
        "bad_time": bad_time,
        "too_long": too_long,
        "bad_coordinate": bad_coordinate,
        "closed_early": closed_early,
        "NAN": math.nan,
    }
    lines = ["def build(n, c):"]

    def emit(depth: int, line: str) -> None:
        lines.append("    " * depth + line)

    def emit_time(depth: int, name: str, target: str) -> None:
        # `cell` holds a stripped, non-null cell: the first format's hour cache inline, else the whole rule.
        if times.hours is not None:
            key = "cell[:14] + cell[19:]" if times.tail else "cell[:14]"
            emit(
                depth,
                f"if len(cell) == {times.width:d} and (base := HOURS({key})) is not None"
                " and (offset := MMSS(cell[14:19])) is not None:",
            )
            emit(depth + 1, f"{name} = base + offset")
            emit(depth, "else:")
            emit(depth + 1, f"{name} = rest(cell)")
            emit(depth + 1, f"if {name} is None:")
            emit(depth + 2, f"return bad_time(n, '{target}', cell, record_id)")
        else:
            emit(depth, f"{name} = parse(cell)")
            emit(depth, f"if {name} is None:")
            emit(depth + 1, f"return bad_time(n, '{target}', cell, record_id)")

    emit(1, f"record_id = c[{index['record_id']:d}].strip()")
    emit(1, "if record_id in NULLS:")
    emit(2, "return Rejection(n, 'record_id', 'the row has no record id')")
    emit(1, f"if len(record_id) > {MAX_LENGTHS['record_id']:d}:")
    emit(2, "return too_long(n, 'record_id', None)")
    emit(1, f"opened_cell = cell = c[{index['opened_at']:d}].strip()")
    emit(1, "if cell in NULLS:")
    emit(2, "return Rejection(n, 'opened_at', 'the row has no opened time', record_id)")
    emit_time(1, "opened", "opened_at")
    for target, name in (("closed_at", "closed"), ("due_at", "due")):
        emit(1, f"{name} = {name}_cell = None")
        if target in index:
            emit(1, f"cell = c[{index[target]:d}].strip()")
            emit(1, "if cell not in NULLS:")
            emit(2, f"{name}_cell = cell")
            emit_time(2, name, target)
    for target, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
        emit(1, f"{target} = None")
        if target in index:
            emit(1, f"cell = c[{index[target]:d}].strip()")
            emit(1, "if cell not in NULLS:")
            emit(2, "try:")
            emit(3, f"{target} = float(cell)")
            emit(2, "except ValueError:")
            emit(3, f"{target} = NAN")
            # NaN fails the comparison as well as the range.
            emit(2, f"if not {low!r} <= {target} <= {high!r}:")
            emit(3, f"return bad_coordinate(n, '{target}', cell, record_id)")
    for target in _TEXT_TARGETS:
        if target not in index:
            emit(1, f"{target} = None")
            continue
        emit(1, f"{target} = c[{index[target]:d}].strip()")
        if target in MAX_LENGTHS:
            # Before the null test: a null value is at most 50 characters, so it never trips this.
            emit(1, f"if len({target}) > {MAX_LENGTHS[target]:d}:")
            emit(2, f"return too_long(n, '{target}', record_id)")
        emit(1, f"if {target} in NULLS:")
        emit(2, f"{target} = None")
    if by_status is not None and "status" in index and "closed_by_status" in index:
        emit(1, "if closed is None and status is not None and status.lower() in CLOSED_STATUSES:")
        emit(2, f"cell = c[{index['closed_by_status']:d}].strip()")
        emit(2, "if cell not in NULLS:")
        emit(3, "closed_cell = cell")
        emit_time(3, "closed", "closed_at")
    emit(1, "if closed is not None and closed < opened:")
    emit(2, "return closed_early(n, closed_cell, opened_cell, record_id)")
    emit(1, "attributes = None")
    if keep:
        emit(1, "attributes = {}")
        for number, (attribute, column) in enumerate(keep.items()):
            namespace[f"KEPT_{number}"] = attribute
            emit(1, f"cell = c[{column:d}].strip()")
            emit(1, "if cell not in NULLS:")
            emit(2, f"attributes[KEPT_{number}] = cell")
        emit(1, "attributes = attributes or None")
    emit(
        1,
        "return Row(n, record_id, agency, agency_name, category, status, opened, closed, due, org_unit, district,"
        " latitude, longitude, source, attributes)",
    )
    exec(compile("\n".join(lines), "<mapping profile row builder>", "exec"), namespace)  # noqa: S102
    return namespace["build"]


def _csv_rows(text: io.TextIOWrapper, source: _Bytes, profile: ProfileDefinition) -> tuple[HeaderMatch, Iterator]:
    reader = csv.reader(text, delimiter=profile.delimiter)
    n = 0
    header: list[str] | None = None
    try:
        for cells in reader:
            n += 1
            if any(cell.strip() for cell in cells):
                header = cells
                break
    except csv.Error as exc:
        raise Unprocessable(f"The file's header is not readable CSV: {exc}.") from None
    except (OSError, EOFError) as exc:
        raise Unprocessable(f"The file cannot be read: {exc}.") from None
    if header is None:
        raise Unprocessable("The file is empty: it has no header row.")
    match = match_header(profile, header)
    width = len(header)
    positions = {name.strip().lstrip("\ufeff").strip(): i for i, name in reversed(list(enumerate(header)))}
    index = {target: positions[column] for target, column in match.columns.items()}
    keep = {attribute: positions[column] for attribute, column in match.kept.items()}
    build = _builder(profile, index, keep)

    def rows(n: int = n) -> Iterator[Row | Rejection]:
        while True:
            try:
                for cells in reader:
                    n += 1
                    size = len(cells)
                    if size != width:
                        if size == 0:
                            continue  # a blank line holds no record; it still counts as a spreadsheet row
                        if size < width:
                            cells.extend([""] * (width - size))
                        elif any(cell.strip() for cell in cells[width:]):
                            yield Rejection(n, "row", f"the row has {size} cells where the header has {width}")
                            continue
                        # else: trailing empty cells are a spreadsheet's padding, not data.
                    if source.suspect:
                        reason = _suspect_reason(cells)
                        if reason is not None:
                            yield Rejection(n, "row", reason)
                            continue
                    yield build(n, cells)
                return
            except csv.Error as exc:
                n += 1
                yield Rejection(n, "row", f"not readable as CSV: {exc}")
            except (OSError, EOFError) as exc:
                # A truncated or corrupt gzip stream: what was read stands, the rest cannot be.
                raise Unprocessable(f"The file cannot be read after row {n}: {exc}.") from None

    return match, rows()


def _json_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    raise TypeError("an object or a list, not a single value")


def _json_rows(
    objects: Iterator[tuple[int, Any]], first: dict[str, Any], profile: ProfileDefinition
) -> tuple[HeaderMatch, Iterator]:
    """Rows from JSON objects. An object may leave out a key whose value is null, so each target reads the first
    of its columns the object has a value for; the first object must have the required ones."""
    match = match_header(profile, list(first))
    slots: list[tuple[str, tuple[str, ...]]] = [
        (target, tuple(variants)) for target, variants in profile.fields.items()
    ]
    if profile.closed_by_status is not None:
        slots.append(("closed_by_status", tuple(profile.closed_by_status.time)))
    index = {target: i for i, (target, _) in enumerate(slots)}
    build = _builder(profile, index, {})
    nulls = frozenset(profile.null_values) | {""}
    keep = [(attribute, tuple(variants)) for attribute, variants in profile.keep.items()]

    def pick(obj: dict[str, Any], variants: tuple[str, ...]) -> Any:
        for name in variants:
            value = obj.get(name)
            if value is not None:
                return value
        return None

    def rows() -> Iterator[Row | Rejection]:
        for n, obj in objects:
            if isinstance(obj, Rejection):
                yield obj
                continue
            if not isinstance(obj, dict):
                yield Rejection(n, "row", "not a JSON object")
                continue
            cells: list[str] = []
            problem = None
            for target, variants in slots:
                try:
                    value = _json_value(pick(obj, variants))
                except TypeError as exc:
                    problem = Rejection(n, target, str(exc))
                    break
                cells.append("" if value is None else value)
            if problem is None:
                reason = _suspect_reason(cells)
                if reason is not None:
                    problem = Rejection(n, "row", reason)
            if problem is not None:
                yield problem
                continue
            row = build(n, cells)
            if keep and isinstance(row, Row):
                attributes = {}
                for attribute, variants in keep:
                    value = pick(obj, variants)
                    if isinstance(value, str):
                        value = value.strip()
                        if value in nulls:
                            continue
                    elif isinstance(value, float) and not math.isfinite(value):
                        # JSON columns refuse NaN and Infinity; the text keeps what the feed said.
                        value = repr(value)
                    if value is not None:
                        attributes[attribute] = value
                row.attributes = attributes or None
            yield row

    return match, rows()


def _ndjson_objects(text: io.TextIOWrapper) -> Iterator[tuple[int, Any]]:
    n = 0
    try:
        for line in text:
            n += 1
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except ValueError as exc:
                yield n, Rejection(n, "row", f"not a JSON object: {exc}")
    except (OSError, EOFError) as exc:
        raise Unprocessable(f"The file cannot be read after line {n}: {exc}.") from None


class RowReader:
    """`read_rows`'s answer: iterate it for Row | Rejection; `match` says which header variant the file used."""

    __slots__ = ("format", "match", "_rows")

    def __init__(self, format: RecordFormat, match: HeaderMatch, rows: Iterator[Row | Rejection]) -> None:
        self.format = format
        self.match = match
        self._rows = rows

    def __iter__(self) -> Iterator[Row | Rejection]:
        return self._rows

    def __next__(self) -> Row | Rejection:
        return next(self._rows)


def read_rows(stream: BinaryIO, profile: ProfileDefinition, *, format: RecordFormat | str | None = None) -> RowReader:
    """Read a file of raw records through `profile`.

    `format` overrides the profile's ("csv", "ndjson", "json"), e.g. from the upload's media type, and "auto"
    decides by the first bytes ('[' a JSON array, '{' NDJSON, else CSV). Gzip is recognised by its magic bytes.
    The header is checked here, before any row is read, so a file that is not this feed fails at once with
    Unprocessable; rows then stream in constant memory (except "json", which is one document). Row numbers are
    spreadsheet rows for CSV (the header is row 1), line numbers for NDJSON, 1-based positions in a JSON array."""
    chosen = format or profile.format
    if chosen not in ("csv", "ndjson", "json", "auto"):
        raise Unprocessable(f"Unknown record format {chosen!r}: use csv, ndjson or json.")
    source, buffered = _open(stream)
    try:
        if chosen == "auto":
            chosen = _sniff(buffered)
    except (OSError, EOFError) as exc:
        raise Unprocessable(f"The file cannot be read: {exc}.") from None
    # surrogateescape: a bad byte becomes one rejected row (see _Bytes.suspect), not a failed import.
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        if chosen == "csv":
            match, rows = _csv_rows(text, source, profile)
        elif chosen == "ndjson":
            objects = _ndjson_objects(text)
            # The first object decides the header match; it and any bad lines before it are read again.
            leading: list[tuple[int, Any]] = []
            first = None
            for item in objects:
                leading.append(item)
                if not isinstance(item[1], Rejection):
                    first = item[1]
                    break
                if len(leading) > _MAX_LEADING_BAD_LINES:
                    break
            if not isinstance(first, dict):
                raise Unprocessable("The file has no JSON object to read: it is not NDJSON.")
            match, rows = _json_rows(itertools.chain(leading, objects), first, profile)
        else:
            try:
                document = json.loads(text.read())
            except ValueError as exc:
                raise Unprocessable(f"The file is not a JSON document: {exc}.") from None
            if not isinstance(document, list) or not document or not isinstance(document[0], dict):
                raise Unprocessable("Expected a JSON array of objects, such as an Open311 GeoReport v2 answer.")
            match, rows = _json_rows(enumerate(document, start=1), document[0], profile)
    except (OSError, EOFError) as exc:
        # A truncated or corrupt gzip stream.
        raise Unprocessable(f"The file cannot be read: {exc}.") from None
    return RowReader(chosen, match, rows)  # type: ignore[arg-type]
