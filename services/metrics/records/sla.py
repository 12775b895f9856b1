"""SLA clocks: when a record is due when its feed does not say, from the per-category SLA table and the city's
holiday calendar.

How a due time is worked out from a rule of N days:

- calendar days: N × 24 hours of elapsed time after the opening, fractions allowed (0.5 is twelve hours).
- business days (whole numbers only): the opening's wall-clock time in the city, on the N-th business day after
  the day it was opened, a business day being Monday to Friday and not a holiday. Two business days from Friday
  15:00 is Tuesday 15:00; from Saturday 10:00 it is Tuesday 10:00; with Monday a holiday, from Friday 15:00 it is
  Wednesday 15:00. Zero business days is the opening itself.

A department's rule for a category wins over the citywide one (department ""); a record without a category, or
whose category no rule names, gets no due time from the table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlalchemy import func
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.common.types import CODE_PATTERN, INPUT_CONFIG, NO_NUL_PATTERN, FiniteFloat
from services.metrics.audit.service import record
from services.metrics.base import utcnow
from services.metrics.departments.models import Department
from services.metrics.records.models import SERVICE_REQUESTS, Dataset, DayKind, Holiday, SlaRule

# Longer than any service level a city sets, short enough that a business-day walk stays cheap.
MAX_SLA_DAYS = 3650

_WEEKEND = (5, 6)


class SlaClock:
    """The SLA rules of one dataset and the holiday calendar, read once, answering due times for a whole load."""

    def __init__(self, rules: Iterable[SlaRule], holidays: Iterable[dt.date], time_zone: str) -> None:
        self.zone = ZoneInfo(time_zone)
        self.rules: dict[tuple[str, str], tuple[float, DayKind]] = {
            (rule.department, rule.category): (rule.days, DayKind(rule.day_kind)) for rule in rules
        }
        self.holidays = frozenset(holidays)
        # (opening day, business days) -> due day: a million records share a few thousand of these.
        self._due_days: dict[tuple[dt.date, int], dt.date] = {}

    @classmethod
    def load(cls, session: Session, dataset: str, time_zone: str) -> SlaClock:
        rules = session.exec(select(SlaRule).where(SlaRule.dataset == dataset)).all()
        holidays = session.exec(select(Holiday.day)).all()
        return cls(rules, holidays, time_zone)

    def rule_for(self, department: str, category: str | None) -> tuple[float, DayKind] | None:
        if category is None:
            return None
        return self.rules.get((department, category)) or self.rules.get(("", category))

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() not in _WEEKEND and day not in self.holidays

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th business day after `day` (`day` itself when count is 0)."""
        key = (day, count)
        found = self._due_days.get(key)
        if found is None:
            found, left = day, count
            while left > 0:
                found += dt.timedelta(days=1)
                if self.is_business_day(found):
                    left -= 1
            self._due_days[key] = found
        return found

    def due_at(self, department: str, category: str | None, opened_at: dt.datetime) -> dt.datetime | None:
        rule = self.rule_for(department, category)
        if rule is None:
            return None
        days, kind = rule
        if kind is DayKind.calendar:
            return opened_at + dt.timedelta(days=days)
        local = opened_at.astimezone(self.zone)
        # The API refuses fractional business days; a fraction stored some other way counts as a whole day.
        due_day = self.add_business_days(local.date(), math.ceil(days))
        return dt.datetime.combine(due_day, local.time().replace(tzinfo=None), tzinfo=self.zone).astimezone(dt.UTC)


# --- the API's shapes --------------------------------------------------------------------------------------------

Category = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class SlaRulePut(BaseModel):
    """How long a category of record may take; `department` "" (or left out) is the citywide rule."""

    model_config = INPUT_CONFIG
    department: Annotated[str, StringConstraints(pattern=f"{CODE_PATTERN}|^$")] = ""
    category: Category
    day_kind: DayKind = DayKind.calendar
    days: FiniteFloat = Field(ge=0, le=MAX_SLA_DAYS)

    @field_validator("days")
    @classmethod
    def _whole_business_days(cls, days: float, info) -> float:  # noqa: ANN001 - pydantic's ValidationInfo
        if info.data.get("day_kind") is DayKind.business and days != int(days):
            raise ValueError("business days are counted whole: use a whole number, or calendar days for fractions")
        return days


class SlaRulePublic(BaseModel):
    dataset: str
    department: str
    category: str
    days: float
    day_kind: DayKind
    created_by: str
    updated_at: dt.datetime


