"""schemathesis' stateful run over the three APIs: chains of calls that follow the OpenAPI links each document
publishes (create -> read, update, delete, sub-resources: services/common/openapi_links.py), over real HTTP, as an
administrator, so that the chains reach past authorisation into the code that works on what was just created.

Only the documents' own links are followed: schemathesis can also guess links from names, but its guesses here
include ones no client could follow (a CKAN action's name from a response that has none), and the links a client
is promised are what this run should hold to.

Every step is checked for a server error, a response that breaks its schema, and an error that is not
problem+json; every failure is collected (not only the first), so one run lists them all."""

from __future__ import annotations

import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis.checks import FailureGroup, not_a_server_error, response_schema_conformance
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine.errors import is_inconsistent_replay
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import stateful as schemathesis_stateful

from services.common.auth import CSRF_HEADER, SESSION_COOKIE
from services.common.settings import Settings
from services.runner import FACTORIES
from tests.conftest import INTERNAL_TOKEN, SEED, serving
from tests.contract.contract_rules import error_shape_failure, make_positive_case_sensible
from tests.factories import DEFAULT_PASSWORD
from tests.reliability.figures import report

# Scenarios (call chains) per service, and the longest chain. make test runs the reduced size; `make reliability`
# sets CITYSTAT_STATEFUL_EXAMPLES=200 (full size).
EXAMPLES = int(os.environ.get("CITYSTAT_STATEFUL_EXAMPLES", "12"))
STEPS = int(os.environ.get("CITYSTAT_STATEFUL_STEPS", "10"))
MAX_RESTARTS = 50
SERVICES = ("ingest", "metrics", "reporting")


