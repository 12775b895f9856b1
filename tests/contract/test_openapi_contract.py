"""schemathesis over the three OpenAPI documents, over real HTTP, with every check it has.

The operations are walked by hand with schemathesis' strategies rather than its pytest loader,
whose lazy mode does not run on pytest 9.2 (it sets a node attribute pytest no longer has)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

from tests.conftest import INTERNAL_TOKEN, serving
from tests.contract.contract_rules import CSV_MEDIA_TYPES, error_shape_failure, make_positive_case_sensible
from tests.reliability.figures import report

# make test runs the reduced contract run (issue 9: "make test runs a reduced version of each test"); the full
# battery sets CITYSTAT_CONTRACT_EXAMPLES higher.
EXAMPLES = int(os.environ.get("CITYSTAT_CONTRACT_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def contract_app(contract_city, tmp_path_factory):
    with serving(contract_city.settings(tmp_path_factory.mktemp("contract-data"))) as base:
        yield base, {"ingest": contract_city.token, "metrics": INTERNAL_TOKEN, "reporting": None}


def _check_case(case, token: str | None, mode: GenerationMode, exercised: set[str]) -> None:
    make_positive_case_sensible(case, mode)
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
    exercised.add(case.operation.label)
    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
    assert response.status_code < 500, response.text
    content_type = (response.headers.get("content-type") or [""])[0]
    problem = error_shape_failure(case.operation.path, response.status_code, content_type, response.content)
    assert problem is None, problem


def _documented_operations(document: dict) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("service", ["metrics", "ingest", "reporting"])
def test_every_operation_keeps_its_contract(contract_app, service, mode):
    base, tokens = contract_app
    schema = schemathesis.openapi.from_url(f"{base}/api/{service}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{service} publishes no operations"
    documented = _documented_operations(schema.raw_schema)
    exercised: set[str] = set()
    unsatisfiable: set[str] = set()
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
            _check_case(case, tokens[service], mode, exercised)

        try:
            run()
        except Unsatisfiable:
            # Some operations admit every input (health, a free-text path segment): nothing negative to send.
            unsatisfiable.add(operation.label)
            if mode is GenerationMode.POSITIVE:
                failures.append(f"{operation.method.upper()} {operation.path}: no valid request could be generated")
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    # Every operation the document lists got requests (a negative run may find nothing invalid to send to some).
    missed = documented - exercised - (unsatisfiable if mode is GenerationMode.NEGATIVE else set())
    report(
        "schemathesis-stateless",
        passed=not failures and not missed,
        service=service,
        mode=mode.value,
        examples=EXAMPLES,
        operations=len(documented),
        exercised=len(exercised),
        nothing_to_send=len(unsatisfiable),
        failed_operations=len(failures),
    )
    assert not failures, "\n\n".join(failures)
    assert not missed, f"{len(missed)} documented operations got no request: {sorted(missed)}"
