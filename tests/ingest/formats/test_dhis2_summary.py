import json

import pytest

from services.common.contracts import ImportStrategy, ImportSummary, RejectedRow
from services.common.errors import BadRequest
from services.common.periods import Period
from services.ingest.formats import dhis2_import_summary, dhis2_period, parse_import_strategy


@pytest.mark.parametrize(
    ("dhis2", "citystat"),
    [
        ("201706", "2017-06"),
        ("201701", "2017-01"),
        ("201712", "2017-12"),
        ("2017Q2", "2017-Q2"),
        ("2017Q4", "2017-Q4"),
        ("2017W23", "2017-W23"),
        ("2017W5", "2017-W05"),
        ("2017W05", "2017-W05"),
        ("2015W53", "2015-W53"),
        ("2017", "2017"),
        ("2017-06", "2017-06"),
        ("2017-Q2", "2017-Q2"),
        ("2017-W23", "2017-W23"),
    ],
)
def test_supported_periods_become_citystat_periods(dhis2, citystat):
    assert dhis2_period(dhis2) == citystat
    assert str(Period.parse(citystat)) == citystat


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("20170601", "not a supported period"),  # daily
        ("2017S1", "not a supported period"),  # six-monthly
        ("2017BiW1", "not a supported period"),  # bi-weekly
        ("2017AprilS1", "not a supported period"),  # six-monthly April
        ("2017July", "not a supported period"),  # financial July
        ("201701B", "not a supported period"),  # bi-monthly
        ("2017WedW5", "not a supported period"),  # weekly from Wednesday
        ("201713", "there is no month 13"),
        ("201700", "there is no month 0"),
        ("2017Q5", "there is no quarter 5"),
        ("2017W54", "there is no week 54"),
        ("2017W0", "there is no week 0"),
        ("2017W53", "2017 has no ISO week 53"),
        ("180001", "year 1800 is outside"),
        ("2017-13", "not a supported period"),
        ("", "not a supported period"),
        ("２０１７", "not a supported period"),  # full-width digits, which Period.parse's \d lets through
        ("٢٠١٧-06", "not a supported period"),  # Arabic-Indic digits
        ("2017-06\n", "not a supported period"),
        ("2017\n", "not a supported period"),
    ],
)
def test_other_periods_are_refused_saying_what_is_supported(text, why):
    with pytest.raises(ValueError) as caught:
        dhis2_period(text)
    assert why in str(caught.value)
    assert "monthly 201706, quarterly 2017Q2 and ISO-weekly 2017W23" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("CREATE_AND_UPDATE", ImportStrategy.create_and_update),
        ("create_and_update", ImportStrategy.create_and_update),
        ("NEW_AND_UPDATES", ImportStrategy.create_and_update),
        ("CREATE", ImportStrategy.create),
        ("new", ImportStrategy.create),
        ("Update", ImportStrategy.update),
        ("UPDATES", ImportStrategy.update),
        ("DELETE", ImportStrategy.delete),
        (" deletes ", ImportStrategy.delete),
    ],
)
def test_import_strategy_names(text, strategy):
    assert parse_import_strategy(text) is strategy


@pytest.mark.parametrize("text", ["SYNC", "REPLACE", "", "CREATE AND UPDATE", "create-and-update"])
def test_unknown_import_strategies_are_bad_requests(text):
    with pytest.raises(BadRequest) as caught:
        parse_import_strategy(text)
    assert caught.value.errors[0]["field"] == "importStrategy"
    assert "CREATE_AND_UPDATE, CREATE, UPDATE, DELETE" in caught.value.detail


