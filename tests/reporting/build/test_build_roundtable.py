"""Roundtable packs: all of a few departments' metrics with charts, how complete their data is, the notes on its
quality and the questions still open, and the commitments the caller passes in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import NotFound, Unprocessable
from services.reporting.briefings.build import BuildRequest
from services.reporting.briefings.snapshot import CommitmentLine, CommitmentStatus, MeetingInfo
from tests.factories import make_user, sign_in
from tests.reporting.build.build_city import analyst, build, demo_city, small_city

REQUEST = BuildRequest(kind="roundtable", period="2017-06", departments=["DPW", "DWM"])


@pytest.fixture(scope="module")
def demo(demo_database_set, tmp_path_factory):
    with demo_city(demo_database_set, tmp_path_factory.mktemp("roundtable")) as city:
        yield city


@pytest.fixture(scope="module")
def pack(demo):
    return demo.build(REQUEST)


def test_the_pack_holds_every_active_metric_of_its_departments_key_ones_first(pack, demo):
    assert pack.title == "Department of Public Works and Department of Watershed Management roundtable, June 2017"
    assert pack.departments == ["DPW", "DWM"] and list(pack.department_names) == ["DPW", "DWM"]
    for code in ("DPW", "DWM"):
        served = demo.get("/performance", period="2017-06", department=code)["items"]
        panels = [p for p in pack.panels if p.department == code]
        assert sorted(p.metric for p in panels) == sorted(s["metric"] for s in served)
        keys = [p.is_key for p in panels]
        assert keys == sorted(keys, reverse=True) and any(keys)
    codes = [p.department for p in pack.panels]
    assert codes == sorted(codes)
    on_time = next(p for p in pack.panels if p.metric == "dpw.service_requests_on_time")
    assert (on_time.figure.value, on_time.status, on_time.target) == (pytest.approx(0.95), "on_target", 0.9)


def test_each_metric_is_shown_at_its_latest_period_ended_by_the_months_end(pack):
    periods = {p.metric: p.period for p in pack.panels}
    assert periods["dwm.non_revenue_water"] == "2017-Q2"
    assert periods["dwm.drinking_water_samples_passed"] == "2017-W25"  # W26 ends on 2 July
    weekly = next(p for p in pack.panels if p.metric == "dwm.drinking_water_samples_passed")
    assert len(weekly.series) == 24 and weekly.series[-1].period == "2017-W25"
    assert all(point.revision is not None for p in pack.panels for point in p.series if point.value is not None)


def test_completeness_is_the_boards_count(pack, demo):
    for line in pack.completeness:
        board = demo.get("/completeness", department=line.department, start="2017-06", end="2017-06")
        totals = board["departments"][0]["totals"]
        assert (line.expected, line.on_time, line.late) == (totals["expected"], totals["on_time"], totals["late"])
        assert line.received == totals["on_time"] + totals["late"]
        assert len(line.missing) == totals["missing"] + totals["due"]
    assert [line.department for line in pack.completeness] == ["DPW", "DWM"]


@pytest.mark.parametrize(
    ("departments", "field"),
    [([], "departments"), (["DPW", "DWM", "APD", "AFRD"], "departments"), (["DPW", "DPW"], "departments")],
)
def test_a_roundtable_reviews_one_to_three_departments(demo, departments, field):
    with pytest.raises(Unprocessable) as refused:
        demo.build(BuildRequest(kind="roundtable", period="2017-06", departments=departments))
    assert refused.value.errors == [{"field": field, "reason": refused.value.errors[0]["reason"]}]


def test_a_roundtable_needs_a_month_and_known_departments(demo):
    with pytest.raises(Unprocessable) as refused:
        demo.build(BuildRequest(kind="roundtable", period="2017-W23", departments=["DPW"]))
    assert refused.value.errors[0]["field"] == "period" and "2017-06" in refused.value.errors[0]["reason"]
    with pytest.raises(NotFound):
        demo.build(BuildRequest(kind="roundtable", period="2017-06", departments=["NOPE"]))


def test_notes_on_data_quality_and_open_questions_come_with_the_pack(client, metrics_db, ingest_db):
    small_city(client, metrics_db)
    acting, csrf = analyst(client, ingest_db)

    def note(key: str, period: str, kind: str, body: str) -> int:
        response = client.post(
            f"/api/metrics/metrics/{key}/annotations", json={"period": period, "kind": kind, "body": body}, headers=csrf
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    note("pwt.on_time", "2017-06", "data_quality", "Two crews reported closures a day late.")
    note("pwt.on_time", "2015-01", "data_quality", "An old note on an old month.")
    note("pwt.tons", "2017-05", "question", "Why did tonnage rise in May?")
    answered = note("pwt.tons", "2017-04", "question", "Was April's scale calibrated?")
    note("pwt.tons", "2017-06", "context", "The landfill changed its hours.")
    note("wst.breaks", "2017-06", "data_quality", "Another department's note.")
    # The department's reply answers its question.
    make_user(ingest_db, "pwt.liaison", "liaison", "PWT")
    liaison = sign_in(client, "pwt.liaison")
    reply = client.post(
        f"/api/metrics/metrics/pwt.tons/annotations/{answered}/replies", json={"body": "It was."}, headers=liaison
    )
    assert reply.status_code == 201 and reply.json()["answered_at"] is not None

    commitment = CommitmentLine(
        id=1,
        kind="action",
        department="PWT",
        description="Send the crews' closure sheets daily",
        deadline=dt.date(2017, 7, 31),
        made_in="Public Works Test roundtable, May 2017",
        status=CommitmentStatus.open,
    )
    meeting = MeetingInfo(
        id=3,
        kind="roundtable",
        held_on=dt.date(2017, 7, 12),
        title="Public Works Test roundtable",
        departments=["PWT"],
        attendees=["Commissioner", "Analyst"],
    )
    request = BuildRequest(kind="roundtable", period="2017-06", departments=["PWT"], title="PWT, July meeting")
    pack = build(client.app, acting, request, commitments=[commitment], meeting=meeting)

    assert pack.title == "PWT, July meeting" and pack.meeting == meeting and pack.commitments == [commitment]
    assert [(a.metric, a.period, a.kind, a.text) for a in pack.annotations] == [
        ("pwt.on_time", "2017-06", "data_quality", "Two crews reported closures a day late."),
        ("pwt.tons", "2017-05", "question", "Why did tonnage rise in May?"),
    ]
    assert pack.annotations[0].author == "Ana Lyst"
    assert sorted(p.metric for p in pack.panels) == ["pwt.on_time", "pwt.pothole_days", "pwt.sparse", "pwt.tons"]
    statuses = {p.metric: p.status for p in pack.panels}
    assert statuses == {
        "pwt.on_time": "off_target",
        "pwt.pothole_days": "off_target",
        "pwt.sparse": "off_target",
        "pwt.tons": "off_target",
    }
    sparse = next(p for p in pack.panels if p.metric == "pwt.sparse")
    # The chart starts at the first value and keeps the gap in May.
    assert [(c.period, c.value) for c in sparse.series] == [
        ("2017-01", 0.9), ("2017-02", 0.9), ("2017-03", 0.9), ("2017-04", 0.9), ("2017-05", None), ("2017-06", 0.5),
    ]  # fmt: skip
    assert all(c.target == 0.9 for c in sparse.series)
    (line,) = pack.completeness
    assert (line.department, line.expected) == ("PWT", 4)
