"""Snapshots built by hand, one per briefing kind, for the rendering tests: small, with the awkward cases a real
builder produces (a gap in a series, a missing value, no target, a value with no single revision, people's text with
markup in it)."""

from __future__ import annotations

import datetime as dt

from services.reporting.briefings.snapshot import (
    AnnotationLine,
    AnnualLine,
    AnnualPriority,
    BriefingKind,
    Change,
    ChartPoint,
    CommitmentLine,
    CommitmentStatus,
    CompletenessLine,
    Figure,
    FrontlineLine,
    FrontlineUnit,
    MeetingInfo,
    MemoItem,
    MemoSection,
    MetricPanel,
    Snapshot,
    Status,
)

READ_AT = dt.datetime(2017, 7, 10, 14, 5, tzinfo=dt.UTC)
AS_OF = dt.date(2017, 7, 10)
NAMES = {"DPW": "Public Works", "FIRE": "Fire Department", "POL": "Police Department", "311": "311 Customer Service"}
MONTHS = [f"2016-{m:02d}" for m in range(7, 13)] + [f"2017-{m:02d}" for m in range(1, 7)]


def make_series(
    values: list[float | None], targets: list[float | None] | None = None, periods: list[str] | None = None
) -> list[ChartPoint]:
    periods = periods or MONTHS[-len(values) :]
    targets = targets if targets is not None else [None] * len(values)
    return [
        ChartPoint(period=p, value=v, target=t, revision=None if v is None else 1000 + i)
        for i, (p, v, t) in enumerate(zip(periods, values, targets, strict=True))
    ]


def make_panel(
    metric: str = "pothole_days",
    *,
    name: str = "Days to repair a pothole",
    department: str = "DPW",
    unit: str = "days",
    direction: str = "lower_is_better",
    value: float | None = 3.2,
    target: float | None = 3.0,
    tolerance: float | None = 0.5,
    status: Status = Status.near,
    revision: int | None = 4211,
    period: str = "2017-06",
    series: list[ChartPoint] | None = None,
    explanation: str | None = None,
    reason: str | None = None,
    signals: list[str] | None = None,
    vs_previous: Change | None = None,
    vs_year_ago: Change | None = None,
    streak: int | None = None,
) -> MetricPanel:
    if series is None:
        values = [4.1, 3.9, 4.4, None, 3.8, 3.6, 3.5, 3.9, 3.4, 3.3, 3.1, value]
        series = make_series(values, [3.5] * 6 + [3.0] * 6)
    return MetricPanel(
        metric=metric,
        name=name,
        department=department,
        unit=unit,
        direction=direction,
        frequency="month",
        is_key=True,
        period=period,
        figure=Figure(metric=metric, period=period, value=value, revision=revision),
        target=target,
        tolerance=tolerance,
        status=status,
        vs_previous=vs_previous,
        vs_year_ago=vs_year_ago,
        trend="improving",
        streak=streak,
        signals=signals or [],
        series=series,
        explanation=explanation,
        reason=reason,
    )


def make_meeting(**overrides) -> MeetingInfo:
    fields = dict(
        id=7,
        kind="roundtable",
        held_on=dt.date(2017, 7, 12),
        title="Public Works roundtable",
        departments=["DPW"],
        attendees=["Ana Ruiz (Commissioner)", "Ben Okafor (Analyst)"],
    )
    fields.update(overrides)
    return MeetingInfo(**fields)


def make_commitment(id: int = 1, **overrides) -> CommitmentLine:
    fields = dict(
        id=id,
        kind="direction",
        department="DPW",
        metric="pothole_days",
        description="Bring pothole repairs down to 3 days",
        level=3.0,
        deadline=dt.date(2017, 9, 30),
        made_in="Cabinet briefing, June 2017",
        made_on=dt.date(2017, 6, 14),
        status=CommitmentStatus.on_track,
        latest=Figure(metric="pothole_days", period="2017-06", value=3.2, revision=4211),
    )
    fields.update(overrides)
    return CommitmentLine(**fields)


