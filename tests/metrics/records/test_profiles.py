"""Mapping profiles as data: what an admin may POST, and the built-in profiles for real feeds."""

import pytest
from pydantic import ValidationError

from services.metrics.records.profiles import (
    BUILTIN_PROFILES,
    FIELD_TARGETS,
    ProfileCreate,
    ProfileDefinition,
    SourceConnector,
)

MINIMAL = {
    "time_zone": "America/Chicago",
    "fields": {"record_id": ["Ticket"], "opened_at": ["Opened"]},
}


def definition(**changes) -> dict:
    return {**MINIMAL, **changes}


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " | ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.value.errors())


def test_a_minimal_definition_gets_the_documented_defaults():
    profile = ProfileDefinition.model_validate(MINIMAL)
    assert profile.dataset == "service_requests"
    assert profile.format == "csv"
    assert profile.timestamp_formats == ["iso8601"]
    assert profile.null_values == ["", "NA", "N/A", "null"]
    assert profile.keep == {}
    assert profile.source_connector is None


def test_every_builtin_round_trips_through_its_json_form():
    assert set(BUILTIN_PROFILES) == {"citystat", "open311", "nyc311", "boston311", "la311"}
    for name, profile in BUILTIN_PROFILES.items():
        stored = profile.model_dump(mode="json")
        assert ProfileDefinition.model_validate(stored) == profile, name
        # What the admin API will accept is exactly what the built-ins are written in.
        created = ProfileCreate.model_validate({"name": f"copy-of-{name}", "definition": stored})
        assert created.definition == profile


@pytest.mark.parametrize("zone", ["America/Atlantis", "EST5EDT-ish", "", "America", "../etc/passwd"])
def test_time_zone_must_be_an_iana_name(zone):
    with pytest.raises(ValidationError) as exc:
        ProfileDefinition.model_validate(definition(time_zone=zone))
    assert "time_zone" in errors_of(exc) and "IANA" in errors_of(exc)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_real_zones_are_accepted(zone):
    assert ProfileDefinition.model_validate(definition(time_zone=zone)).time_zone == zone


@pytest.mark.parametrize(
    "fmt",
    ["iso8601", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%d.%m.%Y %H:%M", "%Y%m%dT%H%M%S%z", "%d %b %Y"],
)
def test_timestamp_formats_that_give_a_date_are_accepted(fmt):
    assert ProfileDefinition.model_validate(definition(timestamp_formats=[fmt])).timestamp_formats == [fmt]


@pytest.mark.parametrize(
    ("fmt", "why"),
    [
        ("YYYY-MM-DD", "neither 'iso8601' nor a strptime format"),
        ("ISO8601", "neither 'iso8601' nor a strptime format"),
        ("%H:%M:%S", "does not give the year, month and day"),
        ("%m/%d %H:%M", "does not give the year, month and day"),
        ("%Y-%Q", "not a usable strptime format"),
        ("%Y %Y-%m-%d", "not a usable strptime format"),
    ],
)
def test_timestamp_formats_that_cannot_give_a_timestamp_are_refused(fmt, why):
    with pytest.raises(ValidationError) as exc:
        ProfileDefinition.model_validate(definition(timestamp_formats=[fmt]))
    assert why in errors_of(exc)


def test_at_least_one_timestamp_format():
    with pytest.raises(ValidationError):
        ProfileDefinition.model_validate(definition(timestamp_formats=[]))


def test_field_targets_are_the_fixed_list():
    assert FIELD_TARGETS == (
        "record_id",
        "agency",
        "agency_name",
        "category",
        "status",
        "opened_at",
        "closed_at",
        "due_at",
        "org_unit",
        "district",
        "latitude",
        "longitude",
        "source",
    )
    with pytest.raises(ValidationError) as exc:
        ProfileDefinition.model_validate(definition(fields={**MINIMAL["fields"], "priority": ["Priority"]}))
    assert "fields.priority" in errors_of(exc)


@pytest.mark.parametrize("missing", ["record_id", "opened_at"])
def test_record_id_and_opened_at_are_required(missing):
    fields = {k: v for k, v in MINIMAL["fields"].items() if k != missing}
    with pytest.raises(ValidationError) as exc:
        ProfileDefinition.model_validate(definition(fields=fields))
    assert missing in errors_of(exc)


@pytest.mark.parametrize("columns", [[], [""], ["  "]])
def test_a_target_names_at_least_one_real_column(columns):
    with pytest.raises(ValidationError):
        ProfileDefinition.model_validate(definition(fields={**MINIMAL["fields"], "status": columns}))


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_formats(fmt):
    assert ProfileDefinition.model_validate(definition(format=fmt)).format == fmt


def test_unknown_format_and_unknown_keys_are_refused():
    with pytest.raises(ValidationError):
        ProfileDefinition.model_validate(definition(format="xml"))
    with pytest.raises(ValidationError) as exc:
        ProfileDefinition.model_validate(definition(timezone="UTC"))
    assert "timezone" in errors_of(exc)


def test_keep_as_a_list_means_attribute_names_equal_to_columns():
    profile = ProfileDefinition.model_validate(definition(keep=["ontime", "Descriptor"]))
    assert profile.keep == {"ontime": ["ontime"], "Descriptor": ["Descriptor"]}
    variants = ProfileDefinition.model_validate(definition(keep={"nc": ["nc", "NC"]}))
    assert variants.keep == {"nc": ["nc", "NC"]}


def test_null_values_are_compared_stripped():
    profile = ProfileDefinition.model_validate(definition(null_values=[" NA ", "-"]))
    assert profile.null_values == ["NA", "-"]


def test_departments_map_to_department_codes():
    profile = ProfileDefinition.model_validate(definition(departments={"PWDx": "PWD"}, department="DPW"))
    assert profile.departments == {"PWDx": "PWD"}
    with pytest.raises(ValidationError):
        ProfileDefinition.model_validate(definition(departments={"PWDx": "pwd"}))
    with pytest.raises(ValidationError):
        ProfileDefinition.model_validate(definition(department="Public Works"))


def test_open311_connector_asks_for_updated_after_by_default():
    connector = SourceConnector.model_validate(
        {"kind": "open311", "url": "https://311.example.gov/open311/v2/requests.json", "every_minutes": 15}
    )
    assert connector.since_param == "updated_after"
    own = SourceConnector.model_validate(
        {"kind": "open311", "url": "http://127.0.0.1:8080/requests.json", "every_minutes": 1, "since_param": "start"}
    )
    assert own.since_param == "start"
    plain = SourceConnector.model_validate(
        {"kind": "csv", "url": "https://data.example.gov/x.csv", "every_minutes": 60}
    )
    assert plain.since_param is None


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "ftp://data.example.gov/x.csv"},
        {"url": "file:///etc/passwd"},
        {"url": "https://"},
        {"url": "https://user:secret@data.example.gov/x.csv"},
        {"every_minutes": 0},
        {"every_minutes": 1.5},
        {"kind": "xml"},
        {"since_param": "a b"},
        {"schedule": "hourly"},
    ],
)
def test_bad_connectors_are_refused(changes):
    with pytest.raises(ValidationError):
        SourceConnector.model_validate(
            {"kind": "ndjson", "url": "https://data.example.gov/x.ndjson", "every_minutes": 5, **changes}
        )


