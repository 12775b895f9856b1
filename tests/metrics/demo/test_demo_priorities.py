"""The demo's citywide priorities, the metrics aligned to them, and the outputs linked to the outcomes they drive."""

import re

import pytest

from services.metrics.demo.city import build_demo_city
from services.metrics.demo.programme import ALIGNMENT, DRIVERS, PRIORITIES
from services.metrics.priorities.schemas import PRIORITY_CODE_PATTERN


@pytest.fixture(scope="module")
def metrics():
    return {m.key: m for d in build_demo_city() for m in d.metrics}


def test_four_to_six_priorities_with_valid_distinct_codes():
    codes = [p.code for p in PRIORITIES]
    assert 4 <= len(codes) <= 6 and len(set(codes)) == len(codes)
    assert {"public_safety", "infrastructure"} <= set(codes)
    for priority in PRIORITIES:
        assert re.match(PRIORITY_CODE_PATTERN, priority.code), priority.code
        assert priority.name and priority.description


def test_every_metric_is_aligned_to_one_or_two_known_priorities(metrics):
    codes = {p.code for p in PRIORITIES}
    # No alignment is left over for a metric the demo does not have, and none is missing.
    assert set(ALIGNMENT) == set(metrics)
    for metric in metrics.values():
        aligned = [code for code, _ in metric.priorities]
        assert 1 <= len(aligned) <= 2 and len(set(aligned)) == len(aligned), metric.key
        assert set(aligned) <= codes, metric.key


def test_each_priority_has_one_to_three_key_metrics_all_agreed(metrics):
    for priority in PRIORITIES:
        keys = [m.key for m in metrics.values() if (priority.code, True) in m.priorities]
        assert 1 <= len(keys) <= 3, priority.code
        assert sorted(keys) == sorted(priority.key_metrics), priority.code
        for key in keys:
            # A key metric leads the public site: it must be agreed and published.
            assert metrics[key].state == "active" and metrics[key].is_published, key


def test_the_case_studys_headline_metrics_are_key():
    keys = {key for p in PRIORITIES for key in p.key_metrics}
    assert {"dpw.service_requests_on_time", "dwm.service_requests_on_time", "apd.part1_crimes"} <= keys


def test_links_run_from_an_output_to_an_outcome(metrics):
    assert set(DRIVERS) <= set(metrics)
    for outcome, outputs in DRIVERS.items():
        assert metrics[outcome].kind == "outcome", outcome
        assert 1 <= len(outputs) <= 3, outcome
        for output in outputs:
            assert metrics[output].kind == "output", output
            assert outcome in metrics[output].drives, (output, outcome)
    # The links on the metrics are exactly the catalogue's, nothing more.
    pairs = {(m.key, outcome) for m in metrics.values() for outcome in m.drives}
    assert pairs == {(output, outcome) for outcome, outputs in DRIVERS.items() for output in outputs}


def test_every_linked_outcome_has_an_agreed_driver(metrics):
    for outcome, outputs in DRIVERS.items():
        if metrics[outcome].state != "active":
            continue
        agreed = [o for o in outputs if metrics[o].state == "active"]
        # A proposal may be linked too, but an agreed outcome's page must not show an empty list to the public.
        assert agreed or all(metrics[o].state in ("draft", "proposed") for o in outputs), outcome
    with_agreed_drivers = [o for o, outputs in DRIVERS.items() if any(metrics[x].state == "active" for x in outputs)]
    assert len(with_agreed_drivers) >= len(PRIORITIES)


def test_each_priority_shows_an_outcome_with_its_driving_outputs(metrics):
    for priority in PRIORITIES:
        outcomes = [
            key
            for key, outputs in DRIVERS.items()
            if priority.code in dict(metrics[key].priorities)
            and metrics[key].state == "active"
            and 1 <= sum(metrics[o].state == "active" for o in outputs) <= 3
        ]
        assert outcomes, priority.code
