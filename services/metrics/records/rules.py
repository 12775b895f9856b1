"""A computed metric's rule: which records it counts and what it measures of them, stored as data with the
metric's definition, so that no metric needs code of its own (DESIGN.md: computed metric).

What each measure is, for a period P of the metric's frequency (month, or ISO week), on the city's clock:

- opened: records opened in P.
- closed: records closed in P.
- backlog: records open at the end of P (opened in P or before, not closed by the end of P).
- on_time_rate: of the records closed in P that have a due time, the share closed on or before it; records closed
  without a due time are counted apart (the value's comment says how many).
- median_days_to_close, p90_days_to_close: of the records closed in P, by linear interpolation between the closest
  ranks (compute.py says exactly how).

The filters narrow the records: departments (by default the metric's own), categories, org units. With
`by_org_unit` the metric also gets a value per org unit the records name, beside its department value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints
from sqlmodel import Session, select

from services.common.errors import Unprocessable
from services.common.periods import Frequency
from services.common.types import CODE_PATTERN, INPUT_CONFIG, NO_NUL_PATTERN
from services.metrics.definitions.models import RollupMethod
from services.metrics.departments.models import Department
from services.metrics.records.models import SERVICE_REQUESTS, Dataset

DATASET_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
# The frequencies a record's derived period columns exist for.
RULE_FREQUENCIES = (Frequency.month, Frequency.week)


class Measure(StrEnum):
    opened = "opened"
    closed = "closed"
    backlog = "backlog"
    on_time_rate = "on_time_rate"
    median_days_to_close = "median_days_to_close"
    p90_days_to_close = "p90_days_to_close"


COUNTS = (Measure.opened, Measure.closed, Measure.backlog)
DURATIONS = (Measure.median_days_to_close, Measure.p90_days_to_close)

# How each measure's periods combine into longer ones: counts of events add up, a backlog is a stock (the last
# period's), a rate is the ratio of sums. A median is no mean of medians, but the mean is the usual approximation.
_ROLLUPS: dict[Measure, tuple[RollupMethod, ...]] = {
    Measure.opened: (RollupMethod.sum,),
    Measure.closed: (RollupMethod.sum,),
    Measure.backlog: (RollupMethod.last,),
    Measure.on_time_rate: (RollupMethod.ratio,),
    Measure.median_days_to_close: (RollupMethod.mean, RollupMethod.last),
    Measure.p90_days_to_close: (RollupMethod.mean, RollupMethod.last),
}
_TIME_UNITS = ("days", "hours", "minutes")


def _texts(max_length: int):
    return list[Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=NO_NUL_PATTERN)]]


class RuleFilters(BaseModel):
    model_config = INPUT_CONFIG
    department: list[Annotated[str, StringConstraints(pattern=CODE_PATTERN)]] = Field(
        default_factory=list, max_length=100, description="Department codes; empty: the metric's own department"
    )
    category: _texts(200) = Field(default_factory=list, max_length=1000, description="Empty: every category")
    org_unit: _texts(64) = Field(default_factory=list, max_length=1000, description="Empty: every org unit")


class MetricRule(BaseModel):
    """What a computed metric counts; its frequency (month or ISO week) picks the periods."""

    model_config = INPUT_CONFIG
    dataset: Annotated[str, StringConstraints(pattern=DATASET_KEY_PATTERN)] = SERVICE_REQUESTS
    measure: Measure
    filters: RuleFilters = Field(default_factory=RuleFilters)
    by_org_unit: StrictBool = Field(default=False, description="Also a value per org unit the records name")


def default_rollup(measure: Measure) -> RollupMethod:
    return _ROLLUPS[Measure(measure)][0]


def allowed_rollups(measure: Measure) -> tuple[RollupMethod, ...]:
    return _ROLLUPS[Measure(measure)]


def departments_of(rule: MetricRule, own_department: str) -> list[str]:
    return sorted(set(rule.filters.department)) or [own_department]


def check_rule(
    session: Session,
    rule: MetricRule,
    *,
    unit: str,
    rollup: RollupMethod | str,
    frequency: Frequency | str,
    max_value: float | None = None,
) -> None:
    """Refuse (422, naming the field) a rule that does not fit the metric it is given to."""
    measure, rollup = Measure(rule.measure), RollupMethod(rollup)
    if Frequency(frequency) not in RULE_FREQUENCIES:
        raise Unprocessable(
            f"A metric computed from raw records is counted by month or by ISO week, not by {frequency}.",
            errors=[{"field": "frequency", "reason": "a computed metric's frequency is month or week"}],
        )
    if measure is Measure.on_time_rate:
        if unit != "percent":
            raise Unprocessable(
                "An on-time rate is a share: its unit is 'percent' (stored as a fraction, 0.95).",
                errors=[{"field": "unit", "reason": "on_time_rate needs the unit percent"}],
            )
        if max_value is not None and max_value > 1:
            raise Unprocessable(
                f"An on-time rate is a fraction between 0 and 1; max_value {max_value:g} reads like percentage points.",
                errors=[{"field": "max_value", "reason": "a rate is at most 1"}],
            )
    elif measure in DURATIONS and unit != "days":
        raise Unprocessable(
            f"{measure} is counted in days: the metric's unit must be 'days'.",
            errors=[{"field": "unit", "reason": f"{measure} needs the unit days"}],
        )
    elif measure in COUNTS and (unit == "percent" or unit in _TIME_UNITS or unit == "dollars"):
        raise Unprocessable(
            f"{measure} is a number of records: the metric's unit must be a count, not {unit}.",
            errors=[{"field": "unit", "reason": f"{measure} is a count"}],
        )
    allowed = _ROLLUPS[measure]
    if rollup not in allowed:
        raise Unprocessable(
            f"{measure} rolls up by {' or '.join(allowed)}, not {rollup}.",
            errors=[{"field": "rollup", "reason": f"{measure} needs {' or '.join(allowed)}"}],
        )
    if rule.dataset != SERVICE_REQUESTS and session.get(Dataset, rule.dataset) is None:
        raise Unprocessable(
            f"There is no dataset '{rule.dataset}'.", errors=[{"field": "rule.dataset", "reason": "unknown dataset"}]
        )
    if rule.filters.department:
        known = set(session.exec(select(Department.code).where(Department.code.in_(rule.filters.department))))
        unknown = sorted(set(rule.filters.department) - known)
        if unknown:
            raise Unprocessable(
                f"No department has the code {', '.join(repr(code) for code in unknown)}.",
                errors=[{"field": "rule.filters.department", "reason": "unknown department"}],
            )
