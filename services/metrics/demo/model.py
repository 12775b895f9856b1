"""What the demo city is made of, as plain values: ``city.py`` builds them from the specs and ``load.py``
writes them to the database."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from services.metrics.demo.programme import DUE_DAYS


@dataclass(frozen=True)
class DemoTarget:
    value: float
    tolerance: float
    effective_from: datetime.date
    set_by: str
    reason: str
    set_at: datetime.datetime | None = None  # when it was entered


@dataclass(frozen=True)
class DemoObservation:
    period: str  # "2017-06" for monthly, "2017-Q2" quarterly, "2017-W26" weekly
    value: float
    numerator: float | None = None
    denominator: float | None = None
    org_unit: str = ""  # "" for the department's own value
    arrived_at: datetime.datetime | None = None  # when the value reached the platform (UTC)


@dataclass(frozen=True)
class DemoVersion:
    """One version of a definition after the first: (field, from, to) changes, by whom, when and why."""

    version: int
    action: str  # proposed | signed_off | edited | retired
    at: datetime.datetime
    actor_name: str
    changes: tuple[tuple[str, object, object], ...]
    reason: str = ""
    break_period: str | None = None


@dataclass(frozen=True)
class DemoComment:
    at: datetime.datetime
    actor_name: str
    body: str


@dataclass(frozen=True)
class DemoMetric:
    key: str
    name: str
    unit: str  # "percent" is stored as a fraction 0..1
    kind: str  # "output" | "outcome"
    direction: str  # "higher_is_better" | "lower_is_better" | "closer_is_better"
    frequency: str  # "week" | "month" | "quarter"
    methodology: str
    min_value: float | None
    max_value: float | None
    targets: tuple[DemoTarget, ...]  # ascending effective_from
    observations: tuple[DemoObservation, ...]  # the department's own values
    state: str = "active"  # draft | proposed | active | retired
    is_published: bool = True
    rollup: str = "sum"
    first_period: str | None = None
    due_days: int = DUE_DAYS
    unit_observations: tuple[DemoObservation, ...] = ()  # org units' values, by period then unit
    # The definition's first version, as (field, value) pairs that differ from the fields above.
    initial: tuple[tuple[str, object], ...] = ()
    created_at: datetime.datetime = datetime.datetime(2013, 1, 1, tzinfo=datetime.UTC)
    versions: tuple[DemoVersion, ...] = ()  # version 2 onwards
    signed_off: tuple[str, datetime.datetime, bool] | None = None  # (name, when, on the head's behalf)
    comments: tuple[DemoComment, ...] = ()
    priorities: tuple[tuple[str, bool], ...] = ()  # (priority code, is a key metric for it)
    drives: tuple[str, ...] = ()  # keys of the outcomes this output was chosen to drive

    @property
    def version(self) -> int:
        return 1 + len(self.versions)


@dataclass(frozen=True)
class DemoOrgUnit:
    code: str
    name: str
    kind: str
    parent: str | None


@dataclass(frozen=True)
class DemoApproval:
    period: str  # a month
    at: datetime.datetime
    actor_name: str
    on_behalf: bool
    note: str = ""


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    metrics: tuple[DemoMetric, ...]
    org_units: tuple[DemoOrgUnit, ...] = ()
    approvals: tuple[DemoApproval, ...] = ()  # every month from the department's start to LAST_APPROVED
