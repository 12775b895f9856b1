import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.common.periods import Period
from services.metrics.definitions.models import Direction
from services.metrics.performance.schemas import Status
from services.metrics.performance.statistics import (
    BEYOND_LIMITS,
    RUN_ONE_SIDE,
    RUN_TREND,
    Change,
    ImprovementEntry,
    Point,
    Signal,
    Streaks,
    change,
    compare,
    fill_gaps,
    most_improved,
    same_period_last_year,
    streaks,
    trend,
    xmr,
    xmr_segments,
)

H, L, C = Direction.higher_is_better, Direction.lower_is_better, Direction.closer_is_better


def months(n: int, start: str = "2023-01") -> list[str]:
    first = Period.parse(start)
    return [str(first.shift(i)) for i in range(n)]


def series(values, start="2023-01", breaks=(), targets=None) -> list[Point]:
    periods = months(len(values), start)
    return [
        Point(
            period,
            value,
            target=None if targets is None else targets[i],
            series_break=i in breaks,
        )
        for i, (period, value) in enumerate(zip(periods, values, strict=True))
    ]


# --- XmR: the worked example ---------------------------------------------------------------------------------------

WORKED = [52, 48, 55, 50, 47, 53, 51, 49, 54, 46, 50, 52, 51, 48, 70, 50, 49, 53, 47, 52]


def test_xmr_matches_the_worked_example_computed_by_hand():
    baseline = WORKED[:12]
    centre = sum(baseline) / len(baseline)
    moving_ranges = [abs(baseline[i] - baseline[i - 1]) for i in range(1, len(baseline))]
    mr_bar = sum(moving_ranges) / len(moving_ranges)
    # The same sums written out: 52+48+...+52 = 607 over 12 values, ranges 4+7+5+3+6+2+2+5+8+4+2 = 48 over 11.
    assert centre == 607 / 12
    assert mr_bar == 48 / 11

    result = xmr(series(WORKED))

    assert result.reason is None
    assert result.centre == pytest.approx(centre)
    assert result.mr_bar == pytest.approx(mr_bar)
    assert result.upper == pytest.approx(centre + 2.66 * mr_bar)
    assert result.lower == pytest.approx(centre - 2.66 * mr_bar)
    assert result.upper_range == pytest.approx(3.268 * mr_bar)
    assert result.baseline_periods == months(12)
    assert result.segment_periods == months(20)
    # 70 is far above the upper limit (about 62.2); nothing else in the series is a signal.
    assert result.signals == [Signal(BEYOND_LIMITS, ["2024-03"], "above", [14])]


def test_a_point_below_the_lower_limit_is_a_signal():
    result = xmr(series(WORKED[:12] + [50, 30, 51]))
    assert result.signals == [Signal(BEYOND_LIMITS, ["2024-02"], "below", [13])]


def test_baseline_is_the_first_n_values_and_smaller_baselines_are_allowed():
    values = WORKED[:12] + [80, 81, 79]
    eight = xmr(series(values), baseline=8)
    first_eight = values[:8]
    assert eight.centre == pytest.approx(sum(first_eight) / 8)
    assert eight.mr_bar == pytest.approx(sum(abs(first_eight[i] - first_eight[i - 1]) for i in range(1, 8)) / 7)
    assert eight.baseline_periods == months(8)
    # The later shift does not feed the limits, so it shows up as three signals.
    assert [s.indexes for s in eight.signals if s.rule == BEYOND_LIMITS] == [[12], [13], [14]]


# --- XmR: runs --------------------------------------------------------------------------------------------------

# Centre exactly 50 (600 / 12), mR-bar 60 / 11, limits about 35.5 and 64.5; the last value sits on the centre line.
FLAT = [50, 54, 46, 52, 48, 55, 45, 51, 49, 53, 47, 50]


def test_flat_baseline_has_the_centre_the_tests_rely_on():
    result = xmr(series(FLAT))
    assert result.centre == 50.0
    assert result.mr_bar == pytest.approx(60 / 11)
    assert result.signals == []


