"""The budget: the performance office imports the city's budget file and maps its departments; anyone reads it."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from services.common.errors import Forbidden, problem_responses
from services.common.pagination import Page, PageDep
from services.common.types import NO_NUL_PATTERN
from services.metrics.budget import service
from services.metrics.budget.models import BudgetKind
from services.metrics.budget.schemas import (
    FISCAL_YEAR_PATTERN,
    BudgetDepartmentMap,
    BudgetDepartmentPublic,
    BudgetGroupBy,
    BudgetImportPublic,
    BudgetLinePublic,
    BudgetMapping,
    BudgetSummaryPublic,
    BudgetYearPublic,
)
from services.metrics.deps import SessionDep, SettingsDep, StaffPrincipal
from services.metrics.library.router import UnsupportedMediaType

router = APIRouter(prefix="/budget", tags=["budget"])

IMPORTS_PATH = "/budget/imports"
PUBLIC_NOTE = "Public: the budget is public record, readable without signing in."

_CSV_BODY = {
    "content": {
        "text/csv": {
            "schema": {
                "type": "string",
                "minLength": 1,
                "description": "A budget file, UTF-8 CSV with a header row; by default Oakland's open-data columns",
                "example": (
                    "budget_year,department,account_type,fund_code,account_category,amount\n"
                    "FY21-22,Transportation,Expense,1010,Civilian Salaries,252000\n"
                ),
            }
        }
    },
    "required": True,
}
_DEFAULTS = BudgetMapping()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL_PATTERN)]
Year = Annotated[str | None, Query(pattern=FISCAL_YEAR_PATTERN, description="A fiscal year, e.g. FY2022")]


def _column(what: str, none: bool = False) -> object:
    also = "; empty when the file has none" if none else ""
    return Query(max_length=200, pattern=NO_NUL_PATTERN, description=f"The header of the {what} column{also}")


@router.post(
    "/imports",
    status_code=201,
    response_model=BudgetImportPublic,
    responses=problem_responses(401, 403, 413, 415, 422),
    openapi_extra={"requestBody": _CSV_BODY},
)
async def import_budget(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: StaffPrincipal,
    source: Annotated[
        str,
        Query(
            max_length=200,
            pattern=r"^[^\x00]*[^\x00\s][^\x00]*$",
            description="Where the file comes from, e.g. 'adopted budget'. Importing a fiscal year again from the "
            "same source replaces that year's lines from that source.",
        ),
    ] = service.DEFAULT_SOURCE,
    file_name: Annotated[str, Query(max_length=300, pattern=NO_NUL_PATTERN, description="For the receipt")] = "",
    atomic: Annotated[bool, Query(description="Store nothing (422) if any row is rejected")] = False,
    department_column: Annotated[str, _column("department")] = _DEFAULTS.department_column,
    fund_column: Annotated[str, _column("fund code", none=True)] = _DEFAULTS.fund_column,
    fund_name_column: Annotated[str, _column("fund name", none=True)] = _DEFAULTS.fund_name_column,
    category_column: Annotated[str, _column("account category", none=True)] = _DEFAULTS.category_column,
    kind_column: Annotated[str, _column("expense or revenue")] = _DEFAULTS.kind_column,
    amount_column: Annotated[str, _column("amount")] = _DEFAULTS.amount_column,
    year_column: Annotated[str, _column("fiscal year")] = _DEFAULTS.year_column,
    fiscal_year: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=32,
            pattern=NO_NUL_PATTERN,
            description="Every row's fiscal year (FY2022, FY21-22), for a file without a year column",
        ),
    ] = None,
    kind: Annotated[BudgetKind | None, Query(description="Every row's kind, for a file without that column")] = None,
) -> BudgetImportPublic:
    """Import a budget file (the performance office: analysts and administrators). Every data row becomes a budget
    line or is rejected with its row, column and reason; a blank amount is rejected, never taken as zero. The
    fiscal years in the file replace the lines of those years that earlier imports from the same `source` stored,
    and the receipt lists what was replaced. The import is one transaction: a file that cannot be read stores
    nothing."""
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) imports the budget.")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in ("text/csv", "application/csv"):
        raise UnsupportedMediaType("Send the file as Content-Type: text/csv.")
    mapping = BudgetMapping(
        department_column=department_column,
        fund_column=fund_column,
        fund_name_column=fund_name_column,
        category_column=category_column,
        kind_column=kind_column,
        amount_column=amount_column,
        year_column=year_column,
        fiscal_year=fiscal_year,
        kind=kind,
    )
    data = await request.body()
    return await run_in_threadpool(
        service.import_budget,
        session,
        data,
        actor,
        mapping,
        source=source,
        file_name=file_name,
        atomic=atomic,
        fiscal_start=settings.fiscal_year_start_month,
    )


@router.get("/imports", response_model=Page[BudgetImportPublic], responses=problem_responses(401))
def list_imports(session: SessionDep, page: PageDep, _staff: StaffPrincipal) -> Page[BudgetImportPublic]:
    """Past budget imports, newest first, each with its receipt (signed-in staff)."""
    items, total = service.list_imports(session, page)
    return Page(items=items, total=total)


@router.get("/imports/{import_id}", response_model=BudgetImportPublic, responses=problem_responses(401, 404))
def read_import(import_id: Id, session: SessionDep, _staff: StaffPrincipal) -> BudgetImportPublic:
    """One budget import's receipt (signed-in staff)."""
    return service.get_import(session, import_id)


