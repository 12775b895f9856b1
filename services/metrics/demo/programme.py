"""The program around the demo's departments: citywide priorities and key metrics, outputs linked to the
outcomes they drive, org units with weekly front-line metrics, how punctually each department sends its
values. Definitions revised or retired over the years and proposals under discussion are in
``histories.py``. Specs, not data, like ``catalogue.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.metrics.demo.catalogue import BASELINE

# ----------------------------------------------------------------------------------------------------------------
# Who takes part: the names the demo's staff accounts carry (services/ingest/accounts/demo.py), so that a
# revision or a comment signed "DPW Head" is the account a visitor signs in as.
# ----------------------------------------------------------------------------------------------------------------

ANALYST = "Performance Office Analyst"


def head_of(code: str) -> str:
    return f"{code} Head"


def liaison_of(code: str) -> str:
    return f"{code} Liaison"


# ----------------------------------------------------------------------------------------------------------------
# Citywide priorities, the metrics aligned to them, and the outputs that drive outcomes
# ----------------------------------------------------------------------------------------------------------------


# When the Mayor's office set the citywide priorities, before the first departments joined the program.
PRIORITIES_ADOPTED = dt.datetime(2012, 10, 15, 15, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class PrioritySpec:
    code: str
    name: str
    description: str
    key_metrics: tuple[str, ...]  # the one to three that matter most; each is also aligned in ALIGNMENT


PRIORITIES: tuple[PrioritySpec, ...] = (
    PrioritySpec(
        "public_safety",
        "Public safety",
        "A safe city: fewer crimes and fires, and help that arrives fast when residents call.",
        ("apd.part1_crimes", "apd.violent_crimes", "afrd.fire_response_on_time"),
    ),
    PrioritySpec(
        "infrastructure",
        "Infrastructure",
        "Streets, water and sewers that work: repairs made on time and the systems kept up.",
        ("dpw.service_requests_on_time", "dwm.service_requests_on_time", "dwm.water_main_breaks"),
    ),
    PrioritySpec(
        "economic_performance",
        "Economic performance",
        "Jobs and investment: permits that do not hold builders back, an airport that moves people, residents "
        "placed in work.",
        ("awda.job_placements", "doa.passengers", "dpcd.building_permits_issued"),
    ),
    PrioritySpec(
        "responsive_government",
        "Efficient and responsive government",
        "Residents answered quickly, vendors paid on time, the budget kept and positions filled.",
        ("atl311.calls_answered_60s", "dof.general_fund_variance", "dhr.days_to_fill"),
    ),
    PrioritySpec(
        "neighborhoods",
        "Quality of life in neighborhoods",
        "Clean and lively neighborhoods: parks and recreation, housing, code enforcement and collection.",
        ("ohcd.homeless_housed", "oce.cases_brought_into_compliance", "dpr.recreation_center_visits"),
    ),
)

_SAFETY, _INFRA, _ECONOMY, _GOVERNMENT, _HOODS = (p.code for p in PRIORITIES)

# Every metric of the demo, proposals and retired ones included, with the one or two priorities it serves.
ALIGNMENT: dict[str, tuple[str, ...]] = {
    "dpw.service_requests_on_time": (_INFRA, _GOVERNMENT),
    "dpw.potholes_repaired": (_INFRA,),
    "dpw.pothole_repair_days": (_INFRA,),
    "dpw.streetlight_repair_days": (_INFRA, _SAFETY),
    "dpw.solid_waste_tons": (_HOODS,),
    "dpw.recycling_diversion_rate": (_HOODS,),
    "dpw.missed_collections": (_HOODS, _GOVERNMENT),
    "dpw.potholes_repaired_weekly": (_INFRA,),
    "dpw.street_blocks_resurfaced": (_INFRA, _HOODS),
    "dwm.service_requests_on_time": (_INFRA, _GOVERNMENT),
    "dwm.water_main_breaks": (_INFRA,),
    "dwm.main_break_restore_hours": (_INFRA,),
    "dwm.sewer_overflows": (_INFRA, _HOODS),
    "dwm.actual_meter_reads": (_GOVERNMENT,),
    "dwm.non_revenue_water": (_INFRA,),
    "dwm.drinking_water_samples_passed": (_INFRA, _SAFETY),
    "dwm.effluent_samples_in_limits": (_INFRA,),
    "dwm.sewer_segments_cleaned": (_INFRA,),
    "apd.part1_crimes": (_SAFETY,),
    "apd.violent_crimes": (_SAFETY,),
    "apd.priority1_response_minutes": (_SAFETY,),
    "apd.e911_answered_10s": (_SAFETY, _GOVERNMENT),
    "apd.arrests": (_SAFETY,),
    "apd.sworn_officers": (_SAFETY,),
    "apd.hotspot_patrol_hours": (_SAFETY,),
    "afrd.fire_response_on_time": (_SAFETY,),
    "afrd.turnout_minutes": (_SAFETY,),
    "afrd.ems_response_on_time": (_SAFETY,),
    "afrd.structure_fires": (_SAFETY,),
    "afrd.inspections_completed": (_SAFETY,),
    "dpr.recreation_center_visits": (_HOODS,),
    "dpr.work_orders_on_time": (_HOODS,),
    "dpr.mowing_cycle": (_HOODS,),
    "dpr.youth_enrollment": (_HOODS, _SAFETY),
    "dpcd.building_permits_issued": (_ECONOMY,),
    "dpcd.residential_review_days": (_ECONOMY,),
    "dpcd.commercial_review_days": (_ECONOMY,),
    "dpcd.inspections_next_day": (_ECONOMY,),
    "dpcd.permits_applied_online": (_ECONOMY, _GOVERNMENT),
    "doc.average_daily_population": (_SAFETY,),
    "doc.bookings": (_SAFETY,),
    "doc.incidents": (_SAFETY,),
    "doc.overtime_hours": (_GOVERNMENT,),
    "doa.passengers": (_ECONOMY,),
    "doa.checkpoint_wait_minutes": (_ECONOMY,),
    "doa.on_time_departures": (_ECONOMY,),
    "doa.concession_revenue": (_ECONOMY,),
    "dof.invoices_paid_30_days": (_GOVERNMENT, _ECONOMY),
    "dof.general_fund_variance": (_GOVERNMENT,),
    "dof.days_to_close": (_GOVERNMENT,),
    "dhr.days_to_fill": (_GOVERNMENT,),
    "dhr.vacancy_rate": (_GOVERNMENT,),
    "dhr.turnover_rate": (_GOVERNMENT,),
    "dhr.employees_trained": (_GOVERNMENT,),
    "dim.systems_availability": (_GOVERNMENT,),
    "dim.first_contact_resolution": (_GOVERNMENT,),
    "dim.tickets_on_time": (_GOVERNMENT,),
    "law.open_records_on_time": (_GOVERNMENT,),
    "law.claims_resolved": (_GOVERNMENT,),
    "law.contract_review_days": (_GOVERNMENT,),
    "dop.requisition_to_po_days": (_GOVERNMENT,),
    "dop.ebo_participation": (_ECONOMY,),
    "dop.solicitations_awarded": (_ECONOMY, _GOVERNMENT),
    "mca.cases_disposed_90_days": (_SAFETY, _GOVERNMENT),
    "mca.cases_per_session": (_GOVERNMENT,),
    "mca.fines_collected": (_GOVERNMENT,),
    "mca.failure_to_appear": (_SAFETY,),
    "atl311.calls_answered_60s": (_GOVERNMENT,),
    "atl311.average_speed_answer": (_GOVERNMENT,),
    "atl311.abandonment_rate": (_GOVERNMENT,),
    "atl311.first_contact_resolution": (_GOVERNMENT,),
    "ohcd.down_payment_loans": (_HOODS, _ECONOMY),
    "ohcd.homeless_housed": (_HOODS,),
    "ohcd.homes_repaired": (_HOODS,),
    "oce.complaints_inspected_on_time": (_HOODS,),
    "oce.cases_brought_into_compliance": (_HOODS,),
    "oce.blighted_structures_demolished": (_HOODS, _SAFETY),
    "oos.municipal_emissions": (_HOODS,),
    "oos.building_energy_cost": (_GOVERNMENT,),
    "oos.led_streetlights": (_INFRA, _HOODS),
    "oep.sirens_operational": (_SAFETY,),
    "oep.staff_trained": (_SAFETY,),
    "oep.exercises_conducted": (_SAFETY,),
    "awda.job_placements": (_ECONOMY,),
    "awda.average_placement_wage": (_ECONOMY,),
    "awda.training_completion": (_ECONOMY,),
    "awda.employer_job_orders": (_ECONOMY,),
}

# Outcome -> the outputs the departments control that were chosen because they lead to it.
DRIVERS: dict[str, tuple[str, ...]] = {
    "apd.part1_crimes": ("apd.priority1_response_minutes", "apd.sworn_officers", "apd.hotspot_patrol_hours"),
    "apd.violent_crimes": ("apd.priority1_response_minutes", "apd.e911_answered_10s"),
    "afrd.structure_fires": ("afrd.inspections_completed",),
    "doc.average_daily_population": ("doc.bookings",),
    "dwm.non_revenue_water": ("dwm.actual_meter_reads", "dwm.main_break_restore_hours"),
    "dwm.sewer_overflows": ("dwm.sewer_segments_cleaned",),
    "dop.ebo_participation": ("dop.solicitations_awarded",),
    "awda.job_placements": ("awda.employer_job_orders",),
    "dhr.vacancy_rate": ("dhr.days_to_fill",),
    "dof.general_fund_variance": ("doc.overtime_hours",),
    "oce.cases_brought_into_compliance": ("oce.complaints_inspected_on_time",),
    "dpr.recreation_center_visits": ("dpr.youth_enrollment", "dpr.work_orders_on_time"),
    "oos.municipal_emissions": ("oos.led_streetlights",),
    "dpw.recycling_diversion_rate": ("dpw.missed_collections",),
}


# ----------------------------------------------------------------------------------------------------------------
# Org units and their weekly front-line metrics
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgUnitSpec:
    code: str
    name: str
    kind: str  # division | facility | plant | yard | district
    parent: str | None = None


ORG_UNITS: dict[str, tuple[OrgUnitSpec, ...]] = {
    "DPW": (
        OrgUnitSpec("STREETS", "Office of Transportation: Street Maintenance", "division"),
        OrgUnitSpec("YARD-NORTH", "North Yard", "yard", "STREETS"),
        OrgUnitSpec("YARD-SOUTH", "South Yard", "yard", "STREETS"),
        OrgUnitSpec("YARD-EAST", "East Yard", "yard", "STREETS"),
        OrgUnitSpec("YARD-WEST", "West Yard", "yard", "STREETS"),
    ),
    "DWM": (
        OrgUnitSpec("DRINKING-WATER", "Office of Drinking Water", "division"),
        OrgUnitSpec("HEMPHILL", "Hemphill Water Treatment Plant", "plant", "DRINKING-WATER"),
        OrgUnitSpec("CHATTAHOOCHEE", "Chattahoochee Water Treatment Plant", "plant", "DRINKING-WATER"),
        OrgUnitSpec("WASTEWATER", "Office of Wastewater Treatment", "division"),
        OrgUnitSpec("RM-CLAYTON", "R. M. Clayton Water Reclamation Center", "plant", "WASTEWATER"),
        OrgUnitSpec("SOUTH-RIVER", "South River Water Reclamation Center", "plant", "WASTEWATER"),
        OrgUnitSpec("UTOY-CREEK", "Utoy Creek Water Reclamation Center", "plant", "WASTEWATER"),
        OrgUnitSpec("INTRENCHMENT", "Intrenchment Creek Water Reclamation Center", "plant", "WASTEWATER"),
    ),
}


@dataclass(frozen=True)
class UnitLoad:
    code: str
    # A count: the unit's usual share of the department's work. A rate: the samples it is over in a week.
    weight: float
    offset: float = 0.0  # a rate: how far the unit usually sits from the department's level


@dataclass(frozen=True)
class WeeklySpec:
    """A front-line metric each org unit reports weekly; the department's value is their roll-up."""

    key: str
    name: str
    unit: str  # "count" (units add up) or "percent" (the ratio of the units' summed numerators and denominators)
    kind: str
    direction: str
    target: tuple[float, float]
    methodology: str
    units: tuple[UnitLoad, ...]
    # A count: the monthly metric whose days the weeks are cut from, so that both tell the same story.
    split_of: str | None = None
    levels: tuple[float, float] = (0.0, 0.0)  # a rate: the department's level in the first week and the last
    noise: float = 0.0  # a rate: sd of each unit's AR(1) drift
    season: tuple[float, int] = (0.0, 1)
    start: str = "2016-W01"
    # The week holding June 30th: the week a June 2017 scorecard judges, sent by the demo's today.
    end: str = "2017-W26"
    basis: str = BASELINE