@pytest.fixture(scope="module")
def stateful_app(contract_city, tmp_path_factory):
    """The contract city on its own server (fresh limiters and caches), signed in as its administrator."""
    with serving(contract_city.settings(tmp_path_factory.mktemp("stateful-data"))) as base:
        login = httpx.post(
            f"{base}/api/ingest/auth/login", json={"username": contract_city.admin, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        session = login.cookies[SESSION_COOKIE]
        yield base, session, login.json()["csrf_token"], _existing(base, session)


# Where the demo city's objects are listed, by the path segment that names them in the APIs' paths.
LISTS = {
    "departments": "metrics/departments",
    "metrics": "metrics/metrics?limit=500",
    "datasets": "metrics/datasets",
    "priorities": "metrics/priorities",
    "mapping-profiles": "metrics/mapping-profiles",
    "measures": "metrics/library/measures",
    "briefings": "reporting/briefings",
    "meetings": "reporting/meetings",
    "commitments": "reporting/commitments",
    "users": "ingest/users",
}
# Request body fields that name one of those objects.
REFERENCES = {
    "department": "departments",
    "departments": "departments",
    "metric": "metrics",
    "briefing_id": "briefings",
    "meeting_id": "meetings",
    "period": "periods",
    "unit": "units",
}
# Values the services accept that a generator rarely hits: periods of the demo's data, units with a roll-up.
FIXED = {
    "periods": ["2017-06", "2017-05", "2017-Q2", "2017-W23", "2017", "FY2017"],
    "units": ["count", "percent", "days", "dollars", "tons", "minutes", "hours"],
}


def _identifier(item: dict):
    return next(item[field] for field in ("key", "code", "id", "name") if field in item)


def _existing(base: str, session: str) -> dict[str, list]:
    """The identifiers of the objects the city already has, per kind."""
    found = {}
    for kind, path in LISTS.items():
        response = httpx.get(f"{base}/api/{path}", cookies={SESSION_COOKIE: session})
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        found[kind] = sorted({_identifier(item) for item in (body["items"] if isinstance(body, dict) else body)})
    return found


@dataclass
class Tally:
    scenarios: int = 0
    steps: int = 0
    operations: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    by_operation: Counter = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=lambda: {"server": [], "schema": [], "problem": []})


def _problem_json(ctx, response, case) -> bool | None:
    content_type = (response.headers.get("content-type") or [""])[0]
    reason = error_shape_failure(case.operation.path, response.status_code, content_type, response.content)
    if reason is not None:
        raise AssertionError(reason)
    return None


CHECKS = {"server": not_a_server_error, "schema": response_schema_conformance, "problem": _problem_json}


class Identifiers:
    """Real objects for a scenario's first call. A chain's first call names its object by a generated value, which
    is a 404 (the stateless run sends those); in a positive case it is swapped for one the city has, so the chain
    reaches the code behind the lookup. Values a response gave (what a link passes on) are never swapped."""

    def __init__(self, existing: dict[str, list], seed: int) -> None:
        self.existing = {kind: list(values) for kind, values in {**existing, **FIXED}.items()}
        self.seen: set = set()
        self.random = random.Random(seed)

    def learn(self, case, body) -> None:
        if not isinstance(body, dict):
            return
        self.seen.update(value for value in body.values() if isinstance(value, (str, int)))
        kind = case.operation.path.rstrip("/").rsplit("/", 1)[-1]
        if case.method.upper() == "POST" and kind in self.existing:
            # What a scenario made, a later scenario may start from.
            self.existing[kind].append(_identifier(body))

    def _real(self, kind: str, value):
        choices = self.existing.get(kind)
        if not choices or value in self.seen or value in choices:
            return value
        return self.random.choice(choices)

    def _body(self, value):
        if isinstance(value, list):
            return [self._body(item) for item in value]
        if not isinstance(value, dict):
            return value
        replaced = {}
        for name, item in value.items():
            kind = REFERENCES.get(name)
            if kind and isinstance(item, list):
                replaced[name] = [self._real(kind, one) for one in item]
            elif kind and item is not None and not isinstance(item, (dict, list)):
                replaced[name] = self._real(kind, item)
            else:
                replaced[name] = self._body(item)
        return replaced

    def apply(self, case) -> None:
        segments = case.operation.path.strip("/").split("/")
        for before, segment in zip(segments, segments[1:], strict=False):
            name = segment[1:-1] if segment.startswith("{") else None
            if name and case.path_parameters and name in case.path_parameters and before in self.existing:
                case.path_parameters[name] = self._real(before, case.path_parameters[name])
        if isinstance(case.body, (dict, list)):
            case.body = self._body(case.body)
        if any(parameter.name == "department" for parameter in case.operation.query):
            # Staff name the department they act for (a token's is implied); left out, a write is refused.
            query = dict(case.query or {})
            query["department"] = self._real("departments", query.get("department"))
            case.query = query


def _machine(schema, tally: Tally, identifiers: Identifiers, session: str, csrf: str, bearer: str | None):
    base_machine = schema.as_state_machine()

    class Machine(base_machine):  # type: ignore[misc, valid-type]
        def teardown(self) -> None:
            tally.scenarios += 1
            super().teardown()

        def before_call(self, case) -> None:
            mode = case.meta.generation.mode if case.meta else None
            make_positive_case_sensible(case, mode)
            if mode is GenerationMode.POSITIVE:
                identifiers.apply(case)
            if case.headers and not (case.meta and case.meta.is_negative_at(ParameterLocation.HEADER)):
                # The caller's credential is the administrator's session (and metrics' service token), not a
                # generated bearer token, which ingest would read first and refuse.
                case.headers.pop("Authorization", None)

        def get_call_kwargs(self, case) -> dict:
            headers = {CSRF_HEADER: csrf}
            if bearer:
                headers["Authorization"] = f"Bearer {bearer}"
            return {"headers": headers, "cookies": {SESSION_COOKIE: session}}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            tally.steps += 1
            tally.operations.add(case.operation.label)
            tally.statuses[response.status_code] += 1
            tally.by_operation[(case.operation.label, response.status_code)] += 1
            if 200 <= response.status_code < 300:
                try:
                    identifiers.learn(case, response.json())
                except ValueError:
                    pass
            for kind, check in CHECKS.items():
                try:
                    case.validate_response(response, checks=[check], transport_kwargs=kwargs or None)
                except (FailureGroup, AssertionError) as exc:
                    tally.failures[kind].append(
                        f"{case.operation.label} -> {response.status_code}: {str(exc).strip()[:1500]}"
                    )

    return Machine


def _link_count(schema) -> int:
    return sum(
        len(response.get("links", {}))
        for operations in schema.raw_schema["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    )


@pytest.mark.parametrize("service", SERVICES)
def test_linked_call_chains_keep_the_contract(stateful_app, service, monkeypatch):
    base, session, csrf, existing = stateful_app
    # schemathesis starts scenarios only at operations it guesses will succeed with generated input, and its guess
    # drops POST /briefings and POST /commitments (a meeting_id it finds no producer for, the field being optional).
    # Every create operation the documents link from is where a client starts, so each may start a scenario.
    monkeypatch.setattr(
        schemathesis_stateful, "is_likely_root_transition", lambda operation, node, produced: operation.method != "get"
    )
    schema = schemathesis.openapi.from_url(f"{base}/api/{service}/openapi.json")
    schema.config.phases.stateful.inference.algorithms = []
    links = _link_count(schema)
    assert links, f"{service} publishes no links"
    tally = Tally()
    # Metrics' internal operations take the platform's service token, not a staff session.
    identifiers = Identifiers(existing, SEED)
    machine = _machine(schema, tally, identifiers, session, csrf, INTERNAL_TOKEN if service == "metrics" else None)
    restarts = 0
    while tally.scenarios < EXAMPLES:
        try:
            machine.run(
                settings=settings(
                    max_examples=EXAMPLES - tally.scenarios,
                    stateful_step_count=STEPS,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                    derandomize=True,
                    phases=[Phase.generate],
                )
            )
            break
        except (Flaky, AssertionError) as exc:
            # The server remembers what earlier scenarios made (a key taken, a briefing deleted), so a scenario
            # that starts like an earlier one may take another branch, which Hypothesis calls flaky (or, in one
            # place, asserts). schemathesis' own runner starts a new run then; so does this, for the scenarios to go.
            if not isinstance(exc, Flaky) and not is_inconsistent_replay(exc):
                raise
            restarts += 1
            assert restarts <= MAX_RESTARTS, f"{restarts} restarts after {tally.scenarios} scenarios"
    counts = {kind: len(found) for kind, found in tally.failures.items()}
    passed = not any(counts.values()) and tally.steps > 0
    report(
        "schemathesis-stateful",
        passed=passed,
        service=service,
        scenarios=tally.scenarios,
        restarts=restarts,
        operations=len(tally.operations),
        # Operations that answered 2xx at least once: how far past validation and lookups the chains reached.
        succeeded=len({label for label, status in tally.by_operation if 200 <= status < 300}),
        links=links,
        steps=tally.steps,
        statuses=dict(sorted(tally.statuses.items())),
        server_errors=counts["server"],
        schema_violations=counts["schema"],
        non_problem_errors=counts["problem"],
    )
    distinct = sorted({line for found in tally.failures.values() for line in found})
    assert not distinct, f"{len(distinct)} distinct failures:\n\n" + "\n\n".join(distinct)
    assert tally.steps > 0


def test_an_id_beyond_the_column_is_refused_not_a_server_error(stateful_app):
    """Found by the stateful run: an administrator's GET /users/{id} or DELETE /tokens/{id} with an id past 2**63
    overflowed SQLite's integer (a 500); the stateless run never got past authorisation to see it."""
    base, session, csrf, _ = stateful_app
    cookies, headers = {SESSION_COOKIE: session}, {CSRF_HEADER: csrf}
    huge = 2**64
    for method, path in (
        ("GET", f"/api/ingest/users/{huge}"),
        ("PATCH", f"/api/ingest/users/{huge}"),
        ("DELETE", f"/api/ingest/tokens/{huge}"),
        ("DELETE", "/api/ingest/tokens/2147483648"),
    ):
        body = {"display_name": "x"} if method == "PATCH" else None
        response = httpx.request(method, f"{base}{path}", cookies=cookies, headers=headers, json=body)
        assert response.status_code == 422, (method, path, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert httpx.delete(f"{base}/api/ingest/tokens/2147483647", cookies=cookies, headers=headers).status_code == 404


def test_text_with_a_nul_is_refused_not_a_server_error(stateful_app):
    """Found by the stateful run on PostgreSQL, whose text cannot hold NUL: a dataset or mapping profile described
    with one was a 500 there (stored on SQLite); the schema now refuses it on both engines."""
    base, session, csrf, _ = stateful_app
    cookies, headers = {SESSION_COOKIE: session}, {CSRF_HEADER: csrf}
    datasets = "/api/metrics/datasets"
    for method, path, body, named in (
        ("POST", datasets, {"key": "nul_check", "title": "NUL", "description": "a\u0000b"}, "description"),
        ("POST", datasets, {"key": "nul_check", "title": "a\u0000b"}, "title"),
        (
            "POST",
            datasets,
            {"key": "nul_check", "title": "NUL", "fields": [{"name": "f", "description": "\u0000"}]},
            "description",
        ),
        ("PUT", "/api/metrics/mapping-profiles/nul-check", {"description": "\u0000", "definition": {}}, "description"),
    ):
        response = httpx.request(method, f"{base}{path}", cookies=cookies, headers=headers, json=body)
        assert response.status_code == 422, (path, body, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(error["field"].endswith(named) for error in response.json()["errors"]), response.text
    assert httpx.get(f"{base}/api/metrics/datasets/nul_check", cookies=cookies).status_code == 404


def _operations(document: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _links(document: dict):
    operations = _operations(document)
    for method, path, operation in operations.values():
        for status, response in operation.get("responses", {}).items():
            for link in response.get("links", {}).values():
                yield f"{method.upper()} {path}", status, response, link, operations[link["operationId"]]


@pytest.mark.parametrize("service", SERVICES)
def test_every_published_link_can_be_followed(service):
    """A client follows a link by its operationId and fills each named parameter from a field the response has or
    a parameter its own request had: every link names a real operation, real path parameters of it, and sources
    that exist."""
    document = FACTORIES[service](Settings(data_dir=Path("unused"), internal_token=INTERNAL_TOKEN)).openapi()
    components = document["components"]["schemas"]
    count = 0
    for source, status, response, link, (_, target_path, target) in _links(document):
        count += 1
        target_parameters = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        source_parameters = set(re.findall(r"\{([^}]+)\}", source))
        schema = response["content"]["application/json"]["schema"]
        fields = set(components[schema["$ref"].rsplit("/", 1)[-1]]["properties"]) if "$ref" in schema else set()
        assert link["parameters"], (source, link)
        for name, expression in link["parameters"].items():
            location, _, parameter = name.partition(".")
            assert location == "path" and parameter in target_parameters, (source, target_path, name)
            if expression.startswith("$request.path."):
                assert expression.removeprefix("$request.path.") in source_parameters, (source, expression)
            else:
                assert expression.startswith("$response.body#/"), (source, expression)
                assert expression.removeprefix("$response.body#/") in fields, (source, status, expression)
    assert count, f"{service} publishes no links"


def test_create_operations_link_to_what_they_created():
    """The links a client needs most, pinned: the generic rule must keep finding them."""
    expected = {
        "ingest": [
            ("POST /users", "GET /users/{user_id}", {"path.user_id": "$response.body#/id"}),
            ("POST /tokens", "DELETE /tokens/{token_id}", {"path.token_id": "$response.body#/id"}),
            ("POST /submissions/csv", "GET /submissions/{submission_id}", {"path.submission_id": "$response.body#/id"}),
            ("POST /records", "GET /jobs/{job_id}", {"path.job_id": "$response.body#/id"}),
        ],
        "metrics": [
            ("POST /metrics", "PATCH /metrics/{key}", {"path.key": "$response.body#/key"}),
            (
                "POST /metrics/{key}/targets",
                "PATCH /metrics/{key}/targets/{target_id}",
                {"path.key": "$request.path.key", "path.target_id": "$response.body#/id"},
            ),
            ("POST /datasets", "PUT /datasets/{dataset}/sla-rules", {"path.dataset": "$response.body#/key"}),
            ("PUT /mapping-profiles/{name}", "POST /mapping-profiles/{name}/pull", {"path.name": "$request.path.name"}),
            ("POST /library/measures/{measure_id}/adopt", "GET /metrics/{key}", {"path.key": "$response.body#/key"}),
        ],
        "reporting": [
            ("POST /briefings", "GET /briefings/{briefing_id}/pdf", {"path.briefing_id": "$response.body#/id"}),
            ("POST /meetings", "DELETE /meetings/{meeting_id}", {"path.meeting_id": "$response.body#/id"}),
            ("POST /commitments", "PATCH /commitments/{commitment_id}", {"path.commitment_id": "$response.body#/id"}),
        ],
    }
    for service, links in expected.items():
        document = FACTORIES[service](Settings(data_dir=Path("unused"), internal_token=INTERNAL_TOKEN)).openapi()
        published = {
            (source, f"{method.upper()} {path}", tuple(sorted(link["parameters"].items())))
            for source, _, _, link, (method, path, _) in _links(document)
        }
        for source, target, parameters in links:
            assert (source, target, tuple(sorted(parameters.items()))) in published, (service, source, target)
    # A link is made only where its new parameter has a source: no metric or department comes from an org unit.
    metrics = FACTORIES["metrics"](Settings(data_dir=Path("unused"), internal_token=INTERNAL_TOKEN)).openapi()
    assert not [link for link in _links(metrics) if link[0] == "POST /departments/{code}/org-units"]
