"""The weekly front-line scorecard on the demo city: a page per yard, plant and division that reports its own values,
each value the org unit's own with its revision, judged against the target only where the target is the unit's too."""

from __future__ import annotations

import pytest

from services.common.errors import NotFound, Unprocessable
from services.reporting.briefings.build import BuildRequest
from services.reporting.briefings.build.common import status_of
from tests.reporting.build.build_city import demo_city

WEEK = BuildRequest(kind="frontline", period="2017-W23")  # 5 to 11 June 2017


@pytest.fixture(scope="module")
def demo(demo_database_set, tmp_path_factory):
    with demo_city(demo_database_set, tmp_path_factory.mktemp("frontline")) as city:
        yield city


@pytest.fixture(scope="module")
def scorecard(demo):
    return demo.build(WEEK)


def test_a_page_for_each_unit_that_reports_its_own_values(scorecard, demo):
    assert scorecard.title == "Front-line scorecard, week of 5 June 2017"
    pages = {(u.department, u.org_unit): u for u in scorecard.frontline}
    for code in ("DPW", "DWM"):
        units = {u["code"]: u["name"] for u in demo.get(f"/departments/{code}/org-units")["items"]}
        mine = [u for (department, _), u in pages.items() if department == code]
        assert mine and all(units[u.org_unit] == u.org_unit_name for u in mine)
    assert {"DPW", "DWM"} == {u.department for u in scorecard.frontline}
    yards = [u for u in scorecard.frontline if u.org_unit.startswith("YARD-")]
    assert len(yards) >= 3 and all("dpw.potholes_repaired_weekly" in {line.metric for line in u.lines} for u in yards)


def test_each_line_is_the_units_own_value_at_its_latest_period(scorecard, demo):
    for unit in scorecard.frontline:
        for line in unit.lines:
            figure = line.figure
            # Weekly metrics show the week; monthly ones the last month ended by 11 June.
            assert figure.period == ("2017-W23" if line.series[-1].period.startswith("2017-W") else "2017-05")
            served = demo.get(
                f"/metrics/{line.metric}/observations", start=figure.period, end=figure.period, org_unit=unit.org_unit
            )["items"]
            assert (figure.org_unit, figure.value, figure.revision) == (
                unit.org_unit,
                served[0]["value"],
                served[0]["revision"],
            )
            newest = demo.get(f"/metrics/{line.metric}/observations/{figure.period}/revisions", org_unit=unit.org_unit)[
                "items"
            ][0]
            assert figure.revision == newest["id"] is not None
            assert len(line.series) == 12 and line.series[-1].period == figure.period


def test_a_unit_meets_its_departments_target_only_for_rates(scorecard, demo):
    lines = [line for u in scorecard.frontline for line in u.lines]
    potholes = [line for line in lines if line.metric == "dpw.potholes_repaired_weekly"]
    assert potholes and all(line.target is None and line.status == "no_target" for line in potholes)
    samples = [line for line in lines if line.metric == "dwm.drinking_water_samples_passed"]
    (target,) = demo.get("/metrics/dwm.drinking_water_samples_passed/targets")["items"]
    for line in samples:
        assert line.target == target["value"] == 0.995
        expected = status_of(line.figure.value, target["value"], target["tolerance"], "higher_is_better")
        assert line.status == expected
    assert {"on_target", "off_target"} <= {line.status for line in samples}


def test_a_scorecard_for_one_department(demo):
    card = demo.build(BuildRequest(kind="frontline", period="2017-W23", departments=["DPW"]))
    assert {u.department for u in card.frontline} == {"DPW"}
    assert card.title == "Department of Public Works: front-line scorecard, week of 5 June 2017"
    with pytest.raises(NotFound):
        demo.build(BuildRequest(kind="frontline", period="2017-W23", departments=["NOPE"]))
    with pytest.raises(Unprocessable):
        demo.build(BuildRequest(kind="frontline", period="2017-06"))