WEEKLY: dict[str, tuple[WeeklySpec, ...]] = {
    "DPW": (
        WeeklySpec(
            "dpw.potholes_repaired_weekly",
            "Potholes repaired each week, by yard",
            "count",
            "output",
            "higher_is_better",
            (230, 25),
            "Pothole work orders closed as repaired during the ISO week (Monday to Sunday) by each street "
            "maintenance yard's crews; the yards add up to the department.",
            units=(
                UnitLoad("YARD-NORTH", 0.30),
                UnitLoad("YARD-SOUTH", 0.24),
                UnitLoad("YARD-EAST", 0.20),
                UnitLoad("YARD-WEST", 0.26),
            ),
            split_of="dpw.potholes_repaired",
            noise=0.08,
        ),
    ),
    "DWM": (
        WeeklySpec(
            "dwm.drinking_water_samples_passed",
            "Drinking water samples meeting standards",
            "percent",
            "output",
            "higher_is_better",
            (0.995, 0.005),
            "Finished-water samples (turbidity, chlorine residual, pH, fluoride, coliform) taken at each drinking "
            "water plant during the week that met the Safe Drinking Water Act limits, divided by samples taken.",
            units=(UnitLoad("HEMPHILL", 126, -0.001), UnitLoad("CHATTAHOOCHEE", 84, 0.001)),
            levels=(0.993, 0.997),
            noise=0.002,
            season=(-0.002, 7),
        ),
        WeeklySpec(
            "dwm.effluent_samples_in_limits",
            "Treated wastewater samples within permit limits",
            "percent",
            "output",
            "higher_is_better",
            (0.99, 0.01),
            "Effluent samples (BOD, suspended solids, ammonia, phosphorus, E. coli, dissolved oxygen) taken at "
            "each water reclamation center during the week within its NPDES permit limits, divided by samples "
            "taken.",
            units=(
                UnitLoad("RM-CLAYTON", 84, -0.004),
                UnitLoad("SOUTH-RIVER", 70, 0.002),
                UnitLoad("UTOY-CREEK", 63, 0.001),
                UnitLoad("INTRENCHMENT", 42, -0.006),
            ),
            levels=(0.978, 0.991),
            noise=0.004,
            season=(-0.006, 2),
        ),
    ),
}


