"""Mapping profiles: how one feed's columns, time zone and timestamp formats become raw records.

A profile is data, not code: the built-in ones below are written in the same `ProfileDefinition` an admin
POSTs, so a city can describe a feed no built-in covers without a release."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from services.common.types import INPUT_CONFIG, Code

__all__ = [
    "BUILTIN_PROFILES",
    "FIELD_TARGETS",
    "ISO8601",
    "ClosedByStatus",
    "FieldTarget",
    "HeaderVariant",
    "ProfileCreate",
    "ProfileDefinition",
    "SourceConnector",
]

FieldTarget = Literal[
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
]
FIELD_TARGETS: tuple[str, ...] = FieldTarget.__args__  # type: ignore[attr-defined]
REQUIRED_TARGETS = ("record_id", "opened_at")
ISO8601 = "iso8601"
RecordFormat = Literal["csv", "ndjson", "json"]

ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")]
ColumnVariants = Annotated[list[ColumnName], Field(min_length=1, max_length=20)]
ProfileName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]

# A fixed instant every directive can print and read back: if a format cannot round-trip it, or loses the
# date on the way, no cell in that format could give a full timestamp either.
_PROBE = dt.datetime(2017, 6, 14, 15, 4, 5, 123456, tzinfo=dt.UTC)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_format(fmt: str) -> str:
    if fmt == ISO8601:
        return fmt
    if "%" not in fmt:
        raise ValueError(f"{fmt!r} is neither 'iso8601' nor a strptime format")
    try:
        back = dt.datetime.strptime(_PROBE.strftime(fmt), fmt)
    except (ValueError, re.error) as exc:
        raise ValueError(f"{fmt!r} is not a usable strptime format: {exc}") from None
    if back.date() != _PROBE.date():
        raise ValueError(f"{fmt!r} does not give the year, month and day")
    return fmt


class HeaderVariant(BaseModel):
    """A named layout of one feed (e.g. LA's CamelCase exports), recognised by columns only it has: the import
    summary says which one a file used."""

    model_config = INPUT_CONFIG
    name: str = Field(min_length=1, max_length=100)
    columns: ColumnVariants


class ClosedByStatus(BaseModel):
    """For feeds with no close time (Open311 GeoReport v2): a record whose status is one of `statuses` was closed
    at the time in `time`, the feed's last-change time."""

    model_config = INPUT_CONFIG
    statuses: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]], Field(min_length=1)]
    time: ColumnVariants


class SourceConnector(BaseModel):
    """Where a profile's records can be pulled from on a schedule. Only the description lives here."""

    model_config = INPUT_CONFIG
    kind: Literal["open311", "csv", "ndjson"]
    url: str = Field(max_length=2000)
    every_minutes: int = Field(ge=1, le=527_040)
    # The query parameter that asks for "changed since"; None fetches everything each time (the upsert then
    # leaves unchanged records unchanged).
    since_param: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-\[\]]+$")
    # Fixed query parameters, e.g. an Open311 jurisdiction_id.
    params: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials")
        return value

    @model_validator(mode="after")
    def _default_since(self) -> SourceConnector:
        if self.kind == "open311" and self.since_param is None:
            self.since_param = "updated_after"
        return self


