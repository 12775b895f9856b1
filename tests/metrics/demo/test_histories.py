"""Definitions with a past: drafted, proposed, signed off and published; revised later, once with a series break;
retired; and proposals still under discussion with their department."""

import datetime as dt

import pytest

from services.ingest.accounts.demo import demo_staff
from services.metrics.demo.city import build_demo_city
from services.metrics.demo.histories import SIGNED_OFF_ON_BEHALF
from services.metrics.demo.programme import ANALYST

FIELDS = ("name", "unit", "kind", "direction", "frequency", "methodology", "is_published", "state")


@pytest.fixture(scope="module")
def city():
    return build_demo_city()


@pytest.fixture(scope="module")
def metrics(city):
    return {m.key: m for d in city for m in d.metrics}


@pytest.fixture(scope="module")
def department_of(city):
    return {m.key: d.code for d in city for m in d.metrics}


def first_day(period: str) -> dt.date:
    if "-W" in period:
        return dt.date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
    if "-Q" in period:
        return dt.date(int(period[:4]), 3 * int(period[6:]) - 2, 1)
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def replay(metric) -> dict[str, object]:
    """The definition after every version, starting from the first: each change must start where the last left."""
    now = {field: getattr(metric, field) for field in FIELDS} | {"state": "draft", "is_published": False}
    now.update(dict(metric.initial))
    for version in metric.versions:
        for field, old, new in version.changes:
            assert now[field] == old, (metric.key, version.version, field)
            now[field] = new
    return now


def test_versions_are_numbered_in_order_and_in_time(metrics):
    for metric in metrics.values():
        assert [v.version for v in metric.versions] == list(range(2, metric.version + 1)), metric.key
        moments = [metric.created_at] + [v.at for v in metric.versions]
        assert moments == sorted(moments) and len(set(moments)) == len(moments), metric.key
        assert all(v.changes for v in metric.versions), metric.key


def test_replaying_the_versions_gives_the_definition_as_it_reads_now(metrics):
    for metric in metrics.values():
        final = replay(metric)
        assert final == {field: getattr(metric, field) for field in FIELDS}, metric.key


def test_agreed_metrics_were_proposed_signed_off_and_published_before_their_first_value(metrics, department_of):
    for metric in metrics.values():
        if metric.state not in ("active", "retired"):
            continue
        actions = [v.action for v in metric.versions]
        assert actions[:3] == ["proposed", "signed_off", "edited"], metric.key
        assert metric.versions[2].changes == (("is_published", False, True),), metric.key
        name, at, on_behalf = metric.signed_off
        assert at == metric.versions[1].at and name == metric.versions[1].actor_name, metric.key
        assert at.date() < first_day(metric.first_period), metric.key
        code = department_of[metric.key]
        assert on_behalf == (code in SIGNED_OFF_ON_BEHALF), metric.key
        if on_behalf:
            assert name == ANALYST and metric.versions[1].reason.startswith(f"Signed off on behalf of {code}'s head")
        else:
            assert name == f"{code} Head", metric.key
        # The first target was entered when the metric was agreed, a later one a little before it took effect.
        assert metric.targets[0].set_at == at, metric.key
        for target in metric.targets[1:]:
            assert target.set_at.date() < target.effective_from, metric.key


def test_agreed_metrics_were_revised_once_for_clarity_and_once_with_a_series_break(metrics):
    edits = [(m, v) for m in metrics.values() if m.state == "active" for v in m.versions[3:] if v.action == "edited"]
    clarified = [(m, v) for m, v in edits if v.break_period is None]
    broken = [(m, v) for m, v in edits if v.break_period is not None]
    assert clarified and broken
    assert any(field == "methodology" for _, v in clarified for field, _, _ in v.changes)
    for metric, version in edits:
        assert version.reason, metric.key
    for metric, version in broken:
        periods = [o.period for o in metric.observations]
        # The new series starts inside the metric's values, after the change was decided.
        assert periods[0] < version.break_period <= periods[-1], metric.key
        assert version.at.date() < first_day(version.break_period), metric.key


def test_a_retired_metric_says_why_and_leaves_the_public_scorecard(metrics):
    retired = [m for m in metrics.values() if m.state == "retired"]
    assert len(retired) >= 1
    for metric in retired:
        last = metric.versions[-1]
        assert last.action == "retired" and len(last.reason) > 40, metric.key
        assert ("state", "active", "retired") in last.changes and not metric.is_published, metric.key
        assert last.at.date() > first_day(metric.observations[-1].period), metric.key


def test_three_to_five_proposals_and_a_draft_with_no_values(metrics):
    proposed = [m for m in metrics.values() if m.state == "proposed"]
    drafts = [m for m in metrics.values() if m.state == "draft"]
    assert 3 <= len(proposed) <= 5 and len(drafts) >= 1
    for metric in proposed + drafts:
        assert not metric.observations and not metric.targets and not metric.is_published, metric.key
        assert metric.signed_off is None, metric.key
        assert first_day(metric.first_period) > dt.date(2017, 6, 30), metric.key
    for metric in proposed:
        assert metric.versions[0].action == "proposed", metric.key


def test_proposals_are_discussed_between_the_analyst_and_the_department(metrics, department_of):
    proposed = [m for m in metrics.values() if m.state == "proposed"]
    for metric in proposed:
        code = department_of[metric.key]
        thread = metric.comments
        assert len(thread) >= 3, metric.key
        moments = [c.at for c in thread]
        assert moments == sorted(moments) and moments[0] >= metric.created_at, metric.key
        authors = {c.actor_name for c in thread}
        assert ANALYST in authors and authors & {f"{code} Liaison", f"{code} Head"}, metric.key
        assert authors <= {ANALYST, f"{code} Liaison", f"{code} Head"}, metric.key
    bodies = " ".join(c.body.lower() for m in proposed for c in m.comments)
    assert "iterate" in bodies and "control" in bodies
    # At least one proposal changed in discussion, as the department asked.
    assert any(v.action == "edited" for m in proposed for v in m.versions)


def test_every_name_in_the_histories_is_a_demo_staff_account(city, metrics):
    staff = {name for _, name, _, _ in demo_staff([d.code for d in city])}
    for metric in metrics.values():
        names = {v.actor_name for v in metric.versions} | {c.actor_name for c in metric.comments}
        assert names <= staff, (metric.key, names - staff)
