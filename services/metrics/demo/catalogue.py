"""What the demo city measures: Atlanta's departments and their metrics, 2013-2017.

Specs, not data: ``city.py`` turns each spec into a noisy monthly or quarterly series.
Levels, denominators and targets are sized to what a city of Atlanta's scale would
report, so that the demo reads like a real roundtable pack rather than random numbers.

After the departments come the rest of the program around them: citywide priorities and
key metrics, outputs linked to the outcomes they drive, org units with weekly front-line
metrics, how punctually each department sends its values, definitions revised or retired
over the years, and proposals still being discussed with their departments.
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
        "public_safety", "Public safety",
        "A safe city: fewer crimes and fires, and help that arrives fast when residents call.",
        ("apd.part1_crimes", "apd.violent_crimes", "afrd.fire_response_on_time"),
    ),
    PrioritySpec(
        "infrastructure", "Infrastructure",
        "Streets, water and sewers that work: repairs made on time and the systems kept up.",
        ("dpw.service_requests_on_time", "dwm.service_requests_on_time", "dwm.water_main_breaks"),
    ),
    PrioritySpec(
        "economic_performance", "Economic performance",
        "Jobs and investment: permits that do not hold builders back, an airport that moves people, residents "
        "placed in work.",
        ("awda.job_placements", "doa.passengers", "dpcd.building_permits_issued"),
    ),
    PrioritySpec(
        "responsive_government", "Efficient and responsive government",
        "Residents answered quickly, vendors paid on time, the budget kept and positions filled.",
        ("atl311.calls_answered_60s", "dof.general_fund_variance", "dhr.days_to_fill"),
    ),
    PrioritySpec(
        "neighborhoods", "Quality of life in neighborhoods",
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
            "dpw.potholes_repaired_weekly", "Potholes repaired each week, by yard", "count", "output",
            "higher_is_better", (230, 25),
            "Pothole work orders closed as repaired during the ISO week (Monday to Sunday) by each street "
            "maintenance yard's crews; the yards add up to the department.",
            units=(UnitLoad("YARD-NORTH", 0.30), UnitLoad("YARD-SOUTH", 0.24), UnitLoad("YARD-EAST", 0.20),
                   UnitLoad("YARD-WEST", 0.26)),
            split_of="dpw.potholes_repaired", noise=0.08,
        ),
    ),
    "DWM": (
        WeeklySpec(
            "dwm.drinking_water_samples_passed", "Drinking water samples meeting standards", "percent", "output",
            "higher_is_better", (0.995, 0.005),
            "Finished-water samples (turbidity, chlorine residual, pH, fluoride, coliform) taken at each drinking "
            "water plant during the week that met the Safe Drinking Water Act limits, divided by samples taken.",
            units=(UnitLoad("HEMPHILL", 126, -0.001), UnitLoad("CHATTAHOOCHEE", 84, 0.001)),
            levels=(0.993, 0.997), noise=0.002, season=(-0.002, 7),
        ),
        WeeklySpec(
            "dwm.effluent_samples_in_limits", "Treated wastewater samples within permit limits", "percent",
            "output", "higher_is_better", (0.99, 0.01),
            "Effluent samples (BOD, suspended solids, ammonia, phosphorus, E. coli, dissolved oxygen) taken at "
            "each water reclamation center during the week within its NPDES permit limits, divided by samples "
            "taken.",
            units=(UnitLoad("RM-CLAYTON", 84, -0.004), UnitLoad("SOUTH-RIVER", 70, 0.002),
                   UnitLoad("UTOY-CREEK", 63, 0.001), UnitLoad("INTRENCHMENT", 42, -0.006)),
            levels=(0.978, 0.991), noise=0.004, season=(-0.006, 2),
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


# ----------------------------------------------------------------------------------------------------------------
# Histories: definitions revised after agreement, a retirement, proposals under discussion
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevisionSpec:
    """A change to a definition. The catalogue holds each metric as it reads now, so a revision says what the
    fields were BEFORE it; the loader starts from the oldest form and replays the changes."""

    on: dt.date
    reason: str
    before: tuple[tuple[str, str], ...]  # (field, its value before this change)
    by: str = "analyst"  # analyst | liaison | head
    break_period: str | None = None  # the first period of a new series: the change altered what is measured


@dataclass(frozen=True)
class Comment:
    on: dt.date
    by: str  # analyst | liaison | head
    body: str


@dataclass(frozen=True)
class ProposalSpec:
    """A metric still being agreed with its department: no values yet, a discussion thread."""

    department: str
    key: str
    name: str
    unit: str
    kind: str
    direction: str
    methodology: str
    state: str  # draft | proposed
    created: dt.date
    proposed: dt.date | None
    first_period: str  # when the department expects to send its first value
    thread: tuple[Comment, ...] = ()
    revisions: tuple[RevisionSpec, ...] = ()
    frequency: str = "month"
    rollup: str | None = None


REVISIONS: dict[str, tuple[RevisionSpec, ...]] = {
    "apd.part1_crimes": (
        RevisionSpec(
            dt.date(2015, 3, 19),
            "Listed the offences counted, after the March 2015 roundtable asked whether arson is in: it is not. "
            "The count itself does not change.",
            (("methodology", "UCR Part I offences reported in the month."),),
        ),
    ),
    "apd.priority1_response_minutes": (
        RevisionSpec(
            dt.date(2015, 12, 17),
            "From January 2016 the clock starts at call entry in CAD instead of at dispatch, so the time a call "
            "waits for a free unit counts too. Values from 2016-01 are not comparable with earlier ones.",
            (("methodology", "Mean minutes from dispatch to the first officer's arrival, for Priority 1 "
                             "(life-threatening) calls dispatched in the month."),),
            break_period="2016-01",
        ),
    ),
    "dpr.mowing_cycle": (
        RevisionSpec(
            dt.date(2016, 4, 21),
            "Named the cycle: the roundtable asked what 'on schedule' meant, and the answer is 14 days.",
            (("name", "Parks mowed on schedule"),),
        ),
    ),
}

# Retired metrics: (when, why). The metric's values stop at its `end`.
RETIREMENTS: dict[str, tuple[dt.date, str]] = {
    "apd.arrests": (
        dt.date(2014, 6, 19),
        "Retired at the June 2014 roundtable: arrests count activity, not safety, and a target for them rewards "
        "the wrong behaviour. Part I crimes and Priority 1 response times tell the story instead.",
    ),
}

# Departments whose metrics the analyst signed off on the head's behalf (recorded as such).
SIGNED_OFF_ON_BEHALF = frozenset({"OEP", "OOS"})

PROPOSALS: tuple[ProposalSpec, ...] = (
    ProposalSpec(
        "DWM", "dwm.sewer_segments_cleaned", "Sewer segments cleaned", "count", "output", "higher_is_better",
        "Sewer main segments (manhole to manhole) cleaned by jetting or rodding crews in the month, each segment "
        "counted once a month, from Hansen work orders; emergency stoppage calls are left out.",
        "proposed", dt.date(2017, 4, 12), dt.date(2017, 4, 20), "2017-07",
        thread=(
            Comment(dt.date(2017, 4, 20), "analyst",
                    "Proposing this as the output behind sanitary sewer overflows: most of our SSOs are grease "
                    "and roots in lines nobody has cleaned for years. Crews control how many segments they "
                    "clean; they do not control the rain."),
            Comment(dt.date(2017, 4, 27), "liaison",
                    "We can pull it from Hansen. Two questions: do emergency stoppages count? And crews clean "
                    "the hot-spot list every 90 days, so those segments would dominate the count."),
            Comment(dt.date(2017, 5, 3), "analyst",
                    "Leave emergencies out: they are demand, not planned work. Good point on the hot spots: I "
                    "changed the methodology to count each segment once a month. Do not be afraid to iterate: "
                    "if it measures the wrong thing after a quarter, we change it."),
            Comment(dt.date(2017, 6, 12), "head",
                    "Fine with the definition. I want the target set after three months of data, not before."),
            Comment(dt.date(2017, 6, 13), "analyst",
                    "Agreed, no target until October. I will bring it to the July roundtable for sign-off."),
        ),
        revisions=(
            RevisionSpec(
                dt.date(2017, 5, 3),
                "Counts each segment once a month and leaves out emergency stoppage calls, after DWM's comments.",
                (("methodology", "Sewer main segments cleaned by jetting or rodding crews in the month, from "
                                 "Hansen work orders."),),
            ),
        ),
    ),
    ProposalSpec(
        "DPW", "dpw.street_blocks_resurfaced", "Street blocks resurfaced", "count", "output", "higher_is_better",
        "City blocks milled and resurfaced by City crews or the paving contractor and accepted by the inspector "
        "in the month, against the year's funded paving programme.",
        "proposed", dt.date(2017, 3, 6), dt.date(2017, 3, 20), "2017-07",
        thread=(
            Comment(dt.date(2017, 3, 20), "analyst",
                    "The Mayor asks about road condition at every briefing. Condition surveys come every three "
                    "years, so we need an output we can see monthly: lane miles resurfaced."),
            Comment(dt.date(2017, 3, 29), "liaison",
                    "Resurfacing depends on the paving contract and the LMIG money from GDOT. We control crew "
                    "days, not the budget: if the contract is late we are red all spring for something the "
                    "department does not control. And the contractor reports lane miles months late."),
            Comment(dt.date(2017, 4, 4), "analyst",
                    "Fair. The point is to hold you to outputs you control. New version: blocks accepted by the "
                    "inspector, counted against the funded programme, so the target moves with the money. We "
                    "can iterate after the first quarter of data."),
            Comment(dt.date(2017, 4, 18), "head",
                    "That works for us. Ready to sign once the programme list is final in July."),
        ),
        revisions=(
            RevisionSpec(
                dt.date(2017, 4, 4),
                "Blocks accepted by the inspector replace lane miles, which the contractor reports months late; "
                "counted against the funded programme, after DPW's comments.",
                (("name", "Lane miles resurfaced"),
                 ("methodology", "Lane miles of City streets resurfaced in the month, from the paving "
                                 "contractor's reports.")),
            ),
        ),
    ),
    ProposalSpec(
        "APD", "apd.hotspot_patrol_hours", "Directed patrol hours in hot-spot beats", "hours", "output",
        "higher_is_better",
        "Hours officers logged on directed-patrol assignments in the beats the crime analysis unit lists as hot "
        "spots for the month, from CAD self-initiated activity coded DP.",
        "proposed", dt.date(2017, 5, 8), dt.date(2017, 5, 15), "2017-08", rollup="sum",
        thread=(
            Comment(dt.date(2017, 5, 15), "analyst",
                    "Part I crimes are the outcome the Mayor watches, and response time alone does not explain "
                    "them. Directed patrol in hot spots is an output the zones control, and it is what the "
                    "research says moves crime."),
            Comment(dt.date(2017, 5, 24), "liaison",
                    "Zone commanders log it inconsistently today: some code it as self-initiated, some as a "
                    "call. We need a month of training before the numbers mean anything."),
            Comment(dt.date(2017, 5, 26), "analyst",
                    "Then the series starts in August and July is a dry run. Better a rough measure we improve "
                    "than a perfect one we never start."),
            Comment(dt.date(2017, 6, 21), "head",
                    "Agree with August. We will train the zones on the DP code in July."),
        ),
    ),
    ProposalSpec(
        "DPCD", "dpcd.permits_applied_online", "Building permit applications submitted online", "percent",
        "output", "higher_is_better",
        "Permit applications submitted through the online portal, divided by all permit applications received "
        "in the month.",
        "proposed", dt.date(2017, 2, 13), dt.date(2017, 2, 27), "2017-07",
        thread=(
            Comment(dt.date(2017, 2, 27), "analyst",
                    "Review days are down; the next bottleneck is the counter. Online submission is something "
                    "the Office of Buildings can move through the portal and outreach to builders."),
            Comment(dt.date(2017, 3, 9), "liaison",
                    "Not sure it is an output: applicants choose how to apply. What we control is whether the "
                    "portal takes every permit type; today it takes only residential alterations."),
            Comment(dt.date(2017, 3, 14), "analyst",
                    "Good distinction. Let us not be afraid to iterate: start with this, and if it only moves "
                    "with the portal's coverage we switch to 'permit types accepted online'."),
            Comment(dt.date(2017, 3, 30), "head", "OK to start with this, from the portal's monthly export."),
            Comment(dt.date(2017, 6, 15), "liaison", "The portal export is ready; July is the first month we "
                                                     "can send."),
        ),
    ),
    ProposalSpec(
        "AWDA", "awda.employer_job_orders", "Job orders received from employers", "count", "output",
        "higher_is_better",
        "Open positions employers listed with WorkSource Atlanta in the month, counted once per position.",
        "draft", dt.date(2017, 6, 20), None, "2017-08",
    ),
)
