"""Computed metrics from raw records: every measure against a count made record by record in Python, incremental
recomputes equal to full ones, locked periods, vanished records, and the percentile rule against statistics."""

from __future__ import annotations

import datetime as dt
import random
import statistics

import pytest
from sqlmodel import delete, select

from services.metrics.approvals.models import PeriodApproval
from services.metrics.observations.models import Observation, ObservationRevision
from services.metrics.records.compute import recompute, recompute_dataset, recompute_for_import
from services.metrics.records.models import RawRecord
from tests.factories import make_department
from tests.metrics.records.record_factory import (
    add_records,
    computed_metric,
    expected,
    local,
    make_record,
    random_records,
    record_values,
    stored,
)

MEASURES = ["opened", "closed", "backlog", "on_time_rate", "median_days_to_close", "p90_days_to_close"]


@pytest.fixture
def city(metrics_db):
    with metrics_db.session() as s:
        make_department(s, "DPW", "Public Works")
        make_department(s, "DWM", "Watershed Management")
    return metrics_db


@pytest.fixture
def unlocked(settings):
    """The test settings with locks out of the way, for tests about the numbers alone."""
    return settings.model_copy(update={"lock_after_days": 100_000})


def _department(session, code):
    from services.metrics.departments.service import get_department

    return get_department(session, code)


def _assert_same(found: dict, wanted: dict) -> None:
    assert found.keys() == wanted.keys()
    for key, (value, numerator, denominator) in wanted.items():
        got = found[key]
        assert got[0] == pytest.approx(value, rel=1e-12, abs=1e-12), key
        assert (got[1], got[2]) == (numerator, denominator), key


@pytest.mark.parametrize("frequency", ["month", "week"])
@pytest.mark.parametrize("measure", MEASURES)
def test_each_measure_equals_a_count_made_record_by_record(city, unlocked, measure, frequency):
    rows = random_records(400)
    with city.session() as s:
        add_records(s, rows)
        dpw = _department(s, "DPW")
        whole = computed_metric(s, dpw, measure, frequency=frequency, by_org_unit=True)
        narrow = computed_metric(
            s,
            dpw,
            measure,
            frequency=frequency,
            key=f"dpw.narrow_{measure}_{frequency}",
            filters={"department": ["DPW", "DWM"], "category": ["Pothole", "Graffiti"], "org_unit": ["NORTH"]},
        )
        first = recompute(s, whole, None, settings=unlocked)
        recompute(s, narrow, None, settings=unlocked)
        weekly = frequency == "week"
        wanted = expected(rows, measure, ["DPW"], weekly=weekly, by_org_unit=True)
        _assert_same(stored(s, whole), wanted)
        _assert_same(
            stored(s, narrow),
            expected(
                rows, measure, ["DPW", "DWM"], weekly=weekly, categories=["Pothole", "Graffiti"], org_units=["NORTH"]
            ),
        )
        assert first.created == len(wanted) > 10
        assert {unit for _, unit in wanted} == {"", "NORTH", "SOUTH"}
        # Nothing changed, nothing written: a second recompute leaves every value alone.
        again = recompute(s, whole, None, settings=unlocked)
        assert (again.created, again.updated, again.deleted, again.unchanged) == (0, 0, 0, len(wanted))


def test_an_on_time_rate_keeps_its_counts_and_says_how_many_had_no_due_time(city, unlocked):
    with city.session() as s:
        dpw = _department(s, "DPW")
        opened = local("2017-06-01 09:00")
        for i, (hours, due_days) in enumerate([(10, 1), (30, 1), (100, 2), (5, None), (20, 1)]):
            due = opened + dt.timedelta(days=due_days) if due_days else None
            make_record(s, f"ot{i}", "DPW", opened, opened + dt.timedelta(hours=hours), due)
        make_record(s, "still-open", "DPW", opened, None, opened + dt.timedelta(days=1))
        metric = computed_metric(s, dpw, "on_time_rate")
        recompute(s, metric, None, settings=unlocked)
        obs = s.exec(select(Observation).where(Observation.metric_id == metric.id)).one()
    assert (obs.period, obs.numerator, obs.denominator) == ("2017-06", 2.0, 4.0)
    assert obs.value == 0.5
    assert obs.comment.startswith("1 of the 5 records closed in 2017-06 had no due time")


