import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from services.common.errors import Unprocessable
from services.metrics.definitions.models import Direction
from services.metrics.library.source import (
    SF_MEASURES_PATH,
    SF_SOURCE,
    LibraryFileError,
    LibraryRead,
    read_sf_measures,
    read_sf_measures_file,
)

# The real file lives beside the repository and is never copied into it; without it these tests fail.
REAL_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "measures" / SF_MEASURES_PATH.name

A11, A12, J13, A13 = (
    "FY 2011   Total Actual Data",
    "FY 2012   Total Actual Data",
    "FY 2013   June Actual Data",
    "FY 2013   Total Actual Data",
)
T13, P13, T14, T15 = (
    "FY 2013   Total Target Data",
    "FY 2013   Total Projected Data",
    "FY 2014   Total Target Data",
    "FY 2015   Total Target Data",
)
HEADER = [
    "Dept",
    "Department",
    "Owner",
    "Program",
    "Goal",
    "KPI_CODE",
    "Performance Measure",
    "Description",
    "Technical Description",
    "Performance Pattern",
    "Unit of Measure",
    A11,
    A12,
    J13,
    A13,
    T13,
    P13,
    T14,
    T15,
    "FY 2013   Yr End Actual Explanation",
    "FY 2013   Yr End Dept Comment",
    "Major Service Area",
    "Annual Performance Measure Report",
]


# Column names with spaces, spelt with underscores so that they can be keyword arguments of row().
_ALIASES = {"Performance_Measure", "Performance_Pattern", "Unit_of_Measure"}


def row(**cells: str) -> dict[str, str]:
    base = {
        "Dept": "AAM",
        "Department": "ASIAN ART MUSEUM",
        "Owner": "Trujillo, Adrian",
        "Program": "ASIAN ART MUSEUM",
        "Goal": "Increase museum membership",
        "KPI_CODE": "AAM.1",
        "Performance Measure": "Number of museum members",
        "Performance Pattern": "Above target is positive",
        "Unit of Measure": "General",
        A11: "100",
        A12: "110",
        J13: "60",
        A13: "120",
        T13: "115",
        P13: "118",
        T14: "125",
        T15: "130",
        "Major Service Area": "E Culture & Recreation",
    }
    base.update({key.replace("_", " ") if key in _ALIASES else key: value for key, value in cells.items()})
    return base


def csv_bytes(
    rows: list[dict[str, str]], header: list[str] = HEADER, *, bom: bool = False, crlf: bool = False
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(h, "") for h in header])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def read(*rows: dict[str, str]) -> LibraryRead:
    return read_sf_measures(csv_bytes(list(rows)))


# --- the real file -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> LibraryRead:
    return read_sf_measures(REAL_FILE.read_bytes())


@pytest.fixture(scope="module")
def real_rows() -> list[dict[str, str]]:
    with REAL_FILE.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def by_row(read_: LibraryRead):
    return {m.source_row: m for m in read_.measures}


def test_default_path_is_the_shared_file_beside_the_repository():
    assert SF_MEASURES_PATH == REAL_FILE
    assert SF_MEASURES_PATH.is_file()
    assert read_sf_measures_file().rows == 1002


def test_real_file_imports_at_least_95_percent_and_accounts_for_every_row(real, real_rows):
    assert len(real_rows) == real.rows == 1002
    assert len(real.measures) >= 0.95 * real.rows
    rejected_rows = [r.row for r in real.rejected]
    assert len(rejected_rows) == len(set(rejected_rows)), "a row is rejected once, with its main reason"
    imported_rows = {m.source_row for m in real.measures}
    assert imported_rows.isdisjoint(rejected_rows)
    assert len(real.measures) + len(set(rejected_rows)) == real.rows
    assert imported_rows | set(rejected_rows) == set(range(2, 1004))


