"""The demo city in the database: loaded once and never duplicated, and read back through the API as the staff
frontend and the public site read it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from services.common.db import Database
from services.metrics.approvals.models import PeriodApproval
from services.metrics.definitions.models import Metric, MetricComment, MetricLink, MetricRevision, Target
from services.metrics.demo.city import build_demo_city
from services.metrics.demo.load import load_demo_city
from services.metrics.demo.programme import PRIORITIES, PUNCTUALITY
from services.metrics.demo.records import COMPUTED_METRICS
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation
from services.metrics.orgunits.models import OrgUnit
from services.metrics.priorities.models import MetricPriority, Priority
from services.runner import create_root_app

TABLES = (
    Department,
    Metric,
    MetricRevision,
    MetricComment,
    MetricLink,
    MetricPriority,
    Priority,
    Target,
    Observation,
    OrgUnit,
    PeriodApproval,
)


@pytest.fixture(scope="module")
def city():
    return build_demo_city()


@pytest.fixture(scope="module")
def demo_db(demo_database_set):
    """The session's demo databases (tests/conftest.py), read only."""
    db = Database(demo_database_set.urls["metrics"])
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def demo_client(demo_database_set, tmp_path_factory):
    with TestClient(create_root_app(demo_database_set.settings(tmp_path_factory.mktemp("demo-api")))) as client:
        yield client


