"""The monthly memo, written from the numbers: on the demo city, each sentence's figures are the ones metrics serves;
on a small hand-made city, the items are exactly the ones its values call for."""

from __future__ import annotations

import pytest

from services.common.periods import Period
from services.reporting.briefings.build import BuildRequest
from services.reporting.briefings.build.sentences import value_text
from services.reporting.briefings.snapshot import MemoSection
from tests.reporting.build.build_city import build, demo_city, reader_of, small_city

JUNE = BuildRequest(kind="memo", period="2017-06")


@pytest.fixture(scope="module")
def demo(demo_database_set, tmp_path_factory):
    with demo_city(demo_database_set, tmp_path_factory.mktemp("memo")) as city:
        yield city


@pytest.fixture(scope="module")
def memo(demo):
    return demo.build(JUNE)


def sections(snapshot) -> dict[str, list]:
    out: dict[str, list] = {}
    for item in snapshot.memo:
        out.setdefault(item.section.value, []).append(item)
    return out


def test_the_demo_memo_covers_each_kind_of_news_in_order(memo):
    assert memo.title == "Performance memo to the Mayor, June 2017" and memo.departments == []
    found = sections(memo)
    assert {"improvement", "decline", "signal", "most_improved", "streak"} <= set(found)
    order = list(MemoSection)
    assert [order.index(i.section) for i in memo.memo] == sorted(order.index(i.section) for i in memo.memo)
    assert len(memo.department_names) == 20
    for item in memo.memo:
        assert item.sentence.endswith(".") and item.figures, item.sentence


def test_each_sentence_quotes_the_figures_metrics_serves(memo, demo):
    units = {m["key"]: m["unit"] for m in demo.get("/metrics", limit=500)["items"]}
    for item in memo.memo:
        if item.section in (MemoSection.missing_data, MemoSection.most_improved):
            continue
        shown = item.figures[0]
        served = demo.get(f"/metrics/{shown.metric}/performance", period=shown.period)
        assert (shown.value, shown.revision) == (served["value"], served["revision"]), item.sentence
        assert shown.revision is not None
        assert value_text(shown.value, units[shown.metric]) in item.sentence
        if item.section in (MemoSection.improvement, MemoSection.decline):
            base = item.figures[1]
            before = served["vs_previous"]
            assert (base.period, base.value) == (before["base_period"], before["base_value"])
            newest = demo.get(f"/metrics/{base.metric}/observations/{base.period}/revisions")["items"][0]
            assert base.revision == newest["id"]


def test_improvements_and_declines_go_the_right_way(memo, demo):
    found = sections(memo)
    for section, word in (("improvement", "improving"), ("decline", "worsening")):
        for item in found[section]:
            served = demo.get(f"/metrics/{item.figures[0].metric}/performance", period=item.figures[0].period)
            change = served["vs_previous"]["absolute"]
            better = change > 0 if served["direction"] == "higher_is_better" else change < 0
            assert better == (word == "improving"), item.sentence
            assert abs(change) >= served["limits"]["moving_range"]
            assert (" up " in item.sentence) == (change > 0)


def test_recognition_follows_the_most_improved_ranking_and_the_streaks(memo, demo):
    found = sections(memo)
    board = demo.get("/performance/most-improved", period="2017-06", limit=3)["items"]
    ranked = [i for i in board if i["improvement"] > 0]
    assert [i.figures[0].metric for i in found["most_improved"]] == [r["metric"] for r in ranked]
    for item, served in zip(found["most_improved"], ranked, strict=True):
        now, then = item.figures
        assert (now.value, then.value) == (served["value"], served["value_year_ago"])
        for figure in (now, then):
            newest = demo.get(f"/metrics/{figure.metric}/observations/{figure.period}/revisions")["items"][0]
            assert (figure.revision, figure.value) == (newest["id"], newest["value"])
        assert f"{served['improvement'] * 100:.0f}% of its target" in item.sentence
    streaks = []
    for item in found["streak"]:
        served = demo.get(f"/metrics/{item.figures[0].metric}/performance", period=item.figures[0].period)
        assert served["status"] == "on_target"
        assert f"for {served['streak']['current']} months in a row" in item.sentence
        streaks.append(served["streak"]["current"])
    assert streaks == sorted(streaks, reverse=True)


