"""Roll-up arithmetic, with the numbers worked out by hand in each test."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.periods import Period
from services.metrics.demo.catalogue import DEPARTMENTS
from services.metrics.observations.rollup import (
    Combined,
    Part,
    Rollup,
    across_units_method,
    combine,
    default_rollup,
    rollup_periods,
    rollup_units,
)

MONTHS_2017 = [f"2017-{m:02d}" for m in range(1, 13)]
QUARTERS_2017 = [f"2017-Q{q}" for q in range(1, 5)]


def series(values, **extra):
    """Monthly parts keyed by period, starting in January 2017."""
    return {key: Part(key, value, **extra) for key, value in zip(MONTHS_2017, values, strict=False)}


def ratio_series(pairs):
    return {key: Part(key, n / d if d else None, n, d) for key, (n, d) in zip(MONTHS_2017, pairs, strict=False)}


def via_quarters(months: dict[str, Part], method: Rollup) -> Combined:
    quarters = {q: rollup_periods(months, q, method).as_part(q, method) for q in QUARTERS_2017}
    return rollup_periods(quarters, "2017", method)


# -- defaults ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "method"),
    [
        ("count", Rollup.sum),
        ("dollars", Rollup.sum),
        ("tons", Rollup.sum),
        ("percent", Rollup.ratio),
        ("days", Rollup.mean),
        ("minutes", Rollup.mean),
        ("hours", Rollup.mean),
        (" Percent ", Rollup.ratio),
    ],
)
def test_default_rollup_by_unit(unit, method):
    assert default_rollup(unit) is method


def test_every_unit_in_the_demo_catalogue_has_a_default():
    units = {metric.unit for department in DEPARTMENTS for metric in department.metrics}
    assert units  # the catalogue is not empty, so the loop below checks something
    for unit in units:
        assert isinstance(default_rollup(unit), Rollup)


def test_unknown_unit_has_no_default():
    with pytest.raises(ValueError, match="widgets per lane"):
        default_rollup("widgets per lane")


def test_rollup_strings_are_what_the_definition_stores():
    assert [str(m) for m in Rollup] == ["sum", "mean", "ratio", "last"]
    assert Rollup("ratio") is Rollup.ratio


def test_across_units_a_stock_is_added_up():
    assert across_units_method(Rollup.last) is Rollup.sum
    assert across_units_method("ratio") is Rollup.ratio
    assert across_units_method(Rollup.mean) is Rollup.mean
    assert across_units_method(Rollup.sum) is Rollup.sum


# -- org units into the department ----------------------------------------------------------------------------


def test_department_on_time_rate_is_the_ratio_of_sums_not_the_mean_of_ratios():
    # North yard 120 of 150 on time (0.8), South yard 45 of 90 (0.5): 165 of 240 = 0.6875.
    yards = [Part("NORTH", 0.8, 120, 150), Part("SOUTH", 0.5, 45, 90)]
    department = rollup_units(yards, Rollup.ratio)
    assert department.value == 0.6875
    assert department.value != 0.65  # (0.8 + 0.5) / 2, the mean of ratios
    assert (department.numerator, department.denominator) == (165, 240)
    assert department.complete and department.reason is None and department.count == 2


def test_department_stock_is_the_sum_of_its_units():
    # Sworn officers, a `last` metric: Zone 1 has 310, Zone 2 has 295, Zone 3 has 280 -> 885 for APD.
    zones = [Part("Z1", 310), Part("Z2", 295), Part("Z3", 280)]
    assert rollup_units(zones, Rollup.last, expected=3).value == 885


def test_department_average_weighted_by_events():
    # North: 40 potholes at 2 days; South: 10 potholes at 7 days -> (80 + 70) / 50 = 3.0, not (2 + 7) / 2 = 4.5.
    yards = [Part("NORTH", 2.0, weight=40), Part("SOUTH", 7.0, weight=10)]
    department = rollup_units(yards, Rollup.mean)
    assert department.value == 3.0
    assert department.weighted
    assert (department.numerator, department.denominator) == (150, 50)


def test_missing_unit_makes_department_incomplete():
    yards = [Part("NORTH", 0.8, 120, 150)]
    department = rollup_units(yards, Rollup.ratio, expected=2)
    assert department.value is None
    assert not department.complete
    assert department.reason == "1 of 2 expected values"
    partial = rollup_units(yards, Rollup.ratio, expected=2, allow_partial=True)
    assert partial.value == 0.8 and not partial.complete and partial.reason == "1 of 2 expected values"


# -- months into quarters and years ---------------------------------------------------------------------------


def test_potholes_sum_to_the_quarter():
    months = {"2017-04": Part("2017-04", 1000), "2017-05": Part("2017-05", 1100), "2017-06": Part("2017-06", 1200)}
    q2 = rollup_periods(months, "2017-Q2", Rollup.sum)
    assert q2.value == 3300
    assert (q2.count, q2.expected, q2.complete, q2.reason) == (3, 3, True, None)
    assert q2.numerator is None and q2.denominator is None


def test_potholes_sum_to_the_year_both_ways():
    # Q1 900+950+1000 = 2850, Q2 1000+1100+1200 = 3300, Q3 1300+1250+1150 = 3700, Q4 1000+900+800 = 2700.
    months = series([900, 950, 1000, 1000, 1100, 1200, 1300, 1250, 1150, 1000, 900, 800])
    assert [rollup_periods(months, q, Rollup.sum).value for q in QUARTERS_2017] == [2850, 3300, 3700, 2700]
    assert rollup_periods(months, "2017", Rollup.sum).value == 12550
    assert via_quarters(months, Rollup.sum).value == 12550


def test_plain_mean_of_months():
    # Average days to repair: 4, 3 and 2 -> 3.0.
    months = {"2017-04": Part("2017-04", 4.0), "2017-05": Part("2017-05", 3.0), "2017-06": Part("2017-06", 2.0)}
    q2 = rollup_periods(months, "2017-Q2", Rollup.mean)
    assert q2.value == 3.0
    assert not q2.weighted
    assert (q2.numerator, q2.denominator) == (9.0, 3)


def test_weighted_mean_of_months():
    # 100 potholes at 4 days, 300 at 3, 600 at 2: (400 + 900 + 1200) / 1000 = 2.5, not the plain 3.0.
    months = {
        "2017-04": Part("2017-04", 4.0, weight=100),
        "2017-05": Part("2017-05", 3.0, weight=300),
        "2017-06": Part("2017-06", 2.0, weight=600),
    }
    q2 = rollup_periods(months, "2017-Q2", Rollup.mean)
    assert q2.value == 2.5
    assert q2.weighted
    assert (q2.numerator, q2.denominator) == (2500, 1000)


def test_mean_is_plain_when_a_weight_is_missing():
    months = {
        "2017-04": Part("2017-04", 4.0, weight=100),
        "2017-05": Part("2017-05", 3.0),
        "2017-06": Part("2017-06", 2.0, weight=600),
    }
    q2 = rollup_periods(months, "2017-Q2", Rollup.mean)
    assert q2.value == 3.0
    assert not q2.weighted
    # A plain-mean quarter must not carry its count of months as if it were a count of potholes.
    assert q2.as_part("2017-Q2", Rollup.mean).weight is None


def test_weighted_mean_through_quarters_equals_straight_to_year():
    # Q1..Q3: 100 events at 3 days each month; Q4: 300 events at 6 days each month.
    # Year: (9 * 100 * 3 + 3 * 300 * 6) / (900 + 900) = (2700 + 5400) / 1800 = 4.5; the plain mean would be 3.75.
    months = series([3.0] * 9, weight=100) | {k: Part(k, 6.0, weight=300) for k in MONTHS_2017[9:]}
    straight = rollup_periods(months, "2017", Rollup.mean)
    assert straight.value == 4.5
    through = via_quarters(months, Rollup.mean)
    assert through.value == 4.5
    assert through.weighted and through.denominator == 1800


def test_ratio_of_sums_across_months_with_different_denominators():
    # 90/100, 160/200, 350/500 -> 600/800 = 0.75; the mean of 0.9, 0.8 and 0.7 would be 0.8.
    months = {
        "2017-04": Part("2017-04", 0.9, 90, 100),
        "2017-05": Part("2017-05", 0.8, 160, 200),
        "2017-06": Part("2017-06", 0.7, 350, 500),
    }
    q2 = rollup_periods(months, "2017-Q2", Rollup.ratio)
    assert q2.value == 0.75
    assert q2.value != pytest.approx(0.8)
    assert (q2.numerator, q2.denominator) == (600, 800)


def test_ratio_through_quarters_equals_straight_to_year():
    # Q1 (50+60+70)/(100+100+100) = 180/300; Q2 (10+20+30)/(20+40+60) = 60/120;
    # Q3 (0+5+5)/(10+10+10) = 10/30; Q4 (400+400+400)/(500+500+500) = 1200/1500.
    # Year: (180+60+10+1200)/(300+120+30+1500) = 1450/1950.
    # The mean of the quarters' ratios (0.6, 0.5, 0.333, 0.8) would be 0.558.
    pairs = [(50, 100), (60, 100), (70, 100), (10, 20), (20, 40), (30, 60)]
    pairs += [(0, 10), (5, 10), (5, 10), (400, 500), (400, 500), (400, 500)]
    months = ratio_series(pairs)
    straight = rollup_periods(months, "2017", Rollup.ratio)
    through = via_quarters(months, Rollup.ratio)
    assert (straight.numerator, straight.denominator) == (1450, 1950)
    assert straight.value == through.value == 1450 / 1950
    assert straight.value != pytest.approx((0.6 + 0.5 + 1 / 3 + 0.8) / 4)


def test_last_is_june_for_q2_whatever_the_order():
    # Sworn officers: April 1900, May 1950, June 1925 -> Q2 is 1925.
    parts = [Part("2017-06", 1925), Part("2017-04", 1900), Part("2017-05", 1950)]
    for order in itertools.permutations(parts):
        assert combine(order, Rollup.last, expected=3).value == 1925
        assert rollup_periods({p.key: p for p in order}, "2017-Q2", Rollup.last).value == 1925


def test_last_is_q4_for_the_year():
    quarters = {"2017-Q4": Part("2017-Q4", 2010), "2017-Q1": Part("2017-Q1", 1880), "2017-Q3": Part("2017-Q3", 1990)}
    quarters["2017-Q2"] = Part("2017-Q2", 1925)
    assert rollup_periods(quarters, "2017", Rollup.last).value == 2010


def test_last_through_quarters_is_december():
    months = series([1880, 1885, 1890, 1900, 1950, 1925, 1940, 1960, 1990, 2000, 2005, 2010])
    assert rollup_periods(months, "2017", Rollup.last).value == 2010
    assert via_quarters(months, Rollup.last).value == 2010


def test_last_carries_the_latest_numerator_and_denominator():
    parts = [Part("2017-Q2", 0.5, 5, 10), Part("2017-Q1", 0.25, 1, 4)]
    combined = combine(parts, Rollup.last)
    assert (combined.value, combined.numerator, combined.denominator) == (0.5, 5, 10)


def test_only_periods_inside_the_target_are_used():
    # A whole series from November 2016 to July 2017: Q2 is still April + May + June = 3300.
    months = {k: Part(k, 10_000) for k in ("2016-11", "2016-12", "2017-01", "2017-02", "2017-03", "2017-07")}
    months |= {"2017-04": Part("2017-04", 1000), "2017-05": Part("2017-05", 1100), "2017-06": Part("2017-06", 1200)}
    assert rollup_periods(months, Period.parse("2017-Q2"), Rollup.sum).value == 3300
    assert rollup_periods(months, "2017-Q2", Rollup.last).value == 1200


# -- gaps, zeros and bad input --------------------------------------------------------------------------------


def test_incomplete_quarter_has_no_sum_unless_partial_is_allowed():
    months = {"2017-04": Part("2017-04", 1000), "2017-06": Part("2017-06", 1200)}
    q2 = rollup_periods(months, "2017-Q2", Rollup.sum)
    assert q2.value is None
    assert (q2.count, q2.expected, q2.complete) == (2, 3, False)
    assert q2.reason == "2 of 3 expected values; no value for 2017-05"

    partial = rollup_periods(months, "2017-Q2", Rollup.sum, allow_partial=True)
    assert partial.value == 2200
    assert not partial.complete
    assert partial.reason == "2 of 3 expected values; no value for 2017-05"


def test_incomplete_quarter_for_each_method():
    months = {
        "2017-04": Part("2017-04", 0.9, 90, 100, weight=100),
        "2017-05": Part("2017-05", 0.5, 150, 300, weight=300),
    }
    for method in Rollup:
        assert rollup_periods(months, "2017-Q2", method).value is None
    # April and May only: sum 1.4, mean (90 + 150) / 400 = 0.6, ratio 240/400 = 0.6, last is May's 0.5.
    partial = {method: rollup_periods(months, "2017-Q2", method, allow_partial=True).value for method in Rollup}
    assert partial == {Rollup.sum: 1.4, Rollup.mean: 0.6, Rollup.ratio: 0.6, Rollup.last: 0.5}


def test_missing_quarter_makes_the_year_incomplete():
    months = series([100] * 12)
    del months["2017-08"]
    assert rollup_periods(months, "2017-Q3", Rollup.sum).value is None
    year = via_quarters(months, Rollup.sum)
    assert year.value is None
    assert year.reason == "3 of 4 expected values; no value for 2017-Q3"


def test_none_value_is_a_gap():
    parts = [Part("2017-04", 1000), Part("2017-05", None), Part("2017-06", 1200)]
    combined = combine(parts, Rollup.sum)
    assert combined.value is None
    assert combined.count == 2 and not combined.complete
    assert combined.reason == "2 of 3 expected values; no value for 2017-05"
    assert combine(parts, Rollup.sum, allow_partial=True).value == 2200


def test_ratio_part_without_numerator_and_denominator_is_refused_not_averaged():
    months = {
        "2017-04": Part("2017-04", 0.9, 90, 100),
        "2017-05": Part("2017-05", 0.6),
        "2017-06": Part("2017-06", 0.7, 350, 500),
    }
    for allow_partial in (False, True):
        q2 = rollup_periods(months, "2017-Q2", Rollup.ratio, allow_partial=allow_partial)
        assert q2.value is None
        assert q2.reason == "2017-05 has no numerator/denominator"
        assert not q2.complete


def test_ratio_part_with_only_a_numerator_is_refused():
    parts = [Part("NORTH", None, numerator=12), Part("SOUTH", 0.5, 45, 90)]
    combined = rollup_units(parts, Rollup.ratio)
    assert combined.value is None
    assert combined.reason == "NORTH has no numerator/denominator"


def test_zero_total_denominator_has_no_ratio():
    parts = [Part("NORTH", None, 0, 0), Part("SOUTH", None, 0, 0)]
    combined = rollup_units(parts, Rollup.ratio)
    assert combined.value is None
    assert combined.reason == "the total denominator is zero"
    assert combined.complete  # every unit reported; there was simply nothing to measure


def test_one_zero_denominator_does_not_spoil_the_ratio():
    # No cases at the North yard this month: 0/0 + 45/90 = 45/90 = 0.5.
    parts = [Part("NORTH", None, 0, 0), Part("SOUTH", 0.5, 45, 90)]
    assert rollup_units(parts, Rollup.ratio).value == 0.5


def test_zero_total_weight_has_no_mean():
    parts = [Part("NORTH", 2.0, weight=0), Part("SOUTH", 7.0, weight=0)]
    combined = rollup_units(parts, Rollup.mean)
    assert combined.value is None
    assert combined.reason == "the total weight is zero"


def test_nothing_to_roll_up():
    assert combine([], Rollup.sum) == Combined(None, None, None, 0, None, False, "no values")
    empty = rollup_periods({}, "2017-Q2", Rollup.sum)
    assert empty.value is None and empty.reason == "no observations for 2017-Q2"
    with_frequency = rollup_periods({}, "2017-Q2", Rollup.sum, frequency="month")
    assert with_frequency.value is None
    assert with_frequency.reason == "no values" and with_frequency.expected == 3


@pytest.mark.parametrize(
    ("observations", "target", "message"),
    [
        ({"2017-W14": Part("2017-W14", 1)}, "2017-Q2", "week values do not roll up"),
        ({"2017-04": Part("2017-04", 1)}, "2017-06", "roll up to a quarter, a year or a fiscal year"),
        ({"2017-Q2": Part("2017-Q2", 1)}, "2017-Q2", "quarter values do not roll up"),
        ({"2017-04": Part("2017-04", 1), "2017-Q2": Part("2017-Q2", 1)}, "2017", "mix frequencies"),
        ({"2017-04": Part("2017-05", 1)}, "2017-Q2", "filed under 2017-04 is for 2017-05"),
        ({"April": Part("April", 1)}, "2017-Q2", "not a period"),
    ],
)
def test_periods_that_cannot_roll_up(observations, target, message):
    with pytest.raises(ValueError, match=message):
        rollup_periods(observations, target, Rollup.sum)


def test_caller_mistakes_are_errors():
    with pytest.raises(ValueError, match="repeated keys: 2017-04"):
        combine([Part("2017-04", 1), Part("2017-04", 2)], Rollup.sum)
    with pytest.raises(ValueError, match="4 parts given but 3 expected"):
        combine([Part(k, 1) for k in MONTHS_2017[:4]], Rollup.sum, expected=3)
    with pytest.raises(ValueError, match="not a period"):
        combine([Part("NORTH", 1)], Rollup.last)
    with pytest.raises(ValueError, match="one frequency"):
        combine([Part("2017-04", 1), Part("2017-Q2", 2)], Rollup.last)
    with pytest.raises(ValueError):
        combine([Part("2017-04", 1)], "median")
    with pytest.raises(ValueError, match="finite"):
        Part("2017-04", float("nan"))
    with pytest.raises(ValueError, match="negative"):
        Part("2017-04", 2.0, weight=-1)


@pytest.mark.parametrize("method", [Rollup.sum, Rollup.mean, Rollup.ratio])
def test_order_does_not_matter(method):
    parts = [Part("A", 0.9, 90, 100, weight=100), Part("B", 0.8, 160, 200, weight=300), Part("C", 0.7, 350, 500)]
    results = {combine(order, method).value for order in itertools.permutations(parts)}
    assert len(results) == 1  # not merely close: the same float whatever the order
    # sum 2.4, plain mean 2.4 / 3 = 0.8 (C has no weight), ratio 600/800 = 0.75.
    assert results.pop() == pytest.approx({Rollup.sum: 2.4, Rollup.mean: 0.8, Rollup.ratio: 0.75}[method])


# -- properties -----------------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=100_000)
rate_pairs = st.integers(min_value=1, max_value=100_000).flatmap(
    lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den))
)


@settings(derandomize=True, max_examples=100)
@given(st.lists(rate_pairs, min_size=12, max_size=12))
def test_ratio_through_quarters_is_the_ratio_straight_to_the_year(pairs):
    months = ratio_series(pairs)
    straight = rollup_periods(months, "2017", Rollup.ratio)
    through = via_quarters(months, Rollup.ratio)
    total_n, total_d = sum(n for n, _ in pairs), sum(d for _, d in pairs)
    assert straight.value == through.value == total_n / total_d
    assert (through.numerator, through.denominator) == (total_n, total_d)


@settings(derandomize=True, max_examples=100)
@given(st.lists(counts, min_size=12, max_size=12))
def test_sum_through_quarters_is_the_sum_straight_to_the_year(values):
    months = series([float(v) for v in values])
    assert rollup_periods(months, "2017", Rollup.sum).value == via_quarters(months, Rollup.sum).value == sum(values)


@settings(derandomize=True, max_examples=100)
@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=10),
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=10),
)
def test_sum_is_additive(left, right):
    left_parts = [Part(f"L{i}", v) for i, v in enumerate(left)]
    right_parts = [Part(f"R{i}", v) for i, v in enumerate(right)]
    whole = rollup_units(left_parts + right_parts, Rollup.sum).value
    assert whole == pytest.approx(
        rollup_units(left_parts, Rollup.sum).value + rollup_units(right_parts, Rollup.sum).value, abs=1e-6
    )


@settings(derandomize=True, max_examples=100)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=1000, allow_nan=False), st.integers(min_value=1, max_value=5000)),
        min_size=12,
        max_size=12,
    )
)
def test_weighted_mean_through_quarters_is_the_mean_straight_to_the_year(pairs):
    months = {k: Part(k, value, weight=weight) for k, (value, weight) in zip(MONTHS_2017, pairs, strict=True)}
    straight = rollup_periods(months, "2017", Rollup.mean)
    through = via_quarters(months, Rollup.mean)
    assert through.value == pytest.approx(straight.value, rel=1e-12, abs=1e-9)
    assert min(v for v, _ in pairs) - 1e-9 <= straight.value <= max(v for v, _ in pairs) + 1e-9


@settings(derandomize=True, max_examples=100)
@given(st.permutations([Part("2017-01", 5), Part("2017-02", 7), Part("2017-03", 11), Part("2017-04", 13)]))
def test_last_ignores_input_order(parts):
    assert combine(parts, Rollup.last).value == 13
    assert rollup_periods({p.key: p for p in parts}, "2017-Q1", Rollup.last).value == 11
