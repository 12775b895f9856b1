import pytest

from services.common.errors import BadRequest
from services.ingest.formats import parse_data_value_set_csv


def parse(text: str):
    return parse_data_value_set_csv(text.encode("utf-8"))


def rejected(parsed):
    return [(r.row, r.field) for r in parsed.rejected]


def test_the_documented_import_example_with_its_header():
    # DHIS2 Web API guide, "CSV data value format" (old header names, a short row without a comment).
    parsed = parse(
        '"dataelement","period","orgunit","catoptcombo","attroptcombo","value","storedby","timestamp"\n'
        '"dpw.visits","201202","gP6hn503KUX","Prlt0C1RF0s",,"7","bombali","2010-04-17"\n'
        '"dpw.visits","201202","OjTS752GbZE","V6L425pT3A0",,"9","bombali","2010-04-06"\n'
    )
    assert [(r.metric, r.period, r.org_unit, r.value, r.comment) for r in parsed.rows] == [
        ("dpw.visits", "2012-02", "gP6hn503KUX", 7.0, None),
        ("dpw.visits", "2012-02", "OjTS752GbZE", 9.0, None),
    ]
    # The header is record 1, as a spreadsheet numbers it.
    assert parsed.source_rows == [2, 3]


def test_dhis2_export_with_every_column_reads_comment_and_ignores_the_rest():
    parsed = parse(
        "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,storedby,lastupdated,"
        "comment,followup,deleted\r\n"
        'm.a,201401,OU1,coc,aoc,12,system,2015-04-05T19:58:12.000,"first, ok",true,false\r\n'
    )
    assert [(r.metric, r.period, r.org_unit, r.value, r.comment) for r in parsed.rows] == [
        ("m.a", "2014-01", "OU1", 12.0, "first, ok")
    ]


def test_without_a_header_the_first_record_is_data():
    parsed = parse("m.a,2017Q2,OU,,,5\nm.b,2017W5,OU,,,6\n")
    assert [(r.metric, r.period) for r in parsed.rows] == [("m.a", "2017-Q2"), ("m.b", "2017-W05")]
    assert parsed.source_rows == [1, 2]


def test_header_detection_ignores_case_and_a_bom():
    parsed = parse_data_value_set_csv(b"\xef\xbb\xbfDataElement,Period,OrgUnit\r\nm.a,2017,OU\r\n")
    assert parsed.source_rows == [2]
    assert parsed.rows[0].period == "2017"


def test_quoted_cells_blank_lines_and_unicode():
    parsed = parse(
        "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment\n"
        "\n"
        'm.a,201706,Zürich,,,"1.5",,,"Réparé, 🚧\nتم"\n'
        "m.b,201707,OU,,,2,,,\n"
    )
    assert [(r.org_unit, r.comment) for r in parsed.rows] == [("Zürich", "Réparé, 🚧\nتم"), ("OU", None)]
    assert parsed.source_rows == [3, 4]


@pytest.mark.parametrize("period", ["20170601", "2017S1", "2017BiW1", "2017AprilS1", "2017July", "201713", "2017Q5"])
def test_periods_outside_the_supported_forms_are_rejected_rows(period):
    parsed = parse(f"m.a,{period},OU,,,1\nm.b,201706,OU,,,1\n")
    assert rejected(parsed) == [(1, "period")]
    assert "monthly 201706" in parsed.rejected[0].reason
    assert parsed.source_rows == [2]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e999", "abc", "1 000"])
def test_values_that_are_not_finite_numbers_are_rejected_rows(value):
    parsed = parse(f'm.a,201706,OU,,,"{value}"\n')
    assert rejected(parsed) == [(1, "value")]
    assert "must be a finite number" in parsed.rejected[0].reason


def test_missing_cells_mean_empty_and_extra_cells_are_ignored():
    parsed = parse("m.a,201706\nm.b,201706,OU,,,3,,,c,false,false,extra,more\n,201706,OU,,,1\nm.c,,OU,,,1\n")
    assert [(r.metric, r.org_unit, r.value, r.comment) for r in parsed.rows] == [
        ("m.a", None, None, None),
        ("m.b", "OU", 3.0, "c"),
    ]
    assert [(r.row, r.field, r.reason) for r in parsed.rejected] == [
        (3, "metric", "dataElement is required"),
        (4, "period", "period is required (on the data value, or on the data value set for all)"),
    ]


def test_a_row_marked_deleted_is_rejected():
    parsed = parse("m.a,201706,OU,,,1,,,,false,TRUE\nm.b,201706,OU,,,1,,,,true,false\n")
    assert rejected(parsed) == [(1, "deleted")]
    assert [r.metric for r in parsed.rows] == ["m.b"]


def test_a_header_with_columns_out_of_dhis2_order_is_refused():
    with pytest.raises(BadRequest) as caught:
        parse("dataelement,orgunit,period,value\nm.a,OU,201706,1\n")
    assert [(e["row"], e["field"]) for e in caught.value.errors] == [(1, "orgunit"), (1, "period"), (1, "value")]
    assert "position" in caught.value.detail


def test_unknown_names_in_a_header_are_ignored_like_dhis2_does():
    parsed = parse("dataelement,period,orgunit,x,y,value,who,when,note\nm.a,201706,OU,,,1,,,hello\n")
    assert [(r.value, r.comment) for r in parsed.rows] == [(1.0, "hello")]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"dataelement,period,orgunit,catoptcombo,attroptcombo,value\r\n", "no data rows"),
        (b"m.a,2017,\xff\xfe\n", "not UTF-8"),
        (b'm.a,"2017\n', "cannot be read as CSV"),
    ],
)
def test_unusable_bodies_are_bad_requests(body, words):
    with pytest.raises(BadRequest) as caught:
        parse_data_value_set_csv(body)
    assert words in caught.value.detail