def cabinet_panels(count: int = 6) -> list[MetricPanel]:
    panels = [
        make_panel(
            explanation=(
                "Two crews were out sick in May. <script>alert('x')</script> We hired a contractor & caught up."
            ),
            reason="off_target",
            vs_previous=Change(
                base_period="2017-05", base_value=3.1, absolute=0.1, relative=0.032, judgement="worsening"
            ),
            vs_year_ago=Change(
                base_period="2016-06", base_value=4.1, absolute=-0.9, relative=-0.22, judgement="improving"
            ),
            signals=["June 2017 is below the lower process limit (3.3 days)"],
        ),
        make_panel(
            "calls_answered",
            name="311 calls answered within 60 seconds",
            department="311",
            unit="percent",
            direction="higher_is_better",
            value=0.874,
            target=0.9,
            tolerance=0.02,
            status=Status.off_target,
            revision=5120,
            series=make_series([0.91, 0.92, 0.9, 0.93, 0.89, 0.88, 0.9, 0.91, 0.9, 0.89, 0.9, 0.874], [0.9] * 12),
            vs_previous=Change(
                base_period="2017-05", base_value=0.9, absolute=-0.026, relative=-0.029, judgement="worsening"
            ),
            explanation="A new phone system went live on June 5.",
            reason="mover",
        ),
        make_panel(
            "response_minutes",
            name="Fire response time, 90th percentile",
            department="FIRE",
            unit="minutes",
            direction="lower_is_better",
            value=6.4,
            target=6.5,
            tolerance=0.3,
            status=Status.on_target,
            revision=None,
            series=make_series([6.9, 6.8, 6.7, 6.7, 6.6, 6.6, 6.5, 6.6, 6.5, 6.4, 6.4, 6.4], [6.5] * 12),
            streak=4,
            reason="signal",
            signals=["Run of 6 or more in one direction (falling)"],
        ),
        make_panel(
            "overtime_dollars",
            name="Police overtime spending",
            department="POL",
            unit="dollars",
            direction="lower_is_better",
            value=1_234_567.0,
            target=1_100_000.0,
            tolerance=50_000.0,
            status=Status.off_target,
            revision=6001,
            series=make_series(
                [1.0e6, 1.1e6, 1.05e6, 1.2e6, 1.15e6, 1.3e6, 1.25e6, 1.2e6, 1.22e6, 1.19e6, 1.21e6, 1_234_567.0],
                [None] * 6 + [1.1e6] * 6,
            ),
            vs_year_ago=Change(
                base_period="2016-06", base_value=1.0e6, absolute=234_567.0, relative=0.2346, judgement="worsening"
            ),
            reason="chosen",
        ),
        make_panel(
            "tons_collected",
            name="Recycling collected",
            department="DPW",
            unit="count",
            direction="higher_is_better",
            value=1234.0,
            target=None,
            tolerance=None,
            status=Status.no_target,
            revision=7002,
            series=make_series([1100.0, 1150.0, 1200.0, 1180.0, 1234.0]),
        ),
        make_panel(
            "permits_late",
            name="Permits issued late",
            department="DPW",
            unit="count",
            direction="lower_is_better",
            value=None,
            target=10.0,
            tolerance=2.0,
            status=Status.missing,
            revision=None,
            series=make_series([12.0, 11.0, 9.0, None], [10.0] * 4),
        ),
    ]
    return panels[:count]