def test_eight_in_a_row_above_the_centre_line_is_one_signal_listing_them():
    result = xmr(series(FLAT + [53, 51, 56, 52, 54, 51, 55, 53, 47]))
    assert result.signals == [Signal(RUN_ONE_SIDE, months(20)[12:20], "above", list(range(12, 20)))]


def test_seven_in_a_row_is_not_a_run_of_eight():
    assert xmr(series(FLAT + [53, 51, 56, 52, 54, 51, 55, 47])).signals == []


def test_eight_in_a_row_below_is_reported_as_below():
    result = xmr(series(FLAT + [47, 49, 44, 48, 46, 49, 45, 47]))
    assert [(s.rule, s.direction, len(s.periods)) for s in result.signals] == [(RUN_ONE_SIDE, "below", 8)]


def test_a_point_exactly_on_the_centre_line_breaks_a_run():
    assert xmr(series(FLAT + [53, 51, 56, 50, 54, 51, 55, 53, 52])).signals == []


def test_a_missing_period_breaks_a_run():
    with_gap = FLAT + [53, 51, 56, 52, None, 54, 51, 55, 53]
    without_gap = FLAT + [53, 51, 56, 52, 54, 51, 55, 53]
    assert xmr(series(with_gap)).signals == []
    assert [s.rule for s in xmr(series(without_gap)).signals] == [RUN_ONE_SIDE]


def test_six_points_each_higher_than_the_one_before_is_a_rising_run():
    result = xmr(series(FLAT + [40, 44, 47, 51, 55, 60]))
    assert result.signals == [Signal(RUN_TREND, months(18)[12:18], "up", list(range(12, 18)))]


def test_six_points_falling_is_a_falling_run():
    result = xmr(series(FLAT + [60, 56, 52, 49, 45, 41]))
    assert result.signals == [Signal(RUN_TREND, months(18)[12:18], "down", list(range(12, 18)))]


def test_five_rising_points_are_not_a_run_of_six():
    assert xmr(series(FLAT + [40, 44, 47, 51, 55, 52])).signals == []


def test_the_run_length_is_a_parameter():
    assert [s.rule for s in xmr(series(FLAT + [40, 44, 47, 51, 55, 52]), trend_run=5).signals] == [RUN_TREND]


def test_a_tie_breaks_a_rising_run():
    assert xmr(series(FLAT + [40, 44, 47, 47, 51, 55, 60])).signals == []


def test_a_gap_breaks_a_rising_run():
    assert xmr(series(FLAT + [40, 44, 47, None, 51, 55, 60, 62])).signals == []


def test_moving_ranges_skip_gaps():
    values = [10, 12, None, 11, 15, 13, 14, 12]
    result = xmr(series(values), min_baseline=6)
    # Ranges only between neighbours that both have values: |12-10|, |15-11|, |13-15|, |14-13|, |12-14|.
    assert result.mr_bar == pytest.approx((2 + 4 + 2 + 1 + 2) / 5)
    assert result.centre == pytest.approx((10 + 12 + 11 + 15 + 13 + 14 + 12) / 7)
    assert "2023-03" not in result.baseline_periods
    assert len(result.baseline_periods) == 7


# --- XmR: series breaks and too little data ---------------------------------------------------------------------

BEFORE = [9, 11, 8, 12, 9, 10, 8, 9, 11, 12, 11, 13]  # centre 10.25; the last four lie above it
AFTER = [32, 31, 33, 32, 29, 30, 28, 31, 29, 30, 28, 29]  # centre 362 / 12; the first four lie above it


