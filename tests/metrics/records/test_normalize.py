"""The streaming row reader, on the real 311 files in ../shared/data/311 and on files made to break it."""

import csv
import datetime as dt
import gzip
import io
import json
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import Unprocessable
from services.metrics.records.normalize import (
    Rejection,
    Row,
    format_for_upload,
    header_variant,
    read_rows,
)
from services.metrics.records.profiles import BUILTIN_PROFILES, ProfileDefinition

SHARED_311 = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "311"
NYC = SHARED_311 / "nyc311_sample_1000_2014-2019.csv"
BOSTON = SHARED_311 / "boston311_100_qsv_2022.csv"
LA = SHARED_311 / "la311_myla311_10000_2020-01-01_to_03.csv"
UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")

SIMPLE = ProfileDefinition.model_validate(
    {
        "time_zone": "America/New_York",
        "timestamp_formats": ["%Y-%m-%d %H:%M:%S", "iso8601"],
        "fields": {
            "record_id": ["id"],
            "opened_at": ["opened"],
            "closed_at": ["closed"],
            "due_at": ["due"],
            "agency": ["agency"],
            "category": ["category"],
            "latitude": ["lat"],
            "longitude": ["lon"],
        },
        "keep": ["note"],
    }
)
SIMPLE_HEADER = "id,opened,closed,due,agency,category,lat,lon,note\n"


def read_all(data: bytes, profile: ProfileDefinition, **kwargs) -> list[Row | Rejection]:
    return list(read_rows(io.BytesIO(data), profile, **kwargs))


def split(items):
    rows = [item for item in items if isinstance(item, Row)]
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert len(rows) + len(rejections) == len(items)
    return rows, rejections


def simple(*lines: str) -> list[Row | Rejection]:
    return read_all((SIMPLE_HEADER + "".join(line + "\n" for line in lines)).encode(), SIMPLE)


def data_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def ny(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=NEW_YORK).astimezone(UTC)


# --- the real files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "path"), [("nyc311", NYC), ("boston311", BOSTON), ("la311", LA)])
def test_every_row_of_a_real_file_is_a_row_or_a_rejection(name, path):
    items = list(read_rows(path.open("rb"), BUILTIN_PROFILES[name]))
    expected = data_rows(path)
    assert len(items) == len(expected)
    # Spreadsheet row numbers: the header is row 1, the first record row 2, none skipped or repeated.
    assert [item.row for item in items] == list(range(2, len(expected) + 2))
    for item, cells in zip(items, expected, strict=True):
        assert item.record_id == cells[0]
    for row in split(items)[0]:
        assert row.opened_at.tzinfo is UTC
        assert row.closed_at is None or (row.closed_at.tzinfo is UTC and row.closed_at >= row.opened_at)


def test_nyc_rejects_exactly_the_ten_requests_closed_before_they_were_created():
    rows, rejections = split(list(read_rows(NYC.open("rb"), BUILTIN_PROFILES["nyc311"])))
    assert len(rows) == 990 and len(rejections) == 10
    assert {r.field for r in rejections} == {"closed_at"}
    assert all(r.reason.startswith("closed before opened") for r in rejections)
    # The independent count: strptime on the raw columns, in New York.
    with NYC.open(newline="", encoding="utf-8") as handle:
        early = set()
        for record in csv.DictReader(handle):
            if record["Closed Date"]:
                fmt = "%m/%d/%Y %I:%M:%S %p"
                opened = dt.datetime.strptime(record["Created Date"], fmt).replace(tzinfo=NEW_YORK)
                closed = dt.datetime.strptime(record["Closed Date"], fmt).replace(tzinfo=NEW_YORK)
                if closed < opened:
                    early.add(record["Unique Key"])
    assert {r.record_id for r in rejections} == early
    assert "'11/13/2017 01:27:00 PM'" in next(r.reason for r in rejections if r.record_id == "37695674")