def cabinet_snapshot(**overrides) -> Snapshot:
    fields = dict(
        kind=BriefingKind.cabinet,
        title="Cabinet briefing: July 2017",
        period="2017-06",
        departments=["DPW", "311", "FIRE", "POL"],
        department_names=NAMES,
        as_of=AS_OF,
        read_at=READ_AT,
        meeting=make_meeting(
            kind="cabinet",
            title="Cabinet meeting",
            departments=["DPW", "311", "FIRE", "POL"],
            attendees=["Mayor Lee", "Ana Ruiz"],
        ),
        panels=cabinet_panels(),
        commitments=[
            make_commitment(1),
            make_commitment(
                2,
                department="311",
                metric="calls_answered",
                description="Answer 92% of calls within a minute",
                level=0.92,
                status=CommitmentStatus.at_risk,
                latest=Figure(metric="calls_answered", period="2017-06", value=0.874, revision=5120),
            ),
        ],
    )
    fields.update(overrides)
    return Snapshot(**fields)


def roundtable_snapshot(**overrides) -> Snapshot:
    panels = [p for p in cabinet_panels() if p.department in ("DPW", "311")]
    fields = dict(
        kind=BriefingKind.roundtable,
        title="Public Works and 311 roundtable",
        period="2017-06",
        departments=["DPW", "311"],
        department_names=NAMES,
        as_of=AS_OF,
        read_at=READ_AT,
        meeting=make_meeting(departments=["DPW", "311"]),
        panels=panels,
        commitments=[
            make_commitment(1),
            make_commitment(
                3,
                kind="action",
                metric=None,
                level=None,
                latest=None,
                description="Send the crew roster to the analyst <b>weekly</b>",
                deadline=dt.date(2017, 7, 31),
                made_in="Public Works roundtable, June 2017",
                status=CommitmentStatus.open,
            ),
        ],
        annotations=[
            AnnotationLine(
                metric="permits_late",
                period="2017-05",
                kind="data_quality",
                text="Counts for May exclude the <em>north</em> office",
                author="Ben Okafor",
                created_at=dt.datetime(2017, 6, 20, 9, 0, tzinfo=dt.UTC),
            )
        ],
        completeness=[
            CompletenessLine(
                department="DPW", expected=4, received=3, on_time=2, late=1, missing=["permits_late 2017-06"]
            ),
            CompletenessLine(department="311", expected=1, received=1, on_time=1, late=0),
        ],
    )
    fields.update(overrides)
    return Snapshot(**fields)


def memo_snapshot(**overrides) -> Snapshot:
    fields = dict(
        kind=BriefingKind.memo,
        title="Performance memo: June 2017",
        period="2017-06",
        department_names=NAMES,
        as_of=AS_OF,
        read_at=READ_AT,
        panels=[p for p in cabinet_panels() if p.metric in ("calls_answered", "pothole_days")],
        memo=[
            MemoItem(
                section=MemoSection.decline,
                sentence="311 calls answered within 60 seconds fell from 90% in May 2017 to 87.4% in June 2017.",
                figures=[
                    Figure(metric="calls_answered", period="2017-05", value=0.9, revision=5100),
                    Figure(metric="calls_answered", period="2017-06", value=0.874, revision=5120),
                ],
            ),
            MemoItem(
                section=MemoSection.improvement,
                sentence="Days to repair a pothole fell to 3.2 days in June 2017, from 4.1 days a year before.",
                figures=[
                    Figure(metric="pothole_days", period="2017-06", value=3.2, revision=4211),
                    Figure(metric="pothole_days", period="2016-06", value=4.1, revision=3900),
                ],
            ),
            MemoItem(
                section=MemoSection.missing_data,
                sentence="Permits issued late has no value yet for June 2017.",
                figures=[Figure(metric="permits_late", period="2017-06", value=None)],
            ),
            MemoItem(
                section=MemoSection.streak,
                sentence="Fire response time has been on target for 4 months in a row <i>& counting</i>.",
                figures=[Figure(metric="response_minutes", period="2017-06", value=6.4, revision=None)],
            ),
        ],
    )
    fields.update(overrides)
    return Snapshot(**fields)


