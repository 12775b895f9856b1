"""The words briefings are written in: values in their units, changes, periods, titles, and the rules the builders
judge values by where metrics does not (a year's total, an org unit's week)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import Unprocessable
from services.reporting.briefings.build import default_title
from services.reporting.briefings.build.common import (
    briefing_period,
    judgement,
    latest_within,
    status_of,
    target_in_force,
)
from services.reporting.briefings.build.sentences import (
    change_text,
    metric_phrase,
    movement,
    period_name,
    target_clause,
    value_text,
)
from services.reporting.briefings.snapshot import BriefingKind
from services.reporting.clients.metrics import Target


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.95, "percent", "95%"),
        (0.995, "percent", "99.5%"),
        (0.87051, "percent", "87.1%"),
        (1010.0, "count", "1,010"),
        (32.125, "count", "32.12"),
        (1.0, "days", "1 day"),
        (3.5, "days", "3.5 days"),
        (9822.0, "hours", "9,822 hours"),
        (5941223.0, "dollars", "$5,941,223"),
        (13.55, "dollars", "$13.55"),
        (-2008467.0, "dollars", "-$2,008,467"),
        (None, "percent", "no value"),
    ],
)
def test_values_read_in_their_unit(value, unit, text):
    assert value_text(value, unit) == text


def test_changes_read_in_points_for_rates_and_in_units_with_a_share_otherwise():
    assert change_text(0.03, 0.033, "percent") == "up 3.0 points"
    assert change_text(-0.12, -0.13, "percent") == "down 12.0 points"
    assert change_text(-11.0, -0.0625, "count") == "down 11 (6.2%)"
    assert change_text(48.0, 0.1257, "count") == "up 48 (13%)"
    assert change_text(0.0, 0.0, "days") == "unchanged"


def test_periods_read_by_name():
    assert period_name("2017-06") == "June 2017"
    assert period_name("2017-05", within="2017-06") == "May"
    assert period_name("2016-12", within="2017-01") == "December 2016"
    assert period_name("2017-Q2") == "Q2 2017"
    assert period_name("2017-W23") == "the week of 5 June 2017"
    assert period_name("2016") == "2016"


def test_a_sentence_from_the_numbers():
    sentence = movement(
        "Department of Public Works",
        "Service requests completed on time",
        "percent",
        "higher_is_better",
        "2017-06",
        0.95,
        "2017-05",
        0.03,
        0.0326,
        0.9,
    )
    assert sentence == (
        "Department of Public Works: service requests completed on time rose to 95% in June 2017, up 3.0 points "
        "from May, above its 90% target."
    )
    assert metric_phrase("911 calls answered within 10 seconds") == "911 calls answered within 10 seconds"
    assert metric_phrase("EMS calls reached within 9 minutes") == "EMS calls reached within 9 minutes"
    assert target_clause(3.5, 3.0, "days", "lower_is_better") == "above its target of 3 days"
    assert target_clause(118.0, 120.0, "count", "closer_is_better") == "2 below its 120 target"
    assert target_clause(5.0, None, "count", "higher_is_better") == "with no target set"


def test_titles_name_the_kind_the_period_and_the_departments():
    names = {"DPW": "Department of Public Works", "DWM": "Department of Watershed Management"}
    assert default_title("roundtable", "2017-06", names) == (
        "Department of Public Works and Department of Watershed Management roundtable, June 2017"
    )
    assert default_title(BriefingKind.cabinet, "2017-06", {}) == "Cabinet briefing, June 2017"
    assert default_title("memo", "2017-06", {}) == "Performance memo to the Mayor, June 2017"
    assert default_title("annual", "2016", {}) == "Annual performance report, 2016"
    assert default_title("frontline", "2017-W23", {}) == "Front-line scorecard, week of 5 June 2017"


@pytest.mark.parametrize(
    ("kind", "period", "ok"),
    [
        ("cabinet", "2017-06", True),
        ("memo", "2017-Q2", False),
        ("roundtable", "2017", False),
        ("annual", "2016", True),
        ("annual", "FY2016", False),
        ("frontline", "2017-W23", True),
        ("frontline", "2017-W54", False),
        ("memo", "2017-13", False),
    ],
)
def test_each_kind_takes_a_period_of_its_own_shape(kind, period, ok):
    if ok:
        assert str(briefing_period(BriefingKind(kind), period)) == period
    else:
        with pytest.raises(Unprocessable) as refused:
            briefing_period(BriefingKind(kind), period)
        assert refused.value.errors[0]["field"] == "period"


def test_the_status_rule_and_judgements_follow_the_direction():
    assert status_of(0.95, 0.9, 0.05, "higher_is_better") == "on_target"
    assert status_of(0.85, 0.9, 0.05, "higher_is_better") == "near"  # on the edge of the band, despite rounding
    assert status_of(0.8, 0.9, 0.05, "higher_is_better") == "off_target"
    assert status_of(3.5, 3.0, 1.0, "lower_is_better") == "near"
    assert status_of(125.0, 120.0, 3.0, "closer_is_better") == "near"
    assert status_of(None, 1.0, 0.0, "higher_is_better") == "missing"
    assert status_of(1.0, None, None, "higher_is_better") == "no_target"
    assert judgement(5.0, 6.0, "lower_is_better") == "improving"
    assert judgement(119.0, 125.0, "closer_is_better", 120.0) == "improving"
    assert judgement(2.0, 2.0, "higher_is_better") == "flat"


def test_the_period_a_metric_shows_for_a_month_or_a_week():
    june = dt.date(2017, 6, 30)
    assert [str(latest_within(june, f)) for f in ("month", "quarter", "year", "week")] == [
        "2017-06", "2017-Q2", "2016", "2017-W25",
    ]  # fmt: skip
    assert str(latest_within(dt.date(2017, 6, 11), "month")) == "2017-05"


def test_the_target_in_force_is_the_latest_started_and_not_ended():
    def target(start: str, end: str | None, value: float) -> Target:
        return Target(
            value=value,
            tolerance=0.0,
            tolerance_kind="absolute",
            effective_from=dt.date.fromisoformat(start),
            effective_to=dt.date.fromisoformat(end) if end else None,
            set_by="test",
            reason="test",
        )

    targets = [target("2014-01-01", None, 0.8), target("2016-07-01", "2016-12-31", 0.9)]
    assert target_in_force(targets, dt.date(2013, 12, 31)) is None
    assert target_in_force(targets, dt.date(2016, 6, 30)).value == 0.8
    assert target_in_force(targets, dt.date(2016, 12, 31)).value == 0.9
    assert target_in_force(targets, dt.date(2017, 1, 31)) is None
