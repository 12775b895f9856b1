"""A deterministic demo city modelled on Atlanta's performance program, 2013-2017.

Pure data: no database and no I/O, so the loader, the tests and the benchmarks all see the
same city. Each metric gets its own random stream seeded by (seed, key): adding a metric
to the catalogue leaves every other series unchanged. When values arrived, each metric's
history and each department's approvals draw from streams of their own as well, so none
of them moves a value.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import replace

from services.common.periods import Frequency, Period, periods_between
from services.metrics.demo.catalogue import DEPARTMENTS, PROGRAMME_OFFICE, DepartmentSpec, MetricSpec
from services.metrics.demo.histories import (
    PROPOSALS,
    RETIREMENTS,
    REVISIONS,
    SIGNED_OFF_ON_BEHALF,
    ProposalSpec,
    RevisionSpec,
)
from services.metrics.demo.model import (
    DemoApproval,
    DemoComment,
    DemoDepartment,
    DemoMetric,
    DemoObservation,
    DemoOrgUnit,
    DemoTarget,
    DemoVersion,
)
from services.metrics.demo.programme import (
    ALIGNMENT,
    ANALYST,
    DEFAULT_PUNCTUALITY,
    DRIVERS,
    DUE_DAYS,
    ORG_UNITS,
    PRIORITIES,
    PUNCTUALITY,
    WEEKLY,
    Punctuality,
    WeeklySpec,
    head_of,
    liaison_of,
)
from services.metrics.observations.rollup import Part, default_rollup, rollup_units

__all__ = [
    "AS_OF",
    "DemoApproval",
    "DemoComment",
    "DemoDepartment",
    "DemoMetric",
    "DemoObservation",
    "DemoOrgUnit",
    "DemoTarget",
    "DemoVersion",
    "build_demo_city",
]

AS_OF = datetime.date(2017, 7, 10)
# The case study's figures are "as of June 2017"; the demo's data ends there.
LAST_DAY = datetime.date(2017, 6, 30)
# The last month departments approve: June's values are still coming in on the demo's today, so they stay provisional.
LAST_APPROVED = "2017-05"

# Noise is autocorrelated, because real operational series drift for a few months
# (a vacancy, a broken truck) rather than jumping independently every month.
_AR = 0.5
# Where in the tolerance band a June 2017 value is redrawn when noise pushed it into the
# wrong status: kept away from the band's edges so rounding cannot tip it over.
_BANDS = {
    "higher_is_better": {"on_target": (0.15, 0.8), "near": (-0.85, -0.2), "off_target": (-2.5, -1.2)},
    "closer_is_better": {"on_target": (0.0, 0.8), "near": (1.15, 1.85), "off_target": (2.3, 3.5)},
}
# Crews work weekdays and a Saturday shift: how a month's repairs fall on its days.
_DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.0)
_UTC = datetime.UTC


def build_demo_city(seed: int = 2017) -> tuple[DemoDepartment, ...]:
    return tuple(_department(dept, seed) for dept in DEPARTMENTS)


def _department(dept: DepartmentSpec, seed: int) -> DemoDepartment:
    series = [_metric(spec, dept, seed) for spec in dept.metrics]
    built = {m.key: m for m in series}
    weekly = [_weekly(spec, built, seed) for spec in WEEKLY.get(dept.code, ())]
    punctuality = PUNCTUALITY.get(dept.code, DEFAULT_PUNCTUALITY)
    arrivals = _arrivals(dept, punctuality, random.Random(f"{seed}/arrivals/{dept.code}"))
    series = [_arrived(m, arrivals, punctuality.missed) for m in series]
    weekly = _weeks_arrived(weekly, punctuality, random.Random(f"{seed}/arrivals/{dept.code}/weeks"))
    proposals = [_proposal(p, seed) for p in PROPOSALS if p.department == dept.code]
    metrics = tuple(_with_history(m, dept, seed) for m in series + weekly) + tuple(proposals)
    units = tuple(DemoOrgUnit(u.code, u.name, u.kind, u.parent) for u in ORG_UNITS.get(dept.code, ()))
    approvals = _approvals(dept, metrics, punctuality, random.Random(f"{seed}/approvals/{dept.code}"))
    return DemoDepartment(dept.code, dept.name, metrics, units, approvals)


def _at(day: datetime.date, rng: random.Random, first_hour: int = 13, hours: int = 8) -> datetime.datetime:
    """A moment in Atlanta's working day, in UTC (13:00-21:00 UTC is 9:00-17:00 EDT, 8:00-16:00 EST)."""
    minutes = first_hour * 60 + rng.randrange(hours * 60)
    return datetime.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=_UTC)


