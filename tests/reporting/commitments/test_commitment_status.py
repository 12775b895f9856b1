"""A commitment's status from the data alone: the pure rules of services/reporting/commitments/status.py."""

import datetime as dt

import pytest

from services.common.periods import Period
from services.reporting.briefings.snapshot import CommitmentStatus as S
from services.reporting.commitments.status import (
    Point,
    action_status,
    direction_status,
    least_squares,
    reaches,
    still_tracked,
)

MADE = dt.date(2017, 3, 15)
DEADLINE = dt.date(2017, 12, 31)


def series(*values: tuple[str, float]) -> list[Point]:
    return [Point(period, Period.parse(period).end, value, revision=i + 1) for i, (period, value) in enumerate(values)]


def judge(points, as_of=dt.date(2017, 7, 10), level=0.95, direction="higher_is_better", tolerance=None, **kw):
    return direction_status(
        points,
        level=level,
        direction=direction,
        tolerance=tolerance,
        made_on=kw.get("made_on", MADE),
        deadline=kw.get("deadline", DEADLINE),
        as_of=as_of,
    )


@pytest.mark.parametrize(
    ("value", "direction", "tolerance", "expected"),
    [
        (0.95, "higher_is_better", None, True),
        (0.9499, "higher_is_better", None, False),
        (3.0, "lower_is_better", None, True),
        (3.01, "lower_is_better", None, False),
        # |0.93 - 0.95| is 0.020000000000000018 in binary: still within a band of 0.02.
        (0.93, "closer_is_better", 0.02, True),
        (0.97, "closer_is_better", 0.02, True),
        (0.92, "closer_is_better", 0.02, False),
        (0.95, "closer_is_better", None, True),
    ],
)
def test_reaching_the_level_follows_the_metrics_direction(value, direction, tolerance, expected):
    level = 3.0 if direction == "lower_is_better" else 0.95
    assert reaches(value, level, direction, tolerance) is expected


def test_a_value_since_it_was_made_reaching_the_level_meets_it_for_good():
    points = series(("2017-03", 0.80), ("2017-04", 0.96), ("2017-05", 0.90), ("2017-06", 0.88))
    verdict = judge(points)
    assert verdict.status is S.met
    assert verdict.resolved_on == dt.date(2017, 4, 30)
    assert "2017-04" in verdict.reason
    # The latest value is still shown, even though it fell back.
    assert (verdict.latest.period, verdict.latest.value) == ("2017-06", 0.88)


def test_values_before_it_was_made_or_after_the_deadline_do_not_meet_it():
    # March ends after 15 March, so it counts; February does not.
    before = series(("2017-02", 0.99), ("2017-03", 0.80))
    assert judge(before, as_of=dt.date(2018, 1, 10)).status is S.missed
    after = series(("2017-06", 0.80), ("2018-01", 0.99))
    assert judge(after, as_of=dt.date(2018, 2, 10)).status is S.missed


def test_a_period_ending_on_the_deadline_counts_and_one_ending_after_as_of_does_not():
    points = series(("2017-12", 0.96))
    assert judge(points, as_of=dt.date(2018, 1, 5)).status is S.met
    # Known only later: as of 2017-12-20 December had not ended.
    assert judge(points, as_of=dt.date(2017, 12, 20)).status is S.at_risk


def test_past_the_deadline_without_the_level_it_is_missed():
    points = series(("2017-04", 0.90), ("2017-05", 0.91), ("2017-06", 0.92))
    verdict = judge(points, deadline=dt.date(2017, 6, 30), as_of=dt.date(2017, 7, 1))
    assert verdict.status is S.missed
    assert verdict.resolved_on == dt.date(2017, 6, 30)
    assert "2017-06" in verdict.reason
    # On the deadline day itself it is still open.
    assert judge(points, deadline=dt.date(2017, 6, 30), as_of=dt.date(2017, 6, 30)).status is not S.missed


def test_the_latest_value_already_at_the_level_is_on_track():
    # Made after June's value: nothing since counts to meet it yet, but the latest is there already.
    points = series(("2017-05", 0.90), ("2017-06", 0.96))
    verdict = judge(points, made_on=dt.date(2017, 7, 5))
    assert verdict.status is S.on_track
    assert verdict.projected is None


def test_a_trend_that_reaches_the_level_by_the_deadline_is_on_track():
    points = series(("2017-04", 0.80), ("2017-05", 0.84), ("2017-06", 0.88))
    verdict = judge(points)
    assert verdict.status is S.on_track
    # Four points a month apart rising by 0.04 a month: about 1.12 by the end of December.
    assert verdict.projected == pytest.approx(1.12, abs=0.01)


