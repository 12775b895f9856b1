"""The budget: importing a city's budget file, mapping its departments to CityStat's, and reading it back by
department, fund and category, year over year. Sums are exact (see _cents); amounts leave as numbers to the cent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, func, insert, literal_column, text
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.metrics.audit.service import record
from services.metrics.base import utcnow
from services.metrics.budget.importer import BudgetLineIn, read_budget, totals
from services.metrics.budget.models import BudgetDepartment, BudgetImport, BudgetKind, BudgetLine
from services.metrics.budget.schemas import (
    BudgetDepartmentMap,
    BudgetDepartmentPublic,
    BudgetDepartmentYear,
    BudgetGroupBy,
    BudgetImportPublic,
    BudgetLinePublic,
    BudgetMapping,
    BudgetRejectionPublic,
    BudgetReplacedPublic,
    BudgetSummaryItem,
    BudgetSummaryPublic,
    BudgetTotalPublic,
    BudgetYearPublic,
)
from services.metrics.departments.models import Department

Progress = Callable[[int, int], None]

DEFAULT_SOURCE = "budget"
_CHUNK = 1_000
# Any fixed number: two budget imports at once on PostgreSQL take turns, so that both cannot replace the same year's
# lines and then both add theirs. SQLite writers take turns already.
_IMPORT_LOCK = 7_020_417


def _cents(column: Any) -> Any:
    """SUM of amounts in whole cents, exact on both databases: PostgreSQL's numeric is exact, and SQLite, which keeps
    Numeric as a double, holds every amount within a hair of its cents, so rounding each to cents before adding
    gives integers that add up exactly."""
    return sa.cast(func.coalesce(func.sum(func.round(column * 100)), 0), sa.BigInteger)


def _money(cents: int | Decimal | None) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(Decimal("0.01"))


def _number(amount: Decimal | None) -> float | None:
    return None if amount is None else float(amount)


def _fraction(change: Decimal | None, prior: Decimal | None) -> float | None:
    if change is None or not prior:
        return None
    return float(change / abs(prior))


# --- import -------------------------------------------------------------------------------------------------------


def import_budget(
    session: Session,
    data: bytes,
    actor: Principal,
    mapping: BudgetMapping | None = None,
    *,
    source: str = DEFAULT_SOURCE,
    file_name: str = "",
    atomic: bool = False,
    fiscal_start: int = 7,
    progress: Progress | None = None,
) -> BudgetImportPublic:
    """Store every usable row of the file as a budget line, replacing the lines of the same fiscal years that earlier
    imports from the same source stored. Everything happens in the caller's transaction: all of it or none of it.

    Raises BudgetFileError (422) when the file as a whole cannot be read, and Unprocessable when `atomic` and any row
    is rejected; nothing is stored then."""
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) imports the budget.")
    source = " ".join(source.split())
    read = read_budget(data, mapping, fiscal_start=fiscal_start)
    rejected = [{"row": r.row, "field": r.field, "reason": r.reason} for r in read.rejected]
    if atomic and rejected:
        raise Unprocessable(
            f"{len(rejected)} of {read.rows} rows cannot be used, and atomic=true asks for all or nothing; nothing "
            "was stored.",
            errors=rejected,
            slug="budget-rows-rejected",
        )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})
    years = sorted({line.fiscal_year for line in read.lines})
    replaced = _replace(session, source, years)
    sums = totals(read.lines)
    run = BudgetImport(
        source=source,
        file_name=file_name[:300],
        columns=read.columns,
        rows=read.rows,
        accepted=len(read.lines),
        rejected=rejected,
        fiscal_years=years,
        replaced=replaced,
        totals=[
            {"fiscal_year": year, "kind": str(kind), "lines": n, "amount": str(amount)}
            for (year, kind), (n, amount) in sorted(sums.items())
        ],
        actor=actor.actor,
    )
    session.add(run)
    session.flush()
    _insert_lines(session, run.id, read.lines, progress)
    record(
        session,
        actor,
        "budget.imported",
        subject=f"budget_import:{run.id}",
        detail={
            "source": source,
            "file_name": run.file_name,
            "rows": run.rows,
            "accepted": run.accepted,
            "rejected": len(rejected),
            "fiscal_years": years,
            "replaced": replaced,
        },
    )
    session.flush()
    return import_public(run)


def _replace(session: Session, source: str, years: list[str]) -> list[dict[str, Any]]:
    if not years:
        return []
    earlier = select(BudgetImport.id).where(BudgetImport.source == source)
    counts = session.exec(
        select(BudgetLine.fiscal_year, BudgetLine.import_id, func.count())
        .where(BudgetLine.fiscal_year.in_(years), BudgetLine.import_id.in_(earlier))
        .group_by(BudgetLine.fiscal_year, BudgetLine.import_id)
        .order_by(BudgetLine.fiscal_year, BudgetLine.import_id)
    ).all()
    session.execute(delete(BudgetLine).where(BudgetLine.fiscal_year.in_(years), BudgetLine.import_id.in_(earlier)))
    return [{"fiscal_year": year, "source": source, "import_id": i, "lines": n} for year, i, n in counts]


def _insert_lines(session: Session, import_id: int, lines: list[BudgetLineIn], progress: Progress | None) -> None:
    total = len(lines)
    for start in range(0, total, _CHUNK):
        chunk = lines[start : start + _CHUNK]
        session.execute(
            insert(BudgetLine),
            [
                {
                    "fiscal_year": line.fiscal_year,
                    "fiscal_year_label": line.fiscal_year_label,
                    "department": line.department,
                    "fund_code": line.fund_code,
                    "fund_name": line.fund_name,
                    "category": line.category,
                    "kind": str(line.kind),
                    "amount": line.amount,
                    "import_id": import_id,
                    "source_row": line.source_row,
                }
                for line in chunk
            ],
        )
        if progress is not None:
            progress(start + len(chunk), total)
    if progress is not None and not total:
        progress(0, 0)


def import_public(run: BudgetImport) -> BudgetImportPublic:
    return BudgetImportPublic(
        id=run.id,
        source=run.source,
        file_name=run.file_name,
        columns=run.columns,
        rows=run.rows,
        accepted=run.accepted,
        rejected=[BudgetRejectionPublic.model_validate(r) for r in run.rejected],
        fiscal_years=run.fiscal_years,
        replaced=[BudgetReplacedPublic.model_validate(r) for r in run.replaced],
        totals=[
            BudgetTotalPublic(
                fiscal_year=t["fiscal_year"], kind=t["kind"], lines=t["lines"], amount=float(Decimal(t["amount"]))
            )
            for t in run.totals
        ],
        actor=run.actor,
        at=run.at,
    )


def list_imports(session: Session, page: PageParams) -> tuple[list[BudgetImportPublic], int]:
    total = session.exec(select(func.count(BudgetImport.id))).one()
    runs = session.exec(select(BudgetImport).order_by(BudgetImport.id.desc()).offset(page.offset).limit(page.limit))
    return [import_public(run) for run in runs], total


def get_import(session: Session, import_id: int) -> BudgetImportPublic:
    run = session.get(BudgetImport, import_id)
    if run is None:
        raise NotFound(f"No budget import has the id {import_id}.")
    return import_public(run)


# --- reading ------------------------------------------------------------------------------------------------------


def _mapped(session: Session) -> dict[str, tuple[BudgetDepartment, Department]]:
    rows = session.exec(
        select(BudgetDepartment, Department).join(Department, Department.id == BudgetDepartment.department_id)
    ).all()
    return {mapping.name: (mapping, department) for mapping, department in rows}


def list_years(session: Session) -> list[BudgetYearPublic]:
    """Every fiscal year with lines, newest first, with its expense and revenue totals."""
    sums: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for year, kind, n, cents in session.exec(
        select(BudgetLine.fiscal_year, BudgetLine.kind, func.count(), _cents(BudgetLine.amount)).group_by(
            BudgetLine.fiscal_year, BudgetLine.kind
        )
    ):
        sums[year][str(kind)] = (n, _money(cents))
    labels: dict[str, set[str]] = defaultdict(set)
    for year, label in session.exec(select(BudgetLine.fiscal_year, BudgetLine.fiscal_year_label).distinct()):
        labels[year].add(label)
    sources: dict[str, set[str]] = defaultdict(set)
    for year, source in session.exec(
        select(BudgetLine.fiscal_year, BudgetImport.source)
        .join(BudgetImport, BudgetImport.id == BudgetLine.import_id)
        .distinct()
    ):
        sources[year].add(source)
    departments = dict(
        session.exec(
            select(BudgetLine.fiscal_year, func.count(BudgetLine.department.distinct())).group_by(
                BudgetLine.fiscal_year
            )
        ).all()
    )
    out = []
    for year in sorted(sums, reverse=True):
        expense = sums[year].get("expense", (0, Decimal(0)))
        revenue = sums[year].get("revenue", (0, Decimal(0)))
        out.append(
            BudgetYearPublic(
                fiscal_year=year,
                labels=sorted(labels[year]),
                expense=float(expense[1]),
                revenue=float(revenue[1]),
                lines=expense[0] + revenue[0],
                departments=departments.get(year, 0),
                sources=sorted(sources[year]),
            )
        )
    return out


def prior_year(year: str) -> str:
    return f"FY{int(year[2:]) - 1:04d}"


def _filtered(query: Any, department: str | None, fund: str | None, category: str | None) -> Any:
    if department is not None:
        query = query.where(BudgetLine.department == department)
    if fund is not None:
        query = query.where(BudgetLine.fund_code == fund)
    if category is not None:
        query = query.where(BudgetLine.category == category)
    return query


def _has_lines(session: Session, year: str, kind: BudgetKind | None = None) -> bool:
    query = select(BudgetLine.id).where(BudgetLine.fiscal_year == year)
    if kind is not None:
        query = query.where(BudgetLine.kind == kind)
    return session.exec(query.limit(1)).first() is not None


def summary(
    session: Session,
    *,
    year: str | None,
    by: BudgetGroupBy,
    kind: BudgetKind,
    department: str | None = None,
    fund: str | None = None,
    category: str | None = None,
) -> BudgetSummaryPublic:
    """Totals per group for a fiscal year, beside the year before's when that year has lines of this kind."""
    if year is None:
        year = session.exec(select(func.max(BudgetLine.fiscal_year))).one()
        if year is None:
            raise NotFound("No budget has been imported yet.")
    elif not _has_lines(session, year):
        loaded = [y.fiscal_year for y in list_years(session)]
        raise NotFound(
            f"No budget lines for {year}; the years loaded are {', '.join(loaded) or 'none'}.",
            extra={"loaded": loaded},
        )
    before = prior_year(year)
    prior_loaded = _has_lines(session, before, kind)
    group = {
        BudgetGroupBy.department: BudgetLine.department,
        BudgetGroupBy.fund: BudgetLine.fund_code,
        BudgetGroupBy.category: BudgetLine.category,
    }[by]
    fund_name = func.max(BudgetLine.fund_name) if by is BudgetGroupBy.fund else literal_column("''")
    query = _filtered(
        select(BudgetLine.fiscal_year, group, func.count(), _cents(BudgetLine.amount), fund_name)
        .where(BudgetLine.fiscal_year.in_([year, before] if prior_loaded else [year]), BudgetLine.kind == kind)
        .group_by(BudgetLine.fiscal_year, group),
        department,
        fund,
        category,
    )
    now: dict[str, tuple[int, Decimal]] = {}
    then: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for fiscal_year, name, n, cents, fname in session.exec(query):
        if fiscal_year == year:
            now[name] = (n, _money(cents))
        else:
            then[name] = _money(cents)
        if fname:
            names[name] = max(names.get(name, ""), fname)
    codes = (
        {name: department.code for name, (_, department) in _mapped(session).items()}
        if by is BudgetGroupBy.department
        else {}
    )
    ranked: list[tuple[Decimal, str, BudgetSummaryItem]] = []
    for name in set(now) | set(then):
        n, amount = now.get(name, (0, Decimal("0.00")))
        prior = then.get(name, Decimal("0.00")) if prior_loaded else None
        change = amount - prior if prior is not None else None
        ranked.append(
            (
                -amount,
                name,
                BudgetSummaryItem(
                    name=name,
                    department_code=codes.get(name),
                    fund_name=names.get(name) if by is BudgetGroupBy.fund else None,
                    amount=float(amount),
                    lines=n,
                    prior_amount=_number(prior),
                    change=_number(change),
                    change_fraction=_fraction(change, prior),
                ),
            )
        )
    total = sum((amount for _, amount in now.values()), Decimal("0.00"))
    prior_total = sum(then.values(), Decimal("0.00")) if prior_loaded else None
    change = total - prior_total if prior_total is not None else None
    return BudgetSummaryPublic(
        fiscal_year=year,
        prior_year=before,
        prior_loaded=prior_loaded,
        kind=kind,
        by=by,
        department=department,
        fund=fund,
        category=category,
        total=float(total),
        prior_total=_number(prior_total),
        change=_number(change),
        change_fraction=_fraction(change, prior_total),
        items=[item for _, _, item in sorted(ranked, key=lambda r: (r[0], r[1]))],
    )