def test_nyc_columns_land_where_the_profile_says():
    rows, _ = split(list(read_rows(NYC.open("rb"), BUILTIN_PROFILES["nyc311"])))
    first = rows[0]
    assert first.record_id == "39573567"
    # 06/26/2018 10:58:54 AM in New York, summer time.
    assert first.opened_at == dt.datetime(2018, 6, 26, 14, 58, 54, tzinfo=UTC)
    assert first.closed_at == dt.datetime(2018, 6, 26, 16, 50, 1, tzinfo=UTC)
    assert first.due_at == dt.datetime(2018, 6, 26, 22, 58, 54, tzinfo=UTC)
    assert (first.agency, first.agency_name) == ("NYPD", "New York City Police Department")
    assert (first.category, first.status, first.source) == ("Non-Emergency Police Matter", "Closed", "PHONE")
    assert (first.org_unit, first.district) == ("QUEENS", "09 QUEENS")
    assert (first.latitude, first.longitude) == (40.690092327843345, -73.84642755940943)
    assert first.attributes == {
        "Descriptor": "Other (complaint details)",
        "Location Type": "Street/Sidewalk",
        "Incident Zip": "11421",
    }
    raw = {cells[0]: cells for cells in data_rows(NYC)}
    assert sum(bool(cells[20]) for cells in raw.values()) == 486  # Due Date, as the README says
    for row in rows:
        cells = raw[row.record_id]
        assert (row.due_at is not None) == bool(cells[20])
        # "Unspecified" is one of this feed's null values.
        assert row.org_unit == (None if cells[25] in ("", "Unspecified") else cells[25])
    assert sum(row.org_unit is None for row in rows) > 0


def test_boston_keeps_ontime_and_reads_single_space_cells_as_empty():
    items = list(read_rows(BOSTON.open("rb"), BUILTIN_PROFILES["boston311"]))
    rows, rejections = split(items)
    assert rejections == []
    raw = {cells[0]: cells for cells in data_rows(BOSTON)}
    for row in rows:
        cells = raw[row.record_id]
        assert row.attributes is not None and row.attributes["ontime"] == cells[4]
        assert row.district == (cells[17].strip() or None)
        assert row.closed_at is None if not cells[3] else row.closed_at is not None
    assert {row.attributes["ontime"] for row in rows if row.attributes} == {"ONTIME", "OVERDUE"}
    assert sum(row.district is None for row in rows) == sum(cells[17] == " " for cells in raw.values()) > 0
    first = rows[0]
    # 2022-01-21 13:47:00 in Boston is winter time: UTC-5.
    assert first.opened_at == dt.datetime(2022, 1, 21, 18, 47, tzinfo=UTC)
    assert first.due_at == dt.datetime(2022, 2, 4, 18, 47, 30, tzinfo=UTC)
    assert (first.agency, first.org_unit, first.status) == ("BTDT", "BTDT_Parking Enforcement", "Open")


LA_CAMEL_CASE = {
    "srnumber": "SRNumber", "createddate": "CreatedDate", "closeddate": "ClosedDate", "updateddate": "UpdatedDate",
    "servicedate": "ServiceDate", "requesttype": "RequestType", "requestsource": "RequestSource",
    "actiontaken": "ActionTaken", "owner": "Owner", "status": "Status",
    "createdbyuserorganization": "CreatedByUserOrganization", "mobileos": "MobileOS", "anonymous": "Anonymous",
    "assignto": "AssignTo", "latitude": "Latitude", "longitude": "Longitude", "addressverified": "AddressVerified",
    "approximateaddress": "ApproximateAddress", "address": "Address", "housenumber": "HouseNumber",
    "direction": "Direction", "streetname": "StreetName", "suffix": "Suffix", "zipcode": "ZipCode",
    "location": "Location", "apc": "APC", "cd": "CD", "cdmember": "CDMember", "nc": "NC", "ncname": "NCName",
    "policeprecinct": "PolicePrecinct", "tbmpage": "TBMPage", "tbmcolumn": "TBMColumn", "tbmrow": "TBMRow",
}  # fmt: skip
LA_TIMES = ("createddate", "closeddate", "updateddate", "servicedate")


