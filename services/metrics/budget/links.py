"""The budget tied to performance: which spending produces a metric's output (the performance office's links), and
what one unit of output cost in each fiscal year.

Output, for cost per output, is counted from the metric's department-level values (org unit ""), the series the
public sees for a published metric; values not yet approved count, and the item says so (`provisional`):
- a metric that rolls up by sum (a count, tons, dollars): the sum of its values over the fiscal year's periods;
- a rate (roll-up ratio): the sum of its numerators, i.e. what it counted (cases closed on time), over the periods
  that sent one;
- an average or a stock (roll-up mean or last) has no output to divide by, and neither has a metric whose periods do
  not lie inside fiscal years (weeks, or calendar years when the fiscal year starts after January).
A fiscal year without linked spending, or whose output is not above zero, has no item: nothing is divided by zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Forbidden, Unprocessable
from services.common.periods import Frequency, Period, PeriodError, frequency_nests
from services.metrics.approvals.service import approved_months, is_approved
from services.metrics.audit.service import record
from services.metrics.base import utcnow
from services.metrics.budget.links_schemas import (
    BudgetLinkIn,
    BudgetLinkPublic,
    CostPerOutputItem,
    CostPerOutputPublic,
)
from services.metrics.budget.models import BudgetDepartment, BudgetKind, BudgetLine, MetricBudgetLink
from services.metrics.budget.service import _cents, _money
from services.metrics.definitions.models import Metric, RollupMethod
from services.metrics.definitions.service import get_visible_metric
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation

SUM_OF_VALUES = "sum of values"
SUM_OF_NUMERATORS = "sum of numerators"
_CENT = Decimal("0.01")

LinkKey = tuple[str, str | None, str | None]


# --- links --------------------------------------------------------------------------------------------------------


def _links(session: Session, metric_id: int) -> list[MetricBudgetLink]:
    return list(
        session.exec(
            select(MetricBudgetLink)
            .where(MetricBudgetLink.metric_id == metric_id)
            .order_by(MetricBudgetLink.department, MetricBudgetLink.fund_code, MetricBudgetLink.category)
        )
    )


def _links_public(session: Session, links: list[MetricBudgetLink]) -> list[BudgetLinkPublic]:
    names = sorted({link.department for link in links})
    codes = (
        dict(
            session.exec(
                select(BudgetDepartment.name, Department.code)
                .join(Department, Department.id == BudgetDepartment.department_id)
                .where(BudgetDepartment.name.in_(names))
            ).all()
        )
        if names
        else {}
    )
    return [
        BudgetLinkPublic(
            department=link.department,
            department_code=codes.get(link.department),
            fund_code=link.fund_code,
            category=link.category,
            note=link.note,
            linked_by=link.linked_by,
            linked_at=link.linked_at,
        )
        for link in links
    ]


def list_links(session: Session, key: str, viewer: Principal | None) -> list[BudgetLinkPublic]:
    metric, _ = get_visible_metric(session, key, viewer)
    return _links_public(session, _links(session, metric.id))


def _key(link: BudgetLinkIn | MetricBudgetLink) -> LinkKey:
    return (link.department, link.fund_code, link.category)


def _check_links(session: Session, wanted: list[BudgetLinkIn]) -> None:
    """Each link must select budget lines that exist, so that a misspelt name is caught now rather than costing
    nothing silently; every link is checked and every fault named at once."""
    errors: list[dict[str, str]] = []
    seen: set[LinkKey] = set()
    for i, link in enumerate(wanted):
        if _key(link) in seen:
            errors.append({"field": f"links[{i}]", "reason": f"the same link as an earlier one: {link.department!r}"})
        seen.add(_key(link))
    names = sorted({link.department for link in wanted})
    known: dict[str, tuple[set[str], set[str]]] = {name: (set(), set()) for name in names}
    if names:
        for name, fund, category in session.exec(
            select(BudgetLine.department, BudgetLine.fund_code, BudgetLine.category)
            .where(BudgetLine.department.in_(names))
            .distinct()
        ):
            known[name][0].add(fund)
            known[name][1].add(category)
    for i, link in enumerate(wanted):
        funds, categories = known[link.department]
        if not funds:
            errors.append(
                {
                    "field": f"links[{i}].department",
                    "reason": f"no budget line names the department {link.department!r}",
                }
            )
            continue
        if link.fund_code is not None and link.fund_code not in funds:
            errors.append(
                {
                    "field": f"links[{i}].fund_code",
                    "reason": f"no budget line of {link.department!r} has the fund {link.fund_code!r}",
                }
            )
        if link.category is not None and link.category not in categories:
            errors.append(
                {
                    "field": f"links[{i}].category",
                    "reason": f"no budget line of {link.department!r} has the category {link.category!r}",
                }
            )
    if errors:
        raise Unprocessable(
            "Some links do not match the budget: " + "; ".join(e["reason"] for e in errors) + ".",
            errors=errors,
            slug="budget-link-unknown",
        )


def replace_links(session: Session, key: str, wanted: list[BudgetLinkIn], actor: Principal) -> list[BudgetLinkPublic]:
    """Make `wanted` the metric's whole set of links (the performance office). A link kept as it was keeps who made
    it and when; one whose note changes is restated by the actor."""
    metric, department = get_visible_metric(session, key, actor)
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) links metrics to the budget.")
    _check_links(session, wanted)
    existing = {_key(link): link for link in _links(session, metric.id)}
    before = sorted(existing)
    keep = {_key(link) for link in wanted}
    for link_key, link in existing.items():
        if link_key not in keep:
            session.delete(link)
    now = utcnow()
    for link in wanted:
        row = existing.get(_key(link))
        if row is None:
            session.add(
                MetricBudgetLink(
                    metric_id=metric.id,
                    department=link.department,
                    fund_code=link.fund_code,
                    category=link.category,
                    note=link.note,
                    linked_by=actor.actor,
                    linked_at=now,
                )
            )
        elif row.note != link.note:
            row.note, row.linked_by, row.linked_at = link.note, actor.actor, now
            session.add(row)
    session.flush()
    record(
        session,
        actor,
        "metric.budget_linked",
        department=department.code,
        subject=metric.key,
        detail={
            "from": [list(k) for k in before],
            "to": [list(k) for k in sorted(keep, key=lambda k: (k[0], k[1] or "", k[2] or ""))],
        },
    )
    session.flush()
    return _links_public(session, _links(session, metric.id))


# --- cost per output ----------------------------------------------------------------------------------------------


def output_basis(metric: Metric) -> tuple[str | None, str | None]:
    """(what output is, what one output is) for this metric; (None, None) when it has none."""
    rollup = RollupMethod(metric.rollup)
    if rollup is RollupMethod.sum:
        return SUM_OF_VALUES, metric.unit
    if rollup is RollupMethod.ratio:
        return SUM_OF_NUMERATORS, "count"
    return None, None


def linked_spending(session: Session, links: list[MetricBudgetLink]) -> dict[str, Decimal]:
    """The expense the links select, per fiscal year, exact to the cent. Links are ORed, so a line two links both
    select (a department's whole budget and one of its funds) counts once."""
    if not links:
        return {}
    selects = []
    for link in links:
        conditions = [BudgetLine.department == link.department]
        if link.fund_code is not None:
            conditions.append(BudgetLine.fund_code == link.fund_code)
        if link.category is not None:
            conditions.append(BudgetLine.category == link.category)
        selects.append(sa.and_(*conditions))
    rows = session.exec(
        select(BudgetLine.fiscal_year, _cents(BudgetLine.amount))
        .where(BudgetLine.kind == BudgetKind.expense, sa.or_(*selects))
        .group_by(BudgetLine.fiscal_year)
    )
    return {year: _money(cents) for year, cents in rows}


@dataclass
class _Output:
    amounts: list[float] = field(default_factory=list)
    provisional: bool = False


def fiscal_outputs(
    session: Session, metric: Metric, basis: str, fiscal_start: int
) -> dict[str, tuple[float, int, bool]]:
    """fiscal year -> (output, periods counted, any of them provisional)."""
    months = approved_months(session, [metric.department_id])[metric.department_id]
    column = Observation.value if basis == SUM_OF_VALUES else Observation.numerator
    rows = session.exec(
        select(Observation.period, column).where(
            Observation.metric_id == metric.id, Observation.org_unit == "", column.is_not(None)
        )
    )
    by_year: dict[str, _Output] = defaultdict(_Output)
    for text, amount in rows:
        try:
            period = Period.parse(text, fiscal_start)
            year = str(period.parent(Frequency.fiscal_year, fiscal_start))
        except PeriodError:
            continue  # a stored period that does not lie in one fiscal year: the frequency check keeps these out
        by_year[year].amounts.append(amount)
        by_year[year].provisional |= not is_approved(period, months)
    return {year: (math.fsum(o.amounts), len(o.amounts), o.provisional) for year, o in by_year.items()}


def cost_items(session: Session, metric: Metric, fiscal_start: int) -> tuple[list[CostPerOutputItem], str | None]:
    """The metric's cost per output, oldest fiscal year first, and why there is none when the metric is the cause."""
    basis, _ = output_basis(metric)
    if basis is None:
        return [], f"'{metric.key}' rolls up by {metric.rollup}: an average or a stock has no output to cost."
    frequency = Frequency(metric.frequency)
    if not frequency_nests(frequency, Frequency.fiscal_year, fiscal_start):
        return [], f"{frequency} periods do not lie inside fiscal years, so they cannot be summed by fiscal year."
    links = _links(session, metric.id)
    if not links:
        return [], f"'{metric.key}' is not linked to the budget."
    spending = linked_spending(session, links)
    outputs = fiscal_outputs(session, metric, basis, fiscal_start)
    items = []
    for year in sorted(set(spending) & set(outputs)):
        output, periods, provisional = outputs[year]
        if not output > 0:
            continue
        cost = (spending[year] / Decimal(repr(output))).quantize(_CENT, rounding=ROUND_HALF_EVEN)
        expected = len(Period.parse(year, fiscal_start).children(frequency))
        items.append(
            CostPerOutputItem(
                fiscal_year=year,
                spending=float(spending[year]),
                output=output,
                cost_per_output=float(cost),
                periods=periods,
                expected_periods=expected,
                provisional=provisional,
            )
        )
    return items, None


def cost_per_output(session: Session, key: str, viewer: Principal | None, fiscal_start: int) -> CostPerOutputPublic:
    metric, _ = get_visible_metric(session, key, viewer)
    basis, output_unit = output_basis(metric)
    items, reason = cost_items(session, metric, fiscal_start)
    return CostPerOutputPublic(
        metric=metric.key,
        name=metric.name,
        unit=metric.unit,
        output_basis=basis,
        output_unit=output_unit,
        reason=reason,
        items=items,
    )