def annual_snapshot(**overrides) -> Snapshot:
    def line(metric, name, department, unit, year, before, change, target, status, direction="higher_is_better"):
        return AnnualLine(
            metric=metric,
            name=name,
            department=department,
            unit=unit,
            direction=direction,
            year=Figure(metric=metric, period="2016", value=year, revision=None),
            year_before=None if before is None else Figure(metric=metric, period="2015", value=before),
            change=change,
            target=target,
            status=status,
        )

    fields = dict(
        kind=BriefingKind.annual,
        title="Annual performance report 2016",
        period="2016",
        department_names=NAMES,
        as_of=AS_OF,
        read_at=READ_AT,
        annual=[
            AnnualPriority(
                code="safety",
                name="Public safety",
                lines=[
                    line(
                        "response_minutes",
                        "Fire response time, 90th percentile",
                        "FIRE",
                        "minutes",
                        6.6,
                        6.9,
                        Change(
                            base_period="2015", base_value=6.9, absolute=-0.3, relative=-0.0435, judgement="improving"
                        ),
                        6.5,
                        Status.near,
                        "lower_is_better",
                    ),
                ],
            ),
            AnnualPriority(
                code="services",
                name="Responsive services",
                lines=[
                    line(
                        "calls_answered",
                        "311 calls answered within 60 seconds",
                        "311",
                        "percent",
                        0.905,
                        0.874,
                        Change(
                            base_period="2015", base_value=0.874, absolute=0.031, relative=0.0355, judgement="improving"
                        ),
                        0.9,
                        Status.on_target,
                    ),
                    line(
                        "tons_collected",
                        "Recycling collected",
                        "DPW",
                        "count",
                        14_210.0,
                        None,
                        None,
                        None,
                        Status.no_target,
                    ),
                ],
            ),
        ],
    )
    fields.update(overrides)
    return Snapshot(**fields)


def frontline_snapshot(units: int = 3, **overrides) -> Snapshot:
    weeks = [f"2017-W{w:02d}" for w in range(20, 28)]

    def unit(index: int) -> FrontlineUnit:
        code = f"DPW-Y{index + 1}"
        return FrontlineUnit(
            department="DPW",
            org_unit=code,
            org_unit_name=f"Yard {index + 1}",
            lines=[
                FrontlineLine(
                    metric="potholes_filled",
                    name="Potholes filled",
                    unit="count",
                    direction="higher_is_better",
                    figure=Figure(
                        metric="potholes_filled",
                        period="2017-W27",
                        value=140.0 + index,
                        org_unit=code,
                        revision=9000 + index,
                    ),
                    target=150.0,
                    status=Status.near,
                    series=make_series(
                        [130.0, 135.0, None, 150.0, 142.0, 138.0, 145.0, 140.0 + index], [150.0] * 8, weeks
                    ),
                ),
                FrontlineLine(
                    metric="pothole_days",
                    name="Days to repair a pothole",
                    unit="days",
                    direction="lower_is_better",
                    figure=Figure(metric="pothole_days", period="2017-W27", value=2.5, org_unit=code, revision=None),
                    target=3.0,
                    status=Status.on_target,
                    series=make_series([3.1, 2.9, 2.8, 2.7, 2.6, 2.6, 2.5, 2.5], [3.0] * 8, weeks),
                ),
            ],
        )

    fields = dict(
        kind=BriefingKind.frontline,
        title="Public Works weekly scorecard, week 27",
        period="2017-W27",
        departments=["DPW"],
        department_names=NAMES,
        as_of=AS_OF,
        read_at=READ_AT,
        frontline=[unit(i) for i in range(units)],
    )
    fields.update(overrides)
    return Snapshot(**fields)


ALL_KINDS = {
    BriefingKind.cabinet: cabinet_snapshot,
    BriefingKind.roundtable: roundtable_snapshot,
    BriefingKind.memo: memo_snapshot,
    BriefingKind.annual: annual_snapshot,
    BriefingKind.frontline: frontline_snapshot,
}