def _alignment(key: str) -> tuple[tuple[str, bool], ...]:
    return tuple((code, any(key in p.key_metrics for p in PRIORITIES if p.code == code)) for code in ALIGNMENT[key])


def _drives(key: str) -> tuple[str, ...]:
    return tuple(outcome for outcome, outputs in DRIVERS.items() if key in outputs)


def _status(value: float, target: DemoTarget, direction: str) -> str:
    """DESIGN.md's status rule, used here to make June 2017 show what the catalogue intends."""
    t, tol = target.value, target.tolerance
    if direction == "closer_is_better":
        gap = abs(value - t)
        return "on_target" if gap <= tol else "near" if gap <= 2 * tol else "off_target"
    if direction == "lower_is_better":
        value, t = -value, -t
    return "on_target" if value >= t else "near" if value >= t - tol else "off_target"


def _metric(spec: MetricSpec, dept: DepartmentSpec, seed: int) -> DemoMetric:
    frequency = Frequency(spec.frequency)
    first = Period.containing(Period.parse(spec.start or dept.start).start, frequency)
    last = Period.parse(spec.end) if spec.end else Period.containing(LAST_DAY, frequency)
    periods = periods_between(first, last)
    targets = _targets(spec, dept, first.start)
    percent = spec.unit == "percent"
    return DemoMetric(
        key=spec.key,
        name=spec.name,
        unit=spec.unit,
        kind=spec.kind,
        direction=spec.direction,
        frequency=spec.frequency,
        methodology=spec.methodology,
        min_value=0.0 if percent or not spec.signed else None,
        max_value=1.0 if percent else None,
        targets=targets,
        observations=_series(spec, periods, targets[-1], random.Random(f"{seed}/{spec.key}")),
        rollup=spec.rollup or str(default_rollup(spec.unit)),
        first_period=str(first),
    )


def _targets(spec: MetricSpec, dept: DepartmentSpec, first_day: datetime.date) -> tuple[DemoTarget, ...]:
    value, tolerance = spec.target
    set_by = f"{PROGRAMME_OFFICE} with the {dept.name}"
    targets = [DemoTarget(value, tolerance, first_day, set_by, spec.basis)]
    if spec.raised:
        r = spec.raised
        targets.append(DemoTarget(r.value, r.tolerance, r.effective_from, r.set_by, r.reason))
    return tuple(targets)


def _series(
    spec: MetricSpec, periods: list[Period], final_target: DemoTarget, rng: random.Random
) -> tuple[DemoObservation, ...]:
    percent = spec.unit == "percent"
    noise = spec.noise if spec.noise is not None else (0.02 if percent else 0.05)
    amplitude, peak = spec.season
    (v0, v1), (d0, d1) = spec.levels, spec.den
    # A variance hovers around zero, so its noise is sized on its range rather than its level.
    span = max(abs(v0), abs(v1))
    drift = 0.0
    out = []
    last = len(periods) - 1
    for i, period in enumerate(periods):
        share = i / last if last else 1.0
        level = v0 + (v1 - v0) * share
        month = period.number if period.frequency is Frequency.month else 3 * period.number - 1
        wave = math.cos(2 * math.pi * (month - peak) / 12)
        drift = _AR * drift + rng.gauss(0.0, noise)
        scale = 1.0 if percent else span if spec.signed else level
        raw = level + scale * (amplitude * wave + drift)
        den = max(1, round((d0 + (d1 - d0) * share) * (1 + rng.gauss(0.0, spec.den_noise))))
        pinned = spec.pin_first if i == 0 else spec.pin_last if i == last else None
        if pinned:
            numerator, denominator = pinned
            obs = DemoObservation(str(period), numerator / denominator, float(numerator), float(denominator))
        else:
            obs = _observe(spec, str(period), raw, den)
        if i == last:
            obs = _settle(spec, obs, den, final_target, rng)
        if str(period) not in spec.gaps:
            out.append(obs)
    return tuple(out)


