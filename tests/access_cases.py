"""The access matrix's table: who asks (WHO), the world they ask it in, and for each guarded route one request
and the status each principal should get (CASES). tests/test_access_matrix.py runs it."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

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
    notification_other: int = 0  # a notification of someone who is none of the principals


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


BASE_CASES = [
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
]

# Anyone signed in; sign-out last, as it ends the session it is sent with.
SIGN_OUT_CASES = [
    Case("who am I", ("ingest", "GET", "/auth/me"), get("/api/ingest/auth/me"), signed_in(200)),
    Case("sign out", ("ingest", "POST", "/auth/logout"), lambda w: {"url": "/api/ingest/auth/logout"}, signed_in(204)),
]
