"""schemathesis over the three OpenAPI documents, over real HTTP, with every check it has.

The operations are walked by hand with schemathesis' strategies rather than its pytest loader,
whose lazy mode does not run on pytest 9.2 (it sets a node attribute pytest no longer has)."""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

from services.common.db import Database
from services.common.periods import Period, PeriodError
from services.ingest.tokens.service import create_token
from tests.conftest import INTERNAL_TOKEN, DatabaseSet, load_demo, serving

PROBLEM = "application/problem+json"
CSV_MEDIA_TYPES = ("text/csv", "application/csv")
# make test runs the reduced contract run (issue 9: "make test runs a reduced version of each test"); the full
# battery sets CITYSTAT_CONTRACT_EXAMPLES higher.
EXAMPLES = int(os.environ.get("CITYSTAT_CONTRACT_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory):
    """Its own databases with the demo city, since fuzzed writes may land in them."""
    dbs = DatabaseSet("contract", tmp_path_factory.mktemp("contract"))
    load_demo(dbs)
    ingest = Database(dbs.urls["ingest"])
    with ingest.session() as session:
        _, token = create_token(session, "DPW", "schemathesis")
    ingest.dispose()
    with serving(dbs.settings(tmp_path_factory.mktemp("contract-data"))) as base:
        yield base, {"ingest": token, "metrics": INTERNAL_TOKEN, "reporting": None}
    dbs.drop()


def _backwards_window(query) -> bool:
    start, end = query.get("start"), query.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return False
    try:
        return Period.parse(start).start > Period.parse(end).end
    except PeriodError:
        return False


def _check_case(case, token: str | None, mode: GenerationMode) -> None:
    if mode is GenerationMode.POSITIVE and case.headers and "Idempotency-Key" in case.headers:
        # A client sends a new key per distinct request; a reused key with another body is refused by design.
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if mode is GenerationMode.POSITIVE and case.query and case.query.get("atomic") in (True, "true"):
        # All-or-nothing with generated rows is a 422 by design (unknown metrics); ask for the receipt instead.
        case.query["atomic"] = False
    if mode is GenerationMode.POSITIVE and case.query and _backwards_window(case.query):
        # A window that ends before it starts is a 422 by design (each bound is valid alone); ask for it in order.
        case.query["start"], case.query["end"] = case.query["end"], case.query["start"]
    headers = None
    # A credential is a property of the caller, not of the schema: send it unless this case is about
    # broken headers, where dropping it is part of what is being tried.
    if token and not (case.meta and case.meta.is_negative_at(ParameterLocation.HEADER)):
        headers = {"Authorization": f"Bearer {token}"}
    excluded = []
    if case.media_type in CSV_MEDIA_TYPES:
        # OpenAPI can say "a string", not "a CSV file with these columns": a generated string is rarely a
        # CSV file, and its 400 is right. The CSV rules are tested in tests/ingest/formats and the corpus.
        excluded.append(positive_data_acceptance)
    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        content_type = response.headers.get("content-type") or [""]
        if "/action/{name}" in case.operation.path and not content_type[0].startswith(PROBLEM):
            # CKAN's clients read CKAN's error envelope, not problem+json (DESIGN.md: CKAN's action API); only a path
            # that reaches no action (the router's 404) is problem+json.
            envelope = response.json()
            assert envelope["success"] is False and envelope["error"]["__type"], (response.status_code, response.text)
            return
        assert content_type[0].startswith(PROBLEM), (response.status_code, response.text)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("service", ["metrics", "ingest", "reporting"])
def test_every_operation_keeps_its_contract(contract_app, service, mode):
    base, tokens = contract_app
    schema = schemathesis.openapi.from_url(f"{base}/api/{service}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{service} publishes no operations"
    failures = []
    for operation in operations:

        # Seeded, so that CI runs the cases it ran here.
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            _check_case(case, tokens[service], mode)

        try:
            run()
        except Unsatisfiable:
            # Some operations admit every input (health, a free-text path segment): nothing negative to send.
            if mode is GenerationMode.POSITIVE:
                failures.append(f"{operation.method.upper()} {operation.path}: no valid request could be generated")
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
