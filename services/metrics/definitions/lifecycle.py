"""Defining metrics with departments: drafts, proposals discussed and signed off, active and retired metrics,
and every definition change kept as a version (DESIGN.md: metrics are iterated, every change is kept)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.periods import Frequency, Period
from services.metrics.audit.service import record
from services.metrics.base import utcnow
from services.metrics.definitions.models import (
    Metric,
    MetricBase,
    MetricComment,
    MetricRevision,
    MetricState,
    RollupMethod,
)
from services.metrics.definitions.schemas import (
    CommentPublic,
    MetricCreate,
    MetricUpdate,
    MetricVersionPublic,
    SeriesBreak,
    TransitionRequest,
)
from services.metrics.definitions.service import get_visible_metric
from services.metrics.departments.models import Department
from services.metrics.departments.service import get_department
from services.metrics.observations.models import Observation
from services.metrics.observations.rollup import default_rollup
from services.metrics.records.rules import MetricRule, allowed_rollups, check_rule
from services.metrics.records.rules import default_rollup as rule_rollup

# Fields whose change alters what the series measures when the caller does not say.
_MEANING = ("unit", "rule")
# Which moves are allowed, and who may make them: "office" = the performance office (analysts, admins).
_TRANSITIONS: dict[tuple[MetricState, MetricState], str] = {
    (MetricState.draft, MetricState.proposed): "office or department",
    (MetricState.proposed, MetricState.draft): "office",
    (MetricState.proposed, MetricState.active): "head, or office on its behalf",
    (MetricState.active, MetricState.retired): "office",
    (MetricState.retired, MetricState.active): "office",
}


def _default_rollup(unit: str) -> RollupMethod:
    try:
        return default_rollup(unit)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "rollup", "reason": "required for this unit"}]) from exc


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def write_version(
    session: Session,
    metric: Metric,
    actor: Principal,
    action: str,
    *,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    series_break: bool = False,
    break_period: str | None = None,
) -> MetricRevision:
    revision = MetricRevision(
        metric_id=metric.id,
        version=metric.version,
        action=action,
        changes=changes or {},
        reason=reason,
        series_break=series_break,
        break_period=break_period,
        actor=actor.actor,
        actor_name=actor.name[:200],
    )
    session.add(revision)
    return revision


def editable_metric(session: Session, key: str, actor: Principal) -> tuple[Metric, Department]:
    """The metric, if the actor may see it at all; the same 404 as a missing one otherwise. Whether they may
    change it is each operation's own rule."""
    return get_visible_metric(session, key, actor)


def _require_definer(actor: Principal, metric: Metric, department: Department) -> None:
    """The performance office defines metrics; a department may edit its own while they are being agreed."""
    if actor.is_performance_office:
        return
    in_discussion = metric.state in (MetricState.draft, MetricState.proposed)
    if in_discussion and actor.can_write(department.code):
        return
    if in_discussion:
        raise Forbidden(f"Only the performance office or {department.code}'s staff may edit this proposal.")
    raise Forbidden("Only the performance office (analysts) may change an agreed metric.")


def create_draft(session: Session, body: MetricCreate, actor: Principal) -> tuple[Metric, Department]:
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) may define a new metric.")
    department = get_department(session, body.department)
    if session.exec(select(Metric.id).where(Metric.key == body.key)).first() is not None:
        raise Conflict(f"A metric with the key '{body.key}' already exists.")
    _check_range(body.min_value, body.max_value)
    values = body.model_dump(exclude={"department", "rule"})
    rule = None
    if body.rule is not None:
        # A computed metric's roll-up follows from what it measures (a backlog is a stock), not from its unit.
        values["rollup"] = body.rollup or rule_rollup(body.rule.measure)
        check_rule(
            session,
            body.rule,
            unit=body.unit,
            rollup=values["rollup"],
            frequency=body.frequency,
            max_value=body.max_value,
        )
        values["is_computed"] = True
        rule = body.rule.model_dump(mode="json")
    values["rollup"] = values["rollup"] or _default_rollup(body.unit)
    metric = create_metric(
        session, department, MetricBase(**values), state=MetricState.draft, actor=actor, action="created", rule=rule
    )
    detail = {**values, "rule": rule}
    record(session, actor, "metric.created", department=department.code, subject=metric.key, detail=detail)
    return metric, department


