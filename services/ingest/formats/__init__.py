"""Submission formats read into ObservationRows: CityStat's CSV and DHIS2's dataValueSets (JSON and CSV).

Parsing only; the routes that accept these bodies decide department, strategy and answer."""

from services.ingest.formats.common import ParsedRows
from services.ingest.formats.csv_upload import parse_observation_csv
from services.ingest.formats.dhis2 import (
    dhis2_import_summary,
    dhis2_period,
    parse_data_value_set_csv,
    parse_data_value_set_json,
    parse_import_strategy,
)

__all__ = [
    "ParsedRows",
    "dhis2_import_summary",
    "dhis2_period",
    "parse_data_value_set_csv",
    "parse_data_value_set_json",
    "parse_import_strategy",
    "parse_observation_csv",
]