# ----------------------------------------------------------------------------------------------------------------
# When values arrive: most within the ten days allowed, some late, a few never
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Punctuality:
    late_share: float = 0.04  # share of months sent after their due date (more in the program's first years)
    late: tuple[tuple[str, int], ...] = ()  # (month, days after its end the values came), whatever the noise says
    missed: tuple[str, ...] = ()  # months the department never sent; its monthly values for them are gaps
    late_weeks: tuple[tuple[str, int], ...] = ()  # (week, days after its end the weekly values came)


DUE_DAYS = 10
PUNCTUALITY: dict[str, Punctuality] = {
    "DWM": Punctuality(0.03, late_weeks=(("2017-W10", 16),)),
    "DOC": Punctuality(0.12, late=(("2017-01", 23), ("2017-05", 12))),
    "DHR": Punctuality(0.10, late=(("2017-02", 17),)),
    "LAW": Punctuality(0.10),
    "MCA": Punctuality(0.08, late=(("2017-04", 14),)),
    "OHCD": Punctuality(0.12, late=(("2017-03", 19),)),
    "OEP": Punctuality(0.08, missed=("2017-03",)),
    "AWDA": Punctuality(0.10, late=(("2017-05", 15),), missed=("2017-04",)),
}
DEFAULT_PUNCTUALITY = Punctuality()
