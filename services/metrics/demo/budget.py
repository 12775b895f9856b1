"""The demo city's adopted budgets, FY2013 to FY2017: generated here (deterministic for a seed), then put in the
way a city's finance office puts its budget in, one CSV file per fiscal year through the budget import, so that
every year has its import receipt. The budget's department names are the finance office's, not CityStat's codes;
the performance office maps them, and links a few of the demo's output counts to the spending that produces them.

The fiscal year runs July to June and is named by the year it ends in; the demo's data ends June 2017 (FY2017).
Each budget is imported on the 1st of July its year starts, as adopted budgets reach a city's systems.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlmodel import Session, select

from services.common.auth import Principal, PrincipalKind
from services.metrics.budget.links import replace_links
from services.metrics.budget.links_schemas import BudgetLinkIn
from services.metrics.budget.models import BudgetDepartment, BudgetImport
from services.metrics.budget.schemas import BudgetDepartmentMap, BudgetMapping
from services.metrics.budget.service import import_budget, map_department
from services.metrics.demo.programme import ANALYST

FISCAL_YEARS = (2013, 2014, 2015, 2016, 2017)
SOURCE = "adopted budget"
FUNDS = {
    "1001": "General Fund",
    "2501": "Intergovernmental Grant Fund",
    "5051": "Water & Sewer Revenue Fund",
    "5401": "Solid Waste Services Revenue Fund",
    "5501": "Airport Revenue Fund",
}
HEADER = ("budget_year", "department", "fund_code", "fund_name", "account_category", "account_type", "amount")
MAPPING = BudgetMapping(fund_name_column="fund_name")
CENT = Decimal("0.01")

# How each kind of operation spends its money, by account category (shares add up to 1).
PROFILES: dict[str, tuple[tuple[str, float], ...]] = {
    "operations": (
        ("Personnel", 0.61),
        ("Contractual services", 0.14),
        ("Supplies", 0.09),
        ("Capital outlay", 0.04),
        ("Interfund charges", 0.12),
    ),
    "enterprise": (
        ("Personnel", 0.24),
        ("Contractual services", 0.27),
        ("Supplies", 0.09),
        ("Capital outlay", 0.16),
        ("Debt service", 0.24),
    ),
    "office": (
        ("Personnel", 0.76),
        ("Contractual services", 0.14),
        ("Supplies", 0.04),
        ("Interfund charges", 0.06),
    ),
    "grants": (("Personnel", 0.28), ("Contractual services", 0.66), ("Supplies", 0.06)),
    "citywide": (("Debt service", 0.52), ("Interfund charges", 0.18), ("Contractual services", 0.30)),
}


@dataclass(frozen=True)
class Spending:
    fund: str
    fy2013: float  # the fund's FY2013 expense budget for the department, in dollars
    profile: str


@dataclass(frozen=True)
class BudgetUnit:
    """A department as the budget book names it, with the CityStat department it maps to (None: no department of
    the performance programme, such as the citywide non-departmental accounts)."""

    name: str
    code: str | None
    growth: float  # the trend of its budget per year
    spending: tuple[Spending, ...]
    revenue: tuple[tuple[str, str, float], ...] = ()  # (fund, category, FY2013 amount)


M = 1_000_000
UNITS: tuple[BudgetUnit, ...] = (
    BudgetUnit(
        "Public Works",
        "DPW",
        0.028,
        (Spending("1001", 38.5 * M, "operations"), Spending("5401", 52.0 * M, "operations")),
        (("5401", "Charges for services", 54.5 * M),),
    ),
    BudgetUnit(
        "Watershed Management",
        "DWM",
        0.034,
        (Spending("5051", 391.0 * M, "enterprise"),),
        (("5051", "Charges for services", 478.0 * M), ("5051", "Investment income", 3.1 * M)),
    ),
    # The police budget grows fastest: the programme's years are the years of hiring to 2,000 sworn officers.
    BudgetUnit(
        "Police Services",
        "APD",
        0.055,
        (Spending("1001", 172.0 * M, "operations"), Spending("2501", 4.2 * M, "grants")),
        (("2501", "Intergovernmental revenue", 4.2 * M),),
    ),
    BudgetUnit("Fire and Rescue Services", "AFRD", 0.036, (Spending("1001", 69.0 * M, "operations"),)),
    BudgetUnit("Parks and Recreation", "DPR", 0.031, (Spending("1001", 31.0 * M, "operations"),)),
    BudgetUnit(
        "Planning and Community Development",
        "DPCD",
        0.042,
        (Spending("1001", 14.2 * M, "office"),),
        (("1001", "Licenses and permits", 27.8 * M),),
    ),
    BudgetUnit("Corrections", "DOC", 0.006, (Spending("1001", 30.4 * M, "operations"),)),
    BudgetUnit(
        "Aviation",
        "DOA",
        0.041,
        (Spending("5501", 432.0 * M, "enterprise"),),
        (("5501", "Charges for services", 521.0 * M), ("5501", "Investment income", 6.2 * M)),
    ),
    BudgetUnit(
        "Finance",
        "DOF",
        0.022,
        (Spending("1001", 16.1 * M, "office"),),
        (("1001", "Licenses and permits", 62.0 * M),),
    ),
    BudgetUnit("Human Resources", "DHR", 0.019, (Spending("1001", 8.6 * M, "office"),)),
    BudgetUnit("Information Management", "DIM", 0.047, (Spending("1001", 22.3 * M, "office"),)),
    BudgetUnit("Law", "LAW", 0.024, (Spending("1001", 7.2 * M, "office"),)),
    BudgetUnit("Procurement", "DOP", 0.027, (Spending("1001", 5.1 * M, "office"),)),
    BudgetUnit(
        "Municipal Court",
        "MCA",
        0.012,
        (Spending("1001", 11.3 * M, "office"),),
        (("1001", "Fines and forfeitures", 16.4 * M),),
    ),
    BudgetUnit("ATL311 Customer Service", "ATL311", 0.033, (Spending("1001", 3.2 * M, "office"),)),
    BudgetUnit(
        "Housing and Community Development",
        "OHCD",
        0.018,
        (Spending("1001", 2.1 * M, "office"), Spending("2501", 18.0 * M, "grants")),
        (("2501", "Intergovernmental revenue", 18.0 * M),),
    ),
    BudgetUnit("Code Enforcement", "OCE", 0.045, (Spending("1001", 5.6 * M, "operations"),)),
    BudgetUnit("Sustainability", "OOS", 0.052, (Spending("1001", 1.2 * M, "office"),)),
    BudgetUnit(
        "Emergency Preparedness",
        "OEP",
        0.030,
        (Spending("1001", 1.0 * M, "office"), Spending("2501", 2.5 * M, "grants")),
        (("2501", "Intergovernmental revenue", 2.5 * M),),
    ),
    BudgetUnit(
        "Workforce Development",
        "AWDA",
        -0.015,
        (Spending("2501", 9.0 * M, "grants"),),
        (("2501", "Intergovernmental revenue", 9.0 * M),),
    ),
    # Debt service and citywide accounts: in every budget, mapped to no department; the taxes come in here.
    BudgetUnit(
        "Non-Departmental",
        None,
        0.021,
        (Spending("1001", 61.0 * M, "citywide"),),
        (("1001", "Taxes", 405.0 * M), ("1001", "Investment income", 1.4 * M), ("1001", "Other revenue", 8.2 * M)),
    ),
)

# Output counts and the spending that produces them (the performance office's links): (metric key, budget
# department, fund or None for every fund, category or None for every category, why).
LINKS: tuple[tuple[str, str, str | None, str | None, str], ...] = (
    (
        "dpw.potholes_repaired",
        "Public Works",
        "1001",
        None,
        "Street maintenance crews, who repair potholes, are paid from Public Works' General Fund budget.",
    ),
    (
        "dpcd.building_permits_issued",
        "Planning and Community Development",
        None,
        None,
        "The Office of Buildings issues permits; it is most of the department's budget.",
    ),
    (
        "afrd.inspections_completed",
        "Fire and Rescue Services",
        "1001",
        "Personnel",
        "Fire Marshal inspectors' time is the cost of an inspection.",
    ),
    (
        "oce.blighted_structures_demolished",
        "Code Enforcement",
        None,
        "Contractual services",
        "Demolitions under In Rem orders are done by contractors.",
    ),
    (
        "ohcd.homes_repaired",
        "Housing and Community Development",
        "2501",
        None,
        "Owner-occupied repairs are paid from the federal grants the office administers.",
    ),
)


@dataclass(frozen=True)
class DemoBudgetLine:
    fiscal_year: int  # the calendar year the fiscal year ends in
    department: str
    fund_code: str
    category: str
    kind: str  # expense | revenue
    amount: Decimal


def fiscal_label(year: int) -> str:
    """FY2017 as the demo's finance office writes it: FY16-17."""
    return f"FY{(year - 1) % 100:02d}-{year % 100:02d}"