def row_counts(db: Database) -> dict[str, int]:
    with db.session(write=False) as s:
        return {t.__tablename__: s.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def utc_day(moment: dt.datetime) -> dt.date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()


def test_loading_twice_loads_once(metrics_db, city):
    with metrics_db.session() as s:
        first = load_demo_city(s)
    counts = row_counts(metrics_db)
    with metrics_db.session() as s:
        again = load_demo_city(s)
    assert not again.loaded and (again.departments, again.metrics, again.observations) == (0, 0, 0)
    assert row_counts(metrics_db) == counts

    metrics = [m for d in city for m in d.metrics]
    assert first.loaded and first.departments == len(city) == counts["department"]
    assert first.metrics == len(metrics) == counts["metric"]
    # The on-time metrics' values are computed from the demo's raw records (load_demo), not loaded here.
    submitted = [m for m in metrics if m.key not in COMPUTED_METRICS.values()]
    assert len(submitted) == len(metrics) - 2
    assert first.observations == sum(len(m.observations) + len(m.unit_observations) for m in submitted)
    assert first.observations == counts["observation"]
    assert first.versions == sum(m.version for m in metrics) == counts["metric_revision"]
    assert first.comments == sum(len(m.comments) for m in metrics) == counts["metric_comment"]
    assert first.approvals == sum(len(d.approvals) for d in city) == counts["period_approval"]
    assert first.org_units == sum(len(d.org_units) for d in city) == counts["org_unit"]
    assert first.priorities == len(PRIORITIES) == counts["priority"]
    assert counts["metric_priority"] == sum(len(m.priorities) for m in metrics)
    assert counts["metric_link"] == sum(len(m.drives) for m in metrics)


def test_a_priority_defined_before_the_demo_is_kept(metrics_db):
    with metrics_db.session() as s:
        s.add(Priority(code="public_safety", name="Safety first", position=9))
    with metrics_db.session() as s:
        assert load_demo_city(s).loaded
    with metrics_db.session(write=False) as s:
        kept = s.exec(select(Priority).where(Priority.code == "public_safety")).one()
        assert kept.name == "Safety first"
        aligned = s.exec(select(func.count()).select_from(MetricPriority).where(MetricPriority.priority_id == kept.id))
        assert aligned.one() > 0
        assert s.exec(select(func.count()).select_from(Priority)).one() == len(PRIORITIES)


def test_metrics_carry_their_state_version_and_dated_history(demo_db, city):
    demo = {m.key: m for d in city for m in d.metrics}
    with demo_db.session(write=False) as s:
        rows = {m.key: m for m in s.exec(select(Metric))}
        revisions = defaultdict(list)
        for revision in s.exec(select(MetricRevision).order_by(MetricRevision.version)):
            revisions[revision.metric_id].append(revision)
    assert rows.keys() == demo.keys()
    for key, metric in rows.items():
        expected = demo[key]
        assert (metric.state, metric.version, metric.is_published) == (
            expected.state,
            expected.version,
            expected.is_published,
        ), key
        assert (metric.name, metric.methodology, metric.rollup) == (
            expected.name,
            expected.methodology,
            expected.rollup,
        )
        history = revisions[metric.id]
        assert [r.version for r in history] == list(range(1, metric.version + 1)), key
        assert history[0].action == "created" and history[0].changes["key"]["to"] == key
        # Dated in the demo's past, not on the day the demo was loaded.
        assert all(utc_day(r.at) < dt.date(2017, 7, 10) for r in history), key
        assert all(r.actor == "operator" and r.actor_name for r in history), key
        if expected.signed_off:
            assert metric.signed_off_name == expected.signed_off[0], key
            assert metric.signed_off_on_behalf == expected.signed_off[2], key


def test_org_unit_values_roll_up_to_the_departments_in_the_database(demo_db):
    with demo_db.session(write=False) as s:
        weekly = s.exec(select(Metric).where(Metric.frequency == "week")).all()
        assert len(weekly) >= 2
        for metric in weekly:
            units, department = defaultdict(list), {}
            for obs in s.exec(select(Observation).where(Observation.metric_id == metric.id)):
                if obs.org_unit:
                    units[obs.period].append(obs)
                else:
                    department[obs.period] = obs
            assert units.keys() == department.keys() and len(department) == 78, metric.key
            for period, total in department.items():
                parts = units[period]
                if metric.rollup == "ratio":
                    numerator = sum(p.numerator for p in parts)
                    denominator = sum(p.denominator for p in parts)
                    assert total.value == pytest.approx(numerator / denominator, abs=1e-12), (metric.key, period)
                    assert (total.numerator, total.denominator) == (numerator, denominator), (metric.key, period)
                else:
                    assert total.value == sum(p.value for p in parts), (metric.key, period)
            codes = set(s.exec(select(OrgUnit.code).where(OrgUnit.department_id == metric.department_id)))
            assert {p.org_unit for parts in units.values() for p in parts} <= codes, metric.key


def test_approvals_reach_may_2017_for_every_department_and_june_is_provisional(demo_db, demo_client):
    with demo_db.session(write=False) as s:
        departments = s.exec(select(Department)).all()
        months = defaultdict(set)
        for department_id, period in s.exec(select(PeriodApproval.department_id, PeriodApproval.period)):
            months[department_id].add(period)
    for department in departments:
        assert "2017-05" in months[department.id] and "2017-06" not in months[department.id], department.code
    items = demo_client.get(
        "/api/metrics/metrics/dpw.service_requests_on_time/observations", params={"start": "2017-04"}
    ).json()["items"]
    assert [(i["period"], i["approved"]) for i in items] == [("2017-04", True), ("2017-05", True), ("2017-06", False)]
    listed = demo_client.get("/api/metrics/departments/OEP/approvals", params={"limit": 100}).json()["items"]
    by_month = {a["period"]: a for a in listed}
    assert "2017-06" not in by_month and by_month["2017-05"]["actor_name"] == "OEP Head"
    assert by_month["2017-03"]["on_behalf"] is True and by_month["2017-03"]["note"]


def test_the_completeness_board_shows_late_and_missing_cells(demo_client):
    body = demo_client.get("/api/metrics/completeness", params={"start": "2017-01", "end": "2017-06"}).json()
    cells = {(row["department"], c["month"]): c["status"] for row in body["departments"] for c in row["cells"]}
    statuses = list(cells.values())
    assert statuses.count("late") >= 4 and statuses.count("missing") >= 2
    assert statuses.count("on_time") >= 0.75 * len(statuses)
    for code, punctuality in PUNCTUALITY.items():
        for month in punctuality.missed:
            assert cells[(code, month)] == "missing", (code, month)
    assert {cells[(row["department"], "2017-06")] for row in body["departments"]} == {"on_time"}


def test_each_priority_page_has_key_metrics_and_an_outcome_with_its_drivers(demo_client):
    listed = demo_client.get("/api/metrics/priorities").json()["items"]
    assert [p["code"] for p in listed] == [p.code for p in PRIORITIES]
    for priority in listed:
        assert 1 <= priority["key_metric_count"] <= 3, priority["code"]
        detail = demo_client.get(f"/api/metrics/priorities/{priority['code']}").json()
        assert any(1 <= len(o["drivers"]) <= 3 for o in detail["outcomes"]), priority["code"]


def test_a_series_break_reaches_the_performance_of_its_metric(demo_client):
    body = demo_client.get("/api/metrics/metrics/apd.priority1_response_minutes/performance").json()
    assert body["series_breaks"] == ["2016-01"]
    versions = demo_client.get("/api/metrics/metrics/apd.priority1_response_minutes/versions").json()["items"]
    assert [v["action"] for v in versions] == ["created", "proposed", "signed_off", "edited", "edited"]
    assert versions[-1]["series_break"] is True and versions[-1]["break_period"] == "2016-01"


def test_proposals_are_hidden_from_the_public(demo_client):
    assert demo_client.get("/api/metrics/metrics/dwm.sewer_segments_cleaned").status_code == 404
    keys = {m["key"] for m in demo_client.get("/api/metrics/metrics", params={"limit": 500}).json()["items"]}
    assert "dwm.effluent_samples_in_limits" in keys and "apd.arrests" not in keys