def test_a_profile_carries_its_connector():
    profile = ProfileDefinition.model_validate(
        definition(
            format="json",
            source_connector={"kind": "open311", "url": "https://311.example.gov/requests.json", "every_minutes": 30},
        )
    )
    assert profile.source_connector is not None
    assert profile.source_connector.kind == "open311"
    assert profile.source_connector.since_param == "updated_after"


@pytest.mark.parametrize("name", ["A", "x", "has space", "UPPER", "1abc", "a" * 65])
def test_profile_names(name):
    with pytest.raises(ValidationError):
        ProfileCreate.model_validate({"name": name, "definition": MINIMAL})


def test_profile_create_shape():
    created = ProfileCreate.model_validate({"name": "chicago311", "description": "Chicago", "definition": MINIMAL})
    assert created.name == "chicago311"
    assert created.definition.fields == {"record_id": ["Ticket"], "opened_at": ["Opened"]}
    with pytest.raises(ValidationError):
        ProfileCreate.model_validate({"name": "chicago311", "definition": MINIMAL, "builtin": True})


def test_builtins_name_what_the_issue_lists():
    open311 = BUILTIN_PROFILES["open311"]
    assert open311.fields["record_id"] == ["service_request_id"]
    assert open311.fields["opened_at"] == ["requested_datetime"]
    assert open311.fields["due_at"] == ["expected_datetime"]
    assert open311.fields["agency"] == ["agency_responsible"]
    assert open311.fields["category"] == ["service_code", "service_name"]
    assert "updated_datetime" in open311.keep
    nyc = BUILTIN_PROFILES["nyc311"]
    assert nyc.time_zone == "America/New_York"
    assert nyc.timestamp_formats[0] == "%m/%d/%Y %I:%M:%S %p"
    assert nyc.fields["due_at"][0] == "Due Date" and nyc.fields["agency"][0] == "Agency"
    boston = BUILTIN_PROFILES["boston311"]
    assert boston.fields["due_at"] == ["target_dt"] and "ontime" in boston.keep
    la = BUILTIN_PROFILES["la311"]
    assert la.time_zone == "America/Los_Angeles"
    assert la.fields["record_id"] == ["srnumber", "SRNumber"]
    assert la.fields["opened_at"] == ["createddate", "CreatedDate"]
    assert "_daystoclose" in la.keep