def _split(rng: random.Random, total: Decimal, category: str, parts: int) -> list[Decimal]:
    """A category's total as the several account lines a budget lists it in; they add up to the total exactly.
    Interfund charges net a recovery from other funds, as a negative line."""
    if parts == 1:
        return [total]
    if category == "Interfund charges":
        weights = [1.25, -0.25]
    else:
        raw = [rng.uniform(0.2, 1.0) for _ in range(parts)]
        weights = [w / sum(raw) for w in raw]
    amounts = [(total * Decimal(repr(w))).quantize(CENT, ROUND_HALF_EVEN) for w in weights[:-1]]
    return [*amounts, total - sum(amounts, Decimal(0))]


def demo_budget_lines(seed: int = 2017) -> list[DemoBudgetLine]:
    """Every line of the five adopted budgets. A department's lines keep their shape from year to year (the same
    accounts), while the amounts follow its trend with a little noise each year."""
    rng = random.Random(seed * 104_729 + 7)
    lines: list[DemoBudgetLine] = []
    for unit in UNITS:
        plans: list[tuple[str, str, str, float, int]] = []  # (fund, category, kind, FY2013 amount, account lines)
        for spending in unit.spending:
            for category, share in PROFILES[spending.profile]:
                plans.append((spending.fund, category, "expense", spending.fy2013 * share, rng.choice((1, 2, 2, 3))))
        for fund, category, amount in unit.revenue:
            plans.append((fund, category, "revenue", amount, rng.choice((1, 1, 2))))
        for fund, category, kind, base, parts in plans:
            level = base * (1 + rng.gauss(0, 0.01))
            for year in FISCAL_YEARS:
                if year > FISCAL_YEARS[0]:
                    level *= 1 + unit.growth + rng.gauss(0, 0.018)
                total = Decimal(f"{level:.2f}")
                lines.extend(
                    DemoBudgetLine(year, unit.name, fund, category, kind, amount)
                    for amount in _split(rng, total, category, parts)
                )
    return lines