class ProfileDefinition(BaseModel):
    """How to read one feed: what an admin POSTs as a profile's definition."""

    model_config = INPUT_CONFIG

    dataset: str = Field(default="service_requests", pattern=r"^[a-z][a-z0-9_]{1,63}$")
    # The format of an upload when the loader is not told otherwise; a pull from an Open311 endpoint is JSON.
    format: RecordFormat = "csv"
    delimiter: Literal[",", ";", "\t", "|"] = ","
    # Naive timestamps are in this zone; a timestamp with an offset keeps its own.
    time_zone: str = Field(max_length=64)
    # Tried in order for every time cell; "iso8601" is datetime.fromisoformat.
    timestamp_formats: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=100)]], Field(min_length=1, max_length=10)
    ] = Field(default_factory=lambda: [ISO8601])
    # target -> column names; the first one the file has wins, so one profile reads several layouts of a feed.
    fields: dict[FieldTarget, ColumnVariants]
    # Columns copied into the record's attributes: a list of names, or {attribute: [column variants]}.
    keep: dict[ColumnName, ColumnVariants] = Field(default_factory=dict)
    header_variants: Annotated[list[HeaderVariant], Field(max_length=20)] = Field(default_factory=list)
    # Compared after stripping, so a cell of spaces is empty whatever this says.
    null_values: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=50)] = Field(
        default_factory=lambda: ["", "NA", "N/A", "null"]
    )
    closed_by_status: ClosedByStatus | None = None
    # The feed's agency value -> department code, where they differ.
    departments: dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], Code] = Field(
        default_factory=dict
    )
    # For a feed with no agency column: every record belongs to this department.
    department: Code | None = None
    source_connector: SourceConnector | None = None

    @field_validator("keep", mode="before")
    @classmethod
    def _keep_list(cls, value: object) -> object:
        if isinstance(value, list):
            return {name: [name] for name in value}
        return value

    @field_validator("time_zone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        if value not in _known_zones():
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. America/New_York)")
        return value

    @field_validator("timestamp_formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        return [_check_format(fmt) for fmt in value]

    @field_validator("null_values")
    @classmethod
    def _stripped(cls, value: list[str]) -> list[str]:
        # Cells are stripped before the comparison; an unstripped null value could never match.
        return [item.strip() for item in value]

    @model_validator(mode="after")
    def _required_targets(self) -> ProfileDefinition:
        missing = [target for target in REQUIRED_TARGETS if target not in self.fields]
        if missing:
            raise ValueError(f"fields must name the column(s) for {' and '.join(missing)}")
        return self


class ProfileCreate(BaseModel):
    """An admin's new mapping profile."""

    model_config = INPUT_CONFIG
    name: ProfileName
    description: str = Field(default="", max_length=2000)
    definition: ProfileDefinition


_US_12_HOUR = "%m/%d/%Y %I:%M:%S %p"
_SPACE_SEPARATED = "%Y-%m-%d %H:%M:%S"

OPEN311 = ProfileDefinition(
    # GeoReport v2 (https://wiki.open311.org/GeoReport_v2/): a pull gets the JSON list of requests; an upload of
    # the same records is usually CSV or NDJSON, so the loader says which format a file is in.
    format="csv",
    # The spec requires W3C timestamps with an offset; a server that leaves it out is read as UTC.
    time_zone="UTC",
    timestamp_formats=[ISO8601],
    fields={
        "record_id": ["service_request_id"],
        "opened_at": ["requested_datetime"],
        "closed_at": ["closed_datetime"],
        "due_at": ["expected_datetime"],
        "agency": ["agency_responsible"],
        "status": ["status"],
        "category": ["service_code", "service_name"],
        "latitude": ["lat"],
        "longitude": ["long"],
    },
    keep=["service_name", "updated_datetime", "address", "zipcode", "status_notes"],
    # GeoReport v2 has no close time: a closed request's last update is when it was closed.
    closed_by_status=ClosedByStatus(statuses=["closed"], time=["updated_datetime"]),
)

NYC311 = ProfileDefinition(
    time_zone="America/New_York",
    # The Open Data portal's CSV export prints 12-hour times; its SODA API answers ISO 8601.
    timestamp_formats=[_US_12_HOUR, ISO8601],
    fields={
        "record_id": ["Unique Key", "unique_key"],
        "opened_at": ["Created Date", "created_date"],
        "closed_at": ["Closed Date", "closed_date"],
        "due_at": ["Due Date", "due_date"],
        "agency": ["Agency", "agency"],
        "agency_name": ["Agency Name", "agency_name"],
        "category": ["Complaint Type", "complaint_type"],
        "status": ["Status", "status"],
        "org_unit": ["Borough", "borough"],
        "district": ["Community Board", "community_board"],
        "latitude": ["Latitude", "latitude"],
        "longitude": ["Longitude", "longitude"],
        "source": ["Open Data Channel Type", "open_data_channel_type"],
    },
    keep={
        "Descriptor": ["Descriptor", "descriptor"],
        "Location Type": ["Location Type", "location_type"],
        "Incident Zip": ["Incident Zip", "incident_zip"],
    },
    header_variants=[
        HeaderVariant(name="Title-Case export", columns=["Unique Key"]),
        HeaderVariant(name="SODA API names", columns=["unique_key"]),
    ],
    null_values=["", "NA", "N/A", "null", "Unspecified"],
)

BOSTON311 = ProfileDefinition(
    time_zone="America/New_York",
    timestamp_formats=[_SPACE_SEPARATED, ISO8601],
    fields={
        "record_id": ["case_enquiry_id"],
        "opened_at": ["open_dt"],
        "closed_at": ["closed_dt"],
        "due_at": ["target_dt"],
        "agency": ["department"],
        "category": ["type"],
        "status": ["case_status"],
        # The queue is the team a case is routed to: the department's own unit.
        "org_unit": ["queue"],
        "district": ["pwd_district", "neighborhood"],
        "latitude": ["latitude"],
        "longitude": ["longitude"],
        "source": ["source"],
    },
    # `ontime` is the city's own verdict, kept to check ours against.
    keep=["ontime", "subject", "reason", "neighborhood"],
    # Boston's codes that are not CityStat department codes.
    departments={"PWDx": "PWD"},
)

LA311 = ProfileDefinition(
    time_zone="America/Los_Angeles",
    # The 2020 export prints "2020-01-01 00:05:00"; earlier exports print 12-hour US times.
    timestamp_formats=[_SPACE_SEPARATED, _US_12_HOUR, ISO8601],
    fields={
        "record_id": ["srnumber", "SRNumber"],
        "opened_at": ["createddate", "CreatedDate"],
        "closed_at": ["closeddate", "ClosedDate"],
        "agency": ["owner", "Owner"],
        "category": ["requesttype", "RequestType"],
        "status": ["status", "Status"],
        # The yard or crew a request is assigned to.
        "org_unit": ["assignto", "AssignTo"],
        # Council district.
        "district": ["cd", "CD"],
        "latitude": ["latitude", "Latitude"],
        "longitude": ["longitude", "Longitude"],
        "source": ["requestsource", "RequestSource"],
    },
    keep={
        "_daystoclose": ["_daystoclose"],
        "nc": ["nc", "NC"],
        "ncname": ["ncname", "NCName"],
        "address": ["address", "Address"],
    },
    header_variants=[
        HeaderVariant(name="lowercase SODA header (2020 export)", columns=["srnumber"]),
        HeaderVariant(name="CamelCase header (earlier exports)", columns=["SRNumber"]),
    ],
)

# CityStat's own layout: the columns of a service request as this platform names them, ISO 8601 times with their
# offsets (a time without one is read as UTC). What the demo city and the benchmarks write, and what a department's
# IT team can produce without a profile of its own.
CITYSTAT = ProfileDefinition(
    time_zone="UTC",
    timestamp_formats=[ISO8601],
    fields={
        target: [target]
        for target in ("record_id", "opened_at", "closed_at", "due_at", "category", "status", "org_unit",
                       "district", "latitude", "longitude", "source")
    }  # fmt: skip
    | {"record_id": ["id", "record_id"], "agency": ["department", "agency"]},
)

BUILTIN_PROFILES: dict[str, ProfileDefinition] = {
    "citystat": CITYSTAT,
    "open311": OPEN311,
    "nyc311": NYC311,
    "boston311": BOSTON311,
    "la311": LA311,
}