def test_a_clean_import_is_dhis2s_success_message():
    summary = ImportSummary(accepted=3, updated=2, unchanged=1, ignored=4, deleted=0)
    message = dhis2_import_summary(summary, strategy=ImportStrategy.create_and_update, dry_run=False)
    assert message == {
        "httpStatus": "OK",
        "httpStatusCode": 200,
        "status": "OK",
        "message": "Import was successful.",
        "response": {
            "responseType": "ImportSummary",
            "status": "SUCCESS",
            "importOptions": {"dryRun": False, "async": False, "importStrategy": "CREATE_AND_UPDATE"},
            "description": "Import process completed successfully",
            "importCount": {"imported": 3, "updated": 2, "ignored": 5, "deleted": 0},
            "conflicts": [],
            "rejectedIndexes": [],
            "dataSetComplete": "false",
        },
    }
    assert json.loads(json.dumps(message)) == message


def test_rejected_rows_are_conflicts_merged_by_reason_as_dhis2_does():
    summary = ImportSummary(
        accepted=1,
        unchanged=1,
        rejected=[
            RejectedRow(row=0, field="metric", reason="unknown metric 'x'"),
            RejectedRow(row=2, field="period", reason="'2017S1' is not a supported period"),
            RejectedRow(row=5, field="metric", reason="unknown metric 'x'"),
            RejectedRow(row=4, field="org_unit", reason="org_unit is longer than 64 characters"),
            RejectedRow(row=3, field="value", reason="value must be a finite number, not 'NaN'"),
        ],
    )
    message = dhis2_import_summary(summary, strategy=ImportStrategy.update, dry_run=True)
    assert (message["httpStatus"], message["httpStatusCode"], message["status"]) == ("Conflict", 409, "WARNING")
    assert message["message"] == "One more conflicts encountered, please check import summary."
    response = message["response"]
    assert response["status"] == "WARNING"
    assert response["importOptions"] == {"dryRun": True, "async": False, "importStrategy": "UPDATE"}
    assert response["importCount"] == {"imported": 1, "updated": 0, "ignored": 6, "deleted": 0}
    assert response["rejectedIndexes"] == [0, 2, 3, 4, 5]
    assert response["conflicts"] == [
        {"object": "dataElement", "property": "dataElement", "value": "unknown metric 'x'", "indexes": [0, 5]},
        {"object": "period", "property": "period", "value": "'2017S1' is not a supported period", "indexes": [2]},
        {"object": "orgUnit", "property": "orgUnit", "value": "org_unit is longer than 64 characters", "indexes": [4]},
        {"object": "value", "property": "value", "value": "value must be a finite number, not 'NaN'", "indexes": [3]},
    ]


def test_a_row_counts_once_even_with_two_rejections():
    summary = ImportSummary(
        rejected=[RejectedRow(row=1, field="value", reason="a"), RejectedRow(row=1, field="period", reason="b")]
    )
    response = dhis2_import_summary(summary, strategy=ImportStrategy.create, dry_run=False)["response"]
    assert response["importCount"]["ignored"] == 1
    assert response["rejectedIndexes"] == [1]
    assert response["importOptions"]["importStrategy"] == "CREATE"


def test_deletes_are_counted():
    summary = ImportSummary(deleted=4, ignored=1)
    response = dhis2_import_summary(summary, strategy=ImportStrategy.delete, dry_run=False)["response"]
    assert response["importCount"] == {"imported": 0, "updated": 0, "ignored": 1, "deleted": 4}
    assert response["importOptions"]["importStrategy"] == "DELETE"


def test_an_aborted_all_or_nothing_import_is_an_error_that_stored_nothing():
    summary = ImportSummary(accepted=2, updated=1, rejected=[RejectedRow(row=3, field="value", reason="too big")])
    message = dhis2_import_summary(summary, strategy=ImportStrategy.create_and_update, dry_run=False, aborted=True)
    assert (message["httpStatusCode"], message["status"], message["response"]["status"]) == (409, "ERROR", "ERROR")
    assert message["message"] == "An error occurred, please check import summary."
    assert message["response"]["importCount"] == {"imported": 0, "updated": 0, "ignored": 4, "deleted": 0}
    assert message["response"]["rejectedIndexes"] == [3]
    assert message["response"]["description"].startswith("Import process was aborted")