def _observe(spec: MetricSpec, period: str, raw: float, den: int) -> DemoObservation:
    if spec.unit == "percent":
        numerator = min(max(round(raw * den), 0), den)
        return DemoObservation(period, numerator / den, float(numerator), float(den))
    decimals = spec.decimals if spec.decimals is not None else (0 if spec.unit in ("count", "dollars") else 1)
    value = float(round(raw, decimals)) if decimals else float(round(raw))
    if not spec.signed:
        value = max(value, 0.0)
    return DemoObservation(period, value + 0.0)  # + 0.0 turns a rounded -0.0 into 0.0


def _settle(
    spec: MetricSpec, obs: DemoObservation, den: int, target: DemoTarget, rng: random.Random
) -> DemoObservation:
    """Make June 2017 show the status the catalogue asks for, redrawing inside its band if needed."""
    lower = spec.direction == "lower_is_better"
    bands = _BANDS["closer_is_better" if spec.direction == "closer_is_better" else "higher_is_better"]
    low, high = bands[spec.june]
    side = 1.0 if obs.value >= target.value else -1.0
    for _ in range(50):
        if _status(obs.value, target, spec.direction) == spec.june:
            return obs
        if spec.pin_last:
            break
        step = rng.uniform(low, high) * target.tolerance
        if spec.direction == "closer_is_better":
            step *= side
        raw = target.value - step if lower else target.value + step
        obs = _observe(spec, obs.period, raw, den)
    raise ValueError(f"{spec.key}: June 2017 cannot be made {spec.june} against {target}")


# ----------------------------------------------------------------------------------------------------------------
# Weekly front-line values per org unit, and the department's value as their roll-up
# ----------------------------------------------------------------------------------------------------------------


