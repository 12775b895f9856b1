"""A deterministic demo city modelled on Atlanta's performance program, 2013-2017.

Pure data: no database and no I/O, so the loader, the tests and the benchmarks all see the
same city. Each metric gets its own random stream seeded by (seed, key): adding a metric
to the catalogue leaves every other series unchanged.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from services.common.periods import Frequency, Period, periods_between
from services.metrics.demo.catalogue import DEPARTMENTS, PROGRAMME_OFFICE, DepartmentSpec, MetricSpec

__all__ = ["AS_OF", "DemoDepartment", "DemoMetric", "DemoObservation", "DemoTarget", "build_demo_city"]

AS_OF = datetime.date(2017, 7, 10)
# The case study's figures are "as of June 2017"; the demo's data ends there.
LAST_DAY = datetime.date(2017, 6, 30)

# Noise is autocorrelated, because real operational series drift for a few months
# (a vacancy, a broken truck) rather than jumping independently every month.
_AR = 0.5
# Where in the tolerance band a June 2017 value is redrawn when noise pushed it into the
# wrong status: kept away from the band's edges so rounding cannot tip it over.
_BANDS = {
    "higher_is_better": {"on_target": (0.15, 0.8), "near": (-0.85, -0.2), "off_target": (-2.5, -1.2)},
    "closer_is_better": {"on_target": (0.0, 0.8), "near": (1.15, 1.85), "off_target": (2.3, 3.5)},
}


@dataclass(frozen=True)
class DemoTarget:
    value: float
    tolerance: float
    effective_from: datetime.date
    set_by: str
    reason: str


@dataclass(frozen=True)
class DemoObservation:
    period: str  # "2017-06" for monthly, "2017-Q2" quarterly
    value: float
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class DemoMetric:
    key: str
    name: str
    unit: str  # "percent" is stored as a fraction 0..1
    kind: str  # "output" | "outcome"
    direction: str  # "higher_is_better" | "lower_is_better" | "closer_is_better"
    frequency: str  # "month" | "quarter"
    methodology: str
    min_value: float | None
    max_value: float | None
    targets: tuple[DemoTarget, ...]  # ascending effective_from
    observations: tuple[DemoObservation, ...]


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    metrics: tuple[DemoMetric, ...]


def build_demo_city(seed: int = 2017) -> tuple[DemoDepartment, ...]:
    return tuple(
        DemoDepartment(dept.code, dept.name, tuple(_metric(spec, dept, seed) for spec in dept.metrics))
        for dept in DEPARTMENTS
    )


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
    periods = periods_between(first, Period.containing(LAST_DAY, frequency))
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