def test_a_series_break_starts_a_new_baseline():
    points = series(BEFORE + AFTER, breaks={12})
    first, second = xmr_segments(points)

    assert first.centre == pytest.approx(sum(BEFORE) / 12)
    assert second.centre == pytest.approx(sum(AFTER) / 12)
    assert second.mr_bar == pytest.approx(sum(abs(AFTER[i] - AFTER[i - 1]) for i in range(1, 12)) / 11)
    assert second.upper != pytest.approx(first.upper)
    assert second.baseline_periods == months(24)[12:]
    assert first.segment_periods == months(24)[:12]
    # Four above before the break and four above after it are not a run of eight, and the jump is not a signal.
    assert first.signals == [] and second.signals == []
    assert xmr(points) == second


def test_without_the_break_the_same_shift_is_flagged():
    # What the break protects against: judged by the old baseline, every later value is a signal.
    result = xmr(series(BEFORE + AFTER))
    assert result.centre == pytest.approx(sum(BEFORE) / 12)
    assert {s.rule for s in result.signals} >= {BEYOND_LIMITS, RUN_ONE_SIDE}
    assert len([s for s in result.signals if s.rule == BEYOND_LIMITS]) == 12


def test_a_rising_run_does_not_cross_a_series_break():
    values = FLAT[:9] + [40, 44, 47, 51, 55, 60, 62] + FLAT[:6]
    crossing = series(values, breaks={13})
    assert [s.rule for s in xmr(series(values)).signals] == [RUN_TREND]
    assert all(s.rule != RUN_TREND for segment in xmr_segments(crossing) for s in segment.signals)


def test_too_few_points_since_the_break_gives_no_limits_and_says_why():
    points = series(BEFORE + [30, 31, 29, 32, 30], breaks={12})
    result = xmr(points)
    assert result.centre is None and result.lower is None and result.upper is None and result.mr_bar is None
    assert result.signals == []
    assert result.reason == "5 values since the series break at 2024-01; limits need at least 6"
    assert result.baseline_periods == months(17)[12:]


def test_too_few_points_gives_no_limits():
    result = xmr(series([5, 6, 7, None, 8]))
    assert result.centre is None
    assert result.reason == "4 values; limits need at least 6"
    assert xmr(series([5, 6, 7, None, 8]), min_baseline=4).centre == pytest.approx(6.5)


def test_a_baseline_without_two_neighbouring_values_gives_no_limits():
    result = xmr(series([5, None, 6, None, 7, None, 8, None, 9, None, 10, None]))
    assert result.centre is None
    assert result.reason == "no two consecutive periods with values in the baseline"


def test_no_points():
    assert xmr([]).reason == "no points"


def test_lower_limit_is_not_clamped_unless_asked():
    counts = [0, 3, 0, 4, 1, 0, 2, 5, 0, 1, 3, 0]
    natural = xmr(series(counts))
    assert natural.lower < 0
    clamped = xmr(series(counts), lower_bound=0)
    assert clamped.lower == 0
    assert clamped.upper == natural.upper


def test_periods_must_be_consecutive():
    points = [Point("2023-01", 1.0), Point("2023-03", 2.0)]
    with pytest.raises(ValueError, match="2023-03 does not follow 2023-01"):
        xmr(points)
    filled = fill_gaps(reversed(points))
    assert [(p.period, p.value) for p in filled] == [("2023-01", 1.0), ("2023-02", None), ("2023-03", 2.0)]
    with pytest.raises(ValueError, match="twice"):
        fill_gaps([Point("2023-01", 1.0), Point("2023-01", 2.0)])


# --- XmR: properties ----------------------------------------------------------------------------------------------

values_strategy = st.lists(
    st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False), min_size=6, max_size=24
)


@settings(derandomize=True, max_examples=100)
@given(st.lists(st.one_of(st.none(), st.floats(-1e4, 1e4)), min_size=6, max_size=30))
def test_limits_are_symmetric_around_the_centre(values):
    result = xmr(series(values))
    assume(result.reason is None)
    assert result.upper - result.centre == pytest.approx(result.centre - result.lower, abs=1e-6)
    assert result.upper - result.centre == pytest.approx(2.66 * result.mr_bar, abs=1e-6)
    assert result.mr_bar >= 0