def test_a_trend_that_falls_short_is_at_risk():
    points = series(("2017-04", 0.80), ("2017-05", 0.81), ("2017-06", 0.82))
    verdict = judge(points)
    assert verdict.status is S.at_risk
    assert verdict.projected == pytest.approx(0.88, abs=0.01)
    assert "short of 0.95" in verdict.reason


def test_too_few_values_for_a_trend_is_at_risk():
    points = series(("2017-05", 0.80), ("2017-06", 0.90))
    verdict = judge(points)
    assert verdict.status is S.at_risk
    assert verdict.projected is None
    assert "too few" in verdict.reason
    # Values from before it was made do not make a trend.
    older = series(("2016-10", 0.5), ("2016-11", 0.6), ("2016-12", 0.7), ("2017-05", 0.80), ("2017-06", 0.90))
    assert judge(older).status is S.at_risk


def test_lower_is_better_trend_and_closer_is_better_band():
    falling = series(("2017-04", 9.0), ("2017-05", 8.0), ("2017-06", 7.0))
    assert judge(falling, level=3.0, direction="lower_is_better").status is S.on_track
    # The same series against a level above it, where higher is better, heads the wrong way.
    assert judge(falling, level=10.0, direction="higher_is_better").status is S.at_risk
    drifting = series(("2017-04", 0.80), ("2017-05", 0.815), ("2017-06", 0.83))
    # Headed for about 0.92 by December: inside 0.95 ± 0.05, outside ± 0.01.
    assert judge(drifting, direction="closer_is_better", tolerance=0.05).status is S.on_track
    assert judge(drifting, direction="closer_is_better", tolerance=0.01).status is S.at_risk


def test_an_empty_series():
    assert judge([]).status is S.at_risk
    assert judge([], as_of=dt.date(2018, 1, 1)).status is S.missed
    assert judge([], as_of=dt.date(2018, 1, 1)).latest is None


def test_the_order_of_the_points_does_not_matter():
    points = series(("2017-04", 0.80), ("2017-05", 0.84), ("2017-06", 0.88))
    assert judge(list(reversed(points))) == judge(points)


def test_least_squares_fits_a_line_through_the_periods_last_days():
    points = [Point("d", dt.date(2017, 1, 1) + dt.timedelta(days=d), 2.0 + 0.5 * d) for d in (0, 10, 20)]
    slope, intercept = least_squares(points)
    assert slope == pytest.approx(0.5)
    assert intercept + slope * dt.date(2017, 1, 31).toordinal() == pytest.approx(17.0)
    assert least_squares(points[:1]) is None


def test_action_items():
    as_of = dt.date(2017, 7, 10)
    assert action_status(done_on=None, deadline=dt.date(2017, 7, 31), as_of=as_of).status is S.open
    assert action_status(done_on=None, deadline=dt.date(2017, 7, 10), as_of=as_of).status is S.open
    assert action_status(done_on=None, deadline=None, as_of=as_of).status is S.open
    missed = action_status(done_on=None, deadline=dt.date(2017, 7, 9), as_of=as_of)
    assert (missed.status, missed.resolved_on) == (S.missed, dt.date(2017, 7, 9))
    # Done beats late: it was done, if late.
    done = action_status(done_on=dt.date(2017, 7, 20), deadline=dt.date(2017, 7, 9), as_of=as_of)
    assert (done.status, done.resolved_on) == (S.done, dt.date(2017, 7, 20))


def test_a_briefing_lists_the_unresolved_and_those_resolved_in_the_last_90_days():
    as_of = dt.date(2017, 7, 10)
    assert still_tracked(action_status(done_on=None, deadline=None, as_of=as_of), as_of)
    assert still_tracked(action_status(done_on=dt.date(2017, 4, 11), deadline=None, as_of=as_of), as_of)
    assert not still_tracked(action_status(done_on=dt.date(2017, 4, 10), deadline=None, as_of=as_of), as_of)
    met_long_ago = judge(series(("2017-03", 0.99)), made_on=dt.date(2017, 2, 1), as_of=as_of)
    assert met_long_ago.status is S.met and not still_tracked(met_long_ago, as_of)
    at_risk = judge(series(("2013-03", 0.5)), as_of=as_of)
    assert still_tracked(at_risk, as_of)
