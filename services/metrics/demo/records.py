"""The demo city's raw service requests: about a million for Public Works and Watershed Management over 2013 to
June 2017, generated so that the on-time rate computed from them is, month by month, the rate the demo's series
shows (57% to 95% for Public Works, 50% to 91% for Watershed): each month's closed requests are the series'
denominator times a multiplier, of which its numerator times the same multiplier met their due time."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import select

from services.common.auth import OPERATOR
from services.common.db import Database
from services.common.periods import Period
from services.common.settings import Settings
from services.metrics.definitions.models import Metric
from services.metrics.demo.model import DemoDepartment
from services.metrics.records.loader import LoadRequest, RecordLoader, finish_job, start_job
from services.metrics.records.models import SERVICE_REQUESTS, RecordImport
from services.metrics.records.normalize import Row
from services.metrics.records.profiles import CITYSTAT
from services.metrics.records.schemas import DatasetUpdate

ZONE = ZoneInfo("America/New_York")
# Requests per closed request of the demo series: 8 makes about a million in all.
FULL_MULTIPLIER = 8
COMPUTED_METRICS = {"DPW": "dpw.service_requests_on_time", "DWM": "dwm.service_requests_on_time"}
# Atlanta's twelve council districts, each with a centre inside the city (latitude, longitude).
DISTRICTS = {
    "1": (33.735, -84.380), "2": (33.760, -84.370), "3": (33.770, -84.420), "4": (33.735, -84.425),
    "5": (33.755, -84.335), "6": (33.800, -84.350), "7": (33.845, -84.375), "8": (33.830, -84.420),
    "9": (33.800, -84.455), "10": (33.720, -84.480), "11": (33.700, -84.500), "12": (33.690, -84.390),
}  # fmt: skip
CHANNELS = (("phone", 0.55), ("web", 0.25), ("mobile app", 0.15), ("walk-in", 0.05))
# Requests come in during the working day: weight per local hour, 0 to 23.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 13, 13, 12, 11, 12, 12, 11, 10, 8, 6, 5, 4, 3, 2, 1)


@dataclass(frozen=True)
class Category:
    name: str
    sla_days: float
    org_unit: str
    weight: float
    # Districts where this kind of request is most common (streetlight outages cluster on older circuits).
    hot_districts: tuple[str, ...] = ()


CATEGORIES: dict[str, tuple[Category, ...]] = {
    "DPW": (
        Category("Pothole", 3, "YARD-SOUTH", 0.26, ("10", "11", "12")),
        Category("Streetlight outage", 10, "STREETS", 0.14, ("3", "4", "10")),
        Category("Missed garbage pickup", 2, "YARD-NORTH", 0.22),
        Category("Bulk item pickup", 5, "YARD-EAST", 0.18),
        Category("Dead animal removal", 1, "YARD-WEST", 0.08),
        Category("Graffiti removal", 7, "STREETS", 0.12, ("2", "5")),
    ),
    "DWM": (
        Category("Water main break", 1, "DRINKING-WATER", 0.12, ("1", "12")),
        Category("Sewer backup", 2, "WASTEWATER", 0.18, ("3", "9")),
        Category("Billing dispute", 10, "DRINKING-WATER", 0.30),
        Category("Low water pressure", 5, "HEMPHILL", 0.15, ("7", "8")),
        Category("Meter repair", 7, "CHATTAHOOCHEE", 0.15),
        Category("Hydrant leak", 3, "RM-CLAYTON", 0.10),
    ),
}
# Requests still open at the end of the data, as a share of the last two months' volume.
OPEN_SHARE = 0.04


def expected_records(city: list[DemoDepartment], multiplier: int) -> int:
    total = 0
    for department in city:
        metric = _series(department)
        if metric is not None:
            closed = [int(o.denominator) * multiplier for o in metric.observations]
            total += sum(closed) + sum(int(n * OPEN_SHARE) for n in closed[-2:])
    return total


def _series(department: DemoDepartment):  # noqa: ANN202 - a DemoMetric or None
    key = COMPUTED_METRICS.get(department.code)
    return next((m for m in department.metrics if m.key == key), None)


def demo_service_requests(city: list[DemoDepartment], multiplier: int, seed: int = 2017) -> Iterator[Row]:
    """Every demo service request, department by department and month by month."""
    rng = random.Random(seed * 7919 + multiplier)
    hours = list(range(24))
    for department in city:
        metric = _series(department)
        if metric is None:
            continue
        categories = CATEGORIES[department.code]
        weights = [c.weight for c in categories]
        generator = _Generator(department.code, rng, hours)
        last_months = {o.period for o in metric.observations[-2:]}
        for observation in metric.observations:
            month = Period.parse(observation.period)
            on_time = int(observation.numerator) * multiplier
            closed = int(observation.denominator) * multiplier
            picks = rng.choices(categories, weights, k=closed)
            for index, category in enumerate(picks):
                yield generator.closed(month.start, category, index < on_time)
            if observation.period in last_months:
                for category in rng.choices(categories, weights, k=int(closed * OPEN_SHARE)):
                    yield generator.still_open(month.start, category)


class _Generator:
    def __init__(self, code: str, rng: random.Random, hours: list[int]) -> None:
        self.code = code
        self.rng = rng
        self.hours = hours
        self.number = 0

    def _place(self, category: Category) -> tuple[str, float, float]:
        rng = self.rng
        if category.hot_districts and rng.random() < 0.5:
            district = rng.choice(category.hot_districts)
        else:
            district = rng.choice(tuple(DISTRICTS))
        latitude, longitude = DISTRICTS[district]
        return district, round(latitude + rng.uniform(-0.02, 0.02), 5), round(longitude + rng.uniform(-0.02, 0.02), 5)

    def _row(self, category: Category, opened: dt.datetime, closed: dt.datetime | None) -> Row:
        self.number += 1
        district, latitude, longitude = self._place(category)
        channel = self.rng.choices(CHANNELS, (w for _, w in CHANNELS))[0][0] if self.rng.random() < 0.45 else "phone"
        due = opened + dt.timedelta(days=category.sla_days)
        return Row(
            row=self.number,
            record_id=f"{self.code}-{self.number:07d}",
            agency=self.code,
            agency_name=None,
            category=category.name,
            status="closed" if closed is not None else "open",
            opened_at=opened,
            closed_at=closed,
            due_at=due,
            org_unit=category.org_unit,
            district=district,
            latitude=latitude,
            longitude=longitude,
            source=channel,
            attributes=None,
        )

    def _local(self, first: dt.date, *, day_span: int) -> dt.datetime:
        rng = self.rng
        day = first + dt.timedelta(days=rng.randrange(day_span))
        hour = rng.choices(self.hours, HOUR_WEIGHTS)[0]
        local = dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=ZONE)
        return local.astimezone(dt.UTC)

    def closed(self, month_start: dt.date, category: Category, on_time: bool) -> Row:
        """A request closed in the month, on time or late against its category's service level. It came in at an
        hour of the working day where it can (the analytics by hour show the day's shape)."""
        rng = self.rng
        days_in_month = (month_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month_start
        closed = self._local(month_start, day_span=days_in_month.days)
        sla = category.sla_days
        taken = rng.uniform(0.05, 0.97) * sla if on_time else sla * rng.uniform(1.03, 1.6) + rng.uniform(0.1, 12.0)
        opened = closed - dt.timedelta(days=taken)
        local = opened.astimezone(ZONE)
        hour = rng.choices(self.hours, HOUR_WEIGHTS)[0]
        moved = local.replace(hour=hour, minute=rng.randrange(60)).astimezone(dt.UTC)
        # Kept only if the request still closes after it opened, on the same side of its due time.
        if moved < closed and ((closed - moved).total_seconds() <= sla * 86_400) == on_time:
            opened = moved
        return self._row(category, opened, closed)

    def still_open(self, month_start: dt.date, category: Category) -> Row:
        return self._row(category, self._local(month_start, day_span=28), None)


DEMO_IMPORT = "demo-service-requests"


def computed_rule(code: str) -> dict:
    """The demo's on-time metrics are computed: the rule that makes them, per org unit as well."""
    return {
        "dataset": "service_requests",
        "measure": "on_time_rate",
        "filters": {"department": [code], "category": [], "org_unit": []},
        "by_org_unit": True,
    }


def load_demo_records(
    db: Database,
    city: list[DemoDepartment],
    *,
    settings: Settings,
    multiplier: int = FULL_MULTIPLIER,
    progress: Callable[[int, int], None] | None = None,
) -> RecordImport:
    """Generate and load the demo's service requests as one import job, then compute the on-time metrics from
    them. Progress counts records generated and stored."""
    from services.metrics.records.compute import recompute
    from services.metrics.records.service import update_dataset

    total = expected_records(city, multiplier)
    request = LoadRequest(DEMO_IMPORT, "service_requests", "citystat", CITYSTAT, None, False, "operator")
    start_job(db, request, total)
    counter = {"rows": 0}

    def rows() -> Iterator[Row]:
        for row in demo_service_requests(city, multiplier):
            counter["rows"] += 1
            yield row

    def position() -> int:
        if progress is not None:
            progress(counter["rows"], total)
        return counter["rows"]

    loader = RecordLoader(db, request, settings.time_zone, settings.bulk_chunk_rows)
    loader.load(rows(), position)
    recomputed = {}
    with db.session() as session:
        # The demo city publishes its 311 requests as open data (never their attributes), as Atlanta does.
        update_dataset(session, OPERATOR, SERVICE_REQUESTS, DatasetUpdate(is_published=True))
        for code, key in COMPUTED_METRICS.items():
            metric = session.exec(select(Metric).where(Metric.key == key)).first()
            if metric is not None and any(d.code == code for d in city):
                result = recompute(session, metric, None, force=True, settings=settings)
                recomputed[key] = result.model_dump(mode="json")
    return finish_job(db, DEMO_IMPORT, recomputed=recomputed)
