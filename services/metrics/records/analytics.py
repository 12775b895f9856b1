"""Operational analytics over raw records: how many requests of a kind came in where (a district, or a cell of a
latitude/longitude grid) and when (the hour of the day or the day of the week they were opened, on the city's
clock), how many are still open, and the median days the closed ones took to close — ranked, so that the
performance office can see, for example, where and when to station the bucket trucks that fix street lights.

Counting: a record is counted in the group of its area and time when it matches the filters (dataset, department,
category, and the months it was opened in). A record without a district (or without coordinates, for the grid) is
in no group: it is counted apart, in `without_area`, and in the answer's overall figures.

Median: the same rule as computed metrics (compute.py): the closed records' days to close sorted x[0] <= ... <=
x[n-1], the median is x[j] + (h - j)·(x[j+1] - x[j]) at h = (n - 1)/2, j = floor(h), which is statistics.median.
ROW_NUMBER() over each group finds x[j] and x[j+1] on either engine, so no more than two rows per group leave the
database.

Grid: a cell is [south, south + size) × [west, west + size), its corner a whole multiple of the size, found with
floor division: floor(-84.385 / 0.01) is -8439, so -84.385 lies in the cell whose west edge is -84.39 (truncation
toward zero would have put it in the one east of it). SQLite has no floor() unless built with its math functions,
so `_floor` compiles to CAST arithmetic there. Coordinates are binary fractions: 33.76 / 0.01 comes out as
3375.9999999999995, so the quotient is nudged up by 1e-7 of a cell before the floor, far below any feed's
precision, to keep a point on an edge in the cell that edge begins.

Who may read: raw records are never public. Staff who may read the department asked for; without a department,
citywide staff see every department's records and department staff their own (the answer says which).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy import case, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.metrics.departments.models import Department
from services.metrics.records.models import RawRecord

_RECORDS = RawRecord.__table__
# A fraction of a cell, against binary rounding of a coordinate on a cell's edge (see the module's note).
_EDGE_NUDGE = 1e-7
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}


class Area(StrEnum):
    district = "district"
    grid = "grid"


class TimeOfDay(StrEnum):
    hour = "hour"  # 0-23, when the request was opened, on the city's clock
    weekday = "weekday"  # ISO 1 (Monday) to 7 (Sunday)
    none = "none"


class RankBy(StrEnum):
    count = "count"
    median_days = "median_days"
    open = "open"


class Order(StrEnum):
    desc = "desc"
    asc = "asc"


class GridCell(BaseModel):
    cell: str = Field(description='The south-west corner, "latitude,longitude", e.g. "33.75,-84.39"')
    south: float
    west: float
    north: float
    east: float
    size: float = Field(description="The cell's side in degrees")


class AnalyticsRow(BaseModel):
    rank: int = Field(description="1 for the first row of the ranking asked for")
    area: str | GridCell = Field(description="The district, or the grid cell")
    hour: int | None = Field(default=None, description="With time=hour: the hour opened, 0-23, city clock")
    weekday: int | None = Field(default=None, description="With time=weekday: ISO 1 (Monday) to 7 (Sunday)")
    weekday_name: str | None = None
    requests: int
    closed: int
    open: int
    median_days_to_close: float | None = Field(description="Over the closed requests; null when none closed")


class AnalyticsPage(BaseModel):
    items: list[AnalyticsRow]
    total: int = Field(description="How many groups (area, and hour or weekday) the ranking has")
    dataset: str
    category: str | None
    departments: list[str] | None = Field(description="The departments counted; null: every department")
    area: Area
    grid_size: float | None
    time: TimeOfDay
    start: str | None
    end: str | None
    sort: RankBy
    order: Order
    min_requests: int
    time_zone: str = Field(description="The clock hours and weekdays are read on")
    requests: int = Field(description="Every record matching the filters, placed in an area or not")
    closed: int
    open: int
    median_days_to_close: float | None
    without_area: int = Field(description="Records matching the filters with no district (or no coordinates)")
    left_out_groups: int = Field(description="Groups with fewer than min_requests requests, not ranked")
    left_out_requests: int = Field(description="The requests in those groups")
    busiest: AnalyticsRow | None = Field(description="The group with the most requests")
    slowest: AnalyticsRow | None = Field(description="The group with the longest median days to close")
    fastest: AnalyticsRow | None = Field(description="The group with the shortest median days to close")


class CategoryCount(BaseModel):
    category: str
    requests: int
    departments: list[str]
    first_month: str = Field(description="The first month a request of the category was opened in")
    last_month: str


class CategoriesPage(BaseModel):
    items: list[CategoryCount]
    total: int
    dataset: str
    departments: list[str] | None = Field(description="The departments counted; null: every department")
    without_category: int


@dataclass(frozen=True)
class AnalyticsQuery:
    dataset: str
    category: str | None = None
    department: str | None = None
    area: Area = Area.district
    grid_size: float = 0.01
    time: TimeOfDay = TimeOfDay.none
    start: str | None = None
    end: str | None = None
    sort: RankBy = RankBy.count
    order: Order = Order.desc
    min_requests: int = 1


class _floor(FunctionElement):
    """floor(x) as a whole number, on both engines."""

    type = sa.BigInteger()
    name = "citystat_floor"
    inherit_cache = True


@compiles(_floor)
def _floor_default(element, compiler, **kw) -> str:  # noqa: ANN001
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(_floor, "sqlite")
def _floor_sqlite(element, compiler, **kw) -> str:  # noqa: ANN001
    # CAST truncates toward zero; a negative number with a fraction is one more below.
    x = compiler.process(element.clauses, **kw)
    return f"(CAST({x} AS INTEGER) - (CAST({x} AS INTEGER) > {x}))"


def readable_scope(session: Session, viewer: Principal, department: str | None) -> list[str] | None:
    """The departments whose records the viewer reads here (None: all), or 403 as the drill-down answers."""
    if department is not None:
        if not viewer.can_read(department):
            raise Forbidden(f"Raw records are only for staff of {department} and the performance office.")
        if session.exec(select(Department.id).where(Department.code == department)).first() is None:
            raise NotFound(f"There is no department '{department}'.")
        return [department]
    readable = viewer.readable_departments()
    if readable is None:
        return None
    if not readable:
        raise Forbidden("Raw records are only for staff of their department and the performance office.")
    return sorted(readable)


def _check_months(start: str | None, end: str | None) -> None:
    if start is not None and end is not None and start > end:
        raise Unprocessable(
            f"The months run from {start} to {end}: the start is after the end.",
            errors=[{"field": "start", "reason": "after end"}],
        )


def _conditions(query: AnalyticsQuery, departments: list[str] | None) -> list[ColumnElement[bool]]:
    # The month range reads opened_month, the second column of ix_raw_record_opened (dataset, month, department).
    conditions = [_RECORDS.c.dataset == query.dataset]
    if query.start is not None:
        conditions.append(_RECORDS.c.opened_month >= query.start)
    if query.end is not None:
        conditions.append(_RECORDS.c.opened_month <= query.end)
    if departments is not None:
        conditions.append(_RECORDS.c.department.in_(departments))
    if query.category is not None:
        conditions.append(_RECORDS.c.category == query.category)
    return conditions


def _area(query: AnalyticsQuery) -> list[ColumnElement]:
    """The columns naming a record's area: NULL when it has none (no district, or no coordinates)."""
    if query.area is Area.district:
        return [func.nullif(_RECORDS.c.district, "").label("a0")]
    size = float(query.grid_size)
    return [
        _floor(_RECORDS.c.latitude / size + _EDGE_NUDGE).label("a0"),
        _floor(_RECORDS.c.longitude / size + _EDGE_NUDGE).label("a1"),
    ]