@pytest.mark.parametrize(
    "days", [[3.5], [1, 9], [4, 1, 7], [2, 2, 2, 8], list(range(10)), [0.25 * i for i in range(11)]]
)
def test_the_percentiles_are_those_of_the_statistics_module(city, unlocked, days):
    random.shuffle(days)
    with city.session() as s:
        dpw = _department(s, "DPW")
        opened = local("2017-03-01 08:00")
        for i, d in enumerate(days):
            make_record(s, f"d{i}", "DPW", opened, opened + dt.timedelta(days=d))
        median = computed_metric(s, dpw, "median_days_to_close")
        p90 = computed_metric(s, dpw, "p90_days_to_close")
        recompute(s, median, None, settings=unlocked)
        recompute(s, p90, None, settings=unlocked)
        stored_days = sorted(s.exec(select(RawRecord.days_to_close)).all())
        got_median = stored(s, median)[("2017-03", "")][0]
        got_p90 = stored(s, p90)[("2017-03", "")][0]
    assert got_median == statistics.median(stored_days)
    want_p90 = stored_days[0] if len(days) == 1 else statistics.quantiles(stored_days, n=10, method="inclusive")[8]
    assert got_p90 == want_p90


def _periods(row: dict) -> set[tuple[str, str]]:
    return {
        (row["department"], row[name])
        for name in ("opened_month", "opened_week", "closed_month", "closed_week")
        if row[name] is not None
    }


def test_an_incremental_recompute_gives_what_a_full_one_would(city, unlocked):
    rows = random_records(300)
    with city.session() as s:
        add_records(s, rows)
        dpw, dwm = _department(s, "DPW"), _department(s, "DWM")
        metrics = [computed_metric(s, dpw, m, by_org_unit=True) for m in MEASURES]
        metrics += [computed_metric(s, dpw, m, frequency="week") for m in ("on_time_rate", "backlog", "opened")]
        metrics.append(computed_metric(s, dwm, "closed"))
        recompute_dataset(s, "service_requests", settings=unlocked)

        # A later load: new records, corrected closing times, and records that go away.
        touched: set[tuple[str, str]] = set()
        added = random_records(60, prefix="new", months=(4, 6))
        add_records(s, added)
        rows += added
        for row in added:
            touched |= _periods(row)
        for row in random.sample(rows, 40):
            touched |= _periods(row)
            moved = row["closed_at"] or row["opened_at"]
            corrected = record_values(
                row["record_id"],
                row["department"],
                row["opened_at"],
                moved + dt.timedelta(days=random.uniform(0, 20)),
                row["due_at"],
                category=row["category"],
                org_unit=row["org_unit"],
            )
            s.merge(RawRecord(**corrected))
            touched |= _periods(corrected)
            rows[rows.index(row)] = corrected
        for row in random.sample(rows, 20):
            touched |= _periods(row)
            s.exec(delete(RawRecord).where(RawRecord.record_id == row["record_id"]))
            rows.remove(row)
        s.flush()

        summary = recompute_for_import(s, "service_requests", touched, settings=unlocked)
        assert set(summary) == {m.key for m in metrics}
        assert sum(m["updated"] + m["created"] + m["deleted"] for m in summary.values()) > 0
        for metric in metrics:
            full = recompute(s, metric, None, settings=unlocked)
            assert (full.created, full.updated, full.deleted) == (0, 0, 0), metric.key
        by_month = metrics[0]
        _assert_same(stored(s, by_month), expected(rows, "opened", ["DPW"], by_org_unit=True))


def test_an_import_recomputes_only_the_metrics_counting_its_departments(city, unlocked):
    with city.session() as s:
        dpw, dwm = _department(s, "DPW"), _department(s, "DWM")
        ours = computed_metric(s, dpw, "opened")
        theirs = computed_metric(s, dwm, "opened")
        both = computed_metric(s, dpw, "closed", key="dpw.both_closed", filters={"department": ["DPW", "DWM"]})
        make_record(s, "w1", "DWM", local("2017-05-03 10:00"), local("2017-05-04 10:00"))
        summary = recompute_for_import(
            s, "service_requests", {("DWM", "2017-05"), ("DWM", "2017-W18")}, settings=unlocked
        )
        assert set(summary) == {theirs.key, both.key}
        assert summary[theirs.key]["created"] == 1 and summary[theirs.key]["periods"] == 1
        assert stored(s, ours) == {}
        assert stored(s, both) == {("2017-05", ""): (1.0, None, None)}