def la_camel_case_copy(tmp_path: Path) -> Path:
    """The real LA file as the earlier exports wrote it: CamelCase names, 12-hour US times."""
    with LA.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    header = records[0]
    times = [header.index(name) for name in LA_TIMES]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([LA_CAMEL_CASE.get(name, name) for name in header])
    for cells in records[1:]:
        for i in times:
            if cells[i]:
                cells[i] = dt.datetime.strptime(cells[i], "%Y-%m-%d %H:%M:%S").strftime("%m/%d/%Y %I:%M:%S %p")
        writer.writerow(cells)
    path = tmp_path / "la311_camel_case.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_la_reads_the_same_records_from_both_header_variants(tmp_path):
    profile = BUILTIN_PROFILES["la311"]
    lowercase = read_rows(LA.open("rb"), profile)
    assert lowercase.match.variant == "lowercase SODA header (2020 export)"
    rows = list(lowercase)
    copy = la_camel_case_copy(tmp_path)
    head = copy.read_text()[:1000]
    assert head.startswith("SRNumber,CreatedDate,ClosedDate,_daystoclose,")
    assert "1-1523590121,01/01/2020 12:05:00 AM,01/02/2020 08:43:00 AM," in head
    camel = read_rows(copy.open("rb"), profile)
    assert camel.match.variant == "CamelCase header (earlier exports)"
    assert camel.match.columns["record_id"] == "SRNumber"
    assert list(camel) == rows
    assert len(rows) == 10_000 and all(isinstance(row, Row) for row in rows)
    first = rows[0]
    # 2020-01-01 00:05:00 in Los Angeles, UTC-8.
    assert first.opened_at == dt.datetime(2020, 1, 1, 8, 5, tzinfo=UTC)
    assert (first.agency, first.org_unit, first.district, first.source) == ("BOS", "WV", "6", "Call")
    assert first.attributes is not None and first.attributes["_daystoclose"] == "1.359722"
    assert first.attributes["nc"] == "19"


def test_header_variant_for_the_import_summary():
    la = BUILTIN_PROFILES["la311"]
    assert header_variant(la, ["SRNumber", "CreatedDate", "Owner"]) == "CamelCase header (earlier exports)"
    assert header_variant(la, ["srnumber", "createddate"]) == "lowercase SODA header (2020 export)"
    # A profile with no named variants describes the columns it used.
    assert header_variant(SIMPLE, SIMPLE_HEADER.strip().split(",")) == (
        "record_id=id, agency=agency, category=category, opened_at=opened, closed_at=closed, due_at=due,"
        " latitude=lat, longitude=lon"
    )


@pytest.mark.parametrize(("name", "path"), [("nyc311", NYC), ("la311", LA)])
def test_gzip_of_a_real_file_reads_identically(name, path, tmp_path):
    packed = tmp_path / (path.name + ".gz")
    packed.write_bytes(gzip.compress(path.read_bytes()))
    plain = list(read_rows(path.open("rb"), BUILTIN_PROFILES[name]))
    assert list(read_rows(packed.open("rb"), BUILTIN_PROFILES[name])) == plain


def test_a_byte_order_mark_changes_nothing():
    data = BOSTON.read_bytes()
    assert read_all(b"\xef\xbb\xbf" + data, BUILTIN_PROFILES["boston311"]) == read_all(
        data, BUILTIN_PROFILES["boston311"]
    )


# --- Open311 GeoReport v2 ----------------------------------------------------------------------------------

GEOREPORT = [
    {
        "service_request_id": "638344",
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "agency_responsible": "DPW",
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-15T06:37:38-08:00",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "zipcode": 94122,
        "lat": 37.762221815,
        "long": -122.4651145,
    },
    {
        "service_request_id": 638349,
        "status": "open",
        "service_name": "Illegal dumping",
        "service_code": "007",
        "agency_responsible": "DPW",
        "requested_datetime": "2010-04-19T06:37:38Z",
        "updated_datetime": "2010-04-19T07:00:00Z",
        "expected_datetime": None,
        "lat": 37.7,
        "long": -122.4,
    },
    {
        "service_request_id": "638350",
        "status": "closed",
        "service_code": "007",
        "requested_datetime": "2010-04-20T10:00:00+00:00",
        "updated_datetime": "2010-04-19T10:00:00+00:00",
    },
]
GEOREPORT_CSV_COLUMNS = (
    "service_request_id status service_name service_code agency_responsible requested_datetime updated_datetime"
    " expected_datetime address lat long"
).split()


def check_georeport(items):
    rows, rejections = split(items)
    assert [r.record_id for r in rows] == ["638344", "638349"]
    first, second = rows
    assert first.opened_at == dt.datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)
    # No close time in GeoReport v2: a closed request was closed at its last update.
    assert first.closed_at == dt.datetime(2010, 4, 15, 14, 37, 38, tzinfo=UTC)
    assert first.due_at == dt.datetime(2010, 4, 15, 14, 37, 38, tzinfo=UTC)
    assert (first.agency, first.category, first.status) == ("DPW", "006", "closed")
    assert (first.latitude, first.longitude) == (37.762221815, -122.4651145)
    assert first.attributes is not None
    assert first.attributes["service_name"] == "Sidewalk and Curb Issues"
    assert first.attributes["updated_datetime"] == "2010-04-15T06:37:38-08:00"
    assert (second.closed_at, second.due_at) == (None, None)
    assert second.opened_at == dt.datetime(2010, 4, 19, 6, 37, 38, tzinfo=UTC)
    (early,) = rejections
    assert (early.record_id, early.field) == ("638350", "closed_at")
    assert early.reason.startswith("closed before opened")
    return rows