def test_real_file_rejections_are_the_unnamed_and_repeated_rows(real):
    for r in real.rejected:
        assert isinstance(r.row, int) and 2 <= r.row <= 1003
        assert r.field in HEADER
        assert r.reason.strip()
    got = {r.row: r for r in real.rejected}
    assert sorted(got) == [90, 185, 187, 567, 1001]
    assert {got[n].field for n in (567, 1001)} == {"Performance Measure"}
    for repeat, first in ((90, 89), (185, 184), (187, 186)):
        assert got[repeat].field == "KPI_CODE"
        assert f"row {first}" in got[repeat].reason
    assert real.reasons() == Counter({"KPI_CODE": 3, "Performance Measure": 2})


def test_real_directions_match_the_performance_pattern_column(real, real_rows):
    pattern_of_row = {n: r["Performance Pattern"] for n, r in enumerate(real_rows, start=2)}
    assert Counter(pattern_of_row.values()) == {
        "Above target is positive": 797,
        "Below target is positive": 115,
        "On target is positive": 90,
    }
    expected = {
        "Above target is positive": Direction.higher_is_better,
        "Below target is positive": Direction.lower_is_better,
        "On target is positive": Direction.closer_is_better,
    }
    imported = Counter(expected[pattern_of_row[m.source_row]] for m in real.measures)
    assert Counter(m.direction for m in real.measures) == imported
    for m in real.measures:
        assert m.direction is expected[pattern_of_row[m.source_row]]


def test_real_first_asian_art_museum_row(real):
    m = by_row(real)[2]
    assert m.source == SF_SOURCE
    assert m.jurisdiction == "San Francisco"
    assert (m.source_code, m.department_code) == ("AAM.EEI.01.1.1", "AAM")
    assert m.department_name == "Asian Art Museum"
    assert m.department_name_original == "ASIAN ART MUSEUM"
    assert m.name == "Number of museum members"
    assert (m.unit, m.unit_original) == ("number", "General")
    assert m.direction is Direction.higher_is_better
    assert m.owner == "Trujillo, Adrian"
    assert m.goal == "Increase museum membership"
    assert m.service_area == "Culture & Recreation"
    assert m.methodology.startswith("Collection Method: Records are developed")
    assert m.actuals == {"FY2011": 14755.0, "FY2012": 13725.0, "FY2013": 17066.0}
    # The June column (Jan-Jun only) and the projection are not annual actuals.
    assert m.targets == {"FY2013": 16000.0, "FY2014": 14995.0, "FY2015": 15300.0}
    assert m.notes == []


def test_real_spot_checks_of_each_direction_and_unit(real):
    rows = by_row(real)
    minutes = rows[15]
    assert minutes.name == "Field service emergency response time, in minutes"
    assert minutes.direction is Direction.lower_is_better
    assert minutes.targets["FY2013"] == 23.0 and minutes.actuals["FY2013"] == 21.25
    vehicles = rows[25]
    assert vehicles.direction is Direction.closer_is_better
    assert vehicles.targets == {"FY2013": 890.0, "FY2014": 890.0, "FY2015": 915.0}
    cost = rows[40]
    assert (cost.unit, cost.unit_original) == ("dollars", "Currency")
    assert cost.actuals["FY2012"] == 1255.0
    assert rows[148].department_name == "City Attorney"
    # Names keep their words but lose doubled spaces.
    assert rows[1003].name == "Number of days per year the museum is open"


def test_real_percentages_are_fractions(real):
    rows = by_row(real)
    children = rows[184]
    assert children.unit == "percent" and children.unit_original == "Percent"
    assert children.actuals["FY2013"] == 0.84
    assert children.targets == {"FY2013": 0.75, "FY2014": 0.75, "FY2015": 0.75}
    # Above 100% is real in this file: 149% of supervision slots were used in FY2013.
    assert rows[607].actuals["FY2013"] == 1.49
    # The one percent typed in percentage points: FY2015 target "75" beside an FY2014 target of 0.75.
    truancy = rows[195]
    assert truancy.targets["FY2014"] == 0.75
    assert truancy.targets["FY2015"] == 0.75
    assert truancy.notes == ["FY2015 target 75 was read as 75% (0.75): this file writes percentages as fractions."]
    percent_values = [
        v for m in real.measures if m.unit == "percent" for v in (*m.actuals.values(), *m.targets.values())
    ]
    assert len(percent_values) > 1000
    assert max(percent_values) <= 2