def _weekly(spec: WeeklySpec, built: dict[str, DemoMetric], seed: int) -> DemoMetric:
    rng = random.Random(f"{seed}/{spec.key}")
    weeks = periods_between(Period.parse(spec.start), Period.parse(spec.end))
    percent = spec.unit == "percent"
    rows = _rates(spec, weeks, rng) if percent else _split_counts(spec, built[spec.split_of or ""], weeks, rng)
    method = "ratio" if percent else "sum"
    department, units = [], []
    for week, row in zip(weeks, rows, strict=True):
        total = rollup_units([Part(o.org_unit, o.value, o.numerator, o.denominator) for o in row], method)
        if total.value is None:
            raise ValueError(f"{spec.key} {week}: the units do not roll up ({total.reason})")
        department.append(DemoObservation(str(week), total.value, total.numerator, total.denominator))
        units.extend(row)
    value, tolerance = spec.target
    return DemoMetric(
        key=spec.key,
        name=spec.name,
        unit=spec.unit,
        kind=spec.kind,
        direction=spec.direction,
        frequency=str(Frequency.week),
        methodology=spec.methodology,
        min_value=0.0,
        max_value=1.0 if percent else None,
        targets=(DemoTarget(value, tolerance, weeks[0].start, f"{PROGRAMME_OFFICE} with the department", spec.basis),),
        observations=tuple(department),
        rollup=method,
        first_period=str(weeks[0]),
        unit_observations=tuple(units),
    )


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Whole numbers in proportion to `weights` that add up to `total` exactly (the largest remainders round up)."""
    scale = math.fsum(weights)
    shares = [total * w / scale for w in weights]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _split_counts(
    spec: WeeklySpec, source: DemoMetric, weeks: list[Period], rng: random.Random
) -> list[list[DemoObservation]]:
    """Cut each month of the monthly count into its days, add the days up into ISO weeks and share each week among
    the units, so that the weekly and the monthly series count the same repairs."""
    monthly = {o.period: o.value for o in source.observations}
    months = periods_between(
        Period.containing(weeks[0].start, Frequency.month), Period.containing(weeks[-1].end, Frequency.month)
    )
    daily: dict[datetime.date, int] = {}
    total = 0.0
    for month in months:
        # Past the monthly series (the first days of July 2017) the latest month's pace goes on.
        total = monthly.get(str(month), total)
        days = [month.start + datetime.timedelta(days=i) for i in range((month.end - month.start).days + 1)]
        weights = [_DAY_WEIGHTS[day.weekday()] * rng.lognormvariate(0.0, 0.2) for day in days]
        daily.update(zip(days, _apportion(round(total), weights), strict=True))
    drift = [0.0] * len(spec.units)
    rows = []
    for week in weeks:
        week_total = sum(daily[week.start + datetime.timedelta(days=i)] for i in range(7))
        drift = [0.6 * d + rng.gauss(0.0, spec.noise) for d in drift]
        counts = _apportion(week_total, [u.weight * math.exp(d) for u, d in zip(spec.units, drift, strict=True)])
        rows.append(
            [DemoObservation(str(week), float(n), org_unit=u.code) for u, n in zip(spec.units, counts, strict=True)]
        )
    return rows


def _rates(spec: WeeklySpec, weeks: list[Period], rng: random.Random) -> list[list[DemoObservation]]:
    """Each unit's samples that passed, drawn one by one around the department's level and the unit's own."""
    (level0, level1), (amplitude, peak) = spec.levels, spec.season
    drift = [0.0] * len(spec.units)
    rows = []
    last = len(weeks) - 1
    for i, week in enumerate(weeks):
        level = level0 + (level1 - level0) * (i / last if last else 1.0)
        # The week's Thursday names its month, as it names its ISO year.
        month = (week.start + datetime.timedelta(days=3)).month
        wave = amplitude * math.cos(2 * math.pi * (month - peak) / 12)
        row = []
        for j, unit in enumerate(spec.units):
            drift[j] = _AR * drift[j] + rng.gauss(0.0, spec.noise)
            chance = min(max(level + unit.offset + wave + drift[j], 0.5), 1.0)
            samples = max(1, round(unit.weight * (1 + rng.gauss(0.0, 0.03))))
            passed = sum(rng.random() < chance for _ in range(samples))
            row.append(DemoObservation(str(week), passed / samples, float(passed), float(samples), unit.code))
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------------------------
# When values arrived
# ----------------------------------------------------------------------------------------------------------------


def _month_of(period: Period) -> str:
    """The month a value counts in for completeness and approval: the one its period ends in."""
    return str(Period.containing(period.end, Frequency.month))


def _arrivals(
    dept: DepartmentSpec, punctuality: Punctuality, rng: random.Random
) -> dict[str, datetime.datetime | None]:
    """When each month's submission came (None: never), from the department's first month to June 2017."""
    pinned = dict(punctuality.late)
    final = Period.containing(LAST_DAY, Frequency.month)
    out: dict[str, datetime.datetime | None] = {}
    for month in periods_between(Period.parse(dept.start), final):
        # Every month draws the same numbers, so that pinning one leaves the others as they were.
        chance, on_time, overdue = rng.random(), rng.randint(3, DUE_DAYS), rng.randint(DUE_DAYS + 1, DUE_DAYS + 25)
        # The program's first years had more stragglers; by 2017 the habit had set in.
        share = punctuality.late_share * (1.5 if month.year < 2015 else 0.5 if month.year >= 2017 else 1.0)
        lag = pinned.get(str(month), overdue if chance < share else on_time)
        if month == final:
            # June's values are in by the demo's today, which is their due date.
            lag = min(on_time, (AS_OF - month.end).days - 1)
        moment = _at(month.end + datetime.timedelta(days=lag), rng)
        out[str(month)] = None if str(month) in punctuality.missed else moment
    return out


def _arrived(metric: DemoMetric, arrivals: dict[str, datetime.datetime | None], missed: tuple[str, ...]) -> DemoMetric:
    """The metric's values stamped with their submission's arrival; a missed month's monthly values never came,
    and a quarter whose last month was missed came with the next month's submission."""
    stamped = []
    for obs in metric.observations:
        period = Period.parse(obs.period)
        if period.frequency is Frequency.month and obs.period in missed:
            continue
        month = Period.containing(period.end, Frequency.month)
        arrived = arrivals[str(month)]
        while arrived is None:
            month = month.next()
            arrived = arrivals[str(month)]
        stamped.append(replace(obs, arrived_at=arrived))
    return replace(metric, observations=tuple(stamped))


