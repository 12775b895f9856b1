"""Put the generated demo city into the metrics database, once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

# Every table of the service, so that the metric table's foreign keys (to library_measure, say) resolve when the
# loader runs outside the app, from the command line.
import services.metrics.models  # noqa: F401
from services.common.auth import Principal, PrincipalKind
from services.common.db import Database
from services.common.periods import Period
from services.common.settings import Settings
from services.metrics.approvals.models import PeriodApproval
from services.metrics.definitions.lifecycle import create_metric, write_version
from services.metrics.definitions.models import (
    Metric,
    MetricBase,
    MetricComment,
    MetricLink,
    MetricRevision,
    MetricState,
    TargetBase,
)
from services.metrics.definitions.service import add_target
from services.metrics.demo.city import DemoDepartment, DemoMetric, build_demo_city
from services.metrics.demo.programme import ANALYST, PRIORITIES, PRIORITIES_ADOPTED
from services.metrics.demo.records import COMPUTED_METRICS, FULL_MULTIPLIER, computed_rule, load_demo_records
from services.metrics.departments.models import Department
from services.metrics.departments.service import create_department
from services.metrics.observations.models import Observation, ObservationRevision, RevisionKind
from services.metrics.orgunits.models import OrgUnit
from services.metrics.priorities.models import MetricPriority, Priority


@dataclass(frozen=True)
class DemoLoad:
    loaded: bool
    departments: int
    metrics: int  # every state: active, retired, proposed and draft
    observations: int  # the departments' values and their org units'
    priorities: int = 0
    org_units: int = 0
    versions: int = 0  # metric_revision rows, the first versions included
    comments: int = 0
    approvals: int = 0
    records: int = 0  # raw service requests
    budget_lines: int = 0  # the adopted budgets', FY2013 to FY2017


def _person(name: str) -> Principal:
    """Someone of the demo city acting through the local operator. Their staff accounts live in ingest, so the
    metrics service knows them by name only, which revisions, comments and approvals keep beside 'operator'."""
    return Principal(kind=PrincipalKind.operator, id="local", name=name)


def load_demo_city(session: Session, seed: int = 2017, progress: Callable[[int, int], None] | None = None) -> DemoLoad:
    """Loads the city unless its first department is already there; never duplicates it."""
    city = build_demo_city(seed)
    if session.exec(select(Department).where(Department.code == city[0].code)).first() is not None:
        return DemoLoad(False, 0, 0, 0)
    priority_ids = _priorities(session)
    metric_ids: dict[str, int] = {}
    metrics = observations = units = versions = comments = approvals = 0
    for done, demo_department in enumerate(city, start=1):
        department = create_department(session, demo_department.code, demo_department.name)
        department.created_at = min(m.created_at for m in demo_department.metrics)
        units += _org_units(session, department, demo_department)
        rows: list[dict[str, Any]] = []
        for demo_metric in demo_department.metrics:
            metric = _metric(session, department, demo_metric)
            metric_ids[demo_metric.key] = metric.id
            if demo_metric.key in COMPUTED_METRICS.values():
                # Its values come from the demo's raw service requests (load_demo_records), by its rule.
                metric.rule = computed_rule(demo_department.code)
                metric.is_computed = True
            else:
                rows += _observation_rows(metric.id, demo_metric)
            metrics += 1
            versions += demo_metric.version
            comments += len(demo_metric.comments)
        if rows:
            session.execute(insert(Observation), rows)
            session.execute(insert(ObservationRevision), [_created(row) for row in rows])
        observations += len(rows)
        session.add_all(
            PeriodApproval(
                department_id=department.id,
                period=a.period,
                note=a.note,
                on_behalf=a.on_behalf,
                actor=_person(a.actor_name).actor,
                actor_name=a.actor_name,
                at=a.at,
            )
            for a in demo_department.approvals
        )
        approvals += len(demo_department.approvals)
        session.flush()
        if progress:
            progress(done, len(city))
    _alignments(session, city, priority_ids, metric_ids)
    session.flush()
    return DemoLoad(True, len(city), metrics, observations, len(priority_ids), units, versions, comments, approvals)


def _priorities(session: Session) -> dict[str, int]:
    """The citywide priorities by code; one already defined under the same code is kept as it is."""
    existing = {
        p.code: p for p in session.exec(select(Priority).where(Priority.code.in_([p.code for p in PRIORITIES])))
    }
    for position, spec in enumerate(PRIORITIES, start=1):
        if spec.code not in existing:
            existing[spec.code] = Priority(
                code=spec.code,
                name=spec.name,
                description=spec.description,
                position=position,
                created_at=PRIORITIES_ADOPTED,
            )
            session.add(existing[spec.code])
    session.flush()
    return {code: priority.id for code, priority in existing.items()}


def _org_units(session: Session, department: Department, demo: DemoDepartment) -> int:
    ids: dict[str, int] = {}
    for spec in demo.org_units:  # parents come before their units
        unit = OrgUnit(
            department_id=department.id,
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            parent_id=ids[spec.parent] if spec.parent else None,
            created_at=department.created_at,
        )
        session.add(unit)
        session.flush()
        ids[spec.code] = unit.id
    return len(ids)


def _metric(session: Session, department: Department, demo: DemoMetric) -> Metric:
    """The metric as first drafted, then each later version replayed, so its history reads as it happened."""
    definition: dict[str, Any] = {
        "key": demo.key,
        "name": demo.name,
        "unit": demo.unit,
        "kind": demo.kind,
        "direction": demo.direction,
        "frequency": demo.frequency,
        "methodology": demo.methodology,
        "is_published": False,
        "min_value": demo.min_value,
        "max_value": demo.max_value,
        "rollup": demo.rollup,
        "first_period": demo.first_period,
        "due_days": demo.due_days,
    }
    definition.update(demo.initial)
    metric = create_metric(
        session,
        department,
        MetricBase(**definition),
        state=MetricState.draft,
        actor=_person(ANALYST),
        action="created",
    )
    first = session.exec(select(MetricRevision).where(MetricRevision.metric_id == metric.id)).one()
    first.at = metric.created_at = metric.updated_at = demo.created_at
    for version in demo.versions:
        for field, _, value in version.changes:
            setattr(metric, field, MetricState(value) if field == "state" else value)
        metric.version = version.version
        revision = write_version(
            session,
            metric,
            _person(version.actor_name),
            version.action,
            changes={field: {"from": old, "to": new} for field, old, new in version.changes},
            reason=version.reason,
            series_break=version.break_period is not None,
            break_period=version.break_period,
        )
        revision.at = metric.updated_at = version.at
    if demo.signed_off is not None:
        name, at, on_behalf = demo.signed_off
        metric.signed_off_by = _person(name).actor
        metric.signed_off_name = name
        metric.signed_off_at = at
        metric.signed_off_on_behalf = on_behalf
    for demo_target in demo.targets:
        target = add_target(
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
        if demo_target.set_at is not None:
            target.created_at = demo_target.set_at
    session.add_all(
        MetricComment(
            metric_id=metric.id, body=c.body, actor=_person(c.actor_name).actor, actor_name=c.actor_name, at=c.at
        )
        for c in demo.comments
    )
    session.add(metric)
    return metric


def _observation_rows(metric_id: int | None, demo: DemoMetric) -> list[dict[str, Any]]:
    return [
        {
            "metric_id": metric_id,
            "period": o.period,
            "period_start": Period.parse(o.period).start,
            "org_unit": o.org_unit,
            "value": o.value,
            "numerator": o.numerator,
            "denominator": o.denominator,
            "submission_id": "demo",
            # The demo's values arrived on the day the city generator says, which the completeness board reads.
            "sent_at": o.arrived_at,
            "created_at": o.arrived_at,
            "updated_at": o.arrived_at,
        }
        for o in demo.observations + demo.unit_observations
    ]


def _created(row: dict[str, Any]) -> dict[str, Any]:
    """The revision that wrote a loaded value, as a submission's would, so a briefing can cite it."""
    return {
        "metric_id": row["metric_id"],
        "period": row["period"],
        "org_unit": row["org_unit"],
        "kind": RevisionKind.created,
        "value": row["value"],
        "numerator": row["numerator"],
        "denominator": row["denominator"],
        "submission_id": row["submission_id"],
        "actor": _person(ANALYST).actor,
        "changed_at": row["created_at"],
    }