def test_real_rows_without_a_dept_code_get_it_from_the_file(real):
    rows = by_row(real)
    assert (rows[1000].department_code, rows[1000].department_name) == ("FAM", "Fine Arts Museum")
    assert (rows[1002].department_code, rows[1002].department_name) == ("BOS", "Board of Supervisors")
    assert (rows[1003].department_code, rows[1003].department_name) == ("SCI", "Academy of Sciences")
    assert "KPI_CODE 'BOS.FAE.01.139.139'" in rows[1002].notes[0]
    # A measure with no numbers at all is still a library entry.
    assert rows[1000].targets == {} and rows[1000].actuals == {}
    assert all(m.department_code for m in real.measures)


# --- synthetic files: the file as a whole --------------------------------------------------------------------


def test_bom_and_crlf_are_read():
    data = csv_bytes([row(), row(KPI_CODE="AAM.2")], bom=True, crlf=True)
    assert data.startswith(b"\xef\xbb\xbfDept,") and b"\r\n" in data
    got = read_sf_measures(data)
    assert got.rows == 2 and not got.rejected
    assert [m.department_code for m in got.measures] == ["AAM", "AAM"]
    assert [m.source_row for m in got.measures] == [2, 3]
    assert got.measures[1].name == "Number of museum members"  # no stray "\r"


def test_column_names_are_matched_whatever_their_spacing_and_case():
    header = [" ".join(h.split()).upper() if h.startswith("FY") else h.lower() for h in HEADER]
    header[header.index("performance pattern")] = "Performance\tPattern "
    values = row()
    data = csv_bytes([dict(zip(header, (values.get(h, "") for h in HEADER), strict=True))], header)
    (m,) = read_sf_measures(data).measures
    assert m.direction is Direction.higher_is_better
    assert m.targets == {"FY2013": 115.0, "FY2014": 125.0, "FY2015": 130.0}


def test_missing_required_column_is_a_whole_file_error():
    header = [h for h in HEADER if h != "Performance Pattern"]
    with pytest.raises(LibraryFileError) as caught:
        read_sf_measures(csv_bytes([row()], header))
    assert isinstance(caught.value, Unprocessable) and caught.value.status_code == 422
    assert "'Performance Pattern'" in caught.value.detail
    assert caught.value.errors == [{"field": "Performance Pattern", "reason": "required column is missing"}]


def test_missing_every_target_column_is_a_whole_file_error():
    header = [h for h in HEADER if h not in (T13, T14, T15)]
    with pytest.raises(LibraryFileError, match="Total Target Data"):
        read_sf_measures(csv_bytes([row()], header))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        ("Dept,Department\nAAM,MUSÉE\n".encode("latin-1"), "not UTF-8"),
        (b"Dept,KPI_CODE,Dept\nA,B,C\n", "appears twice"),
        (b"Name,Value\nx,1\n", "'Dept'"),
    ],
)
def test_unreadable_files_are_refused_whole(data, message):
    with pytest.raises(LibraryFileError, match=message):
        read_sf_measures(data)


def test_blank_lines_are_not_rows_but_keep_spreadsheet_numbering():
    header, first, second = csv_bytes([row(KPI_CODE="A1"), row(KPI_CODE="A2")]).decode().splitlines()
    got = read_sf_measures(f"{header}\n{first}\n\n,,,\n{second}\n".encode())
    assert got.rows == 2
    assert [m.source_row for m in got.measures] == [2, 5]


