"""The budget tied to performance: a metric's links to the spending behind it (the performance office sets them),
its cost per output, and a department's budget-hearing view. Readable by anyone for published metrics."""

from fastapi import APIRouter

from services.common.errors import problem_responses
from services.common.pagination import Page
from services.common.params import DepartmentCode, MetricKeyPath
from services.metrics.budget import hearing, links
from services.metrics.budget.links_schemas import BudgetLinkPublic, BudgetLinksPut, CostPerOutputPublic, HearingPublic
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep, StaffPrincipal

router = APIRouter(tags=["budget"])

VISIBLE_NOTE = (
    "Public for a published metric; an unpublished one only for staff who may read its department (404 otherwise, "
    "as for GET /metrics/{key})."
)


@router.get(
    "/metrics/{key}/budget-links",
    response_model=Page[BudgetLinkPublic],
    responses=problem_responses(404),
    description="The budget spending the performance office says produces this metric's output: each link a budget "
    "department's expense lines, optionally one fund's and/or one category's. " + VISIBLE_NOTE,
)
def read_links(key: MetricKeyPath, session: SessionDep, viewer: OptionalStaff) -> Page[BudgetLinkPublic]:
    items = links.list_links(session, key, viewer)
    return Page(items=items, total=len(items))


@router.put(
    "/metrics/{key}/budget-links",
    response_model=Page[BudgetLinkPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def put_links(
    key: MetricKeyPath, body: BudgetLinksPut, session: SessionDep, actor: StaffPrincipal
) -> Page[BudgetLinkPublic]:
    """Replace the metric's links to the budget with these (the performance office). A link whose department, fund
    or category no budget line has is a 422 naming it, and nothing changes. The change is audited."""
    items = links.replace_links(session, key, body.links, actor)
    return Page(items=items, total=len(items))


@router.get(
    "/metrics/{key}/cost-per-output",
    response_model=CostPerOutputPublic,
    responses=problem_responses(404),
    description="What one unit of the metric's output cost, per fiscal year: the expense lines its budget links "
    "select, summed exactly, divided by its output in that fiscal year (July to June by default: the "
    "fiscal_year_start_month setting). Output is counted from the department-level values: for a metric that rolls "
    "up by sum (a count, tons, dollars) the sum of its values over the fiscal year's periods; for a rate the sum of "
    "its numerators (what it counted); an average or a stock has none. Values not yet approved count and mark the "
    "item provisional. A fiscal year without linked spending or without output above zero has no item. " + VISIBLE_NOTE,
)
def read_cost_per_output(
    key: MetricKeyPath, session: SessionDep, settings: SettingsDep, viewer: OptionalStaff
) -> CostPerOutputPublic:
    return links.cost_per_output(session, key, viewer, settings.fiscal_year_start_month)


@router.get(
    "/budget/hearings/{code}",
    response_model=HearingPublic,
    responses=problem_responses(404),
    description="A department's budget hearing: the budget departments mapped to it and their expense and revenue "
    "per fiscal year, oldest first, and its active metrics, key metrics first, each with its status, trend and "
    "target as the performance dashboard computes them, its last 24 values and its newest cost per output. Public: "
    "published metrics for everyone; staff who may read the department also see its unpublished ones.",
)
def read_hearing(
    code: DepartmentCode, session: SessionDep, settings: SettingsDep, viewer: OptionalStaff
) -> HearingPublic:
    return hearing.hearing(session, code, viewer, settings.as_of, settings.fiscal_year_start_month)