def _time(query: AnalyticsQuery) -> list[ColumnElement]:
    if query.time is TimeOfDay.hour:
        return [_RECORDS.c.opened_hour.label("t")]
    if query.time is TimeOfDay.weekday:
        return [_RECORDS.c.opened_weekday.label("t")]
    return []


def _median(ranks: dict[int, float], n: int) -> float:
    """The median of n sorted values, from the 1-based ranks j + 1 and j + 2 of x[j] and x[j+1]."""
    j, half = divmod(n - 1, 2)
    # compute.py's arithmetic for the q-quantile k/d with k/d = 1/2, so that the two agree to the last bit.
    return ranks[j + 1] if half == 0 else (ranks[j + 1] + ranks[j + 2]) / 2


def _decimals(size: float) -> int:
    exponent = Decimal(repr(size)).normalize().as_tuple().exponent
    return min(max(0, -int(exponent)), 10)


def _cell(south_index: int, west_index: int, size: float) -> GridCell:
    places = _decimals(size)
    south, west = round(south_index * size, places), round(west_index * size, places)
    return GridCell(
        cell=f"{south:.{places}f},{west:.{places}f}",
        south=south,
        west=west,
        north=round((south_index + 1) * size, places),
        east=round((west_index + 1) * size, places),
        size=size,
    )


