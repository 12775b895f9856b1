"""Real cities' files against their own verdicts: Boston's `ontime` flag for each closed case with a target, and
NYC's on-time rates per agency against a count made here, independently of the importer, from the raw CSV."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

from sqlmodel import select

from services.metrics.definitions.models import Metric
from services.metrics.observations.models import Observation
from services.metrics.records.models import RawRecord
from tests.conftest import INTERNAL_TOKEN
from tests.factories import make_user, sign_in

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "311"
AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


def _import(client, path: Path, mapping: str) -> dict:
    answer = client.post(
        "/api/metrics/record-imports",
        params={"id": mapping, "dataset": "service_requests", "mapping": mapping, "actor": "test",
                "create_departments": "true"},
        content=path.read_bytes(),
        headers=AUTH,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    job = answer.json()
    assert job["status"] == "done", job
    return job


def test_boston_on_time_agrees_with_the_citys_own_flag_on_every_closed_case_with_a_target(client, metrics_db):
    path = DATA / "boston311_100_qsv_2022.csv"
    _import(client, path, "boston311")
    with path.open(newline="", encoding="utf-8") as handle:
        expected = {
            row["case_enquiry_id"]: row["ontime"]
            for row in csv.DictReader(handle)
            if row["closed_dt"].strip() and row["target_dt"].strip()
        }
    with metrics_db.session(write=False) as session:
        compared = session.exec(
            select(RawRecord).where(RawRecord.closed_at.is_not(None), RawRecord.due_source == "record")
        ).all()
    assert {r.record_id for r in compared} == set(expected)
    disagreements = [
        (r.record_id, r.on_time, r.attributes["ontime"])
        for r in compared
        if (r.on_time == 1) != (r.attributes["ontime"] == "ONTIME")
    ]
    agreement = 1 - len(disagreements) / len(compared)
    print(f"Boston: {len(compared) - len(disagreements)} of {len(compared)} closed cases with a target agree "
          f"({agreement:.1%})")  # fmt: skip
    # Every case is its own check: none is explained away, so all of them must agree.
    assert not disagreements, f"agreement {agreement:.1%}; disagreeing cases: {disagreements}"
    assert len(compared) == 77


def _independent_nyc_counts(path: Path) -> tuple[Counter, Counter, int]:
    """On time and closed-with-a-due-date per agency, read straight from the CSV with strptime."""
    on_time, closed, backwards = Counter(), Counter(), 0
    fmt = "%m/%d/%Y %I:%M:%S %p"
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            created, finished, due = row["Created Date"], row["Closed Date"], row["Due Date"]
            if finished and dt.datetime.strptime(finished, fmt) < dt.datetime.strptime(created, fmt):
                backwards += 1
                continue
            if not finished or not due:
                continue
            closed[row["Agency"]] += 1
            on_time[row["Agency"]] += dt.datetime.strptime(finished, fmt) <= dt.datetime.strptime(due, fmt)
    return on_time, closed, backwards


def test_nyc_on_time_rates_per_agency_equal_an_independent_count(client, metrics_db, ingest_db):
    path = DATA / "nyc311_sample_1000_2014-2019.csv"
    job = _import(client, path, "nyc311")
    on_time, closed, backwards = _independent_nyc_counts(path)
    assert backwards == job["rejected"] == 10
    # The issue's own examples.
    assert (on_time["DPR"], closed["DPR"]) == (18, 29)
    assert (on_time["NYPD"], closed["NYPD"]) == (330, 346)

    # One computed metric per agency, made through the API alone; creating it computes its history.
    make_user(ingest_db, "office", "analyst")
    csrf = sign_in(client, "office")
    for agency in closed:
        metric = {
            "key": f"{agency.lower()}.requests_on_time",
            "department": agency,
            "name": "Requests closed on time",
            "unit": "percent",
            "kind": "output",
            "direction": "higher_is_better",
            "frequency": "month",
            "rule": {"measure": "on_time_rate"},
        }
        answer = client.post("/api/metrics/metrics", json=metric, headers=csrf)
        assert answer.status_code == 201, answer.text

    computed_on_time, computed_closed = Counter(), Counter()
    with metrics_db.session(write=False) as session:
        for metric in session.exec(select(Metric).where(Metric.is_computed)):
            agency = metric.key.split(".")[0].upper()
            for value in session.exec(
                select(Observation).where(Observation.metric_id == metric.id, Observation.org_unit == "")
            ):
                computed_on_time[agency] += value.numerator
                computed_closed[agency] += value.denominator
    assert computed_closed == closed
    assert computed_on_time == on_time
    for agency in sorted(closed):
        print(f"NYC {agency}: {int(computed_on_time[agency])} of {int(computed_closed[agency])} on time")