@settings(derandomize=True, max_examples=100)
@given(values_strategy, st.floats(min_value=-1000, max_value=1000))
def test_adding_a_constant_shifts_centre_and_limits_and_keeps_mr_bar(values, constant):
    base = xmr(series(values))
    shifted = xmr(series([v + constant for v in values]))
    assert shifted.centre == pytest.approx(base.centre + constant, abs=1e-6)
    assert shifted.lower == pytest.approx(base.lower + constant, abs=1e-6)
    assert shifted.upper == pytest.approx(base.upper + constant, abs=1e-6)
    assert shifted.mr_bar == pytest.approx(base.mr_bar, abs=1e-6)
    assert shifted.upper_range == pytest.approx(base.upper_range, abs=1e-6)


@settings(derandomize=True, max_examples=100)
@given(values_strategy, st.floats(min_value=0.01, max_value=100))
def test_scaling_by_a_positive_factor_scales_centre_limits_and_mr_bar(values, k):
    base = xmr(series(values))
    scaled = xmr(series([v * k for v in values]))
    for field in ("centre", "lower", "upper", "mr_bar", "upper_range"):
        assert getattr(scaled, field) == pytest.approx(getattr(base, field) * k, rel=1e-9, abs=1e-6)
    # Every rule compares values with each other or with limits that scale with them.
    assert [(s.rule, s.indexes) for s in scaled.signals] == [(s.rule, s.indexes) for s in base.signals]


# --- trend --------------------------------------------------------------------------------------------------------


def test_trend_slope_is_least_squares_per_period():
    result = trend(series([1, 3, 5, 7, 9, 11]), H)
    assert result.slope == pytest.approx(2.0)
    xs, ys = range(6), [1.0, 3.5, 4.0, 8.0, 8.5, 12.0]
    mx, my = sum(xs) / 6, sum(ys) / 6
    expected = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert trend(series(ys), H).slope == pytest.approx(expected)


def test_trend_uses_the_last_six_periods_only():
    result = trend(series([100, 0, 100, 0, 1, 2, 3, 4, 5, 6]), H)
    assert result.periods == months(10)[4:]
    assert result.slope == pytest.approx(1.0)


def test_trend_keeps_gaps_at_their_place_in_time():
    # y = 2x at x = 0, 1, 3, 4, 5: squeezing the gap out would give a different slope.
    result = trend(series([0, 2, None, 6, 8, 10]), H)
    assert result.slope == pytest.approx(2.0)
    assert result.periods == [p for i, p in enumerate(months(6)) if i != 2]


@pytest.mark.parametrize(
    ("values", "direction", "word"),
    [
        ([50, 52, 51, 54, 55, 57], H, "improving"),
        ([57, 55, 54, 51, 52, 50], H, "worsening"),
        ([50, 52, 51, 54, 55, 57], L, "worsening"),
        ([57, 55, 54, 51, 52, 50], L, "improving"),
        ([50, 53, 48, 52, 49, 51], H, "flat"),
        ([50, 53, 48, 52, 49, 51], L, "flat"),
        # Noise-free creep smaller than 1 % of the level is flat; a larger one is not.
        ([100, 100.1, 100.2, 100.3, 100.4, 100.5], H, "flat"),
        ([100, 102, 104, 106, 108, 110], H, "improving"),
    ],
)
def test_trend_words_for_higher_and_lower_is_better(values, direction, word):
    assert trend(series(values), direction).direction_word == word


def test_trend_word_for_closer_is_better_follows_the_distance_to_target():
    target = [10.0] * 6
    approaching_from_above = trend(series([16, 14.5, 13, 12, 11, 10.5], targets=target), C)
    assert approaching_from_above.direction_word == "improving"
    assert approaching_from_above.slope < 0
    assert approaching_from_above.distance_slope < 0

    approaching_from_below = trend(series([4, 5.5, 7, 8, 9, 9.5], targets=target), C)
    assert approaching_from_below.direction_word == "improving"
    assert approaching_from_below.slope > 0

    drifting_away = trend(series([10, 10.5, 11.5, 12, 13, 14.5], targets=target), C)
    assert drifting_away.direction_word == "worsening"

    # The value stands still while the target moves towards it: each point is judged against its own target.
    moving_target = trend(series([20] * 6, targets=[10, 12, 14, 16, 18, 20]), C)
    assert moving_target.slope == pytest.approx(0.0)
    assert moving_target.direction_word == "improving"

    steady = trend(series([11, 9, 10.5, 9.5, 10, 11], targets=target), C)
    assert steady.direction_word == "flat"


