"""What the demo city measures: Atlanta's departments and their metrics, 2013-2017.

Specs, not data: ``city.py`` turns each spec into a noisy monthly or quarterly series.
Levels, denominators and targets are sized to what a city of Atlanta's scale would
report, so that the demo reads like a real roundtable pack rather than random numbers.

The program around the departments is in ``programme.py`` (priorities, org units,
punctuality) and ``histories.py`` (revisions, retirements and proposals).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PROGRAMME_OFFICE = "Office of Innovation Delivery and Performance"
MAYOR = "Mayor Kasim Reed"
BASELINE = "Baseline agreed with the department when the metric was adopted, from its first months of data"


@dataclass(frozen=True)
class Raise:
    """A later target, typically the Mayor's direction in a Cabinet briefing."""

    effective_from: dt.date
    value: float
    tolerance: float
    reason: str
    set_by: str = MAYOR


@dataclass(frozen=True)
class MetricSpec:
    key: str
    name: str
    unit: str
    kind: str
    direction: str
    levels: tuple[float, float]  # trend level in the first period and in June 2017
    target: tuple[float, float]  # (value, tolerance) from the first period
    # The status June 2017 must show, so that the demo's latest roundtable has wins and problems.
    june: str
    methodology: str
    frequency: str = "month"
    start: str | None = None  # None: the month the department joined the program
    noise: float | None = None  # sd of the AR(1) noise: absolute for percent, relative to level otherwise
    season: tuple[float, int] = (0.0, 1)  # (amplitude, peak month)
    den: tuple[int, int] = (500, 500)  # percent only: cases the rate is over, first period and June 2017
    den_noise: float = 0.06
    decimals: int | None = None
    signed: bool = False  # a variance can be negative, so it has no lower bound
    basis: str = BASELINE
    raised: Raise | None = None
    pin_first: tuple[int, int] | None = None  # (numerator, denominator) the case study reports
    pin_last: tuple[int, int] | None = None
    gaps: tuple[str, ...] = ()  # periods the department never sent
    end: str | None = None  # the last period, for a metric retired before June 2017
    rollup: str | None = None  # None: the unit's usual roll-up


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    start: str  # month the department began reporting to the program
    metrics: tuple[MetricSpec, ...]


_DIRECTIONS = {"higher": "higher_is_better", "lower": "lower_is_better", "closer": "closer_is_better"}
_STATUSES = {"on": "on_target", "near": "near", "off": "off_target"}


def m(key, name, unit, kind, direction, levels, target, june, methodology, **options) -> MetricSpec:
    return MetricSpec(
        key, name, unit, kind, _DIRECTIONS[direction], levels, target, _STATUSES[june], methodology, **options
    )


def d(code: str, name: str, start: str, *metrics: MetricSpec) -> DepartmentSpec:
    return DepartmentSpec(code, name, start, metrics)


