"""When the demo's values arrived, the completeness that follows, and the months the departments approved.

Completeness is recomputed here from the rule alone: a value is due `due_days` after its period ends and counts in
the month its period ends in; it is on time if it arrived by then, late if after, missing if it never came."""

import datetime as dt
from collections import Counter, defaultdict

import pytest

from services.ingest.accounts.demo import demo_staff
from services.metrics.demo.city import AS_OF, build_demo_city
from services.metrics.demo.programme import ANALYST, PUNCTUALITY

WINDOW = [f"2017-{m:02d}" for m in range(1, 7)]


@pytest.fixture(scope="module")
def city():
    return build_demo_city()


def period_dates(period: str) -> tuple[dt.date, dt.date]:
    if "-W" in period:
        monday = dt.date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
        return monday, monday + dt.timedelta(days=6)
    year = int(period[:4])
    if "-Q" in period:
        first_month = 3 * (int(period[6:]) - 1) + 1
        months = 3
    else:
        first_month, months = int(period[5:]), 1
    start = dt.date(year, first_month, 1)
    after = dt.date(year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


def expected_periods(metric) -> list[str]:
    """Every period from the metric's first to the last that ended before the demo's today."""
    start, _ = period_dates(metric.first_period)
    periods, day = [], start
    while True:
        if metric.frequency == "week":
            iso = day.isocalendar()
            period = f"{iso.year:04d}-W{iso.week:02d}"
        elif metric.frequency == "quarter":
            period = f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
        else:
            period = f"{day.year:04d}-{day.month:02d}"
        first, last = period_dates(period)
        if last >= AS_OF:
            return periods
        periods.append(period)
        day = last + dt.timedelta(days=1)


def statuses(city) -> dict[tuple[str, str], Counter]:
    """(department, month) -> how many of its expected values were on time, late or missing."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for department in city:
        for metric in department.metrics:
            if metric.state != "active":
                continue
            arrived = {o.period: o.arrived_at for o in metric.observations}
            for period in expected_periods(metric):
                end = period_dates(period)[1]
                due = end + dt.timedelta(days=metric.due_days)
                came = arrived.get(period)
                if came is None:
                    status = "missing" if AS_OF > due else "due"
                else:
                    status = "on_time" if came.astimezone(dt.UTC).date() <= due else "late"
                cells[(department.code, f"{end.year:04d}-{end.month:02d}")][status] += 1
    return cells


def cell(counts: Counter) -> str:
    return next(s for s in ("missing", "late", "due", "on_time") if counts[s])


def test_every_value_arrived_after_its_period_and_by_the_demos_today(city):
    latest = dt.datetime.combine(AS_OF, dt.time.max, tzinfo=dt.UTC)
    for department in city:
        for metric in department.metrics:
            for obs in metric.observations + metric.unit_observations:
                assert obs.arrived_at is not None and obs.arrived_at.tzinfo is not None, (metric.key, obs.period)
                ended = dt.datetime.combine(period_dates(obs.period)[1], dt.time.max, tzinfo=dt.UTC)
                assert ended < obs.arrived_at <= latest, (metric.key, obs.period)


def test_a_departments_values_for_a_period_arrive_together(city):
    for department in city:
        when = defaultdict(set)
        for metric in department.metrics:
            for obs in metric.observations + metric.unit_observations:
                if "-Q" not in obs.period:
                    when[obs.period].add(obs.arrived_at)
        assert all(len(moments) == 1 for moments in when.values()), department.code


def test_the_board_for_2017_has_late_and_missing_cells_but_is_mostly_on_time(city):
    cells = {key: cell(counts) for key, counts in statuses(city).items() if key[1] in WINDOW}
    board = Counter(cells.values())
    assert board["missing"] >= 2 and board["late"] >= 4
    assert board["on_time"] >= 0.75 * len(cells)
    assert board["due"] == 0
    missing = sorted(key for key, status in cells.items() if status == "missing")
    assert missing == sorted((code, m) for code, p in PUNCTUALITY.items() for m in p.missed if m in WINDOW)
    # Every pinned late month shows as late (or missing, when something else never came that month).
    for code, punctuality in PUNCTUALITY.items():
        for month, _ in punctuality.late:
            if month in WINDOW:
                assert cells[(code, month)] in ("late", "missing"), (code, month)
    assert cells[("DWM", "2017-03")] == "late", "a week of plant samples came late"


def test_june_2017_is_complete_and_on_time_everywhere(city):
    june = {key: counts for key, counts in statuses(city).items() if key[1] == "2017-06"}
    assert len(june) == len(city)
    assert all(set(counts) == {"on_time"} for counts in june.values()), june


def test_over_the_years_a_few_months_in_a_hundred_are_late(city):
    counts = Counter(cell(c) for key, c in statuses(city).items() if key[1] < "2017-01")
    share = counts["late"] / sum(counts.values())
    assert 0.02 <= share <= 0.15, counts


def test_every_department_approved_each_month_to_may_2017_and_not_june(city):
    for department in city:
        months = [a.period for a in department.approvals]
        first = min(period_dates(m.first_period)[0] for m in department.metrics if m.state in ("active", "retired"))
        assert months[0] <= f"{first.year:04d}-{first.month:02d}", department.code
        assert months[-1] == "2017-05", department.code
        assert "2017-06" not in months and len(set(months)) == len(months), department.code
        assert months == sorted(months), department.code
        # No month skipped between the first and May 2017.
        year, month = int(months[0][:4]), int(months[0][5:])
        assert len(months) == (2017 - year) * 12 + 5 - month + 1, department.code


def test_a_month_is_approved_after_its_values_came_and_before_the_demos_today(city):
    for department in city:
        latest = {}
        for metric in department.metrics:
            for obs in metric.observations + metric.unit_observations:
                end = period_dates(obs.period)[1]
                month = f"{end.year:04d}-{end.month:02d}"
                latest[month] = max(latest.get(month, obs.arrived_at), obs.arrived_at)
        for approval in department.approvals:
            assert approval.at.date() < AS_OF, (department.code, approval.period)
            if approval.period in latest:
                assert approval.at > latest[approval.period], (department.code, approval.period)


def test_heads_approve_and_the_analyst_sometimes_does_on_their_behalf(city):
    staff = {name for _, name, _, _ in demo_staff([d.code for d in city])}
    on_behalf = []
    for department in city:
        for approval in department.approvals:
            assert approval.actor_name in staff, approval.actor_name
            if approval.on_behalf:
                assert approval.actor_name == ANALYST and approval.note, (department.code, approval.period)
                on_behalf.append((department.code, approval.period))
            else:
                assert approval.actor_name == f"{department.code} Head", (department.code, approval.period)
    total = sum(len(d.approvals) for d in city)
    assert 3 <= len(on_behalf) <= 0.1 * total
    # A month whose values never came is closed by the analyst.
    for code, punctuality in PUNCTUALITY.items():
        for month in punctuality.missed:
            assert (code, month) in on_behalf
