"""Cabinet briefings built from the demo city: the analyst's metrics in their order, each panel's figures as metrics
serves them with the revision behind each, and the suggestions the analyst starts from."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import NotFound, Unprocessable
from services.common.periods import Period
from services.reporting.briefings.build import BuildRequest, Selection, suggest_cabinet_metrics
from services.reporting.briefings.snapshot import CommitmentLine, CommitmentStatus, Figure
from tests.reporting.build.build_city import demo_city, run

ON_TIME = "dpw.service_requests_on_time"
SELECTION = [
    Selection(metric="dwm.water_main_breaks", reason="chosen"),
    Selection(metric=ON_TIME, explanation="Crews now close requests from the field.", reason="signal"),
    Selection(metric="dwm.service_requests_on_time", reason="chosen"),
    Selection(metric="dwm.non_revenue_water", reason="off_target"),
]
COMMITMENT = CommitmentLine(
    id=7,
    kind="direction",
    department="DWM",
    metric="dwm.water_main_breaks",
    description="Keep main breaks under 60 a month",
    level=60.0,
    deadline=dt.date(2017, 12, 31),
    made_in="Cabinet briefing, March 2017",
    made_on=dt.date(2017, 3, 15),
    status=CommitmentStatus.on_track,
    latest=Figure(metric="dwm.water_main_breaks", period="2017-06", value=47.0, revision=756),
)


@pytest.fixture(scope="module")
def demo(demo_database_set, tmp_path_factory):
    with demo_city(demo_database_set, tmp_path_factory.mktemp("cabinet")) as city:
        yield city


@pytest.fixture(scope="module")
def briefing(demo):
    steps: list[tuple[int, int]] = []
    request = BuildRequest(kind="cabinet", period="2017-06", selection=SELECTION)
    snapshot = demo.build(request, commitments=[COMMITMENT], progress=lambda done, total: steps.append((done, total)))
    return snapshot, steps


def test_the_panels_are_the_selection_in_its_order_with_its_words(briefing):
    snapshot, _ = briefing
    assert (snapshot.kind, snapshot.period) == ("cabinet", "2017-06")
    assert snapshot.title == "Cabinet briefing, June 2017"
    assert [p.metric for p in snapshot.panels] == [s.metric for s in SELECTION]
    assert [(p.explanation, p.reason) for p in snapshot.panels] == [(s.explanation, s.reason) for s in SELECTION]
    assert snapshot.commitments == [COMMITMENT]
    assert snapshot.department_names == {
        "DWM": "Department of Watershed Management",
        "DPW": "Department of Public Works",
    }
    # A quarterly metric shows the quarter ended by the month's end.
    assert snapshot.panels[3].period == "2017-Q2"


def test_public_works_on_time_rate_reached_its_target(briefing, demo):
    panel = briefing[0].panels[1]
    assert (panel.name, panel.department, panel.unit) == ("Service requests completed on time", "DPW", "percent")
    assert panel.figure.value == pytest.approx(0.95) and panel.target == pytest.approx(0.90)
    assert panel.status == "on_target" and panel.is_key
    served = demo.get(f"/metrics/{ON_TIME}/performance", period="2017-06")
    assert panel.figure.value == served["value"] and panel.figure.revision == served["revision"]
    assert panel.vs_previous.base_period == "2017-05"
    assert panel.vs_previous.absolute == pytest.approx(served["vs_previous"]["absolute"])
    assert panel.vs_previous.judgement == ("improving" if served["vs_previous"]["absolute"] > 0 else "worsening")
    assert panel.streak == served["streak"]["current"] and panel.trend == served["trend"]["direction"]
    # Four years on: the demo's story starts at 57% in April 2013.
    first = demo.get(f"/metrics/{ON_TIME}/observations", start="2013-04", end="2013-04")["items"][0]
    assert first["value"] == pytest.approx(0.57, abs=0.005)


def test_every_figure_cites_the_revision_metrics_lists_for_it(briefing, demo):
    for panel in briefing[0].panels:
        newest = demo.get(f"/metrics/{panel.metric}/observations/{panel.figure.period}/revisions")["items"][0]
        assert panel.figure.revision is not None and panel.figure.revision == newest["id"], panel.metric
        assert newest["value"] == panel.figure.value
    chart = briefing[0].panels[1].series
    for point in chart[-3:]:
        newest = demo.get(f"/metrics/{ON_TIME}/observations/{point.period}/revisions")["items"][0]
        assert (point.revision, point.value) == (newest["id"], newest["value"])


def test_charts_hold_two_years_with_the_target_in_force_each_month(briefing, demo):
    panel = briefing[0].panels[2]  # Watershed's on-time rate: its target rose from 80% to 90%
    assert len(panel.series) == 24
    assert panel.series[0].period == "2015-07" and panel.series[-1].period == "2017-06"
    served = demo.get("/metrics/dwm.service_requests_on_time/observations", start="2015-07", end="2017-06")["items"]
    assert [(p.period, p.value) for p in panel.series] == [(p["period"], p["value"]) for p in served]
    targets = demo.get("/metrics/dwm.service_requests_on_time/targets")["items"]
    assert len(targets) == 2
    for point in panel.series:
        end = Period.parse(point.period).end
        in_force = [t for t in targets if dt.date.fromisoformat(t["effective_from"]) <= end][-1]
        assert point.target == in_force["value"], point.period
    # The Mayor's direction of June 2016 shows as a step in the target line.
    assert [p.target for p in panel.series if p.period in ("2016-06", "2016-07")] == [0.8, 0.9]


def test_progress_counts_up_to_the_whole(briefing):
    steps = briefing[1]
    assert steps and steps[-1][0] == steps[-1][1] > len(SELECTION)
    done = [d for d, _ in steps]
    assert done == sorted(done) and all(d <= t for d, t in steps)


def test_a_metric_that_does_not_exist_is_not_found(demo):
    request = BuildRequest(kind="cabinet", period="2017-06", selection=[Selection(metric="dpw.no_such_metric")])
    with pytest.raises(NotFound):
        demo.build(request)


ODD = [Selection(metric=ON_TIME, reason="a hunch")]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (BuildRequest(kind="cabinet", period="2017", selection=SELECTION), "period"),
        (BuildRequest(kind="cabinet", period="2017-W23", selection=SELECTION), "period"),
        (BuildRequest(kind="cabinet", period="June", selection=SELECTION), "period"),
        (BuildRequest(kind="cabinet", period="2017-06", selection=[*SELECTION, SELECTION[0]]), "selection"),
        (BuildRequest(kind="cabinet", period="2017-06", selection=ODD), "selection"),
    ],
)
def test_a_request_that_cannot_be_built_says_which_field(demo, request_, field):
    with pytest.raises(Unprocessable) as refused:
        demo.build(request_)
    assert refused.value.errors[0]["field"] == field


@pytest.fixture(scope="module")
def suggestions(demo):
    return run(demo.app, demo.acting, lambda metrics: suggest_cabinet_metrics(metrics, "2017-06"))


def test_suggestions_mix_the_three_reasons_and_say_why(suggestions, demo):
    assert len(suggestions) == 6
    assert {s.reason for s in suggestions} == {"off_target", "mover", "signal"}
    assert len({s.metric for s in suggestions}) == 6
    performance = {p["metric"]: p for p in demo.get("/performance", period="2017-06", limit=500)["items"]}
    for s in suggestions:
        served = performance[s.metric]
        names = demo.get(f"/departments/{s.department}")["name"]
        assert s.sentence.startswith(f"{names}: ") and s.sentence.endswith(".")
        if s.reason == "off_target":
            assert served["status"] == "off_target" and "off target" in s.sentence
        elif s.reason == "mover":
            moved = abs(served["vs_previous"]["absolute"]) / served["limits"]["moving_range"]
            assert moved >= 2 and f"{moved:.1f} times its usual move" in s.sentence
        else:
            assert any(served["period"] == sig["periods"][-1] for sig in served["limits"]["signals"])
            assert "process limit" in s.sentence or "in a row" in s.sentence
    # Strongest first within each reason.
    for reason in ("off_target", "mover", "signal"):
        scores = [s.score for s in suggestions if s.reason == reason]
        assert scores == sorted(scores, reverse=True)


def test_suggestions_for_some_departments_stay_within_them(demo):
    found = run(demo.app, demo.acting, lambda metrics: suggest_cabinet_metrics(metrics, "2017-06", ["DPW"], limit=3))
    assert 1 <= len(found) <= 3 and {s.department for s in found} == {"DPW"}
    with pytest.raises(NotFound):
        run(demo.app, demo.acting, lambda metrics: suggest_cabinet_metrics(metrics, "2017-06", ["NOPE"]))