def _weeks_arrived(metrics: list[DemoMetric], punctuality: Punctuality, rng: random.Random) -> list[DemoMetric]:
    """Weekly values come early in the following week, every unit's with the department's."""
    pinned = dict(punctuality.late_weeks)
    weeks = sorted({o.period for m in metrics for o in m.observations}, key=lambda text: Period.parse(text).index)
    arrivals = {}
    for text in weeks:
        lag = rng.randint(1, 3)
        end = Period.parse(text).end
        arrivals[text] = _at(end + datetime.timedelta(days=pinned.get(text, lag)), rng)
    return [
        replace(
            m,
            observations=tuple(replace(o, arrived_at=arrivals[o.period]) for o in m.observations),
            unit_observations=tuple(replace(o, arrived_at=arrivals[o.period]) for o in m.unit_observations),
        )
        for m in metrics
    ]


# ----------------------------------------------------------------------------------------------------------------
# Definitions' histories: drafted, proposed, signed off, published, revised, retired
# ----------------------------------------------------------------------------------------------------------------


def _name(role: str, code: str) -> str:
    return {"analyst": ANALYST, "liaison": liaison_of(code), "head": head_of(code)}[role]


Change = tuple[str, object, object]  # (field, from, to)


def _replay(
    metric: DemoMetric, revisions: tuple[RevisionSpec, ...]
) -> tuple[tuple[tuple[str, object], ...], list[tuple[RevisionSpec, tuple[Change, ...]]]]:
    """The definition's first form, and each revision's changes, worked back from the form it has now."""
    now: dict[str, object] = {}
    edits = []
    for revision in reversed(revisions):
        changes = tuple((field, old, now.get(field, getattr(metric, field))) for field, old in revision.before)
        now.update(revision.before)
        edits.append((revision, changes))
    edits.reverse()
    return tuple(now.items()), edits


def _numbered(versions: list[DemoVersion]) -> tuple[DemoVersion, ...]:
    """Versions in the order given, numbered from 2 (the first is the metric's creation)."""
    return tuple(replace(v, version=n) for n, v in enumerate(versions, start=2))


def _with_history(metric: DemoMetric, dept: DepartmentSpec, seed: int) -> DemoMetric:
    """An agreed metric's versions: drafted by the analyst, proposed, signed off by the head (or by the analyst on
    the head's behalf), published, then any later revisions and its retirement."""
    rng = random.Random(f"{seed}/history/{metric.key}")
    first_day = Period.parse(metric.first_period or "").start
    created_on = first_day - datetime.timedelta(days=63 + rng.randrange(14))
    proposed_on = created_on + datetime.timedelta(days=14 + rng.randrange(7))
    signed_on = first_day - datetime.timedelta(days=14 + rng.randrange(7))
    published_on = signed_on + datetime.timedelta(days=1 + rng.randrange(3))
    on_behalf = dept.code in SIGNED_OFF_ON_BEHALF
    signer = ANALYST if on_behalf else head_of(dept.code)
    signed_at = _at(signed_on, rng)
    reason = f"Signed off on behalf of {dept.code}'s head. Agreed at the department's kick-off meeting."
    initial, edits = _replay(metric, REVISIONS.get(metric.key, ()))
    versions = [
        DemoVersion(0, "proposed", _at(proposed_on, rng), ANALYST, (("state", "draft", "proposed"),)),
        DemoVersion(
            0, "signed_off", signed_at, signer, (("state", "proposed", "active"),), reason if on_behalf else ""
        ),
        DemoVersion(
            0,
            "edited",
            _at(published_on, rng),
            ANALYST,
            (("is_published", False, True),),
            "Published with the department's scorecard.",
        ),
    ]
    versions += [
        DemoVersion(0, "edited", _at(r.on, rng), _name(r.by, dept.code), changes, r.reason, r.break_period)
        for r, changes in edits
    ]
    state, published = "active", True
    if metric.key in RETIREMENTS:
        on, why = RETIREMENTS[metric.key]
        # Retired, it leaves the public scorecard; its history stays for staff.
        retire = (("state", "active", "retired"), ("is_published", True, False))
        versions.append(DemoVersion(0, "retired", _at(on, rng), ANALYST, retire, why))
        state, published = "retired", False
    targets = tuple(
        replace(t, set_at=signed_at if i == 0 else _at(t.effective_from - datetime.timedelta(days=8), rng))
        for i, t in enumerate(metric.targets)
    )
    return replace(
        metric,
        state=state,
        is_published=published,
        targets=targets,
        initial=initial,
        created_at=_at(created_on, rng),
        versions=_numbered(versions),
        signed_off=(signer, signed_at, on_behalf),
        priorities=_alignment(metric.key),
        drives=_drives(metric.key),
    )