def test_late_and_missing_data_are_named_by_department(demo):
    may = demo.build(BuildRequest(kind="memo", period="2017-05"))
    board = demo.get("/completeness", start="2017-05", end="2017-05")["departments"]
    behind = {d["name"]: d["totals"] for d in board if d["totals"]["late"] or d["totals"]["missing"]}
    items = sections(may)["missing_data"]
    assert behind and {i.sentence.split(":")[0] for i in items} == set(behind)
    for item in items:
        totals = behind[item.sentence.split(":")[0]]
        assert ("arrived late" in item.sentence) == bool(totals["late"])
        assert len(item.figures) == totals["missing"]
    # May's news only: a quarterly metric speaks in June, its quarter's last month, not in May about Q1.
    assert all(Period.parse(i.figures[0].period).end.month == 5 for i in may.memo if i.figures), may.memo
    dpw = next(i for i in items if i.sentence.startswith("Department of Public Works:"))
    schedule = demo.get("/metrics/dpw.service_requests_on_time/schedule", start="2017-05", end="2017-05")["items"][0]
    assert dpw.sentence == (
        f"Department of Public Works: 1 of its {behind['Department of Public Works']['expected']} values for May 2017 "
        f"arrived late, by {schedule['days_late']} days (service requests completed on time)."
    )


def test_a_memo_for_some_departments_keeps_to_them(demo):
    snapshot = demo.build(BuildRequest(kind="memo", period="2017-06", departments=["DPW"]))
    assert snapshot.title == "Department of Public Works: performance memo to the Mayor, June 2017"
    assert snapshot.memo and all(f.metric.startswith("dpw.") for i in snapshot.memo for f in i.figures)
    assert snapshot.department_names == {"DPW": "Department of Public Works"}


def test_newly_off_target_names_exactly_the_metrics_that_slipped(client, metrics_db, settings):
    small_city(client, metrics_db)
    snapshot = build(client.app, reader_of(settings), JUNE)
    newly = sections(snapshot)["newly_off_target"]
    assert [i.figures[0].metric for i in newly] == ["pwt.on_time", "pwt.tons"]
    assert newly[0].sentence == (
        "Public Works Test: requests closed on time stood at 80% in June 2017, below its 90% target: off target, "
        "after being on target in May (92%)."
    )
    assert newly[1].sentence == (
        "Public Works Test: tons landfilled stood at 120 in June 2017, above its 100 target: off target, "
        "after being near its target in May (105)."
    )
    history = client.get("/api/metrics/metrics/pwt.on_time/observations/2017-05/revisions").json()["items"]
    june, may = newly[0].figures
    assert (june.period, june.value, may.period, may.value) == ("2017-06", 0.8, "2017-05", 0.92)
    assert may.revision == history[0]["id"] and june.revision is not None

    declines = sections(snapshot)["decline"]
    assert declines[0].sentence == (
        "Public Works Test: requests closed on time fell to 80% in June 2017, down 12.0 points from May, "
        "below its 90% target."
    )
    by_section = {
        section: [i.figures[0].metric for i in items]
        for section, items in sections(snapshot).items()
        if section != "missing_data"
    }
    assert by_section == {
        "decline": ["pwt.on_time", "pwt.tons"],
        "newly_off_target": ["pwt.on_time", "pwt.tons"],
        "signal": ["pwt.on_time", "pwt.tons"],
        "streak": ["wst.breaks"],
    }, [i.sentence for i in snapshot.memo]
    assert sections(snapshot)["streak"][0].sentence == (
        "Watershed Test has kept water main breaks on target for 6 months in a row, through June 2017 "
        "(70, below its 80 target)."
    )