class HolidayPut(BaseModel):
    model_config = INPUT_CONFIG
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class HolidayPublic(BaseModel):
    day: dt.date
    name: str


# --- the API's operations ----------------------------------------------------------------------------------------


def get_dataset(session: Session, key: str) -> str:
    """The dataset's key, or 404. The built-in service requests always exist."""
    if key != SERVICE_REQUESTS and session.get(Dataset, key) is None:
        raise NotFound(f"There is no dataset '{key}'.")
    return key


def _office_only(actor: Principal, what: str) -> None:
    if not actor.is_performance_office:
        raise Forbidden(f"Only the performance office (analysts, administrators) may {what}.")


def _rule_public(rule: SlaRule) -> SlaRulePublic:
    return SlaRulePublic.model_validate(rule, from_attributes=True)


def list_rules(
    session: Session, dataset: str, page: PageParams, department: str | None = None
) -> tuple[list[SlaRulePublic], int]:
    get_dataset(session, dataset)
    query = select(SlaRule).where(SlaRule.dataset == dataset)
    if department is not None:
        query = query.where(SlaRule.department == department)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(SlaRule.category, SlaRule.department).offset(page.offset).limit(page.limit)
    ).all()
    return [_rule_public(row) for row in rows], total


def put_rule(session: Session, dataset: str, body: SlaRulePut, actor: Principal) -> tuple[SlaRulePublic, bool]:
    """Set a category's service level; whether the rule is new. Records loaded from now on use it."""
    _office_only(actor, "set service levels")
    get_dataset(session, dataset)
    known = select(Department.id).where(Department.code == body.department)
    if body.department and session.exec(known).first() is None:
        raise Unprocessable(
            f"No department has the code '{body.department}'.",
            errors=[{"field": "department", "reason": "unknown department"}],
        )
    rule = session.get(SlaRule, (dataset, body.department, body.category))
    created = rule is None
    before = None if rule is None else {"days": rule.days, "day_kind": str(rule.day_kind)}
    if rule is None:
        rule = SlaRule(dataset=dataset, department=body.department, category=body.category, days=body.days)
    rule.days = body.days
    rule.day_kind = body.day_kind
    rule.created_by = actor.actor
    rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    record(
        session,
        actor,
        "sla_rule.set",
        department=body.department or None,
        subject=f"{dataset}:{body.category}",
        detail={"before": before, "after": {"days": body.days, "day_kind": str(body.day_kind)}},
    )
    return _rule_public(rule), created


def delete_rule(session: Session, dataset: str, department: str, category: str, actor: Principal) -> None:
    _office_only(actor, "remove service levels")
    get_dataset(session, dataset)
    rule = session.get(SlaRule, (dataset, department, category))
    if rule is None:
        whose = f"{department}'s" if department else "the citywide"
        raise NotFound(f"{dataset} has no SLA rule for '{category}' in {whose} table.")
    detail = {"days": rule.days, "day_kind": str(rule.day_kind)}
    session.delete(rule)
    session.flush()
    subject = f"{dataset}:{category}"
    record(session, actor, "sla_rule.deleted", department=department or None, subject=subject, detail=detail)


def list_holidays(session: Session, page: PageParams, year: int | None = None) -> tuple[list[HolidayPublic], int]:
    query = select(Holiday)
    if year is not None:
        query = query.where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Holiday.day).offset(page.offset).limit(page.limit)).all()
    return [HolidayPublic(day=row.day, name=row.name) for row in rows], total


def put_holiday(session: Session, day: dt.date, name: str, actor: Principal) -> tuple[HolidayPublic, bool]:
    _office_only(actor, "keep the holiday calendar")
    holiday = session.get(Holiday, day)
    created = holiday is None
    before = None if holiday is None else holiday.name
    if holiday is None:
        holiday = Holiday(day=day, name=name)
    holiday.name = name
    session.add(holiday)
    session.flush()
    record(session, actor, "holiday.set", subject=day.isoformat(), detail={"before": before, "name": name})
    return HolidayPublic(day=holiday.day, name=holiday.name), created


def delete_holiday(session: Session, day: dt.date, actor: Principal) -> None:
    _office_only(actor, "keep the holiday calendar")
    holiday = session.get(Holiday, day)
    if holiday is None:
        raise NotFound(f"{day.isoformat()} is not in the holiday calendar.")
    name = holiday.name
    session.delete(holiday)
    session.flush()
    record(session, actor, "holiday.deleted", subject=day.isoformat(), detail={"name": name})
