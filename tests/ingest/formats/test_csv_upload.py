import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import BadRequest
from services.ingest.formats import parse_observation_csv

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SF_MEASURES = SHARED_DATA / "measures" / "sf_citywide_performance_measures_FY13.csv"


def parse(text: str):
    return parse_observation_csv(text.encode("utf-8"))


def rejected(parsed):
    return [(r.row, r.field) for r in parsed.rejected]


def test_rows_carry_every_column_and_spreadsheet_row_numbers():
    parsed = parse(
        "metric,period,value,numerator,denominator,org_unit,comment,reason\n"
        "dpw.on_time,2017-06,,95,100,DPW-N,late trucks,typo fixed\n"
        "dpw.potholes,2017-W23,120,,,,,\n"
    )
    assert parsed.source_rows == [2, 3]
    first, second = parsed.rows
    assert first.model_dump() == {
        "metric": "dpw.on_time",
        "period": "2017-06",
        "value": None,
        "numerator": 95.0,
        "denominator": 100.0,
        "org_unit": "DPW-N",
        "comment": "late trucks",
        "reason": "typo fixed",
    }
    assert (second.metric, second.period, second.value, second.comment) == ("dpw.potholes", "2017-W23", 120.0, None)
    assert parsed.rejected == []


def test_column_order_is_free_and_only_metric_and_period_are_required():
    parsed = parse("Comment , PERIOD,metric\nhello,2017,m.x\n")
    assert [(r.metric, r.period, r.comment, r.value) for r in parsed.rows] == [("m.x", "2017", "hello", None)]


def test_bom_crlf_blank_lines_and_whitespace():
    body = "\ufeffmetric,period,value\r\n\r\n  m.a , 2017-06 ,  1.5 \r\n,,\r\n   \r\nm.b,2017-07,2\r\n"
    parsed = parse(body)
    assert [(r.metric, r.period, r.value) for r in parsed.rows] == [("m.a", "2017-06", 1.5), ("m.b", "2017-07", 2.0)]
    # Blank records still count, so the numbers match the rows a spreadsheet shows.
    assert parsed.source_rows == [3, 6]


def test_lf_and_cr_only_line_endings_read_the_same():
    lf = parse("metric,period,value\nm.a,2017-06,1\nm.b,2017-07,2\n")
    cr = parse("metric,period,value\rm.a,2017-06,1\rm.b,2017-07,2\r")
    assert lf.rows == cr.rows and lf.source_rows == cr.source_rows == [2, 3]


def test_quoted_commas_quotes_and_line_breaks_stay_in_their_cell():
    body = (
        "metric,period,comment,value\n"
        'm.a,2017-06,"Closed, then reopened ""twice""\nsee ticket 12",3\n'
        "m.b,2017-07,next,4\n"
    )
    parsed = parse(body)
    assert parsed.rows[0].comment == 'Closed, then reopened "twice"\nsee ticket 12'
    # The quoted line break does not push the next row's number.
    assert parsed.source_rows == [2, 3]


@pytest.mark.parametrize(
    "comment",
    [
        "Café déjà vu, Ñandú",
        "potholes 🕳️🚧 fixed 👍🏽",
        "تم إصلاح الحفر في الحي",  # Arabic, right to left
        "\u05e9\u05dc\u05d5\u05dd \u200fRTL mark",
        "e\u0301 n\u0303 a\u0308 (combining marks, not precomposed)",
        "中文 日本語 한국어",
    ],
)
def test_unicode_passes_through_unchanged(comment):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [["metric", "period", "comment", "org_unit"], ["m.a", "2017-06", comment, comment[:10]]]
    )
    parsed = parse(buffer.getvalue())
    assert parsed.rows[0].comment == comment
    assert parsed.rows[0].org_unit == comment[:10].strip()


@given(
    st.lists(
        st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=60),
        min_size=1,
        max_size=5,
    )
)
def test_any_text_written_by_a_csv_writer_reads_back(comments):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["metric", "period", "comment"])
    for i, comment in enumerate(comments):
        writer.writerow([f"m.x{i}", "2017-06", comment])
    parsed = parse(buffer.getvalue())
    expected = [(f"m.x{i}", c.strip() or None) for i, c in enumerate(comments)]
    # A row whose every cell is blank cannot happen here: metric is always written.
    assert [(r.metric, r.comment) for r in parsed.rows] == expected
    assert parsed.rejected == []


@pytest.mark.parametrize("cell", ["NaN", "nan", "inf", "-inf", "Infinity", "1e999", "-1e400"])
def test_non_finite_numbers_are_rejected_rows(cell):
    parsed = parse(f"metric,period,value,numerator\nm.a,2017-06,{cell},\nm.b,2017-06,,{cell}\nm.c,2017-06,1,\n")
    assert rejected(parsed) == [(2, "value"), (3, "numerator")]
    assert all("must be a finite number" in r.reason for r in parsed.rejected)
    assert [r.metric for r in parsed.rows] == ["m.c"] and parsed.source_rows == [4]


@pytest.mark.parametrize("cell", ["twelve", "1,5", "1_000", "0x10", "١٢", "12%", "--1", "1e", "."])
def test_text_in_a_numeric_cell_is_rejected(cell):
    parsed = parse(f'metric,period,denominator\nm.a,2017-06,"{cell}"\n')
    assert rejected(parsed) == [(2, "denominator")]
    assert parsed.rejected[0].reason.startswith("denominator must be a finite number")