def test_row_numbers_count_records_not_lines():
    got = read(row(KPI_CODE="A1", Description="first line\nsecond line"), row(KPI_CODE="A2"))
    assert [m.source_row for m in got.measures] == [2, 3]
    assert got.measures[0].description == "first line second line"


def test_a_short_row_reads_its_missing_cells_as_blank():
    values = row()
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, [values.get(h, "") for h in HEADER[: HEADER.index(A11) + 1]]])
    (m,) = read_sf_measures(out.getvalue().encode()).measures
    assert m.owner == "Trujillo, Adrian"
    assert m.actuals == {"FY2011": 100.0} and m.targets == {}
    assert m.notes == []


# --- synthetic files: rejections, one per reason --------------------------------------------------------------


def test_no_name_is_rejected():
    got = read(row(), row(KPI_CODE="AAM.2", Performance_Measure="   "))
    assert [(r.row, r.field) for r in got.rejected] == [(3, "Performance Measure")]
    assert len(got.measures) == 1


def test_no_kpi_code_is_rejected():
    got = read(row(KPI_CODE=""))
    assert [(r.row, r.field) for r in got.rejected] == [(2, "KPI_CODE")]
    assert "Number of museum members" in got.rejected[0].reason


@pytest.mark.parametrize("pattern", ["", "Higher is better", "Above target is negative"])
def test_blank_or_unknown_performance_pattern_is_rejected(pattern):
    got = read(row(Performance_Pattern=pattern))
    assert [(r.row, r.field) for r in got.rejected] == [(2, "Performance Pattern")]
    assert "'Above target is positive'" in got.rejected[0].reason
    assert not got.measures


@pytest.mark.parametrize(
    ("pattern", "direction"),
    [
        ("Above target is positive", Direction.higher_is_better),
        ("  below   TARGET is positive ", Direction.lower_is_better),
        ("On target is positive", Direction.closer_is_better),
        ("On", Direction.closer_is_better),
    ],
)
def test_performance_pattern_gives_the_direction(pattern, direction):
    (m,) = read(row(Performance_Pattern=pattern)).measures
    assert m.direction is direction


def test_a_repeated_kpi_code_keeps_the_first_and_names_its_row():
    got = read(row(KPI_CODE="X"), row(KPI_CODE="Y"), row(KPI_CODE="X", Performance_Measure="Again"))
    assert [m.source_code for m in got.measures] == ["X", "Y"]
    (r,) = got.rejected
    assert (r.row, r.field) == (4, "KPI_CODE")
    assert "row 2" in r.reason


def test_a_code_whose_first_row_was_rejected_is_imported_from_the_next():
    got = read(row(KPI_CODE="X", Performance_Measure=""), row(KPI_CODE="X", Performance_Measure="Members"))
    assert [(r.row, r.field) for r in got.rejected] == [(2, "Performance Measure")]
    assert [(m.source_row, m.name) for m in got.measures] == [(3, "Members")]


def test_each_row_is_rejected_once_for_its_first_fault():
    got = read(row(KPI_CODE="", Performance_Measure="", Performance_Pattern=""))
    assert [(r.row, r.field) for r in got.rejected] == [(2, "Performance Measure")]


def test_an_unknown_department_is_rejected():
    got = read(row(Dept="", Department="MYSTERY BOARD", KPI_CODE="ZZZ.1"))
    assert [(r.row, r.field) for r in got.rejected] == [(2, "Dept")]
    assert "MYSTERY BOARD" in got.rejected[0].reason


def test_a_blank_dept_is_recovered_from_the_name_or_the_code_prefix():
    got = read(
        row(KPI_CODE="AAM.1"),
        row(Dept="", KPI_CODE="K1"),
        row(Dept="", Department="", KPI_CODE="AAM.9"),
        row(Dept="", Department="", KPI_CODE="ZZZ.1"),
    )
    assert [(m.source_row, m.department_code, m.department_name) for m in got.measures] == [
        (2, "AAM", "Asian Art Museum"),
        (3, "AAM", "Asian Art Museum"),
        (4, "AAM", "Asian Art Museum"),
    ]
    assert [len(m.notes) for m in got.measures] == [0, 1, 1]
    assert [(r.row, r.field) for r in got.rejected] == [(5, "Dept")]


