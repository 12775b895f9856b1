import json

import pytest

from services.common.errors import BadRequest, Unprocessable
from services.ingest.formats import parse_data_value_set_json


def parse(payload):
    return parse_data_value_set_json(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def rejected(parsed):
    return [(r.row, r.field) for r in parsed.rejected]


def test_the_documented_example_with_set_level_period_and_org_unit():
    # The "Sending data values" example of the DHIS2 Web API guide, with CityStat metric keys.
    parsed = parse(
        {
            "dataSet": "pBOMPrpg1QX",
            "completeDate": "2014-02-03",
            "period": "201401",
            "orgUnit": "DiszpKrYNg8",
            "attributeOptionCombo": "aocID",
            "dataValues": [
                {"dataElement": "dpw.measles", "categoryOptionCombo": "cocID", "value": "12", "comment": "c1"},
                {"dataElement": "dpw.dysentery", "value": "14"},
                {"dataElement": "dpw.cholera", "value": "16"},
            ],
        }
    )
    assert [(r.metric, r.period, r.org_unit, r.value, r.comment) for r in parsed.rows] == [
        ("dpw.measles", "2014-01", "DiszpKrYNg8", 12.0, "c1"),
        ("dpw.dysentery", "2014-01", "DiszpKrYNg8", 14.0, None),
        ("dpw.cholera", "2014-01", "DiszpKrYNg8", 16.0, None),
    ]
    assert parsed.source_rows == [0, 1, 2]
    assert parsed.rejected == []


def test_values_name_their_own_period_and_org_unit_over_the_sets():
    parsed = parse(
        {
            "period": "2014Q1",
            "orgUnit": "OUTER",
            "dataValues": [
                {"dataElement": "m.a", "period": "201402", "orgUnit": "INNER", "value": "1"},
                {"dataElement": "m.a", "period": "", "orgUnit": "  ", "value": "2"},
                {"dataElement": "m.a", "value": "3"},
            ],
        }
    )
    assert [(r.period, r.org_unit) for r in parsed.rows] == [
        ("2014-02", "INNER"),
        ("2014-Q1", "OUTER"),
        ("2014-Q1", "OUTER"),
    ]


def test_bulk_form_without_set_level_fields():
    parsed = parse(
        {
            "dataValues": [
                {"dataElement": "m.a", "period": "201401", "orgUnit": "A", "value": "12"},
                {"dataElement": "m.a", "period": "2014W2", "orgUnit": "B", "value": "14"},
                {"dataElement": "m.a", "period": "2014", "value": "16"},
            ]
        }
    )
    assert [(r.period, r.org_unit) for r in parsed.rows] == [("2014-01", "A"), ("2014-W02", "B"), ("2014", None)]


def test_values_may_be_strings_or_numbers():
    parsed = parse(
        {
            "period": "201706",
            "dataValues": [
                {"dataElement": "m.a", "value": "12.5"},
                {"dataElement": "m.b", "value": 7},
                {"dataElement": "m.c", "value": -0.25},
                {"dataElement": "m.d", "value": " 3 "},
                {"dataElement": "m.e", "value": ""},
                {"dataElement": "m.f", "value": None},
                {"dataElement": "m.g"},
            ],
        }
    )
    assert [r.value for r in parsed.rows] == [12.5, 7.0, -0.25, 3.0, None, None, None]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "inf", "twelve", "1,5", "1e999", 10**400])
def test_values_that_are_not_finite_numbers_are_rejected_rows(value):
    parsed = parse({"period": "201706", "dataValues": [{"dataElement": "m.a", "value": value}, {"dataElement": "m.b"}]})
    assert rejected(parsed) == [(0, "value")]
    assert "must be a finite number" in parsed.rejected[0].reason
    assert parsed.source_rows == [1]


@pytest.mark.parametrize("value", [True, [1], {"v": 1}])
def test_a_value_of_the_wrong_json_type_makes_the_request_malformed(value):
    with pytest.raises(Unprocessable) as caught:
        parse({"period": "201706", "dataValues": [{"dataElement": "m.a"}, {"dataElement": "m.b", "value": value}]})
    assert caught.value.errors == [
        {"row": 1, "field": "value", "reason": f"must be a string or a number, not a JSON {_kind(value)}"}
    ]


def _kind(value) -> str:
    return {bool: "boolean", list: "array", dict: "object"}[type(value)]


def test_a_json_number_too_large_for_a_float_is_rejected_not_stored_as_infinity():
    body = b'{"period": "201706", "dataValues": [{"dataElement": "m.a", "value": 1e999}]}'
    parsed = parse_data_value_set_json(body)
    assert rejected(parsed) == [(0, "value")]


def test_periods_dhis2_cannot_map_are_rejected_rows_with_the_reason():
    parsed = parse(
        {
            "orgUnit": "X",
            "dataValues": [
                {"dataElement": "m.a", "period": "20170601", "value": "1"},
                {"dataElement": "m.a", "period": "2017S1", "value": "1"},
                {"dataElement": "m.a", "value": "1"},
                {"dataElement": "m.a", "period": "2017W23", "value": "1"},
            ],
        }
    )
    assert rejected(parsed) == [(0, "period"), (1, "period"), (2, "period")]
    reasons = [r.reason for r in parsed.rejected]
    assert "monthly 201706" in reasons[0] and "'2017S1'" in reasons[1]
    assert reasons[2].startswith("period is required")
    assert parsed.source_rows == [3]
    with pytest.raises(Unprocessable) as caught:
        parse({"dataValues": [{"dataElement": "m.a", "period": 201706, "value": "1"}]})
    assert caught.value.errors == [
        {"row": 0, "field": "period", "reason": "must be a string or null, not a JSON number"}
    ]