def test_closer_is_better_without_targets_has_no_word():
    result = trend(series([16, 14, 13, 12, 11, 10]), C)
    assert result.direction_word is None
    assert result.slope is not None
    assert result.reason == "0 values with a target in the window; a trend needs 3"


def test_trend_needs_three_values_and_stops_at_a_series_break():
    assert trend(series([None, None, None, None, 1, 2]), H).reason == "2 values in the window; a trend needs 3"
    result = trend(series([50, 40, 30, 31, 32, 33], breaks={3}), H)
    assert result.periods == months(6)[3:]
    assert result.direction_word == "improving"
    # Without the break the fall before it dominates.
    assert trend(series([50, 40, 30, 31, 32, 33]), H).direction_word == "worsening"


def test_trend_accepts_direction_strings():
    assert trend(series([1, 2, 3, 4, 5, 6]), "lower_is_better").direction_word == "worsening"


# --- change -------------------------------------------------------------------------------------------------------


def test_change_absolute_and_relative():
    result = change(120, 100)
    assert result.absolute == pytest.approx(20)
    assert result.relative == pytest.approx(0.2)
    assert result.reason is None
    fall = change(75, 100)
    assert fall.absolute == pytest.approx(-25) and fall.relative == pytest.approx(-0.25)


def test_change_from_a_zero_base_has_no_relative_change():
    assert change(5, 0) == Change(5, None, "base is zero")


def test_change_with_a_missing_value_has_neither():
    assert change(None, 4) == Change(None, None, "no current value")
    assert change(4, None) == Change(None, None, "no base value")


def test_relative_change_keeps_the_sign_of_the_absolute_change_on_a_negative_base():
    result = change(-2, -4)
    assert result.absolute == pytest.approx(2)
    assert result.relative == pytest.approx(0.5)


def test_compare_against_previous_period_and_same_period_last_year():
    values = [100 + i for i in range(18)]  # 2023-01 .. 2024-06
    values[5] = 0  # 2023-06
    result = compare(series(values))
    assert result.period == "2024-06"
    assert result.previous_period == "2024-05"
    assert result.vs_previous.absolute == pytest.approx(1)
    assert result.vs_previous.relative == pytest.approx(1 / 116)
    assert result.year_ago_period == "2023-06"
    assert result.vs_year_ago == Change(117, None, "base is zero")

    earlier = compare(series(values), "2024-05")
    assert earlier.vs_year_ago.absolute == pytest.approx(116 - 104)
    assert earlier.vs_year_ago.relative == pytest.approx(12 / 104)


def test_compare_does_not_reach_across_a_series_break():
    values = [100 + i for i in range(18)]
    result = compare(series(values, breaks={15}))  # the break is at 2024-04
    assert result.vs_previous.absolute == pytest.approx(1)
    assert result.vs_year_ago == Change(None, None, "series break at 2024-04")
    at_break = compare(series(values, breaks={17}))
    assert at_break.vs_previous == Change(None, None, "series break at 2024-06")


def test_compare_with_missing_base_or_current():
    values = [1.0] * 12 + [None, 2.0]
    points = series(values)
    assert compare(points).vs_previous == Change(None, None, "no value for 2024-01")
    assert compare(points, "2024-01").vs_previous == Change(None, None, "no current value")
    assert compare(points).vs_year_ago.absolute == pytest.approx(1.0)