@pytest.mark.parametrize(("cell", "number"), [("12", 12.0), ("-0.5", -0.5), ("+3", 3.0), (".5", 0.5), ("1e3", 1000.0)])
def test_plain_decimal_numbers_are_read(cell, number):
    assert parse(f"metric,period,value\nm.a,2017-06,{cell}\n").rows[0].value == number


def test_empty_numeric_cells_are_null_and_short_rows_leave_trailing_cells_empty():
    parsed = parse("metric,period,value,comment\nm.a,2017-06\nm.b,2017-06,,\n")
    assert [(r.value, r.comment) for r in parsed.rows] == [(None, None), (None, None)]


def test_a_row_with_more_cells_than_the_header_is_rejected():
    parsed = parse("metric,period,value\nm.a,2017-06,1,extra\nm.b,2017-06,2\n")
    assert rejected(parsed) == [(2, "row")]
    assert "4 cells" in parsed.rejected[0].reason and "3 columns" in parsed.rejected[0].reason
    assert parsed.source_rows == [3]


def test_cells_the_row_model_refuses_are_rejected_with_their_field():
    parsed = parse(
        "metric,period,org_unit,comment,value\n"
        f"{'m' * 81},2017-06,,,1\n"
        f"m.a,2017-06,{'o' * 65},,1\n"
        "m.b,2017-06,,bad\x00byte,1\n"
        ",2017-06,,,1\n"
        "m.c,,,,1\n"
        "m.d,2017-06,,,1\n"
    )
    assert rejected(parsed) == [(2, "metric"), (3, "org_unit"), (4, "comment"), (5, "metric"), (6, "period")]
    reasons = [r.reason for r in parsed.rejected]
    assert reasons[0] == "metric is longer than 80 characters"
    assert reasons[1] == "org_unit is longer than 64 characters"
    assert reasons[2] == "comment contains a NUL character"
    assert reasons[3] == "metric is required"
    assert reasons[4] == "period is required"
    assert parsed.source_rows == [7]


def test_a_row_is_rejected_once_for_its_first_problem():
    parsed = parse("metric,period,value,numerator\n,2017-06,abc,NaN\nm.a,2017-06,abc,NaN\n")
    assert rejected(parsed) == [(2, "metric"), (3, "value")]


def test_the_period_goes_through_as_written():
    parsed = parse("metric,period\nm.a,201706\nm.b,2017-13\nm.c,someday\n")
    assert [r.period for r in parsed.rows] == ["201706", "2017-13", "someday"]


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("metric,period,colour", ["unknown column 'colour'"]),
        ("metric,period,value,Value", ["duplicate column 'value'"]),
        ("metric,value", ["missing required column 'period'"]),
        ("value", ["missing required column 'metric'", "missing required column 'period'"]),
        ("metric,period,", ["unknown column (empty, column 3)"]),
    ],
)
def test_a_bad_header_makes_the_request_malformed(header, named):
    with pytest.raises(BadRequest) as caught:
        parse(f"{header}\nm.a,2017-06,1\n")
    assert [e["reason"] for e in caught.value.errors] == named
    for reason in named:
        assert reason in caught.value.detail


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf \r\n\r\n", "empty"),
        (b"metric,period,value\r\n\r\n", "no data rows"),
        ("metric,period\nCafé,2017\n".encode("latin-1"), "not UTF-8"),
        (b'metric,period\nm.a,"2017-06\n', "cannot be read as CSV"),
        (b'metric,period\nm.a,"2017"-06\n', "cannot be read as CSV"),
    ],
)
def test_unusable_bodies_are_bad_requests(body, words):
    with pytest.raises(BadRequest) as caught:
        parse_observation_csv(body)
    assert words in caught.value.detail
    assert caught.value.status_code == 400


def test_a_real_city_file_with_its_own_columns_is_refused_naming_them():
    # The shared data is part of the test set-up: its absence is a failure, not a skip.
    assert SF_MEASURES.exists(), f"{SF_MEASURES} is missing; ../shared must sit beside the checkout"
    with pytest.raises(BadRequest) as caught:
        parse_observation_csv(SF_MEASURES.read_bytes())
    reasons = [e["reason"] for e in caught.value.errors]
    assert "unknown column 'KPI_CODE'" in reasons
    assert "unknown column 'FY 2013   Total Actual Data'" in reasons
    assert reasons[-2:] == ["missing required column 'metric'", "missing required column 'period'"]


def test_real_measures_rewritten_as_citystat_csv_read_back_exactly():
    # The shared data is part of the test set-up: its absence is a failure, not a skip.
    assert SF_MEASURES.exists(), f"{SF_MEASURES} is missing; ../shared must sit beside the checkout"
    with SF_MEASURES.open(encoding="utf-8", newline="") as source:
        measures = list(csv.DictReader(source))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["org_unit", "metric", "period", "value", "comment"])
    for m in measures:
        writer.writerow(
            [m["Dept"], m["KPI_CODE"], "2013", m["FY 2013   Total Actual Data"], m["FY 2013   Yr End Dept Comment"]]
        )
    parsed = parse_observation_csv(buffer.getvalue().encode("utf-8"))
    assert parsed.rejected == []
    assert len(parsed.rows) == len(measures) == 1002
    assert parsed.source_rows == list(range(2, 1004))
    for m, row in zip(measures, parsed.rows, strict=True):
        actual = m["FY 2013   Total Actual Data"].strip()
        assert row.value == (float(actual) if actual else None)
        assert row.comment == (m["FY 2013   Yr End Dept Comment"].strip() or None)
        assert (row.metric, row.org_unit) == (m["KPI_CODE"].strip(), m["Dept"].strip() or None)
    assert any(row.comment and any(ord(ch) > 127 for ch in row.comment) for row in parsed.rows)