def _proposal(spec: ProposalSpec, seed: int) -> DemoMetric:
    """A metric still being agreed: drafted, perhaps proposed and revised in discussion, with its thread."""
    rng = random.Random(f"{seed}/history/{spec.key}")
    percent = spec.unit == "percent"
    metric = DemoMetric(
        key=spec.key,
        name=spec.name,
        unit=spec.unit,
        kind=spec.kind,
        direction=spec.direction,
        frequency=spec.frequency,
        methodology=spec.methodology,
        min_value=0.0,
        max_value=1.0 if percent else None,
        targets=(),
        observations=(),
        state=spec.state,
        is_published=False,
        rollup=spec.rollup or str(default_rollup(spec.unit)),
        first_period=spec.first_period,
    )
    initial, edits = _replay(metric, spec.revisions)
    versions = []
    if spec.proposed is not None:
        versions.append(DemoVersion(0, "proposed", _at(spec.proposed, rng), ANALYST, (("state", "draft", "proposed"),)))
    versions += [
        DemoVersion(0, "edited", _at(r.on, rng), _name(r.by, spec.department), changes, r.reason)
        for r, changes in edits
    ]
    return replace(
        metric,
        initial=initial,
        created_at=_at(spec.created, rng),
        versions=_numbered(versions),
        comments=tuple(DemoComment(_at(c.on, rng), _name(c.by, spec.department), c.body) for c in spec.thread),
        priorities=_alignment(spec.key),
        drives=_drives(spec.key),
    )


# ----------------------------------------------------------------------------------------------------------------
# Approvals
# ----------------------------------------------------------------------------------------------------------------


def _approvals(
    dept: DepartmentSpec, metrics: tuple[DemoMetric, ...], punctuality: Punctuality, rng: random.Random
) -> tuple[DemoApproval, ...]:
    """Each month up to May 2017 approved a few days after the last of its values came: by the head, or by the
    analyst on the head's behalf when the head was away or to close a month whose values never came."""
    latest: dict[str, datetime.datetime] = {}
    for metric in metrics:
        for obs in metric.observations + metric.unit_observations:
            if obs.arrived_at is None:
                continue
            month = _month_of(Period.parse(obs.period))
            latest[month] = max(latest.get(month, obs.arrived_at), obs.arrived_at)
    approvals = []
    for month in periods_between(Period.parse(dept.start), Period.parse(LAST_APPROVED)):
        text = str(month)
        chance, wait = rng.random(), rng.randint(1, 6)
        came = latest.get(text)
        base = came.date() if came else month.end + datetime.timedelta(days=DUE_DAYS)
        at = _at(base + datetime.timedelta(days=wait), rng)
        if text in punctuality.missed:
            label = f"{month.start:%B %Y}"
            note = f"Approved on {dept.code}'s behalf to close the month: its monthly values for {label} never came."
            approvals.append(DemoApproval(text, at, ANALYST, True, note))
        elif chance < 0.04:
            note = "Approved on the head's behalf while the head was away; the head saw the values at the roundtable."
            approvals.append(DemoApproval(text, at, ANALYST, True, note))
        else:
            approvals.append(DemoApproval(text, at, head_of(dept.code), False))
    return tuple(approvals)
