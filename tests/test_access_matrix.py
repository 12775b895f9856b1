"""Who may do what to another department's things: every principal against every guarded route.

Department A is the caller's own, department B another one. Reading what B has not published is a
404 for whoever may not read B, the same answer as for something that does not exist; writing to
B is a 403 that changes nothing; administration is for administrators. Every mismatch is collected
and listed, so one run shows every leak at once."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import func, select

from services.common.auth import SESSION_COOKIE, Role, session_principal
from services.ingest.accounts.models import StaffUser
from services.ingest.submissions.models import Submission
from services.ingest.tokens.models import ApiToken
from services.metrics.annotations.models import Annotation
from services.metrics.definitions.models import Metric
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.observations.models import Observation, ObservationRevision
from services.metrics.priorities.models import MetricPriority, Priority
from tests.factories import DEFAULT_PASSWORD, make_department, make_metric, make_target, make_token, make_user
from tests.test_route_auth import PUBLIC, _routes

A, B = "DPA", "DPB"
PERIOD = "2017-06"
_names = itertools.count(1)


@dataclass(frozen=True)
class Who:
    name: str
    kind: str  # user | token | anonymous
    admin: bool = False
    reads_a: bool = False
    reads_b: bool = False
    writes_b: bool = False


WHO = [
    Who("anonymous", "anonymous"),
    Who("API token of A", "token", reads_a=True),
    Who("viewer of A", "user", reads_a=True),
    Who("liaison of A", "user", reads_a=True),
    Who("head of A", "user", reads_a=True),
    Who("citywide viewer", "user", reads_a=True, reads_b=True),
    Who("analyst", "user", reads_a=True, reads_b=True, writes_b=True),
    Who("admin", "user", admin=True, reads_a=True, reads_b=True, writes_b=True),
]
ROLES = {
    "viewer of A": ("viewer", A),
    "liaison of A": ("liaison", A),
    "head of A": ("head", A),
    "citywide viewer": ("viewer", None),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
}


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # per principal
    submission_a: str
    submission_b: str
    target_user: int
    victim_token: int
    target_b: int  # the target of B's unpublished metric
    note_b: int  # an annotation on it
    library_import: int
    library_measure: int


@dataclass(frozen=True)
class Case:
    """One request, made by every principal, and what each should get."""

    name: str
    route: tuple[str, str, str]  # (service, method, path template), for the coverage check
    request: Callable[[World], dict]  # keyword arguments of client.request
    expect: Callable[[Who], int]  # the status this principal should get
    # Extra checks on an answer: a complaint, or None.
    check: Callable[[Who, httpx.Response], str | None] = lambda who, response: None
    writes: bool = False
    same_as_missing: Callable[[World], dict] | None = None  # a request for something that does not exist


# What each kind of route answers.


def read_b_in_metrics(who: Who) -> int:
    # Metrics knows staff sessions only; a department system's token is nobody there.
    return 200 if who.reads_b and who.kind == "user" else 404


def read_a_in_metrics(who: Who) -> int:
    return 200 if who.reads_a and who.kind == "user" else 404


def public_read(_who: Who) -> int:
    return 200


def ingest_read_b(who: Who) -> int:
    return 401 if who.kind == "anonymous" else 200 if who.reads_b else 404


def ingest_read_a(who: Who) -> int:
    return 401 if who.kind == "anonymous" else 200


def ingest_list(who: Who) -> int:
    return 401 if who.kind == "anonymous" else 200


def write_b(who: Who) -> int:
    return 401 if who.kind == "anonymous" else 201 if who.writes_b else 403


def naming_b_metric(who: Who) -> int:
    # Rows must belong to the submission's department, whoever sends them.
    return 401 if who.kind == "anonymous" else 403


def admin_only(status: int) -> Callable[[Who], int]:
    def expect(who: Who) -> int:
        # Administration takes a signed-in administrator: nobody is 401, a department system's token 403.
        if who.kind == "anonymous":
            return 401
        return status if who.kind == "user" and who.admin else 403

    return expect


def signed_in(status: int) -> Callable[[Who], int]:
    return lambda who: 401 if who.kind == "anonymous" else status


def internal_only(_who: Who) -> int:
    return 401


def office_changes_b(status: int) -> Callable[[Who], int]:
    """A change to B's unpublished metric: the performance office may; B's readers learn they may not;
    everyone else cannot tell it from a metric that is not there. Metrics knows no API tokens."""

    def expect(who: Who) -> int:
        if who.kind != "user":
            return 401
        return status if who.writes_b else 403 if who.reads_b else 404

    return expect


def signed_in_to_metrics(status: int) -> Callable[[Who], int]:
    # Metrics knows staff sessions only: a department system's token is as good as no credential there.
    return lambda who: status if who.kind == "user" else 401


def office_only(status: int) -> Callable[[Who], int]:
    """Citywide definitions (priorities, key marks, links): the performance office, before any lookup."""
    return lambda who: 401 if who.kind != "user" else status if who.writes_b else 403


def discussed_with_b(status: int) -> Callable[[Who], int]:
    # B's discussion is for those who read B; writing in it also takes a right to write B.
    return lambda who: 401 if who.kind != "user" else status if who.reads_b else 404


def first_office_member(status: int, then: int) -> Callable[[Who], int]:
    # The analyst removes it; the administrator, after, finds nothing left to remove.
    return lambda who: 401 if who.kind != "user" else (status if not who.admin else then) if who.writes_b else 403


def shows(text: str, when: Callable[[Who], bool]) -> Callable[[Who, httpx.Response], str | None]:
    """The answer names `text` exactly when `when(who)`: hidden from those who may not, shown to those who may."""

    def check(who: Who, response: httpx.Response) -> str | None:
        if response.status_code >= 400:
            return None
        present = text in response.text
        if present and not when(who):
            return f"LEAK: shows {text}"
        if not present and when(who):
            return f"hides {text} from someone who may see it"
        return None

    return check


def never_shows(text: str) -> Callable[[Who, httpx.Response], str | None]:
    return lambda who, response: f"LEAK: shows {text}" if text in response.text and not who.reads_b else None


def has_items(who: Who, response: httpx.Response) -> str | None:
    if response.status_code == 200 and not response.json()["items"]:
        return "an empty page where there is data"
    return None


# The requests.


def observation_json(metric: str, department: str) -> Callable[[World], dict]:
    return lambda w: {
        "url": "/api/ingest/submissions",
        "params": {"department": department},
        "json": {"observations": [{"metric": metric, "period": PERIOD, "value": 7}]},
        "headers": {"Idempotency-Key": uuid.uuid4().hex},
    }


def observation_csv(metric: str, department: str) -> Callable[[World], dict]:
    return lambda w: {
        "url": "/api/ingest/submissions/csv",
        "params": {"department": department},
        "content": f"metric,period,value\n{metric},{PERIOD},7\n".encode(),
        "headers": {"Idempotency-Key": uuid.uuid4().hex, "Content-Type": "text/csv"},
    }


def data_value_set(metric: str, department: str, media: str = "json") -> Callable[[World], dict]:
    if media == "json":
        body = {"json": {"dataValues": [{"dataElement": metric, "period": "201706", "orgUnit": B, "value": "7"}]}}
    else:
        body = {
            "content": f"dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
            f"{metric},201706,{B},,,7\n".encode(),
            "headers": {"Content-Type": "application/csv"},
        }
    return lambda w: {"url": "/api/ingest/dataValueSets", "params": {"department": department}, **body}


def get(url: str | Callable[[World], str], **params) -> Callable[[World], dict]:
    return lambda w: {"url": url(w) if callable(url) else url, "params": params}


M = "/api/metrics"
READER_OF_B = lambda who: who.reads_b and who.kind == "user"  # noqa: E731 - reads better in the table
READER_OF_A = lambda who: who.reads_a and who.kind == "user"  # noqa: E731
NEW_USER = {"display_name": "Made by the matrix", "password": "long enough password", "role": "viewer"}
LIBRARY_CSV = (
    b"Dept,Department,KPI_CODE,Performance Measure,Performance Pattern,Unit of Measure,"
    b"FY 2013 Total Actual Data,FY 2013 Total Target Data\r\n"
    b"MTX,MATRIX,MTX.1,Requests closed,Above target is positive,Number,10,12\r\n"
)
NEW_METRIC = {
    "department": B,
    "name": "Made by the matrix",
    "unit": "count",
    "kind": "output",
    "direction": "higher_is_better",
    "frequency": "month",
}


def new_target() -> dict:
    start = dt.date(2018, 1, 1) + dt.timedelta(days=next(_names))
    return {"value": 0.9, "effective_from": start.isoformat(), "set_by": "matrix", "reason": "matrix"}


CASES = [
    # B's unpublished metric and everything under it: 404 for whoever may not read B, like a metric that is not there.
    Case(
        "B's unpublished metric",
        ("metrics", "GET", "/metrics/{key}"),
        get(f"{M}/metrics/dpb.hidden"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent"),
    ),
    Case(
        "its targets",
        ("metrics", "GET", "/metrics/{key}/targets"),
        get(f"{M}/metrics/dpb.hidden/targets"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/targets"),
    ),
    Case(
        "its observations",
        ("metrics", "GET", "/metrics/{key}/observations"),
        get(f"{M}/metrics/dpb.hidden/observations"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/observations"),
    ),
    Case(
        "its revisions",
        ("metrics", "GET", "/metrics/{key}/observations/{period}/revisions"),
        get(f"{M}/metrics/dpb.hidden/observations/{PERIOD}/revisions"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/observations/{PERIOD}/revisions"),
    ),
    Case(
        "its performance",
        ("metrics", "GET", "/metrics/{key}/performance"),
        get(f"{M}/metrics/dpb.hidden/performance", period=PERIOD),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/performance", period=PERIOD),
    ),
    Case(
        "B's metrics listed",
        ("metrics", "GET", "/metrics"),
        get(f"{M}/metrics", department=B),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "all metrics listed",
        ("metrics", "GET", "/metrics"),
        get(f"{M}/metrics", limit=500),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "B's performance listed",
        ("metrics", "GET", "/performance"),
        get(f"{M}/performance", department=B),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "all performance listed",
        ("metrics", "GET", "/performance"),
        get(f"{M}/performance", limit=500),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "B's scorecard",
        ("reporting", "GET", "/departments/{code}/scorecard"),
        get(f"/api/reporting/departments/{B}/scorecard"),
        public_read,
        check=never_shows("dpb.hidden"),
    ),
    Case(
        "every scorecard",
        ("reporting", "GET", "/scorecards"),
        get("/api/reporting/scorecards"),
        public_read,
        check=never_shows("dpb.hidden"),
    ),
    # Control: A's own unpublished metric is there for A's staff, so the 404s above are not everyone's.
    Case(
        "A's unpublished metric",
        ("metrics", "GET", "/metrics/{key}"),
        get(f"{M}/metrics/dpa.hidden"),
        read_a_in_metrics,
    ),
    Case(
        "A's unpublished observations",
        ("metrics", "GET", "/metrics/{key}/observations"),
        get(f"{M}/metrics/dpa.hidden/observations"),
        read_a_in_metrics,
    ),
    Case(
        "A's metrics listed",
        ("metrics", "GET", "/metrics"),
        get(f"{M}/metrics", department=A),
        public_read,
        check=shows("dpa.hidden", READER_OF_A),
    ),
    # B's submissions.
    Case(
        "B's submission",
        ("ingest", "GET", "/submissions/{submission_id}"),
        get(lambda w: f"/api/ingest/submissions/{w.submission_b}"),
        ingest_read_b,
        same_as_missing=get(f"/api/ingest/submissions/{'0' * 32}"),
    ),
    Case(
        "A's submission",
        ("ingest", "GET", "/submissions/{submission_id}"),
        get(lambda w: f"/api/ingest/submissions/{w.submission_a}"),
        ingest_read_a,
    ),
    Case(
        "submissions listed",
        ("ingest", "GET", "/submissions"),
        get("/api/ingest/submissions"),
        ingest_list,
        check=lambda who, r: shows("SUB_B", lambda w: w.reads_b)(who, r),
    ),
    Case(
        "B's submissions listed",
        ("ingest", "GET", "/submissions"),
        get("/api/ingest/submissions", department=B),
        ingest_list,
        check=lambda who, r: shows("SUB_B", lambda w: w.reads_b)(who, r),
    ),
    # Writing to B.
    Case("JSON for B", ("ingest", "POST", "/submissions"), observation_json("dpb.pub", B), write_b, writes=True),
    Case(
        "JSON for B's unpublished metric",
        ("ingest", "POST", "/submissions"),
        observation_json("dpb.hidden", B),
        write_b,
        writes=True,
    ),
    Case(
        "JSON naming B's metric",
        ("ingest", "POST", "/submissions"),
        observation_json("dpb.pub", A),
        naming_b_metric,
        writes=True,
    ),
    Case("CSV for B", ("ingest", "POST", "/submissions/csv"), observation_csv("dpb.pub", B), write_b, writes=True),
    Case(
        "CSV naming B's metric",
        ("ingest", "POST", "/submissions/csv"),
        observation_csv("dpb.pub", A),
        naming_b_metric,
        writes=True,
    ),
    Case(
        "dataValueSet for B", ("ingest", "POST", "/dataValueSets"), data_value_set("dpb.pub", B), write_b, writes=True
    ),
    Case(
        "dataValueSet CSV for B",
        ("ingest", "POST", "/dataValueSets"),
        data_value_set("dpb.pub", B, "csv"),
        write_b,
        writes=True,
    ),
    Case(
        "dataValueSet naming B's metric",
        ("ingest", "POST", "/dataValueSets"),
        data_value_set("dpb.pub", A),
        naming_b_metric,
        writes=True,
    ),
    # Administration.
    Case("users listed", ("ingest", "GET", "/users"), get("/api/ingest/users"), admin_only(200)),
    Case(
        "a user",
        ("ingest", "GET", "/users/{user_id}"),
        get(lambda w: f"/api/ingest/users/{w.target_user}"),
        admin_only(200),
    ),
    Case(
        "create a user",
        ("ingest", "POST", "/users"),
        lambda w: {"url": "/api/ingest/users", "json": {**NEW_USER, "username": f"made-{next(_names)}"}},
        admin_only(201),
        writes=True,
    ),
    Case(
        "change a user",
        ("ingest", "PATCH", "/users/{user_id}"),
        lambda w: {"url": f"/api/ingest/users/{w.target_user}", "json": {"display_name": "Renamed", "role": "admin"}},
        admin_only(200),
        writes=True,
    ),
    Case("tokens listed", ("ingest", "GET", "/tokens"), get("/api/ingest/tokens"), admin_only(200)),
    Case(
        "create a token for B",
        ("ingest", "POST", "/tokens"),
        lambda w: {"url": "/api/ingest/tokens", "json": {"department": B, "name": "made by the matrix"}},
        admin_only(201),
        writes=True,
    ),
    Case(
        "revoke B's token",
        ("ingest", "DELETE", "/tokens/{token_id}"),
        lambda w: {"url": f"/api/ingest/tokens/{w.victim_token}"},
        admin_only(200),
        writes=True,
    ),
    Case("audit trail", ("ingest", "GET", "/audit"), get("/api/ingest/audit"), admin_only(200)),
    Case("B's audit trail", ("ingest", "GET", "/audit"), get("/api/ingest/audit", department=B), admin_only(200)),
    # Between the services only.
    Case(
        "apply a batch",
        ("metrics", "POST", "/observations/batch"),
        lambda w: {"url": f"{M}/observations/batch", "json": {}},
        internal_only,
        writes=True,
    ),
    Case(
        "apply batches",
        ("metrics", "POST", "/observations/batches"),
        lambda w: {"url": f"{M}/observations/batches", "json": {}},
        internal_only,
        writes=True,
    ),
    # The catalogue: definitions, targets, priorities and org units.
    Case(
        "draft a metric for B",
        ("metrics", "POST", "/metrics"),
        lambda w: {"url": f"{M}/metrics", "json": {**NEW_METRIC, "key": f"dpb.made_{next(_names)}"}},
        office_only(201),
        writes=True,
    ),
    Case(
        "change B's unpublished metric",
        ("metrics", "PATCH", "/metrics/{key}"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden", "json": {"owner": f"owner {next(_names)}", "reason": "matrix"}},
        office_changes_b(200),
        writes=True,
        same_as_missing=lambda w: {"url": f"{M}/metrics/dpb.absent", "json": {"owner": "x", "reason": "matrix"}},
    ),
    Case(
        "move B's unpublished metric",
        ("metrics", "POST", "/metrics/{key}/transitions"),
        # active -> draft is never allowed, so the answer is the same for every caller who may see the metric.
        lambda w: {"url": f"{M}/metrics/dpb.hidden/transitions", "json": {"to": "draft"}},
        discussed_with_b(422),
        writes=True,
    ),
    Case(
        "its versions",
        ("metrics", "GET", "/metrics/{key}/versions"),
        get(f"{M}/metrics/dpb.hidden/versions"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/versions"),
    ),
    Case(
        "its discussion",
        ("metrics", "GET", "/metrics/{key}/comments"),
        get(f"{M}/metrics/dpb.hidden/comments"),
        discussed_with_b(200),
    ),
    Case(
        "say something in its discussion",
        ("metrics", "POST", "/metrics/{key}/comments"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/comments", "json": {"body": "from the matrix"}},
        office_changes_b(201),
        writes=True,
    ),
    Case(
        "set its target",
        ("metrics", "POST", "/metrics/{key}/targets"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/targets", "json": new_target()},
        office_only(201),
        writes=True,
    ),
    Case(
        "correct its target",
        ("metrics", "PATCH", "/metrics/{key}/targets/{target_id}"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/targets/{w.target_b}", "json": {"value": 0.91, "reason": "m"}},
        office_only(200),
        writes=True,
    ),
    Case(
        "its targets' history",
        ("metrics", "GET", "/metrics/{key}/targets/history"),
        get(f"{M}/metrics/dpb.hidden/targets/history"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/targets/history"),
    ),
    Case(
        "its annotations",
        ("metrics", "GET", "/metrics/{key}/annotations"),
        get(f"{M}/metrics/dpb.hidden/annotations"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/annotations"),
    ),
    Case(
        "annotate it",
        ("metrics", "POST", "/metrics/{key}/annotations"),
        lambda w: {
            "url": f"{M}/metrics/dpb.hidden/annotations",
            "json": {"period": PERIOD, "kind": "context", "body": "from the matrix"},
        },
        office_changes_b(201),
        writes=True,
    ),
    Case(
        "reply to its annotation",
        ("metrics", "POST", "/metrics/{key}/annotations/{annotation_id}/replies"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/annotations/{w.note_b}/replies", "json": {"body": "a reply"}},
        office_changes_b(201),
        writes=True,
    ),
    Case(
        "B's annotations listed",
        ("metrics", "GET", "/annotations"),
        get(f"{M}/annotations", department=B),
        signed_in_to_metrics(200),
        check=shows("matrix note", READER_OF_B),
    ),
    Case(
        "its roll-ups",
        ("metrics", "GET", "/metrics/{key}/rollups"),
        get(f"{M}/metrics/dpb.hidden/rollups", to="quarter", partial="true"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/rollups", to="quarter", partial="true"),
    ),
    Case(
        "its org units' values",
        ("metrics", "GET", "/metrics/{key}/observations/{period}/org-units"),
        get(f"{M}/metrics/dpb.hidden/observations/{PERIOD}/org-units"),
        read_b_in_metrics,
        same_as_missing=get(f"{M}/metrics/dpb.absent/observations/{PERIOD}/org-units"),
    ),
    Case(
        "its schedule",
        ("metrics", "GET", "/metrics/{key}/schedule"),
        get(f"{M}/metrics/dpb.hidden/schedule"),
        read_b_in_metrics,
        check=has_items,
        same_as_missing=get(f"{M}/metrics/dpb.absent/schedule"),
    ),
    Case(
        "B's completeness",
        ("metrics", "GET", "/completeness"),
        get(f"{M}/completeness", department=B),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "B's stale metrics",
        ("metrics", "GET", "/stale-metrics"),
        get(f"{M}/stale-metrics", department=B),
        public_read,
        check=shows("dpb.stale", READER_OF_B),
    ),
    Case(
        "all stale metrics",
        ("metrics", "GET", "/stale-metrics"),
        get(f"{M}/stale-metrics", limit=500),
        public_read,
        check=shows("dpb.stale", READER_OF_B),
    ),
    Case(
        "import a library",
        ("metrics", "POST", "/library/imports"),
        lambda w: {"url": f"{M}/library/imports", "content": LIBRARY_CSV, "headers": {"Content-Type": "text/csv"}},
        office_only(201),
        writes=True,
    ),
    Case(
        "library imports",
        ("metrics", "GET", "/library/imports"),
        get(f"{M}/library/imports"),
        signed_in_to_metrics(200),
    ),
    Case(
        "a library import",
        ("metrics", "GET", "/library/imports/{import_id}"),
        get(lambda w: f"{M}/library/imports/{w.library_import}"),
        signed_in_to_metrics(200),
    ),
    Case(
        "library measures",
        ("metrics", "GET", "/library/measures"),
        get(f"{M}/library/measures"),
        signed_in_to_metrics(200),
    ),
    Case(
        "a library measure",
        ("metrics", "GET", "/library/measures/{measure_id}"),
        get(lambda w: f"{M}/library/measures/{w.library_measure}"),
        signed_in_to_metrics(200),
    ),
    Case(
        "adopt it into B",
        ("metrics", "POST", "/library/measures/{measure_id}/adopt"),
        lambda w: {
            "url": f"{M}/library/measures/{w.library_measure}/adopt",
            "json": {"department": B, "key": f"dpb.adopted_{next(_names)}", "frequency": "month", "kind": "output"},
        },
        office_only(201),
        writes=True,
    ),
    Case(
        "B's most improved",
        ("metrics", "GET", "/performance/most-improved"),
        get(f"{M}/performance/most-improved", department=B, period=PERIOD),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "B's approvals",
        ("metrics", "GET", "/departments/{code}/approvals"),
        get(f"{M}/departments/{B}/approvals"),
        public_read,
    ),
    Case(
        "B's lock for a month",
        ("metrics", "GET", "/departments/{code}/periods/{period}/lock"),
        get(f"{M}/departments/{B}/periods/{PERIOD}/lock"),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "approve B's month",
        ("metrics", "POST", "/departments/{code}/approvals"),
        # Only B's head or the performance office may; the analyst approves, the administrator then finds it done.
        lambda w: {"url": f"{M}/departments/{B}/approvals", "json": {"period": PERIOD}},
        first_office_member(201, then=409),
        writes=True,
    ),
    Case("priorities", ("metrics", "GET", "/priorities"), get(f"{M}/priorities"), public_read, check=has_items),
    Case(
        "a priority with B's unpublished metric",
        ("metrics", "GET", "/priorities/{code}"),
        get(f"{M}/priorities/matrix"),
        public_read,
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "create a priority",
        ("metrics", "POST", "/priorities"),
        lambda w: {"url": f"{M}/priorities", "json": {"code": f"made_{next(_names)}", "name": "Made"}},
        office_only(201),
        writes=True,
    ),
    Case(
        "rename a priority",
        ("metrics", "PATCH", "/priorities/{code}"),
        lambda w: {"url": f"{M}/priorities/matrix", "json": {"name": "Renamed"}},
        office_only(200),
        writes=True,
    ),
    Case(
        "mark B's metric key",
        ("metrics", "PUT", "/priorities/{code}/metrics/{key}"),
        lambda w: {"url": f"{M}/priorities/matrix/metrics/dpb.hidden", "json": {"is_key": True}},
        office_only(204),
        writes=True,
    ),
    Case(
        "link B's output to B's outcome",
        ("metrics", "PUT", "/metrics/{key}/drives/{outcome}"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/drives/dpb.outcome"},
        office_only(204),
        writes=True,
    ),
    Case(
        "unlink it",
        ("metrics", "DELETE", "/metrics/{key}/drives/{outcome}"),
        lambda w: {"url": f"{M}/metrics/dpb.hidden/drives/dpb.outcome"},
        first_office_member(204, then=404),
        writes=True,
    ),
    Case(
        "unalign B's metric",
        ("metrics", "DELETE", "/priorities/{code}/metrics/{key}"),
        lambda w: {"url": f"{M}/priorities/matrix/metrics/dpb.hidden"},
        first_office_member(204, then=404),
        writes=True,
    ),
    Case(
        "B's org units",
        ("metrics", "GET", "/departments/{code}/org-units"),
        get(f"{M}/departments/{B}/org-units"),
        public_read,
    ),
    Case(
        "add an org unit to B",
        ("metrics", "POST", "/departments/{code}/org-units"),
        lambda w: {
            "url": f"{M}/departments/{B}/org-units",
            "json": {"code": f"U{next(_names)}", "name": "Yard", "kind": "yard"},
        },
        office_only(201),
        writes=True,
    ),
    # After the changes above, B's part of the metrics audit trail names B's unpublished metric.
    Case(
        "B's metrics audit trail",
        ("metrics", "GET", "/audit"),
        get(f"{M}/audit", department=B),
        signed_in_to_metrics(200),
        check=shows("dpb.hidden", READER_OF_B),
    ),
    Case(
        "the whole metrics audit trail",
        ("metrics", "GET", "/audit"),
        get(f"{M}/audit", limit=500),
        signed_in_to_metrics(200),
        check=shows("dpb.hidden", READER_OF_B),
    ),
    # Anyone signed in; sign-out last, as it ends the session it is sent with.
    Case("who am I", ("ingest", "GET", "/auth/me"), get("/api/ingest/auth/me"), signed_in(200)),
    Case("sign out", ("ingest", "POST", "/auth/logout"), lambda w: {"url": "/api/ingest/auth/logout"}, signed_in(204)),
]


def _count(db, model, *where) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _state(metrics_db, ingest_db, world: World) -> tuple:
    """What a refused write must leave as it was."""
    with ingest_db.session() as s:
        target = s.get(StaffUser, world.target_user)
        victim = s.get(ApiToken, world.victim_token)
        people = (target.display_name, target.role, victim.revoked_at)
    return (
        _count(metrics_db, Observation),
        _count(metrics_db, ObservationRevision),
        _count(ingest_db, Submission),
        _count(ingest_db, StaffUser),
        _count(ingest_db, ApiToken),
        people,
    )


def _sign_in(client, username: str) -> dict[str, str]:
    response = client.post("/api/ingest/auth/login", json={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    session = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={session}", "X-CSRF-Token": response.json()["csrf_token"]}


def _deliver(client, token: str, department_rows: list[tuple[str, float]]) -> str:
    response = client.post(
        "/api/ingest/submissions",
        json={"observations": [{"metric": key, "period": PERIOD, "value": v} for key, v in department_rows]},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    assert not response.json()["summary"]["rejected"], response.text
    return response.json()["id"]


@pytest.fixture
def world(client, metrics_db, ingest_db) -> World:
    client.cookies.clear()
    with metrics_db.session() as s:
        a, b = make_department(s, A, "Department A"), make_department(s, B, "Department B")
        make_metric(s, a, key="dpa.pub")
        make_metric(s, a, key="dpa.hidden", is_published=False)
        make_metric(s, b, key="dpb.pub")
        target_b = make_target(s, make_metric(s, b, key="dpb.hidden", is_published=False), 0.9, 0.05).id
        make_metric(s, b, key="dpb.outcome", kind="outcome", is_published=False)
        make_metric(s, b, key="dpb.stale", first_period="2017-01", is_published=False)
        matrix = Priority(code="matrix", name="Matrix")
        hidden_id = s.exec(select(Metric.id).where(Metric.key == "dpb.hidden")).one()
        note = Annotation(metric_id=hidden_id, period=PERIOD, kind="context", body="matrix note", actor="operator")
        s.add_all([matrix, note])
        s.flush()
        note_b = note.id
        s.add(
            MetricPriority(
                metric_id=s.exec(select(Metric.id).where(Metric.key == "dpb.hidden")).one(), priority_id=matrix.id
            )
        )
        imported = LibraryImport(source="matrix", rows=1, imported=1, actor="operator")
        s.add(imported)
        s.flush()
        measure = LibraryMeasure(
            source="matrix",
            source_code="M.1",
            source_row=2,
            jurisdiction="Elsewhere",
            department_code="X",
            department_name="X",
            name="A measure",
            unit="count",
            direction="higher_is_better",
            import_id=imported.id,
        )
        s.add(measure)
        s.flush()
        library = (imported.id, measure.id)
    token_a, token_b = make_token(ingest_db, A), make_token(ingest_db, B)
    # Through the front door, so B's hidden metric has observations, revisions and a submission behind them.
    submission_b = _deliver(client, token_b, [("dpb.hidden", 0.5), ("dpb.pub", 0.5)])
    submission_a = _deliver(client, token_a, [("dpa.hidden", 0.5), ("dpa.pub", 0.5)])
    make_token(ingest_db, B, "to be revoked")
    with ingest_db.session() as s:
        victim_id = s.exec(select(ApiToken.id).where(ApiToken.name == "to be revoked")).one()

    headers: dict[str, dict[str, str]] = {"anonymous": {}, "API token of A": {"Authorization": f"Bearer {token_a}"}}
    for name, (role, department) in ROLES.items():
        username = f"matrix-{role}-{next(_names)}"
        make_user(ingest_db, username, role, department)
        headers[name] = _sign_in(client, username)
    target = make_user(ingest_db, f"matrix-target-{next(_names)}", "viewer", A)
    return World(headers, submission_a, submission_b, target, victim_id, target_b, note_b, *library)


def _run(client, world: World, who: Who, case: Case) -> httpx.Response:
    kwargs = case.request(world)
    method = case.route[1]
    headers = {**kwargs.pop("headers", {}), **world.headers[who.name]}
    return client.request(method, kwargs.pop("url"), headers=headers, **kwargs)


def _same_answer(world: World, hidden: httpx.Response, missing: httpx.Response, case: Case) -> bool:
    """A hidden thing must be indistinguishable from a missing one, the asked-for name aside."""
    asked, absent = case.request(world)["url"], case.same_as_missing(world)["url"]
    hidden_key, absent_key = asked.split("/")[-1], absent.split("/")[-1]
    if "/metrics/" in asked:
        hidden_key, absent_key = "dpb.hidden", "dpb.absent"
    return hidden.status_code == missing.status_code and hidden.text.replace(hidden_key, "?") == missing.text.replace(
        absent_key, "?"
    )


def test_no_principal_reaches_another_departments_things(client, metrics_db, ingest_db, world):
    failures: list[str] = []
    for case in CASES:
        for who in WHO:
            before = _state(metrics_db, ingest_db, world) if case.writes else None
            response = _run(client, world, who, case)
            expected = case.expect(who)
            label = f"{who.name} / {case.name}: "
            text = response.text.replace(world.submission_b, "SUB_B")
            checked = httpx.Response(response.status_code, headers=response.headers, content=text.encode())
            if response.status_code != expected:
                # Let through, or told apart from a missing thing (a 403 says it exists): both leak.
                leaked = response.status_code < 400 <= expected or (expected == 404 and response.status_code != 404)
                kind = "LEAK: " if leaked else ""
                failures.append(f"{kind}{label}{response.status_code}, expected {expected}: {response.text[:200]}")
                continue
            if response.status_code >= 400 and response.headers["content-type"] != "application/problem+json":
                failures.append(f"{label}a {response.status_code} that is not problem+json")
            complaint = case.check(who, checked)
            if complaint:
                failures.append(label + complaint)
            if before is not None and response.status_code >= 400:
                after = _state(metrics_db, ingest_db, world)
                if after != before:
                    failures.append(f"LEAK: {label}refused ({response.status_code}) but changed {before} -> {after}")
            if case.same_as_missing and response.status_code == 404:
                missing = _run(client, world, who, Case(case.name, case.route, case.same_as_missing, case.expect))
                if not _same_answer(world, response, missing, case):
                    failures.append(f"LEAK: {label}its 404 differs from a missing one's: {response.text[:200]}")
    leaks = [f for f in failures if f.startswith("LEAK")]
    assert not failures, f"{len(leaks)} leak(s), {len(failures)} mismatch(es):\n" + "\n".join(failures)


def test_the_matrix_covers_every_guarded_and_principal_aware_route(tmp_path):
    from services.common.settings import Settings

    guarded, aware = set(), set()
    for service, method, path, calls in _routes(Settings(data_dir=tmp_path)):
        if (service, method, path) not in PUBLIC:
            guarded.add((service, method, path))
        elif calls and session_principal in calls:
            aware.add((service, method, path))
    covered = {case.route for case in CASES}
    missing = sorted((guarded | aware) - covered)
    assert not missing, f"routes no matrix case exercises: {missing}"
    assert {case.route for case in CASES} <= {(s, m, p) for s, m, p, _ in _routes(Settings(data_dir=tmp_path))}


def test_every_role_is_in_the_matrix():
    # A new role must be placed in the matrix before it can pass.
    assert {role for role, _ in ROLES.values()} == set(Role)
    assert {who.name for who in WHO} == set(ROLES) | {"anonymous", "API token of A"}


def test_a_submission_does_not_tell_which_unpublished_metrics_another_department_has(client, world):
    def answer(metric: str) -> tuple[int, str]:
        response = client.post(
            "/api/ingest/submissions",
            params={"department": A},
            json={"observations": [{"metric": metric, "period": PERIOD, "value": 7}]},
            headers={"Idempotency-Key": uuid.uuid4().hex, **world.headers["liaison of A"]},
        )
        return response.status_code, response.text.replace(metric, "?")

    hidden, absent = answer("dpb.hidden"), answer("dpb.absent")
    assert hidden[0] == absent[0], (hidden, absent)