@dataclass
class _Group:
    area: tuple  # (district,) or (south index, west index)
    time: int | None
    requests: int
    closed: int
    median: float | None

    @property
    def open(self) -> int:
        return self.requests - self.closed

    def natural(self) -> tuple:
        # District "2" before "10"; grid cells south to north, west to east.
        area = tuple(
            (0, a, "") if isinstance(a, int) else (0, int(a), "") if a.isdecimal() else (1, 0, a) for a in self.area
        )
        return area, self.time if self.time is not None else -1


def _ranked(groups: list[_Group], sort: RankBy, order: Order) -> list[_Group]:
    """Ranked by the measure asked for (groups without a median last, whichever the order), then by requests,
    then area and time, so that equal rows always come in the same order."""
    value: Callable[[_Group], float | None] = {
        RankBy.count: lambda g: g.requests,
        RankBy.median_days: lambda g: g.median,
        RankBy.open: lambda g: g.open,
    }[sort]
    rows = sorted(groups, key=_Group.natural)
    rows.sort(key=lambda g: g.requests, reverse=True)
    present = [g for g in rows if value(g) is not None]
    present.sort(key=value, reverse=order is Order.desc)  # stable, so ties keep the order above
    return present + [g for g in rows if value(g) is None]


def _row(group: _Group, rank: int, query: AnalyticsQuery) -> AnalyticsRow:
    area: str | GridCell = (
        group.area[0] if query.area is Area.district else _cell(group.area[0], group.area[1], float(query.grid_size))
    )
    return AnalyticsRow(
        rank=rank,
        area=area,
        hour=group.time if query.time is TimeOfDay.hour else None,
        weekday=group.time if query.time is TimeOfDay.weekday else None,
        weekday_name=WEEKDAYS.get(group.time) if query.time is TimeOfDay.weekday else None,
        requests=group.requests,
        closed=group.closed,
        open=group.open,
        median_days_to_close=group.median,
    )


@dataclass
class _Counted:
    groups: list[_Group]
    requests: int  # every matching record, placed or not
    closed: int
    without_area: int
    median: float | None


def _count(session: Session, query: AnalyticsQuery, departments: list[str] | None) -> _Counted:
    """One pass over the matching records: each group's counts and median, and the same over all of them.

    Records without an area fall in groups whose area is NULL, counted apart. Open records sort after the closed
    ones (by a CASE, since SQLite and PostgreSQL put NULLs at opposite ends), so a group's closed records hold the
    ranks 1..closed. Each group sends its first row (which carries its counts) and its two middle ones; the whole
    set sends its two middle ones."""
    area_columns = _area(query)
    time_columns = _time(query)
    keys = [c.name for c in [*area_columns, *time_columns]]
    matching = (
        select(*area_columns, *time_columns, _RECORDS.c.days_to_close.label("days"))
        .where(*_conditions(query, departments))
        .subquery("matching")
    )
    days = matching.c.days
    partition = [matching.c[k] for k in keys] or None
    closed_first = [case((days.is_(None), 1), else_=0), days]
    ranked = select(
        *[matching.c[k] for k in keys],
        days,
        func.row_number().over(partition_by=partition, order_by=closed_first).label("rank"),
        func.count().over(partition_by=partition).label("n"),
        func.count(days).over(partition_by=partition).label("n_closed"),
        func.row_number().over(order_by=closed_first).label("all_rank"),
        func.count().over().label("all_n"),
        func.count(days).over().label("all_closed"),
    ).subquery("ranked")
    r = ranked.c
    # x[j] and x[j+1] of each group and of the whole, as 1-based ranks; j = floor((closed - 1) / 2) when there
    # is a closed record (integer division truncates on both engines, and closed - 1 >= 0 then).
    middle = (r.n_closed - 1) // 2 + 1
    all_middle = (r.all_closed - 1) // 2 + 1
    rows = session.execute(
        select(*[r[k] for k in keys], r.days, r.rank, r.n, r.n_closed, r.all_rank, r.all_n, r.all_closed).where(
            or_(
                r.rank == 1,
                r.rank == middle,
                r.rank == middle + 1,
                r.all_rank == all_middle,
                r.all_rank == all_middle + 1,
            )
        )
    )
    width = len(area_columns)
    sizes: dict[tuple, tuple[int, int]] = {}
    middles: dict[tuple, dict[int, float]] = {}
    whole: dict[int, float] = {}
    requests = closed = 0
    for row in rows:
        key = tuple(row[: len(keys)])
        value, rank, n, n_closed, all_rank, requests, closed = row[len(keys) :]
        sizes[key] = (n, n_closed)
        if rank <= n_closed:
            middles.setdefault(key, {})[rank] = value
        if all_rank <= closed:
            whole[all_rank] = value
    groups = []
    without_area = 0
    for key, (n, n_closed) in sizes.items():
        if any(part is None for part in key[:width]):
            without_area += n
            continue
        median = _median(middles[key], n_closed) if n_closed else None
        groups.append(_Group(key[:width], key[width] if time_columns else None, n, n_closed, median))
    return _Counted(groups, requests, closed, without_area, _median(whole, closed) if closed else None)