def test_a_row_with_more_cells_than_the_header_is_rejected():
    data = csv_bytes([row()]).decode().rstrip("\n") + ",stray\n"
    got = read_sf_measures(data.encode())
    assert [(r.row, r.field) for r in got.rejected] == [(2, "row")]
    assert "24 cells" in got.rejected[0].reason and f"{len(HEADER)}" in got.rejected[0].reason


# --- synthetic files: numbers and units ------------------------------------------------------------------------


def test_percent_values_become_fractions():
    (m,) = read(
        row(Unit_of_Measure="Percent", **{A11: "95%", A12: "0.95", A13: "1.49", T13: "95", T14: " 7.5 % ", T15: "2"})
    ).measures
    assert m.unit == "percent"
    assert m.actuals == {"FY2011": 0.95, "FY2012": 0.95, "FY2013": 1.49}
    assert m.targets == pytest.approx({"FY2013": 0.95, "FY2014": 0.075, "FY2015": 2.0})
    assert m.notes == ["FY2013 target 95 was read as 95% (0.95): this file writes percentages as fractions."]


def test_numbers_with_commas_dollar_signs_and_minus_signs():
    (m,) = read(
        row(Unit_of_Measure="Currency", **{A11: "$1,234,567.50", A12: "-5", A13: "-$3", T13: "$ 12", T14: ".5"})
    ).measures
    assert m.actuals == {"FY2011": 1234567.5, "FY2012": -5.0, "FY2013": -3.0}
    assert m.targets == {"FY2013": 12.0, "FY2014": 0.5, "FY2015": 130.0}
    assert m.notes == []


def test_words_and_misplaced_signs_are_left_out_with_a_note_and_blanks_silently():
    (m,) = read(
        row(**{A11: "N/A", A12: "", A13: "nan", T13: "TBD", T14: "95%", T15: "1,23"}),
    ).measures
    assert m.actuals == {} and m.targets == {}
    assert m.notes == [
        "FY2011 actual 'N/A' is not a number, so it is left out.",
        "FY2013 actual 'nan' is not a number, so it is left out.",
        "FY2013 target 'TBD' is not a number, so it is left out.",
        "FY2014 target '95%' is a percentage but the measure's unit is number, so it is left out.",
        "FY2015 target '1,23' is not a number, so it is left out.",
    ]


@pytest.mark.parametrize(
    ("original", "unit"),
    [
        ("General", "number"),
        ("Number", "count"),
        ("#", "count"),
        ("Dollars", "dollars"),
        ("%", "percent"),
        ("Days", "days"),
        ("Miles", "miles"),
        ("", "number"),
    ],
)
def test_units_are_normalised_and_the_original_kept(original, unit):
    ones = {column: "1" for column in (A11, A12, A13, T13, T14, T15)}
    (m,) = read(row(Unit_of_Measure=original, **ones)).measures
    assert (m.unit, m.unit_original) == (unit, original)
    assert bool(m.notes) is (original == "")


def test_department_names_are_made_readable():
    got = read(
        row(KPI_CODE="1", Dept="MYR", Department="MAYOR'S OFFICE OF HOUSING"),
        row(KPI_CODE="2", Dept="TTX", Department="TREASURER/TAX COLLECTOR"),
        row(KPI_CODE="3", Dept="XYZ", Department="Already Mixed Case of SF"),
    )
    assert [m.department_name for m in got.measures] == [
        "Mayor's Office of Housing",
        "Treasurer/Tax Collector",
        "Already Mixed Case of SF",
    ]
