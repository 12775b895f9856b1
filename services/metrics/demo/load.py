"""Put the generated demo city into the metrics database, once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from services.common.periods import Period
from services.metrics.definitions.models import MetricBase, TargetBase
from services.metrics.definitions.service import add_target, create_metric
from services.metrics.demo.city import build_demo_city
from services.metrics.departments.models import Department
from services.metrics.departments.service import create_department
from services.metrics.observations.models import Observation


@dataclass(frozen=True)
class DemoLoad:
    loaded: bool
    departments: int
    metrics: int
    observations: int


def load_demo_city(
    session: Session, seed: int = 2017, progress: Callable[[int, int], None] | None = None
) -> DemoLoad:
    """Loads the city unless its first department is already there; never duplicates it."""
    city = build_demo_city(seed)
    if session.exec(select(Department).where(Department.code == city[0].code)).first() is not None:
        return DemoLoad(False, 0, 0, 0)
    metric_count = observation_count = 0
    for done, demo_department in enumerate(city, start=1):
        department = create_department(session, demo_department.code, demo_department.name)
        for demo_metric in demo_department.metrics:
            metric = create_metric(
                session,
                department,
                MetricBase(
                    key=demo_metric.key,
                    name=demo_metric.name,
                    unit=demo_metric.unit,
                    kind=demo_metric.kind,
                    direction=demo_metric.direction,
                    frequency=demo_metric.frequency,
                    methodology=demo_metric.methodology,
                    is_published=True,
                    min_value=demo_metric.min_value,
                    max_value=demo_metric.max_value,
                ),
            )
            for demo_target in demo_metric.targets:
                add_target(
                    session,
                    metric,
                    TargetBase(
                        value=demo_target.value,
                        tolerance=demo_target.tolerance,
                        effective_from=demo_target.effective_from,
                        set_by=demo_target.set_by,
                        reason=demo_target.reason,
                    ),
                )
            session.add_all(
                Observation(
                    metric_id=metric.id,
                    period=o.period,
                    period_start=Period.parse(o.period).start,
                    value=o.value,
                    numerator=o.numerator,
                    denominator=o.denominator,
                    submission_id="demo",
                )
                for o in demo_metric.observations
            )
            metric_count += 1
            observation_count += len(demo_metric.observations)
        session.flush()
        if progress:
            progress(done, len(city))
    return DemoLoad(True, len(city), metric_count, observation_count)