def test_same_period_last_year():
    assert same_period_last_year("2024-06") == "2023-06"
    assert same_period_last_year("2024-Q2") == "2023-Q2"
    assert same_period_last_year("2024") == "2023"
    assert same_period_last_year("2021-W01") == "2020-W01"
    assert same_period_last_year("2026-W53") is None  # 2026 has a week 53, 2025 does not
    assert same_period_last_year("2021-W52") == "2020-W52"
    week_53 = compare([Point("2026-W52", 1.0), Point("2026-W53", 2.0)])
    assert week_53.year_ago_period is None
    assert week_53.vs_year_ago == Change(None, None, "no such period a year before")
    assert week_53.vs_previous == Change(1.0, 1.0)


# --- streaks ------------------------------------------------------------------------------------------------------


def test_streaks():
    on, near, off = "on_target", "near", "off_target"
    assert streaks([on, on, near, on, on, on, None, on, on]) == Streaks(current=2, longest=3)
    assert streaks([on, on, on, off]) == Streaks(current=0, longest=3)
    assert streaks([off, on, "missing", on, on]) == Streaks(current=2, longest=2)
    assert streaks([Status.on_target, Status.near, Status.on_target]) == Streaks(current=1, longest=1)
    assert streaks([]) == Streaks(current=0, longest=0)


# --- most improved ------------------------------------------------------------------------------------------------


def test_most_improved_ranks_by_direction_aware_share_of_target():
    entries = [
        ImprovementEntry("a.on_time", H, value=0.88, value_year_ago=0.80, target=0.90),  # +0.08 / 0.9
        ImprovementEntry("c.budget", C, value=11, value_year_ago=14, target=10),  # gap 4 -> 1: 3 / 10
        ImprovementEntry("b.response", L, value=9, value_year_ago=12, target=10),  # 3 / 10
        ImprovementEntry("d.permits", H, value=90, value_year_ago=100, target=120),  # -10 / 120
        ImprovementEntry("e.new", H, value=None, value_year_ago=1, target=1),
        ImprovementEntry("f.young", L, value=1, value_year_ago=None, target=1),
        ImprovementEntry("g.untargeted", H, value=5, value_year_ago=4, target=None),
        ImprovementEntry("h.vision_zero", "lower_is_better", value=12, value_year_ago=20, target=0),
    ]
    ranking = most_improved(entries)
    assert [(r.metric, r.rank) for r in ranking.ranked] == [
        ("b.response", 1),
        ("c.budget", 1),
        ("a.on_time", 3),
        ("d.permits", 4),
    ]
    assert [r.improvement for r in ranking.ranked] == pytest.approx([0.3, 0.3, 0.08 / 0.9, -10 / 120])
    assert [(e.metric, e.reason) for e in ranking.excluded] == [
        ("e.new", "no value now"),
        ("f.young", "no value a year ago"),
        ("g.untargeted", "no target in force"),
        ("h.vision_zero", "target is zero, so the change cannot be expressed as a share of it"),
    ]


def test_most_improved_is_unit_free():
    # The same relative movement in different units earns the same improvement.
    ranking = most_improved(
        [
            ImprovementEntry("km", H, value=110, value_year_ago=100, target=100),
            ImprovementEntry("m", H, value=110_000, value_year_ago=100_000, target=100_000),
        ]
    )
    assert ranking.ranked[0].improvement == pytest.approx(ranking.ranked[1].improvement)
    assert ranking.ranked[0].rank == ranking.ranked[1].rank == 1


def test_closer_is_better_overshooting_the_target_counts_the_distance():
    ranking = most_improved(
        [
            ImprovementEntry("overshoot", C, value=16, value_year_ago=12, target=10),  # gap 2 -> 6
            ImprovementEntry("crossed", C, value=9, value_year_ago=12, target=10),  # gap 2 -> 1
        ]
    )
    assert [(r.metric, r.improvement) for r in ranking.ranked] == [
        ("crossed", pytest.approx(0.1)),
        ("overshoot", pytest.approx(-0.4)),
    ]