def test_open311_pull_answer_as_a_json_array():
    data = json.dumps(GEOREPORT).encode()
    reader = read_rows(io.BytesIO(data), BUILTIN_PROFILES["open311"], format="json")
    assert reader.format == "json"
    rows = check_georeport(list(reader))
    assert [r.row for r in rows] == [1, 2]
    assert rows[0].attributes["zipcode"] == 94122  # a JSON number stays a number in the attributes


def test_open311_upload_as_ndjson_and_as_csv_give_the_same_records():
    ndjson = "".join(json.dumps(record) + "\n" for record in GEOREPORT).encode()
    from_ndjson = check_georeport(read_all(ndjson, BUILTIN_PROFILES["open311"], format="ndjson"))
    out = io.StringIO()
    writer = csv.DictWriter(out, GEOREPORT_CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(GEOREPORT)
    from_csv = check_georeport(read_all(out.getvalue().encode(), BUILTIN_PROFILES["open311"]))
    for a, b in zip(from_ndjson, from_csv, strict=True):
        assert (a.record_id, a.opened_at, a.closed_at, a.due_at, a.latitude) == (
            b.record_id, b.opened_at, b.closed_at, b.due_at, b.latitude,
        )  # fmt: skip
    assert [r.row for r in from_ndjson] == [1, 2] and [r.row for r in from_csv] == [2, 3]


def test_auto_format_looks_at_the_first_bytes():
    profile = BUILTIN_PROFILES["open311"]
    array = json.dumps(GEOREPORT).encode()
    lines = "".join(json.dumps(record) + "\n" for record in GEOREPORT).encode()
    assert read_rows(io.BytesIO(b"\n  " + array), profile, format="auto").format == "json"
    assert read_rows(io.BytesIO(gzip.compress(lines)), profile, format="auto").format == "ndjson"
    assert read_rows(io.BytesIO(NYC.read_bytes()), BUILTIN_PROFILES["nyc311"], format="auto").format == "csv"
    check_georeport(list(read_rows(io.BytesIO(gzip.compress(array)), profile, format="auto")))


def test_format_for_upload():
    assert format_for_upload("text/csv; charset=utf-8") == "csv"
    assert format_for_upload("application/x-ndjson") == "ndjson"
    assert format_for_upload("application/json") == "json"
    assert format_for_upload("application/gzip", "requests.ndjson.gz") == "ndjson"
    assert format_for_upload("application/octet-stream", "export.CSV.gz") == "csv"
    assert format_for_upload(None, "requests.jsonl") == "ndjson"
    assert format_for_upload("application/octet-stream", "upload.bin") is None


def test_ndjson_bad_lines_are_rejected_by_line_number():
    lines = [
        json.dumps(GEOREPORT[1]),
        "",
        "{not json",
        "[1, 2]",
        json.dumps({**GEOREPORT[1], "service_request_id": "9", "lat": {"deg": 37}}),
        json.dumps({**GEOREPORT[1], "service_request_id": "10", "requested_datetime": 1271659058}),
        json.dumps({**GEOREPORT[1], "service_request_id": "11", "service_code": "a\u0000b"}),
    ]
    items = read_all("\n".join(lines).encode(), BUILTIN_PROFILES["open311"], format="ndjson")
    assert [(item.row, type(item).__name__, getattr(item, "field", None)) for item in items] == [
        (1, "Row", None),
        (3, "Rejection", "row"),
        (4, "Rejection", "row"),
        (5, "Rejection", "latitude"),
        (6, "Rejection", "opened_at"),
        (7, "Rejection", "row"),
    ]
    assert "NUL" in items[-1].reason


def test_json_that_is_not_an_array_of_objects_is_unprocessable():
    with pytest.raises(Unprocessable):
        read_all(b'{"service_requests": []}', BUILTIN_PROFILES["open311"], format="json")
    with pytest.raises(Unprocessable):
        read_all(b"[]", BUILTIN_PROFILES["open311"], format="json")
    with pytest.raises(Unprocessable):
        read_all(b"not json", BUILTIN_PROFILES["open311"], format="ndjson")


# --- rejections --------------------------------------------------------------------------------------------


def test_unparseable_times_are_rejected_with_the_field_and_the_cell():
    items = simple(
        "A1,2017-06-01 10:00:00,2017-06-02 10:00:00,,DPW,Pothole,,,",
        "A2,06/01/2017,,,DPW,Pothole,,,",
        "A3,2017-06-01 10:00:00,2017-06-31 10:00:00,,DPW,Pothole,,,",
        "A4,2017-06-01 10:00:00,,tomorrow,DPW,Pothole,,,",
        "A5,2017-06-01 25:00:00,,,DPW,Pothole,,,",
        "A6,,,,DPW,Pothole,,,",
        ",2017-06-01 10:00:00,,,DPW,Pothole,,,",
        "A8,2017-06-01T09:00:00-05:00,2017-06-01 10:00:00.5,,DPW,Pothole,,,",
    )
    assert [(item.row, getattr(item, "field", None)) for item in items] == [
        (2, None),
        (3, "opened_at"),
        (4, "closed_at"),
        (5, "due_at"),
        (6, "opened_at"),
        (7, "opened_at"),
        (8, "record_id"),
        (9, None),
    ]
    assert "'06/01/2017'" in items[1].reason and "%Y-%m-%d %H:%M:%S; iso8601" in items[1].reason
    assert "'2017-06-31 10:00:00'" in items[2].reason and items[2].record_id == "A3"
    assert "'tomorrow'" in items[3].reason
    assert items[5].reason == "the row has no opened time"
    assert items[6].record_id is None
    last = items[7]
    assert last.opened_at == dt.datetime(2017, 6, 1, 14, tzinfo=UTC)
    assert last.closed_at == dt.datetime(2017, 6, 1, 14, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        ("91", "-84.4", "latitude"),
        ("north", "-84.4", "latitude"),
        ("nan", "-84.4", "latitude"),
        ("33.7", "-184.4", "longitude"),
        ("33.7", "inf", "longitude"),
        ("33.7", '"1,5"', "longitude"),
        ("33.7", "1,5,6", None),  # unquoted commas: more cells than the header
    ],
)
def test_bad_coordinates_are_rejected(lat, lon, field):
    (item,) = simple(f"A1,2017-06-01 10:00:00,,,DPW,Pothole,{lat},{lon},")
    assert isinstance(item, Rejection)
    assert item.field == (field or "row")
    if field:
        assert repr((lat if field == "latitude" else lon).strip('"')) in item.reason
        assert item.record_id == "A1"