def create_metric(
    session: Session,
    department: Department,
    definition: MetricBase,
    *,
    state: MetricState = MetricState.active,
    actor: Principal | None = None,
    action: str = "created",
    provenance: dict[str, Any] | None = None,
    library_measure_id: int | None = None,
    reason: str = "",
    rule: dict[str, Any] | None = None,
) -> Metric:
    from services.common.auth import OPERATOR

    actor = actor or OPERATOR
    metric = Metric(
        **definition.model_dump(),
        department_id=department.id,
        state=state,
        created_by=actor.actor,
        provenance=provenance,
        library_measure_id=library_measure_id,
        rule=rule,
    )
    session.add(metric)
    session.flush()
    definition_now = {name: _plain(getattr(metric, name)) for name in MetricBase.model_fields}
    if rule is not None:
        definition_now["rule"] = rule
    changes = {name: {"from": None, "to": value} for name, value in definition_now.items()}
    write_version(session, metric, actor, action, changes=changes, reason=reason)
    session.flush()
    return metric


def _check_range(low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise Unprocessable("min_value is above max_value.", errors=[{"field": "min_value", "reason": "above max"}])


def _check_computed(session: Session, metric: Metric, body: MetricUpdate, wanted: dict[str, Any]) -> None:
    """A metric with a rule must still fit it after the change, whichever of the two changed."""
    rule = body.rule if "rule" in wanted else (MetricRule.model_validate(metric.rule) if metric.rule else None)
    if rule is None:
        return
    if "rollup" not in wanted and RollupMethod(metric.rollup) not in allowed_rollups(rule.measure):
        # A metric becoming computed takes its measure's roll-up (a backlog is a stock) unless it says otherwise.
        wanted["rollup"] = rule_rollup(rule.measure)
    check_rule(
        session,
        rule,
        unit=wanted.get("unit", metric.unit),
        rollup=wanted.get("rollup", metric.rollup),
        frequency=wanted.get("frequency", metric.frequency),
        max_value=wanted.get("max_value", metric.max_value),
    )


def _has_values(session: Session, metric: Metric) -> bool:
    return session.exec(select(Observation.id).where(Observation.metric_id == metric.id).limit(1)).first() is not None


def update_definition(
    session: Session, key: str, body: MetricUpdate, actor: Principal, as_of: dt.date
) -> tuple[Metric, Department]:
    metric, department = editable_metric(session, key, actor)
    _require_definer(actor, metric, department)
    wanted = body.model_dump(exclude_unset=True, exclude={"reason", "series_break", "break_period"})
    if "is_published" in wanted and not actor.is_performance_office:
        raise Forbidden("Only the performance office publishes metrics.")
    if wanted.get("is_published") and metric.state not in (MetricState.active, MetricState.retired):
        raise Unprocessable(f"A {metric.state} metric cannot be published: it must be agreed (active) first.")
    for field in ("name", "unit", "kind", "direction", "frequency", "rollup"):
        if field in wanted and wanted[field] is None:
            raise Unprocessable(f"'{field}' cannot be emptied.", errors=[{"field": field, "reason": "null"}])
    if "rule" in wanted:
        wanted["rule"] = body.rule.model_dump(mode="json") if body.rule is not None else None
        wanted["is_computed"] = body.rule is not None
    _check_computed(session, metric, body, wanted)
    changes = {
        field: {"from": _plain(getattr(metric, field)), "to": _plain(value)}
        for field, value in wanted.items()
        if _plain(getattr(metric, field)) != _plain(value)
    }
    if not changes:
        return metric, department
    agreed = metric.state in (MetricState.active, MetricState.retired)
    if agreed and not body.reason.strip():
        raise Unprocessable(
            "Say why this agreed metric changes: 'reason' is required.",
            errors=[{"field": "reason", "reason": "required for an active or retired metric"}],
        )
    if "frequency" in changes and _has_values(session, metric):
        raise Unprocessable(
            "This metric has values for its current periods; retire it and define a new one to change the frequency.",
            errors=[{"field": "frequency", "reason": "values exist"}],
        )
    _check_range(wanted.get("min_value", metric.min_value), wanted.get("max_value", metric.max_value))
    series_break = body.series_break if body.series_break is not None else any(f in changes for f in _MEANING)
    if series_break and not agreed:
        # A draft has no series yet to break.
        series_break = False
    break_period = None
    if series_break:
        frequency = Frequency(wanted.get("frequency", metric.frequency))
        break_period = body.break_period or str(Period.containing(as_of, frequency))
        if Period.parse(break_period).frequency != frequency:
            raise Unprocessable(
                f"break_period must be a {frequency} period.", errors=[{"field": "break_period", "reason": "frequency"}]
            )
    for field, value in wanted.items():
        setattr(metric, field, value)
    metric.version += 1
    metric.updated_at = utcnow()
    session.add(metric)
    write_version(
        session,
        metric,
        actor,
        "edited",
        changes=changes,
        reason=body.reason,
        series_break=series_break,
        break_period=break_period,
    )
    record(
        session,
        actor,
        "metric.edited",
        department=department.code,
        subject=metric.key,
        detail={"version": metric.version, "changes": changes, "reason": body.reason, "series_break": series_break},
    )
    session.flush()
    return metric, department


def transition(session: Session, key: str, body: TransitionRequest, actor: Principal) -> tuple[Metric, Department]:
    metric, department = editable_metric(session, key, actor)
    current = MetricState(metric.state)
    rule = _TRANSITIONS.get((current, body.to))
    if rule is None:
        allowed = sorted(str(to) for (start, to) in _TRANSITIONS if start is current)
        raise Unprocessable(
            f"A {current} metric cannot become {body.to}; it can become: {', '.join(allowed) or 'nothing'}.",
            errors=[{"field": "to", "reason": f"not allowed from {current}"}],
        )
    office = actor.is_performance_office
    on_behalf = False
    if rule == "office" and not office:
        raise Forbidden(f"Only the performance office may make a {current} metric {body.to}.")
    if rule == "office or department" and not (office or actor.can_write(department.code)):
        raise Forbidden(f"Only the performance office or {department.code}'s staff may propose this metric.")
    if rule == "head, or office on its behalf":
        if actor.heads(department.code):
            on_behalf = False
        elif office:
            on_behalf = True
        else:
            raise Forbidden(f"{department.code}'s head signs a proposal off (or an analyst on the head's behalf).")
    if body.to in (MetricState.retired,) and not body.reason.strip():
        raise Unprocessable(
            "Say why the metric is retired: 'reason' is required.",
            errors=[{"field": "reason", "reason": "required to retire a metric"}],
        )
    metric.state = body.to
    metric.version += 1
    metric.updated_at = utcnow()
    action = {
        MetricState.proposed: "proposed",
        MetricState.draft: "withdrawn",
        MetricState.active: "signed_off" if current is MetricState.proposed else "reinstated",
        MetricState.retired: "retired",
    }[body.to]
    if action == "signed_off":
        metric.signed_off_by = actor.actor
        metric.signed_off_name = actor.name[:200]
        metric.signed_off_at = utcnow()
        metric.signed_off_on_behalf = on_behalf
    session.add(metric)
    changes = {"state": {"from": str(current), "to": str(body.to)}}
    reason = body.reason
    if on_behalf:
        reason = f"Signed off on behalf of {department.code}'s head. {reason}".strip()
    write_version(session, metric, actor, action, changes=changes, reason=reason)
    record(
        session,
        actor,
        f"metric.{action}",
        department=department.code,
        subject=metric.key,
        detail={"from": str(current), "to": str(body.to), "reason": reason, "on_behalf": on_behalf},
    )
    session.flush()
    return metric, department


def versions(session: Session, key: str, viewer: Principal | None) -> list[MetricVersionPublic]:
    metric, _ = get_visible_metric(session, key, viewer)
    rows = session.exec(
        select(MetricRevision).where(MetricRevision.metric_id == metric.id).order_by(MetricRevision.version)
    ).all()
    return [MetricVersionPublic.model_validate(row, from_attributes=True) for row in rows]


def series_breaks(session: Session, metric_ids: list[int]) -> dict[int, list[SeriesBreak]]:
    out: dict[int, list[SeriesBreak]] = {metric_id: [] for metric_id in metric_ids}
    if not metric_ids:
        return out
    for row in session.exec(
        select(MetricRevision)
        .where(MetricRevision.metric_id.in_(metric_ids), MetricRevision.series_break)
        .order_by(MetricRevision.version)
    ):
        out[row.metric_id].append(SeriesBreak(period=row.break_period or "", version=row.version, reason=row.reason))
    return out


def add_comment(session: Session, key: str, body: str, actor: Principal) -> CommentPublic:
    metric, department = editable_metric(session, key, actor)
    if not (actor.is_performance_office or actor.can_write(department.code)):
        raise Forbidden(f"Only the performance office and {department.code}'s staff take part in this discussion.")
    comment = MetricComment(metric_id=metric.id, body=body, actor=actor.actor, actor_name=actor.name[:200])
    session.add(comment)
    session.flush()
    record(session, actor, "metric.commented", department=department.code, subject=metric.key)
    return CommentPublic.model_validate(comment, from_attributes=True)


def list_comments(session: Session, key: str, viewer: Principal) -> list[CommentPublic]:
    metric, department = editable_metric(session, key, viewer)
    if not viewer.can_read(department.code):
        # The discussion with a department is the office's and the department's, even for a published metric.
        raise NotFound(f"No metric has the key '{key}'.")
    rows = session.exec(select(MetricComment).where(MetricComment.metric_id == metric.id).order_by(MetricComment.id))
    return [CommentPublic.model_validate(row, from_attributes=True) for row in rows]