def test_a_bad_set_level_period_rejects_the_values_that_rely_on_it():
    parsed = parse(
        {
            "period": "2017BiW1",
            "dataValues": [{"dataElement": "m.a", "value": "1"}, {"dataElement": "m.b", "period": "2017"}],
        }
    )
    assert rejected(parsed) == [(0, "period")]
    assert [r.metric for r in parsed.rows] == ["m.b"]
    with pytest.raises(Unprocessable) as caught:
        parse({"orgUnit": 5, "period": "2017", "dataValues": [{"dataElement": "m.a"}]})
    assert caught.value.errors == [{"field": "orgUnit", "reason": "must be a string or null, not a JSON number"}]


def test_an_empty_data_element_is_a_rejected_row_a_missing_one_a_malformed_request():
    parsed = parse(
        {"period": "2017", "dataValues": [{"dataElement": None, "value": "1"}, {"dataElement": "", "value": "1"}]}
    )
    assert [(r.row, r.field, r.reason) for r in parsed.rejected] == [
        (0, "metric", "dataElement is required"),
        (1, "metric", "dataElement is required"),
    ]
    with pytest.raises(Unprocessable) as caught:
        parse({"period": "2017", "dataValues": [{"value": "1"}]})
    assert caught.value.errors == [{"row": 0, "field": "dataElement", "reason": "is required"}]


def test_keys_dhis2_defines_or_not_are_ignored():
    parsed = parse(
        {
            "dataSet": "ds",
            "completeDate": "2017-07-01",
            "idScheme": "CODE",
            "somethingNew": {"nested": True},
            "period": "201706",
            "dataValues": [
                {
                    "dataElement": "m.a",
                    "value": "4",
                    "categoryOptionCombo": "coc",
                    "attributeOptionCombo": "aoc",
                    "storedBy": "admin",
                    "created": "2017-07-01T10:00:00.000",
                    "lastUpdated": "2017-07-01T10:00:00.000",
                    "followup": True,
                    "deleted": False,
                    "mystery": [1, 2],
                }
            ],
        }
    )
    assert [(r.metric, r.value) for r in parsed.rows] == [("m.a", 4.0)]


def test_a_value_marked_deleted_is_rejected_rather_than_stored():
    parsed = parse(
        {
            "period": "201706",
            "dataValues": [{"dataElement": "m.a", "value": "4", "deleted": True}, {"dataElement": "m.b", "value": "5"}],
        }
    )
    assert rejected(parsed) == [(0, "deleted")]
    assert "importStrategy=DELETE" in parsed.rejected[0].reason


def test_unicode_and_long_text_are_checked_like_every_other_row():
    comment = "Réparé 🚧 — تم الإصلاح e\u0301"
    parsed = parse(
        {
            "period": "201706",
            "dataValues": [
                {"dataElement": "m.a", "value": "1", "comment": comment, "orgUnit": "Zürich-Nord"},
                {"dataElement": "m.b", "value": "1", "orgUnit": "o" * 65},
                {"dataElement": "m.c", "value": "1", "comment": "nul\x00"},
            ],
        }
    )
    assert (parsed.rows[0].comment, parsed.rows[0].org_unit) == (comment, "Zürich-Nord")
    assert [(r.row, r.field, r.reason) for r in parsed.rejected] == [
        (1, "org_unit", "org_unit is longer than 64 characters"),
        (2, "comment", "comment contains a NUL character"),
    ]


def test_an_empty_data_values_array_is_an_empty_import():
    parsed = parse({"dataValues": []})
    assert (parsed.rows, parsed.source_rows, parsed.rejected) == ([], [], [])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"not json", "not valid JSON"),
        (b'{"dataValues": [', "not valid JSON"),
        (b"[]", "must be a JSON object, not a JSON array"),
        (b"null", "not a JSON null"),
        (b'{"period": "201706"}', "needs a dataValues array; it is missing"),
        (b'{"dataValues": {"dataElement": "m.a"}}', "a JSON object, not an array"),
        (b'{"dataValues": [{"dataElement": "m.a"}, "m.b", 3]}', "dataValues[1], dataValues[2]"),
        (b'{"dataValues": [{"dataElement": "m.a", "value": NaN}]}', "NaN"),
        (b'{"dataValues": [{"dataElement": "m.a", "value": Infinity}]}', "Infinity"),
        (b'{"dataValues": [{"dataElement": "m.a", "value": -Infinity}]}', "-Infinity"),
        ('{"dataValues": [{"comment": "Café"}]}'.encode("latin-1"), "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_payloads_are_bad_requests(body, words):
    with pytest.raises(BadRequest) as caught:
        parse_data_value_set_json(body)
    assert words in caught.value.detail


@pytest.mark.parametrize("options", [{"dryRun": True}, {"dryRun": False}, {"importStrategy": "DELETE"}])
def test_import_options_inside_the_payload_are_refused(options):
    with pytest.raises(BadRequest) as caught:
        parse({**options, "dataValues": [{"dataElement": "m.a", "period": "2017", "value": "1"}]})
    assert "query parameters" in caught.value.detail
    assert [e["field"] for e in caught.value.errors] == list(options)


def test_a_bom_is_accepted():
    body = b'\xef\xbb\xbf{"period": "2017Q3", "dataValues": [{"dataElement": "m.a", "value": 2}]}'
    assert parse_data_value_set_json(body).rows[0].period == "2017-Q3"