@router.get(
    "/years",
    response_model=Page[BudgetYearPublic],
    description="The fiscal years loaded, newest first, with their expense and revenue totals. " + PUBLIC_NOTE,
)
def list_years(session: SessionDep) -> Page[BudgetYearPublic]:
    items = service.list_years(session)
    return Page(items=items, total=len(items))


@router.get(
    "/summary",
    response_model=BudgetSummaryPublic,
    responses=problem_responses(404),
    description="Totals per department, fund or account category for one fiscal year (default: the newest), with "
    "the year before's total and the change when that year is loaded. Filter by department, fund or category to "
    "drill down, e.g. a department's budget by category. " + PUBLIC_NOTE,
)
def read_summary(
    session: SessionDep,
    year: Year = None,
    by: BudgetGroupBy = BudgetGroupBy.department,
    kind: BudgetKind = BudgetKind.expense,
    department: Annotated[
        Text, Query(description="Only this budget department (its name as the budget writes it)")
    ] = None,
    fund: Annotated[Text, Query(description="Only this fund code")] = None,
    category: Annotated[Text, Query(description="Only this account category")] = None,
) -> BudgetSummaryPublic:
    return service.summary(session, year=year, by=by, kind=kind, department=department, fund=fund, category=category)


@router.get(
    "/lines",
    response_model=Page[BudgetLinePublic],
    description="The budget's lines as imported, one per row of the source file, newest year first. " + PUBLIC_NOTE,
)
def list_lines(
    session: SessionDep,
    page: PageDep,
    year: Year = None,
    department: Annotated[Text, Query(description="The budget department's name")] = None,
    fund: Annotated[Text, Query(description="A fund code")] = None,
    category: Annotated[Text, Query(description="An account category")] = None,
    kind: BudgetKind | None = None,
) -> Page[BudgetLinePublic]:
    items, total = service.list_lines(
        session, page, year=year, department=department, fund=fund, category=category, kind=kind
    )
    return Page(items=items, total=total)


@router.get(
    "/departments",
    response_model=Page[BudgetDepartmentPublic],
    description="The department names the budget uses, each with the CityStat department it is mapped to (null "
    "when unmapped: its lines are still counted) and its totals per fiscal year. " + PUBLIC_NOTE,
)
def list_departments(session: SessionDep, page: PageDep) -> Page[BudgetDepartmentPublic]:
    items, total = service.list_departments(session, page)
    return Page(items=items, total=total)


@router.put(
    "/departments/{name:path}",
    response_model=BudgetDepartmentPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def map_department(
    name: Annotated[
        str, Path(min_length=1, max_length=200, pattern=NO_NUL_PATTERN, description="As the budget names it")
    ],
    body: BudgetDepartmentMap,
    session: SessionDep,
    actor: StaffPrincipal,
) -> BudgetDepartmentPublic:
    """Map a budget department to a CityStat department, or unmap it with `{"department": null}` (the performance
    office). 404 when no budget line names the department; 422 when the CityStat department does not exist."""
    return service.map_department(session, name, body, actor)