def test_good_coordinates_and_null_values():
    (row,) = simple("A1,2017-06-01 10:00:00,NA,N/A,null, ,-90,180,  kept  ")
    assert isinstance(row, Row)
    assert (row.closed_at, row.due_at, row.agency, row.category) == (None, None, None, None)
    assert (row.latitude, row.longitude) == (-90.0, 180.0)
    assert row.attributes == {"note": "kept"}
    (empty,) = simple("A2,2017-06-01 10:00:00,,,,,,,")
    assert empty.attributes is None and empty.latitude is None


def test_overlong_values_are_rejected_not_cut():
    long_id, long_category = "X" * 129, "C" * 201
    items = simple(
        f"{long_id},2017-06-01 10:00:00,,,DPW,Pothole,,,",
        f"A2,2017-06-01 10:00:00,,,DPW,{long_category},,,",
        f"A3,2017-06-01 10:00:00,,,DPW,{'C' * 200},,,",
    )
    assert [(getattr(i, "field", None), getattr(i, "record_id", None)) for i in items] == [
        ("record_id", None),
        ("category", "A2"),
        (None, "A3"),
    ]


def test_row_numbers_count_spreadsheet_rows_through_quoted_newlines_and_blank_lines():
    items = simple(
        'A1,2017-06-01 10:00:00,,,DPW,Pothole,,,"two\nlines"',
        "",
        "A3,2017-06-01 10:00:00,,,DPW,Pothole,,,",
        "A4,2017-06-01 10:00:00,,,DPW,Pothole,,,,,extra",
        "A5,2017-06-01 10:00:00,,,DPW,Pothole,,,,,",
        "A6,2017-06-01 10:00:00",
    )
    assert [(item.row, item.record_id, type(item).__name__) for item in items] == [
        (2, "A1", "Row"),
        (4, "A3", "Row"),
        (5, None, "Rejection"),
        (6, "A5", "Row"),
        (7, "A6", "Row"),
    ]
    assert items[0].attributes == {"note": "two\nlines"}
    assert items[2].field == "row" and "11 cells" in items[2].reason


