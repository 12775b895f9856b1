"""Who may do what to another department's things: every principal against every guarded route.

Department A is the caller's own, department B another one. Reading what B has not published is a
404 for whoever may not read B, the same answer as for something that does not exist; writing to
B is a 403 that changes nothing; administration is for administrators. Every mismatch is collected
and listed, so one run shows every leak at once."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import func, select

from services.common.auth import SESSION_COOKIE, Role, session_principal
from services.ingest.accounts.models import StaffUser
from services.ingest.notifications.models import Notification
from services.ingest.submissions.models import Submission
from services.ingest.tokens.models import ApiToken
from services.metrics.annotations.models import Annotation
from services.metrics.definitions.models import Metric
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.observations.models import Observation, ObservationRevision
from services.metrics.priorities.models import MetricPriority, Priority
from services.reporting.briefings.models import Briefing
from services.reporting.commitments.models import Commitment
from services.reporting.meetings.models import Meeting
from tests.access_cases import BASE_CASES, PERIOD, ROLES, SIGN_OUT_CASES, WHO, A, B, Case, Who, World, _names
from tests.access_cases_catalogue import CATALOGUE_CASES
from tests.access_cases_notifications import NOTIFICATION_CASES, OTHER_NOTICE
from tests.access_cases_opendata import OPENDATA_CASES
from tests.access_cases_records import RECORDS_CASES, records_ingest_world, records_world
from tests.access_cases_reporting import REPORTING_CASES, reporting_world
from tests.factories import DEFAULT_PASSWORD, make_department, make_metric, make_target, make_token, make_user
from tests.reliability.figures import report
from tests.test_route_auth import PUBLIC, _routes

# The catalogue's cases come after the others (its audit cases read what they changed); sign-out comes last.
CASES = [
    *BASE_CASES,
    *CATALOGUE_CASES,
    *RECORDS_CASES,
    *REPORTING_CASES,
    *OPENDATA_CASES,
    *NOTIFICATION_CASES,
    *SIGN_OUT_CASES,
]


def _count(db, model, *where) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _state(metrics_db, ingest_db, world: World, reporting_db=None) -> tuple:
    """What a refused write must leave as it was."""
    with ingest_db.session() as s:
        target = s.get(StaffUser, world.target_user)
        victim = s.get(ApiToken, world.victim_token)
        people = (target.display_name, target.role, victim.revoked_at)
    reporting = ()
    if reporting_db is not None:
        with reporting_db.session(write=False) as s:
            reporting = tuple(
                (model.__name__, row.id, *(getattr(row, f, None) for f in ("title", "state", "notes", "done_at")))
                for model in (Briefing, Meeting, Commitment)
                for row in s.exec(select(model).order_by(model.id)).all()
            )
    return (
        reporting,
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
def world(client, metrics_db, ingest_db, reporting_db) -> World:
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
        records_world(s)
    token_a, token_b = make_token(ingest_db, A), make_token(ingest_db, B)
    # Through the front door, so B's hidden metric has observations, revisions and a submission behind them.
    submission_b = _deliver(client, token_b, [("dpb.hidden", 0.5), ("dpb.pub", 0.5)])
    submission_a = _deliver(client, token_a, [("dpa.hidden", 0.5), ("dpa.pub", 0.5)])
    make_token(ingest_db, B, "to be revoked")
    with ingest_db.session() as s:
        records_ingest_world(s)
    with reporting_db.session() as s:
        reporting_world(s)
    with ingest_db.session() as s:
        victim_id = s.exec(select(ApiToken.id).where(ApiToken.name == "to be revoked")).one()

    headers: dict[str, dict[str, str]] = {"anonymous": {}, "API token of A": {"Authorization": f"Bearer {token_a}"}}
    for name, (role, department) in ROLES.items():
        username = f"matrix-{role}-{next(_names)}"
        make_user(ingest_db, username, role, department)
        headers[name] = _sign_in(client, username)
    target = make_user(ingest_db, f"matrix-target-{next(_names)}", "viewer", A)
    with ingest_db.session() as s:
        notice = Notification(
            recipient_id=target,
            kind="reminder",
            department_code=A,
            dedup_key=f"matrix-{target}",
            subject=OTHER_NOTICE,
            body=OTHER_NOTICE,
            link=f"due.html?department={A}",
        )
        s.add(notice)
        s.flush()
        notification_other = notice.id
    return World(headers, submission_a, submission_b, target, victim_id, target_b, note_b, *library, notification_other)


def _run(client, world: World, who: Who, case: Case) -> httpx.Response:
    kwargs = case.request(world)
    method = case.route[1]
    headers = {**kwargs.pop("headers", {}), **world.headers[who.name]}
    return client.request(method, kwargs.pop("url"), headers=headers, **kwargs)


def _same_answer(world: World, hidden: httpx.Response, missing: httpx.Response, case: Case) -> bool:
    """A hidden thing must be indistinguishable from a missing one, the asked-for name aside."""
    asked, absent = case.request(world)["url"], case.same_as_missing(world)["url"]
    # The asked-for name is the path segment where the two requests differ.
    hidden_key, absent_key = next((a, b) for a, b in zip(asked.split("/"), absent.split("/"), strict=True) if a != b)
    return hidden.status_code == missing.status_code and hidden.text.replace(hidden_key, "?") == missing.text.replace(
        absent_key, "?"
    )


def test_no_principal_reaches_another_departments_things(client, metrics_db, ingest_db, reporting_db, world):
    failures: list[str] = []
    for case in CASES:
        for who in WHO:
            before = _state(metrics_db, ingest_db, world, reporting_db) if case.writes else None
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
                after = _state(metrics_db, ingest_db, world, reporting_db)
                if after != before:
                    failures.append(f"LEAK: {label}refused ({response.status_code}) but changed {before} -> {after}")
            if case.same_as_missing and response.status_code == 404:
                missing = _run(client, world, who, Case(case.name, case.route, case.same_as_missing, case.expect))
                if not _same_answer(world, response, missing, case):
                    failures.append(f"LEAK: {label}its 404 differs from a missing one's: {response.text[:200]}")
    leaks = [f for f in failures if f.startswith("LEAK")]
    report(
        "access-matrix",
        not failures,
        routes=len({case.route for case in CASES}),
        cases=len(CASES),
        principals=len(WHO),
        requests=len(CASES) * len(WHO),
        denied_as_expected=sum(1 for case in CASES for who in WHO if case.expect(who) >= 400),
        leaks=len(leaks),
        mismatches=len(failures) - len(leaks),
    )
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