def list_lines(
    session: Session,
    page: PageParams,
    *,
    year: str | None = None,
    department: str | None = None,
    fund: str | None = None,
    category: str | None = None,
    kind: BudgetKind | None = None,
) -> tuple[list[BudgetLinePublic], int]:
    query = _filtered(select(BudgetLine), department, fund, category)
    if year is not None:
        query = query.where(BudgetLine.fiscal_year == year)
    if kind is not None:
        query = query.where(BudgetLine.kind == kind)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    lines = session.exec(
        query.order_by(BudgetLine.fiscal_year.desc(), BudgetLine.import_id, BudgetLine.source_row)
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    mapped = _mapped(session)
    return [
        BudgetLinePublic(
            id=line.id,
            fiscal_year=line.fiscal_year,
            fiscal_year_label=line.fiscal_year_label,
            department=line.department,
            department_code=mapped[line.department][1].code if line.department in mapped else None,
            fund_code=line.fund_code,
            fund_name=line.fund_name,
            category=line.category,
            kind=line.kind,
            amount=float(line.amount),
            import_id=line.import_id,
            source_row=line.source_row,
        )
        for line in lines
    ], total


def _department_public(
    name: str,
    mapped: tuple[BudgetDepartment, Department] | None,
    years: dict[str, dict[str, tuple[int, Decimal]]],
) -> BudgetDepartmentPublic:
    mapping, department = mapped if mapped is not None else (None, None)
    return BudgetDepartmentPublic(
        name=name,
        department_code=department.code if department else None,
        department_name=department.name if department else None,
        mapped_by=mapping.mapped_by if mapping else None,
        mapped_at=mapping.mapped_at if mapping else None,
        years=[
            BudgetDepartmentYear(
                fiscal_year=year,
                expense=float(kinds.get("expense", (0, Decimal(0)))[1]),
                revenue=float(kinds.get("revenue", (0, Decimal(0)))[1]),
                lines=sum(n for n, _ in kinds.values()),
            )
            for year, kinds in sorted(years.items(), reverse=True)
        ],
    )


def _department_totals(session: Session, name: str | None = None) -> dict[str, dict[str, dict[str, tuple]]]:
    query = select(
        BudgetLine.department, BudgetLine.fiscal_year, BudgetLine.kind, func.count(), _cents(BudgetLine.amount)
    ).group_by(BudgetLine.department, BudgetLine.fiscal_year, BudgetLine.kind)
    if name is not None:
        query = query.where(BudgetLine.department == name)
    out: dict[str, dict[str, dict[str, tuple]]] = defaultdict(lambda: defaultdict(dict))
    for department, year, kind, n, cents in session.exec(query):
        out[department][year][str(kind)] = (n, _money(cents))
    return out


def list_departments(session: Session, page: PageParams) -> tuple[list[BudgetDepartmentPublic], int]:
    """Every department name the budget uses (and every name the office has mapped), with its mapping and totals."""
    sums = _department_totals(session)
    mapped = _mapped(session)
    names = sorted(set(sums) | set(mapped))
    shown = names[page.offset : page.offset + page.limit]
    return [_department_public(name, mapped.get(name), sums.get(name, {})) for name in shown], len(names)


def map_department(session: Session, name: str, body: BudgetDepartmentMap, actor: Principal) -> BudgetDepartmentPublic:
    """Map the budget's department `name` to a CityStat department, or unmap it (department null)."""
    if not actor.is_performance_office:
        raise Forbidden("Only the performance office (analysts) maps budget departments.")
    existing = session.get(BudgetDepartment, name)
    named = session.exec(select(BudgetLine.id).where(BudgetLine.department == name).limit(1)).first()
    if existing is None and named is None:
        raise NotFound(f"No budget line names the department {name!r}; import the budget first, or check the name.")
    previous = None
    if existing is not None:
        previous = session.get(Department, existing.department_id)
    if body.department is None:
        if existing is not None:
            session.delete(existing)
    else:
        department = session.exec(select(Department).where(Department.code == body.department)).first()
        if department is None:
            raise Unprocessable(
                f"No CityStat department has the code {body.department!r}.",
                errors=[{"field": "department", "reason": "unknown department"}],
            )
        mapping = existing or BudgetDepartment(name=name, department_id=department.id, mapped_by=actor.actor)
        mapping.department_id, mapping.mapped_by, mapping.mapped_at = department.id, actor.actor, utcnow()
        session.add(mapping)
    session.flush()
    record(
        session,
        actor,
        "budget.department_mapped",
        department=body.department or (previous.code if previous else None),
        subject=f"budget_department:{name}",
        detail={"name": name, "from": previous.code if previous else None, "to": body.department},
    )
    session.flush()
    return _department_public(name, _mapped(session).get(name), _department_totals(session, name).get(name, {}))