def test_a_cell_beyond_the_csv_field_limit_costs_its_row_only():
    items = simple(
        "A1,2017-06-01 10:00:00,,,DPW,Pothole,,,",
        f"A2,2017-06-01 10:00:00,,,DPW,{'x' * 200_000},,,",
        "A3,2017-06-01 10:00:00,,,DPW,Pothole,,,",
    )
    assert [(item.row, getattr(item, "field", None)) for item in items] == [(2, None), (3, "row"), (4, None)]
    assert "field larger than field limit" in items[1].reason


def test_bad_bytes_cost_one_row_not_the_import():
    data = (
        SIMPLE_HEADER
        + "A1,2017-06-01 10:00:00,,,DPW,Pothole,,,\n"
        + "A2,2017-06-01 10:00:00,,,DPW,Pot\x00hole,,,\n"
        + "A3,2017-06-01 10:00:00,,,DPW,Pothole,,,\n"
    ).encode() + b"A4,2017-06-01 10:00:00,,,DPW,Caf\xe9,,,\nA5,2017-06-01 10:00:00,,,DPW,Caf\xc3\xa9,,,\n"
    items = read_all(data, SIMPLE)
    assert [(item.record_id, getattr(item, "field", None)) for item in items] == [
        ("A1", None),
        (None, "row"),
        ("A3", None),
        (None, "row"),
        ("A5", None),
    ]
    assert "NUL" in items[1].reason and "UTF-8" in items[3].reason
    assert items[4].category == "Café"


def test_a_header_without_a_record_id_column_is_unprocessable():
    data = NYC.read_bytes().replace(b"Unique Key", b"Key", 1)
    with pytest.raises(Unprocessable) as exc:
        read_rows(io.BytesIO(data), BUILTIN_PROFILES["nyc311"])
    assert exc.value.errors == [
        {"field": "record_id", "reason": "the header has none of the columns Unique Key, unique_key"}
    ]
    # The wrong profile for a file fails the same way, before any row is read.
    with pytest.raises(Unprocessable) as exc:
        read_rows(LA.open("rb"), BUILTIN_PROFILES["boston311"])
    assert [e["field"] for e in exc.value.errors] == ["record_id", "opened_at"]


@pytest.mark.parametrize("data", [b"", b"\n\n", gzip.compress(b"")])
def test_an_empty_file_is_unprocessable(data):
    with pytest.raises(Unprocessable):
        read_rows(io.BytesIO(data), SIMPLE)


def test_a_truncated_gzip_is_unprocessable_after_the_rows_it_had():
    packed = gzip.compress(LA.read_bytes())
    reader = read_rows(io.BytesIO(packed[: len(packed) // 2]), BUILTIN_PROFILES["la311"])
    seen = 0
    with pytest.raises(Unprocessable):
        for _ in reader:
            seen += 1
    assert 1000 < seen < 10_000


def test_the_format_argument_overrides_the_profile():
    with pytest.raises(Unprocessable):
        read_rows(io.BytesIO(b"{}"), SIMPLE, format="xml")
    lines = json.dumps({"id": "A1", "opened": "2017-06-01 10:00:00", "note": 5}).encode()
    (row,) = read_all(lines, SIMPLE, format="ndjson")
    assert row.opened_at == dt.datetime(2017, 6, 1, 14, tzinfo=UTC) and row.attributes == {"note": 5}


# --- constant memory ---------------------------------------------------------------------------------------


class GeneratedFile(io.RawIOBase):
    """A large CSV that exists only as it is read: the reader cannot have held it whole."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.next = 0
        self.pending = SIMPLE_HEADER.encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer) and self.next < self.rows:
            i = self.next
            self.next += 1
            # Times within one month: the hour caches stay small, so what grows would be the reader's own.
            opened = dt.datetime(2017, 1, 1) + dt.timedelta(minutes=7 * (i % 6000))
            line = f"R{i},{opened:%Y-%m-%d %H:%M:%S},,,DPW,Pothole,33.7,-84.4,{'x' * 60}\n"
            self.pending += line.encode()
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count


def test_reading_streams_in_constant_memory():
    rows = 100_000  # about 10 MB of CSV
    tracemalloc.start()
    try:
        seen = 0
        for item in read_rows(io.BufferedReader(GeneratedFile(rows)), SIMPLE):
            assert isinstance(item, Row)
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == rows
    assert peak < 2_000_000, peak
