"""Every route either checks who is calling or is listed here as open to everyone.

A new route without an auth dependency fails this test until it is either guarded or added to
PUBLIC on purpose; a PUBLIC entry whose route has gone fails too, so the list cannot rot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

# Importing the apps imports each service's deps, which add their guards to AUTH_DEPENDENCIES.
from services.common.auth import AUTH_DEPENDENCIES, session_principal
from services.common.settings import SERVICES, Settings
from services.runner import create_root_app

DOCS = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}

# (service, method, path): readable without signing in. Principal-aware reads (OptionalStaff) belong
# here too: anonymous callers get the published part.
PUBLIC: set[tuple[str, str, str]] = {
    *{(service, method, path) for service in SERVICES for method, path in DOCS},
    *{(service, "GET", "/health") for service in SERVICES},
    ("ingest", "POST", "/auth/login"),
    ("metrics", "GET", "/departments"),
    ("metrics", "GET", "/departments/{code}"),
    ("metrics", "GET", "/metrics"),
    ("metrics", "GET", "/metrics/{key}"),
    ("metrics", "GET", "/metrics/{key}/targets"),
    ("metrics", "GET", "/metrics/{key}/observations"),
    ("metrics", "GET", "/metrics/{key}/observations/{period}/revisions"),
    ("metrics", "GET", "/metrics/{key}/performance"),
    ("metrics", "GET", "/metrics/{key}/versions"),
    ("metrics", "GET", "/metrics/{key}/annotations"),
    ("metrics", "GET", "/metrics/{key}/rollups"),
    ("metrics", "GET", "/metrics/{key}/observations/{period}/org-units"),
    ("metrics", "GET", "/completeness"),
    ("metrics", "GET", "/departments/{code}/approvals"),
    ("metrics", "GET", "/departments/{code}/periods/{period}/lock"),
    ("metrics", "GET", "/metrics/{key}/schedule"),
    ("metrics", "GET", "/stale-metrics"),
    ("metrics", "GET", "/metrics/{key}/targets/history"),
    ("metrics", "GET", "/priorities"),
    ("metrics", "GET", "/priorities/{code}"),
    ("metrics", "GET", "/departments/{code}/org-units"),
    ("metrics", "GET", "/performance"),
    ("metrics", "GET", "/performance/most-improved"),
    # The budget is public record.
    ("metrics", "GET", "/budget/years"),
    ("metrics", "GET", "/budget/summary"),
    ("metrics", "GET", "/budget/lines"),
    ("metrics", "GET", "/budget/departments"),
    ("metrics", "GET", "/budget/hearings/{code}"),
    ("metrics", "GET", "/metrics/{key}/budget-links"),
    ("metrics", "GET", "/metrics/{key}/cost-per-output"),
    ("metrics", "GET", "/metrics/{key}/series.json"),
    ("metrics", "GET", "/metrics/{key}/series.csv"),
    # Open data: what the city publishes, for anyone and the tools they use.
    ("metrics", "GET", "/open-datasets"),
    ("metrics", "GET", "/open-datasets/{id}"),
    ("reporting", "GET", "/resource/{dataset_id}.json"),
    ("reporting", "GET", "/resource/{dataset_id}.csv"),
    ("reporting", "GET", "/resource/{dataset_id}"),
    ("reporting", "GET", "/api/views/{dataset_id}.json"),
    ("reporting", "GET", "/api/catalog/v1"),
    ("reporting", "GET", "/api/views/{dataset_id}/rows.csv"),
    ("reporting", "GET", "/api/views/{dataset_id}/rows.json"),
    ("reporting", "GET", "/api/views/{dataset_id}/datapackage.json"),
    ("reporting", "GET", "/data.json"),
    ("reporting", "GET", "/datapackage.json"),
    # CKAN's action API: the same answer whoever asks; POST is how ckanapi calls it (a read, never cached).
    *{
        ("reporting", method, f"{prefix}/{{name}}")
        for method in ("GET", "POST")
        for prefix in ("/api/3/action", "/api/action")
    },
    # Search: anyone finds what is public; staff also find what their session lets them read.
    ("metrics", "GET", "/search"),
    ("reporting", "GET", "/search"),
    ("reporting", "GET", "/scorecards"),
    ("reporting", "GET", "/departments/{code}/scorecard"),
}

# Auth dependencies that let an anonymous caller through (they only show staff more).
OPTIONAL_AUTH = {session_principal}


def _calls(dependant: Dependant) -> Iterator[object]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _routes(settings: Settings) -> Iterator[tuple[str, str, str, set[object] | None]]:
    """(service, method, path, callables in its dependency tree, or None for a plain Starlette route)."""
    root = create_root_app(settings)
    for service, app in root.state.services.items():
        for route in iter_route_contexts(app.routes):
            calls = set(_calls(route.dependant)) if isinstance(route.original_route, APIRoute) else None
            # HEAD comes with GET for Starlette's own routes; it is the same route.
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield service, method, route.path, calls


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> list[tuple[str, str, str, set[object] | None]]:
    # Building the apps opens nothing: databases and keys wait for the lifespan, which is not run.
    return list(_routes(Settings(data_dir=tmp_path_factory.mktemp("routes"))))


def test_every_route_is_guarded_or_listed_as_public(routes):
    required = AUTH_DEPENDENCIES - OPTIONAL_AUTH
    unguarded, open_to_anyone = [], []
    for service, method, path, calls in routes:
        if (service, method, path) in PUBLIC:
            continue
        if calls is None or not calls & AUTH_DEPENDENCIES:
            unguarded.append(f"{method} /api/{service}{path}")
        elif not calls & required:
            open_to_anyone.append(f"{method} /api/{service}{path}")
    assert not unguarded, f"routes with no auth dependency; guard them or add them to PUBLIC: {unguarded}"
    assert not open_to_anyone, f"principal-aware routes that anyone may call; list them in PUBLIC: {open_to_anyone}"


def test_the_public_list_has_no_stale_entries(routes):
    present = {(service, method, path) for service, method, path, _ in routes}
    stale = sorted(PUBLIC - present)
    assert not stale, f"PUBLIC names routes that no longer exist: {stale}"


def test_no_public_route_demands_a_login(routes):
    # A listed route that now requires a principal should leave the list, or the list misleads.
    required = AUTH_DEPENDENCIES - OPTIONAL_AUTH
    closed = [
        f"{method} /api/{service}{path}"
        for service, method, path, calls in routes
        if (service, method, path) in PUBLIC and calls is not None and calls & required
    ]
    assert not closed, f"PUBLIC lists routes that require a principal: {closed}"


def test_the_walk_sees_the_guards_it_relies_on(routes):
    # If route discovery broke (a FastAPI change), the tests above would pass on nothing.
    by_route = {(service, method, path): calls for service, method, path, calls in routes}
    assert len(by_route) >= 30
    from services.ingest.deps import admin_principal, current_principal, rate_limited
    from services.metrics.deps import require_internal_caller

    assert admin_principal in by_route[("ingest", "POST", "/tokens")]
    assert rate_limited in by_route[("ingest", "POST", "/submissions")]
    assert current_principal in by_route[("ingest", "GET", "/submissions/{submission_id}")]
    assert require_internal_caller in by_route[("metrics", "POST", "/observations/batch")]
    assert session_principal in by_route[("metrics", "GET", "/metrics/{key}")]
    assert by_route[("metrics", "GET", "/docs")] is None