def test_a_backlog_is_recomputed_from_the_earliest_touched_period_on(city, unlocked):
    with city.session() as s:
        dpw = _department(s, "DPW")
        backlog = computed_metric(s, dpw, "backlog")
        make_record(s, "b1", "DPW", local("2017-01-10 10:00"), local("2017-04-02 10:00"))
        make_record(s, "b2", "DPW", local("2017-02-10 10:00"))
        recompute(s, backlog, None, settings=unlocked)
        assert {p: v[0] for (p, _), v in stored(s, backlog).items()} == {
            "2017-01": 1.0,
            "2017-02": 2.0,
            "2017-03": 2.0,
            "2017-04": 1.0,
        }
        # An old record turns up: every period end from its month on carries it.
        make_record(s, "b3", "DPW", local("2017-02-20 10:00"))
        summary = recompute_for_import(
            s, "service_requests", {("DPW", "2017-02"), ("DPW", "2017-W07")}, settings=unlocked
        )
        assert summary[backlog.key]["updated"] == 3
        assert {p: v[0] for (p, _), v in stored(s, backlog).items()} == {
            "2017-01": 1.0,
            "2017-02": 3.0,
            "2017-03": 3.0,
            "2017-04": 2.0,
        }


def test_a_value_whose_records_all_went_is_deleted_with_a_revision(city, unlocked):
    with city.session() as s:
        dpw = _department(s, "DPW")
        metric = computed_metric(s, dpw, "opened")
        make_record(s, "gone", "DPW", local("2017-05-03 10:00"))
        make_record(s, "kept", "DPW", local("2017-06-03 10:00"))
        recompute(s, metric, None, settings=unlocked)
        s.exec(delete(RawRecord).where(RawRecord.record_id == "gone"))
        result = recompute(s, metric, {"2017-05"}, settings=unlocked)
        assert (result.deleted, result.unchanged) == (1, 0)
        assert set(stored(s, metric)) == {("2017-06", "")}
        revisions = s.exec(
            select(ObservationRevision)
            .where(ObservationRevision.metric_id == metric.id)
            .order_by(ObservationRevision.id)
        ).all()
    assert [(r.period, r.kind, r.actor) for r in revisions] == [
        ("2017-05", "created", "rule"),
        ("2017-06", "created", "rule"),
        ("2017-05", "deleted", "rule"),
    ]
    assert revisions[-1].previous_value == 1.0


def test_locked_periods_get_their_first_value_but_change_only_when_forced(city, settings):
    # As of 2017-07-10 with values due 10 days after the month and locking 30 days later, March is locked by
    # time, and June once DPW approves it.
    with city.session() as s:
        dpw = _department(s, "DPW")
        metric = computed_metric(s, dpw, "opened")
        make_record(s, "m1", "DPW", local("2017-03-03 10:00"))
        make_record(s, "j1", "DPW", local("2017-06-03 10:00"))
        first = recompute(s, metric, None, settings=settings)
        assert (first.created, first.locked_skipped) == (2, [])
        s.add(PeriodApproval(department_id=dpw.id, period="2017-06", actor="user:1"))
        make_record(s, "m2", "DPW", local("2017-03-04 10:00"))
        make_record(s, "j2", "DPW", local("2017-06-04 10:00"))
        make_record(s, "a1", "DPW", local("2017-05-04 10:00"))
        touched = {("DPW", "2017-03"), ("DPW", "2017-05"), ("DPW", "2017-06")}
        summary = recompute_for_import(s, "service_requests", touched, settings=settings)
        assert summary[metric.key]["locked_skipped"] == ["2017-03", "2017-06"]
        assert summary[metric.key]["created"] == 1
        assert {p: v[0] for (p, _), v in stored(s, metric).items()} == {"2017-03": 1.0, "2017-05": 1.0, "2017-06": 1.0}
        plain = recompute(s, metric, None, settings=settings)
        assert (plain.updated, plain.locked_skipped) == (0, ["2017-03", "2017-06"])
        forced = recompute(s, metric, None, force=True, settings=settings)
        assert (forced.updated, forced.locked_skipped) == (2, [])
        assert {p: v[0] for (p, _), v in stored(s, metric).items()} == {"2017-03": 2.0, "2017-05": 1.0, "2017-06": 2.0}
        reasons = s.exec(
            select(ObservationRevision.reason).where(
                ObservationRevision.metric_id == metric.id, ObservationRevision.kind == "updated"
            )
        ).all()
    assert reasons == ["full recompute asked for by the performance office"] * 2


def test_recompute_reports_progress(city, unlocked):
    with city.session() as s:
        dpw = _department(s, "DPW")
        for measure in ("opened", "closed", "backlog"):
            computed_metric(s, dpw, measure)
        make_record(s, "p1", "DPW", local("2017-03-03 10:00"), local("2017-03-05 10:00"))
        seen: list[tuple[int, int]] = []
        results = recompute_dataset(s, "service_requests", settings=unlocked, progress=lambda d, t: seen.append((d, t)))
    assert [r.created for r in results] == [1, 1, 1]
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
