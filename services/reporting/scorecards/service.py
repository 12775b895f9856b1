import datetime as dt
from collections import Counter

from services.reporting.clients.metrics import MetricsClient, Performance
from services.reporting.scorecards.schemas import DepartmentSummary, Scorecard, ScorecardList, StatusSummary


def summarise(performance: list[Performance]) -> StatusSummary:
    counts = Counter(p.status.value for p in performance)
    # Metrics without a target cannot be on target, but neither do they count against one.
    rated = len(performance) - counts["no_target"]
    return StatusSummary(
        total=len(performance),
        **counts,
        share_on_target=round(counts["on_target"] / rated, 4) if rated else None,
    )


def _shown_period(performance: list[Performance], requested: str | None) -> str | None:
    return requested or (performance[0].period if performance else None)


async def department_scorecard(metrics: MetricsClient, code: str, period: str | None, as_of: dt.date) -> Scorecard:
    department = await metrics.department(code)
    performance = await metrics.performance(period, department.code)
    return Scorecard(
        department=department,
        period=_shown_period(performance, period),
        as_of=as_of,
        summary=summarise(performance),
        metrics=performance,
    )


async def all_scorecards(metrics: MetricsClient, period: str | None, as_of: dt.date) -> ScorecardList:
    departments = await metrics.departments()
    performance = await metrics.performance(period)
    by_department: dict[str, list[Performance]] = {d.code: [] for d in departments}
    for item in performance:
        by_department.setdefault(item.department, []).append(item)
    items = [DepartmentSummary(department=d, summary=summarise(by_department[d.code])) for d in departments]
    return ScorecardList(period=_shown_period(performance, period), as_of=as_of, items=items, total=len(items))