def analytics(
    session: Session, query: AnalyticsQuery, page: PageParams, viewer: Principal, time_zone: str
) -> AnalyticsPage:
    _check_months(query.start, query.end)
    departments = readable_scope(session, viewer, query.department)
    counted = _count(session, query, departments)
    kept = [g for g in counted.groups if g.requests >= query.min_requests]
    ranked = _ranked(kept, query.sort, query.order)
    rows = [_row(g, rank, query) for rank, g in enumerate(ranked, start=1)]
    place = {id(g): i for i, g in enumerate(ranked)}
    with_median = [g for g in ranked if g.median is not None]

    def first(ranking: list[_Group]) -> AnalyticsRow | None:
        return rows[place[id(ranking[0])]] if ranking else None

    return AnalyticsPage(
        items=rows[page.offset : page.offset + page.limit],
        total=len(ranked),
        dataset=query.dataset,
        category=query.category,
        departments=departments,
        area=query.area,
        grid_size=float(query.grid_size) if query.area is Area.grid else None,
        time=query.time,
        start=query.start,
        end=query.end,
        sort=query.sort,
        order=query.order,
        min_requests=query.min_requests,
        time_zone=time_zone,
        requests=counted.requests,
        closed=counted.closed,
        open=counted.requests - counted.closed,
        median_days_to_close=counted.median,
        without_area=counted.without_area,
        left_out_groups=len(counted.groups) - len(kept),
        left_out_requests=sum(g.requests for g in counted.groups) - sum(g.requests for g in kept),
        busiest=first(_ranked(ranked, RankBy.count, Order.desc)),
        slowest=first(_ranked(with_median, RankBy.median_days, Order.desc)),
        fastest=first(_ranked(with_median, RankBy.median_days, Order.asc)),
    )


def categories(
    session: Session, dataset: str, department: str | None, page: PageParams, viewer: Principal
) -> CategoriesPage:
    """The categories of the dataset's records the viewer may read, most requests first."""
    departments = readable_scope(session, viewer, department)
    conditions = [_RECORDS.c.dataset == dataset]
    if departments is not None:
        conditions.append(_RECORDS.c.department.in_(departments))
    rows = session.execute(
        select(
            _RECORDS.c.category,
            _RECORDS.c.department,
            func.count(),
            func.min(_RECORDS.c.opened_month),
            func.max(_RECORDS.c.opened_month),
        )
        .where(*conditions)
        .group_by(_RECORDS.c.category, _RECORDS.c.department)
    ).all()
    merged: dict[str, CategoryCount] = {}
    without = 0
    for category, code, n, first, last in rows:
        if category is None or category == "":
            without += n
            continue
        entry = merged.get(category)
        if entry is None:
            merged[category] = CategoryCount(
                category=category, requests=n, departments=[code], first_month=first, last_month=last
            )
        else:
            entry.requests += n
            entry.departments = sorted({*entry.departments, code})
            entry.first_month, entry.last_month = min(entry.first_month, first), max(entry.last_month, last)
    items = sorted(merged.values(), key=lambda c: (-c.requests, c.category))
    return CategoriesPage(
        items=items[page.offset : page.offset + page.limit],
        total=len(items),
        dataset=dataset,
        departments=departments,
        without_category=without,
    )