# Public Works, Police, Fire and Parks already tracked performance, so they start in January 2013
# (the case study's first wave); the others joined over the following years.
DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    d("DPW", "Department of Public Works", "2013-01",
      m("dpw.service_requests_on_time", "Service requests completed on time", "percent", "output", "higher",
        (0.57, 0.95), (0.90, 0.05), "on",
        "Service requests closed in the month on or before their service-level due date, divided by all "
        "requests closed in the month, from the ATL311 and DPW work-order systems.",
        start="2013-04", noise=0.015, den=(1000, 2000), pin_first=(570, 1000), pin_last=(1900, 2000)),
      m("dpw.potholes_repaired", "Potholes repaired", "count", "output", "higher",
        (700, 1150), (1000, 100), "on",
        "Pothole work orders closed as repaired during the month, whichever channel reported them.",
        season=(0.25, 3)),
      m("dpw.pothole_repair_days", "Average days to repair a pothole", "days", "output", "lower",
        (6.5, 2.1), (3.0, 0.5), "on",
        "Mean calendar days from a pothole request's creation to its repair, for repairs closed that month."),
      m("dpw.streetlight_repair_days", "Average days to repair a streetlight outage", "days", "output",
        "lower",
        (21.0, 10.5), (7.0, 2.0), "off",
        "Mean calendar days from an outage report to the light burning again, including Georgia Power "
        "hand-offs; bucket-truck availability drives most of the delay."),
      m("dpw.solid_waste_tons", "Residential solid waste collected", "tons", "output", "lower",
        (10500, 9800), (10000, 400), "on",
        "Tons of residential garbage delivered to the landfill by City crews, from scale-house tickets.",
        season=(0.08, 7), noise=0.03),
      m("dpw.recycling_diversion_rate", "Residential recycling diversion rate", "percent", "outcome",
        "higher", (0.11, 0.185), (0.20, 0.02), "near",
        "Tons of curbside recycling divided by tons of recycling plus garbage collected from residences.",
        noise=0.008, den=(11500, 11800)),
      m("dpw.missed_collections", "Missed residential collections reported", "count", "output", "lower",
        (950, 420), (500, 60), "on",
        "ATL311 requests for a missed garbage, recycling or yard-waste pickup created in the month.",
        season=(0.12, 7)),
      ),
    d("DWM", "Department of Watershed Management", "2014-01",
      m("dwm.service_requests_on_time", "Service requests completed on time", "percent", "output", "higher",
        (0.50, 0.91), (0.80, 0.05), "on",
        "Water, sewer and billing service requests closed within their service-level time, divided by all "
        "requests closed in the month, from the Hansen work-order system.",
        noise=0.015, den=(1000, 1300), pin_first=(500, 1000), pin_last=(1183, 1300),
        raised=Raise(dt.date(2016, 7, 1), 0.90, 0.03,
                     "Mayor's direction at the June 2016 Cabinet briefing: 90% of Watershed requests on time "
                     "by the end of the year, as Public Works had done")),
      m("dwm.water_main_breaks", "Water main breaks", "count", "outcome", "lower",
        (95, 70), (80, 10), "on",
        "Confirmed breaks on distribution mains reported in the month; service-line leaks are excluded.",
        season=(0.35, 1), noise=0.1),
      m("dwm.main_break_restore_hours", "Average hours to restore service after a main break", "hours",
        "output", "lower", (30.0, 14.0), (12.0, 3.0), "near",
        "Mean hours from the first report of a main break to water service being restored to all customers."),
      m("dwm.sewer_overflows", "Sanitary sewer overflows", "count", "outcome", "lower",
        (14, 7), (8, 2), "on",
        "Sanitary sewer overflows reported to Georgia EPD under the consent decree during the month.",
        season=(0.3, 8), noise=0.15),
      m("dwm.actual_meter_reads", "Water bills from actual meter reads", "percent", "output", "higher",
        (0.82, 0.97), (0.95, 0.02), "on",
        "Bills issued in the month from a meter reading rather than an estimate, divided by all bills.",
        noise=0.01, den=(150000, 155000), den_noise=0.01),
      m("dwm.non_revenue_water", "Non-revenue water", "percent", "outcome", "lower",
        (0.34, 0.275), (0.25, 0.03), "near",
        "Million gallons produced at the treatment plants but not billed, divided by gallons produced.",
        frequency="quarter", noise=0.008, den=(8600, 8400), den_noise=0.03),
      ),
    d("APD", "Atlanta Police Department", "2013-01",
      m("apd.part1_crimes", "Part I crimes reported", "count", "outcome", "lower",
        (2700, 2050), (2200, 150), "on",
        "UCR Part I offences (homicide, rape, robbery, aggravated assault, burglary, larceny, auto theft) "
        "reported in the month.", season=(0.1, 7), noise=0.04),
      m("apd.violent_crimes", "Violent crimes reported", "count", "outcome", "lower",
        (380, 335), (320, 30), "near",
        "UCR Part I violent offences (homicide, rape, robbery, aggravated assault) reported in the month.",
        season=(0.12, 7)),
      m("apd.priority1_response_minutes", "Average response time to Priority 1 calls", "minutes", "output",
        "lower", (10.5, 9.2), (8.0, 0.5), "off",
        "Mean minutes from call entry in CAD to the first officer's arrival, for Priority 1 "
        "(life-threatening) calls dispatched in the month.", noise=0.03),
      m("apd.e911_answered_10s", "911 calls answered within 10 seconds", "percent", "output", "higher",
        (0.78, 0.93), (0.90, 0.05), "on",
        "E911 calls answered within 10 seconds of the first ring, divided by all E911 calls presented, from "
        "the phone system.", den=(95000, 105000)),
      m("apd.arrests", "Arrests made", "count", "output", "higher",
        (2900, 2750), (3000, 200), "near",
        "Adult and juvenile custodial arrests booked in the month, from the records management system.",
        end="2014-05"),
      m("apd.sworn_officers", "Sworn officers on staff", "count", "output", "higher",
        (1860, 1960), (2000, 50), "near",
        "Sworn officers on the payroll on the last day of the month, excluding recruits in the academy.",
        noise=0.005, basis="Mayor's commitment to a force of 2,000 sworn officers", rollup="last"),
      ),
    d("AFRD", "Atlanta Fire Rescue Department", "2013-01",
      m("afrd.fire_response_on_time", "Fire emergencies reached within 9 minutes", "percent", "output",
        "higher", (0.72, 0.87), (0.80, 0.05), "near",
        "Fire emergency incidents where the first engine arrived within 8 minutes 59 seconds of dispatch, "
        "divided by all fire emergency incidents in the month.", den=(1900, 2100),
        raised=Raise(dt.date(2015, 7, 1), 0.90, 0.05,
                     "Mayor's direction at the June 2015 Cabinet briefing, after station ride-alongs showed "
                     "turnout delays: 90% of fire emergencies reached within 9 minutes")),
      m("afrd.turnout_minutes", "Average turnout time", "minutes", "output", "lower",
        (1.9, 1.15), (1.33, 0.17), "on",
        "Mean minutes from alarm at the station to the apparatus leaving, from station alerting logs.",
        decimals=2, noise=0.04, basis="NFPA 1710 turnout standard of 80 seconds"),
      m("afrd.ems_response_on_time", "EMS calls reached within 9 minutes", "percent", "output", "higher",
        (0.76, 0.875), (0.90, 0.05), "near",
        "Medical calls where the first AFRD unit arrived within 8 minutes 59 seconds of dispatch, divided "
        "by all medical calls in the month.", den=(5200, 6000)),
      m("afrd.structure_fires", "Structure fires", "count", "outcome", "lower",
        (85, 70), (75, 10), "on",
        "Incidents coded as structure fires (NFIRS 110-129) in the month.", season=(0.25, 1), noise=0.1),
      m("afrd.inspections_completed", "Fire safety inspections completed", "count", "output", "higher",
        (1300, 1900), (1800, 150), "on",
        "Commercial and multifamily fire code inspections completed by the Fire Marshal's office."),
      ),
    d("DPR", "Department of Parks and Recreation", "2013-01",
      m("dpr.recreation_center_visits", "Recreation center visits", "count", "outcome", "higher",
        (52000, 71000), (60000, 5000), "on",
        "Card-swipe and sign-in visits at the City's 33 recreation centers during the month.",
        season=(0.25, 7)),
      m("dpr.work_orders_on_time", "Park maintenance work orders completed on time", "percent", "output",
        "higher", (0.64, 0.89), (0.85, 0.05), "on",
        "Park maintenance work orders closed within their priority's due time, divided by all closed.",
        den=(600, 750)),
      m("dpr.mowing_cycle", "Parks mowed within the 14-day cycle", "percent", "output", "higher",
        (0.70, 0.80), (0.90, 0.05), "off",
        "Park mowing zones cut within 14 days of their previous cut during the growing season, divided by "
        "all zones on the schedule.", den=(380, 380), den_noise=0.0),
      m("dpr.youth_enrollment", "Youth enrolled in afterschool and camp programs", "count", "output",
        "higher", (2400, 3600), (3000, 300), "on",
        "Distinct children enrolled in at least one afterschool or summer camp session in the month.",
        season=(0.3, 7)),
      ),
    d("DPCD", "Department of Planning and Community Development", "2013-07",
      m("dpcd.building_permits_issued", "Building permits issued", "count", "output", "higher",
        (640, 820), (700, 60), "on",
        "New construction, addition and alteration permits issued by the Office of Buildings in the month.",
        season=(0.1, 5)),
      m("dpcd.residential_review_days", "Average days to review residential plans", "days", "output", "lower",
        (18.0, 7.5), (10.0, 2.0), "on",
        "Mean business days from a complete residential application to the first review decision."),
      m("dpcd.commercial_review_days", "Average days to review commercial plans", "days", "output", "lower",
        (42.0, 31.0), (21.0, 5.0), "off",
        "Mean business days from a complete commercial application to the first review decision, across "
        "all disciplines."),
      m("dpcd.inspections_next_day", "Building inspections performed the next business day", "percent",
        "output", "higher", (0.71, 0.93), (0.90, 0.05), "on",
        "Inspections performed on or before the business day after the request, divided by all performed.",
        den=(4200, 5600)),
      ),
    d("DOC", "Department of Corrections", "2013-07",
      m("doc.average_daily_population", "Average daily detainee population", "count", "outcome", "lower",
        (930, 640), (700, 50), "on",
        "Mean of the midnight head counts at the Atlanta City Detention Center over the month.", rollup="mean"),
      m("doc.bookings", "Detainees booked", "count", "output", "lower",
        (2900, 2050), (2200, 200), "on",
        "Bookings processed at intake in the month, including re-bookings on new charges."),
      m("doc.incidents", "Reportable detainee incidents", "count", "outcome", "lower",
        (24, 13), (15, 3), "on",
        "Assaults, medical emergencies and use-of-force events recorded in the jail management system.",
        noise=0.15),
      m("doc.overtime_hours", "Officer overtime hours", "hours", "output", "lower",
        (14500, 9800), (10000, 1000), "on",
        "Overtime hours paid to detention officers for the month, from payroll.", decimals=0,
        gaps=("2015-11",)),
      ),
    d("DOA", "Department of Aviation", "2013-07",
      m("doa.passengers", "Passengers through Hartsfield-Jackson", "count", "outcome", "higher",
        (7900000, 8700000), (8300000, 200000), "on",
        "Enplaned plus deplaned passengers reported by the airlines for the month.",
        season=(0.08, 7), noise=0.015),
      m("doa.checkpoint_wait_minutes", "Average security checkpoint wait", "minutes", "outcome", "lower",
        (14.5, 17.0), (15.0, 3.0), "near",
        "Mean minutes from joining the queue to clearing screening, from Bluetooth sensors at the main "
        "checkpoints.", season=(0.1, 7)),
      m("doa.on_time_departures", "Flights departing on time", "percent", "outcome", "higher",
        (0.79, 0.84), (0.80, 0.03), "on",
        "Scheduled departures leaving the gate within 15 minutes of schedule, divided by all scheduled "
        "departures, from BTS on-time data.", noise=0.012, season=(0.02, 11), den=(35000, 37000)),
      m("doa.concession_revenue", "Concessions revenue to the City", "dollars", "output", "higher",
        (4200000, 5600000), (5000000, 300000), "on",
        "Percentage rent and minimum annual guarantees from food, beverage and retail concessionaires.",
        season=(0.08, 7), noise=0.03),
      ),
    d("DOF", "Department of Finance", "2014-01",
      m("dof.invoices_paid_30_days", "Vendor invoices paid within 30 days", "percent", "output", "higher",
        (0.68, 0.87), (0.90, 0.05), "near",
        "Invoices paid within 30 days of receipt in Oracle, divided by all invoices paid in the month.",
        den=(9000, 9500)),
      m("dof.general_fund_variance", "General fund spending against budget", "dollars", "outcome", "closer",
        (-3200000, -600000), (0, 1500000), "on",
        "Year-to-date general fund expenditures minus the year-to-date allotment; negative means under "
        "budget. Both overspending and unspent allotments are off plan.", signed=True, noise=0.25,
        basis="Budget office policy: year-to-date spending within $1.5M of allotment", rollup="last"),
      m("dof.days_to_close", "Days to close the monthly books", "days", "output", "lower",
        (24.0, 9.0), (10.0, 2.0), "on",
        "Business days from month end until the Controller closes the period in the general ledger."),
      ),
    d("DHR", "Department of Human Resources", "2014-01",
      m("dhr.days_to_fill", "Average days to fill a vacancy", "days", "output", "lower",
        (96.0, 74.0), (60.0, 10.0), "off",
        "Mean calendar days from requisition approval to the new hire's start date, for hires in the month."),
      m("dhr.vacancy_rate", "Budgeted positions vacant", "percent", "outcome", "lower",
        (0.12, 0.087), (0.08, 0.01), "near",
        "Vacant budgeted full-time positions on the last day of the month, divided by budgeted positions.",
        noise=0.003, den=(7900, 8100), den_noise=0.005),
      m("dhr.turnover_rate", "Employee turnover", "percent", "outcome", "lower",
        (0.041, 0.032), (0.035, 0.005), "on",
        "Separations in the quarter, voluntary and involuntary, divided by the average head count.",
        frequency="quarter", noise=0.003, den=(7600, 7800), den_noise=0.01),
      m("dhr.employees_trained", "Employees completing required training", "count", "output", "higher",
        (300, 520), (450, 50), "on",
        "Employees who completed a required course (ethics, safety, supervision) in the month."),
      ),
    d("DIM", "Department of Information Management", "2014-07",
      m("dim.systems_availability", "Core systems availability", "percent", "output", "higher",
        (0.985, 0.997), (0.995, 0.003), "on",
        "Service-hours the monitored core systems were up, divided by scheduled service-hours, excluding "
        "announced maintenance windows.", noise=0.002, den=(29760, 29760), den_noise=0.02),
      m("dim.first_contact_resolution", "Help desk tickets resolved on first contact", "percent", "output",
        "higher", (0.52, 0.72), (0.70, 0.05), "on",
        "Help desk tickets closed during the first call or chat, divided by all tickets opened.",
        den=(3900, 4300)),
      m("dim.tickets_on_time", "IT service tickets resolved within service level", "percent", "output",
        "higher", (0.74, 0.82), (0.90, 0.05), "off",
        "Tickets resolved within the time their priority allows, divided by all tickets resolved.",
        den=(3900, 4300)),
      ),
    d("LAW", "Department of Law", "2014-07",
      m("law.open_records_on_time", "Open records requests answered within three business days", "percent",
        "output", "higher", (0.61, 0.93), (0.95, 0.05), "near",
        "Requests under the Georgia Open Records Act answered or given a production schedule within three "
        "business days, divided by all requests received.", den=(180, 260),
        basis="Georgia Open Records Act three-business-day deadline"),
      m("law.claims_resolved", "Claims against the City resolved", "count", "output", "higher",
        (45, 62), (55, 8), "on",
        "Liability and property-damage claims closed by payment, denial or settlement in the month.",
        noise=0.1, gaps=("2016-02",)),
      m("law.contract_review_days", "Average days to review a contract", "days", "output", "lower",
        (16.0, 6.2), (7.0, 2.0), "on",
        "Mean business days from a department's submission of a contract to Law's approval for signature."),
      ),
    d("DOP", "Department of Procurement", "2014-07",
      m("dop.requisition_to_po_days", "Average days from requisition to purchase order", "days", "output",
        "lower", (38.0, 17.0), (15.0, 3.0), "near",
        "Mean business days from an approved requisition to an issued purchase order, for orders issued."),
      m("dop.ebo_participation", "Contract spending with minority and female-owned firms", "percent",
        "outcome", "higher", (0.29, 0.345), (0.33, 0.03), "on",
        "Dollars paid to certified minority and female business enterprises, divided by all dollars paid on "
        "eligible contracts.", noise=0.01, den=(28000000, 30000000), den_noise=0.1),
      m("dop.solicitations_awarded", "Solicitations awarded", "count", "output", "higher",
        (18, 27), (22, 4), "on",
        "Competitive solicitations (bids and proposals) awarded by the Chief Procurement Officer.",
        noise=0.12),
      ),
    d("MCA", "Municipal Court of Atlanta", "2014-01",
      m("mca.cases_disposed_90_days", "Cases disposed within 90 days", "percent", "output", "higher",
        (0.66, 0.87), (0.85, 0.05), "on",
        "Traffic and ordinance cases disposed within 90 days of filing, divided by all cases disposed.",
        den=(9500, 8200)),
      m("mca.cases_per_session", "Average cases calendared per courtroom session", "count", "output",
        "closer", (148, 124), (120, 15), "on",
        "Cases on the calendar divided by courtroom sessions held; too many means long waits for "
        "defendants, too few means idle courtrooms.", noise=0.04, rollup="mean"),
      m("mca.fines_collected", "Fines and fees collected", "dollars", "outcome", "higher",
        (2100000, 2450000), (2400000, 150000), "on",
        "Fines, fees and surcharges receipted by the Court in the month, before distribution to the State."),
      m("mca.failure_to_appear", "Defendants failing to appear", "percent", "outcome", "lower",
        (0.31, 0.215), (0.20, 0.03), "near",
        "Scheduled defendants who missed their arraignment, divided by all scheduled arraignments.",
        den=(7000, 6200)),
      ),
    d("ATL311", "ATL311 Customer Service", "2013-10",
      m("atl311.calls_answered_60s", "Calls answered within 60 seconds", "percent", "output", "higher",
        (0.55, 0.77), (0.80, 0.05), "off",
        "Calls answered by an agent within 60 seconds of entering the queue, divided by calls offered.",
        den=(38000, 42000), season=(0.04, 1),
        raised=Raise(dt.date(2016, 1, 1), 0.85, 0.05,
                     "Mayor's direction at the December 2015 Cabinet briefing: answer 85% of calls within a "
                     "minute in 2016")),
      m("atl311.average_speed_answer", "Average speed of answer", "minutes", "output", "lower",
        (3.4, 1.1), (1.0, 0.25), "near",
        "Mean minutes callers wait in the queue before an agent answers, from the call distributor.",
        decimals=2),
      m("atl311.abandonment_rate", "Calls abandoned", "percent", "output", "lower",
        (0.19, 0.06), (0.08, 0.02), "on",
        "Callers who hung up after 10 seconds in the queue, divided by calls offered.", noise=0.01,
        den=(38000, 42000)),
      m("atl311.first_contact_resolution", "Inquiries resolved on first contact", "percent", "outcome",
        "higher", (0.58, 0.74), (0.70, 0.05), "on",
        "Information requests answered on the first call without a work order or call-back, divided by all "
        "information requests.", den=(21000, 24000)),
      ),
    d("OHCD", "Office of Housing and Community Development", "2014-07",
      m("ohcd.down_payment_loans", "Down payment assistance loans closed", "count", "output", "higher",
        (9, 16), (12, 3), "on",
        "Down payment assistance loans to first-time homebuyers closed in the month.", noise=0.2),
      m("ohcd.homeless_housed", "Homeless individuals placed in permanent housing", "count", "outcome",
        "higher", (55, 96), (90, 10), "on",
        "Individuals moved from the street or shelter into permanent supportive housing, from the HMIS "
        "records of City-funded providers.", noise=0.08),
      m("ohcd.homes_repaired", "Owner-occupied homes repaired", "count", "output", "higher",
        (18, 34), (30, 5), "on",
        "Owner-occupied homes whose emergency or code repairs were completed with City funds.",
        frequency="quarter", noise=0.1),
      ),
    d("OCE", "Office of Code Enforcement", "2014-01",
      m("oce.complaints_inspected_on_time", "Complaints inspected within five business days", "percent",
        "output", "higher", (0.48, 0.83), (0.85, 0.05), "near",
        "Housing and commercial code complaints first inspected within five business days of receipt, "
        "divided by all complaints inspected.", den=(900, 1050)),
      m("oce.cases_brought_into_compliance", "Cases brought into compliance", "count", "outcome", "higher",
        (280, 410), (400, 40), "on",
        "Code cases closed because the owner corrected the violations, without demolition or a court order."),
      m("oce.blighted_structures_demolished", "Blighted structures demolished", "count", "output", "higher",
        (12, 30), (40, 6), "off",
        "Vacant, unsafe structures demolished under In Rem orders in the quarter.", frequency="quarter",
        noise=0.12),
      ),
    d("OOS", "Mayor's Office of Sustainability", "2014-07",
      m("oos.municipal_emissions", "Greenhouse gas emissions from City operations", "tons", "outcome",
        "lower", (118000, 102500), (100000, 5000), "near",
        "Metric tons of CO2-equivalent from City buildings, fleet and water plants, from utility bills and "
        "fuel purchases.", frequency="quarter", season=(0.06, 8), noise=0.02, decimals=0),
      m("oos.building_energy_cost", "Energy spending in City-owned buildings", "dollars", "outcome", "lower",
        (1900000, 1620000), (1700000, 100000), "on",
        "Electricity and natural gas bills for City-owned buildings, excluding the airport and water plants.",
        season=(0.15, 8), noise=0.03),
      m("oos.led_streetlights", "Streetlights converted to LED", "count", "output", "higher",
        (80, 440), (400, 60), "on",
        "Streetlight heads replaced with LED fixtures in the month, from the contractor's install log."),
      ),
    d("OEP", "Office of Emergency Preparedness", "2015-01",
      m("oep.sirens_operational", "Outdoor warning sirens passing the monthly test", "percent", "output",
        "higher", (0.86, 0.97), (0.95, 0.03), "on",
        "Sirens that sounded and reported back during the first-Wednesday test, divided by sirens installed.",
        den=(62, 64), den_noise=0.0),
      m("oep.staff_trained", "Staff trained in incident command", "count", "output", "higher",
        (20, 65), (50, 10), "on",
        "City employees completing ICS/NIMS courses taught or sponsored by the office."),
      m("oep.exercises_conducted", "Emergency exercises conducted", "count", "output", "higher",
        (1, 4), (3, 1), "on",
        "Tabletop, functional and full-scale exercises involving at least two departments.",
        frequency="quarter", noise=0.2),
      ),
    d("AWDA", "Atlanta Workforce Development Agency", "2014-01",
      m("awda.job_placements", "Residents placed in jobs", "count", "outcome", "higher",
        (95, 160), (150, 15), "on",
        "Program participants who started unsubsidized employment in the month, from the state WIOA system."),
      m("awda.average_placement_wage", "Average hourly wage at placement", "dollars", "outcome", "higher",
        (11.2, 13.8), (14.0, 0.5), "near",
        "Mean starting hourly wage of participants placed in jobs in the month.", decimals=2, noise=0.02,
        rollup="mean"),
      m("awda.training_completion", "Participants completing occupational training", "percent", "outcome",
        "higher", (0.61, 0.74), (0.75, 0.05), "near",
        "Participants who finished their training program with a credential, divided by all who exited "
        "training in the month.", den=(140, 190)),
      ),
)