def budget_file(lines: list[DemoBudgetLine]) -> bytes:
    """One fiscal year's lines as the finance office's CSV export."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for line in lines:
        writer.writerow(
            (
                fiscal_label(line.fiscal_year),
                line.department,
                line.fund_code,
                FUNDS[line.fund_code],
                line.category,
                line.kind.capitalize(),
                f"{line.amount:.2f}",
            )
        )
    return out.getvalue().encode()


def load_demo_budget(session: Session, seed: int = 2017) -> int:
    """Import the five budgets, map their departments and link the demo's output counts; returns the lines stored.
    The caller has loaded the demo city (the departments and metrics these refer to)."""
    operator = Principal(kind=PrincipalKind.operator, id="local", name=ANALYST)
    lines = demo_budget_lines(seed)
    stored = 0
    for year in FISCAL_YEARS:
        receipt = import_budget(
            session,
            budget_file([line for line in lines if line.fiscal_year == year]),
            operator,
            MAPPING,
            source=SOURCE,
            file_name=f"adopted-budget-{fiscal_label(year)}.csv",
            atomic=True,
        )
        run = session.get(BudgetImport, receipt.id)
        run.at = dt.datetime(year - 1, 7, 1, 9, tzinfo=dt.UTC)
        stored += receipt.accepted
    session.flush()
    for unit in UNITS:
        if unit.code is not None:
            map_department(session, unit.name, BudgetDepartmentMap(department=unit.code), operator)
    mapped_at = dt.datetime(FISCAL_YEARS[0] - 1, 7, 15, 9, tzinfo=dt.UTC)
    for mapping in session.exec(select(BudgetDepartment)):
        mapping.mapped_at = mapped_at
        session.add(mapping)
    for key, department, fund, category, note in LINKS:
        link = BudgetLinkIn(department=department, fund_code=fund, category=category, note=note)
        replace_links(session, key, [link], operator)
    session.flush()
    return stored