def _alignments(
    session: Session, city: tuple[DemoDepartment, ...], priority_ids: dict[str, int], metric_ids: dict[str, int]
) -> None:
    for demo_department in city:
        for demo in demo_department.metrics:
            # Aligned when agreed, or when drafted for a metric still under discussion.
            when = demo.signed_off[1] if demo.signed_off else demo.created_at
            session.add_all(
                MetricPriority(
                    metric_id=metric_ids[demo.key],
                    priority_id=priority_ids[code],
                    is_key=is_key,
                    marked_by="operator",
                    marked_at=when,
                )
                for code, is_key in demo.priorities
            )
            session.add_all(
                MetricLink(
                    output_metric_id=metric_ids[demo.key],
                    outcome_metric_id=metric_ids[outcome],
                    created_by="operator",
                    created_at=when,
                )
                for outcome in demo.drives
            )


def load_demo(
    db: Database,
    seed: int = 2017,
    *,
    settings: Settings,
    multiplier: int = FULL_MULTIPLIER,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoLoad:
    """The whole demo city, once: its catalogue and values, then its raw service requests and the metrics computed
    from them. `progress(stage, done, total)`."""
    from services.metrics.demo.budget import load_demo_budget

    with db.session() as session:
        loaded = load_demo_city(session, seed, progress and (lambda done, total: progress("city", done, total)))
        if loaded.loaded:
            loaded = dataclasses.replace(loaded, budget_lines=load_demo_budget(session, seed))
    if not loaded.loaded:
        return loaded
    job = load_demo_records(
        db,
        build_demo_city(seed),
        settings=settings,
        multiplier=multiplier,
        progress=progress and (lambda done, total: progress("service requests", done, total)),
    )
    return dataclasses.replace(loaded, records=job.accepted + job.updated + job.unchanged)
