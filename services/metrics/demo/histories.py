"""The demo's histories: definitions revised after agreement (one with a series break), a retirement, metrics
signed off on a head's behalf, and proposals still being discussed with their departments. Specs, not data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
            (
                (
                    "methodology",
                    "Mean minutes from dispatch to the first officer's arrival, for Priority 1 "
                    "(life-threatening) calls dispatched in the month.",
                ),
            ),
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
        "DWM",
        "dwm.sewer_segments_cleaned",
        "Sewer segments cleaned",
        "count",
        "output",
        "higher_is_better",
        "Sewer main segments (manhole to manhole) cleaned by jetting or rodding crews in the month, each segment "
        "counted once a month, from Hansen work orders; emergency stoppage calls are left out.",
        "proposed",
        dt.date(2017, 4, 12),
        dt.date(2017, 4, 20),
        "2017-07",
        thread=(
            Comment(
                dt.date(2017, 4, 20),
                "analyst",
                "Proposing this as the output behind sanitary sewer overflows: most of our SSOs are grease "
                "and roots in lines nobody has cleaned for years. Crews control how many segments they "
                "clean; they do not control the rain.",
            ),
            Comment(
                dt.date(2017, 4, 27),
                "liaison",
                "We can pull it from Hansen. Two questions: do emergency stoppages count? And crews clean "
                "the hot-spot list every 90 days, so those segments would dominate the count.",
            ),
            Comment(
                dt.date(2017, 5, 3),
                "analyst",
                "Leave emergencies out: they are demand, not planned work. Good point on the hot spots: I "
                "changed the methodology to count each segment once a month. Do not be afraid to iterate: "
                "if it measures the wrong thing after a quarter, we change it.",
            ),
            Comment(
                dt.date(2017, 6, 12),
                "head",
                "Fine with the definition. I want the target set after three months of data, not before.",
            ),
            Comment(
                dt.date(2017, 6, 13),
                "analyst",
                "Agreed, no target until October. I will bring it to the July roundtable for sign-off.",
            ),
        ),
        revisions=(
            RevisionSpec(
                dt.date(2017, 5, 3),
                "Counts each segment once a month and leaves out emergency stoppage calls, after DWM's comments.",
                (
                    (
                        "methodology",
                        "Sewer main segments cleaned by jetting or rodding crews in the month, from "
                        "Hansen work orders.",
                    ),
                ),
            ),
        ),
    ),
    ProposalSpec(
        "DPW",
        "dpw.street_blocks_resurfaced",
        "Street blocks resurfaced",
        "count",
        "output",
        "higher_is_better",
        "City blocks milled and resurfaced by City crews or the paving contractor and accepted by the inspector "
        "in the month, against the year's funded paving programme.",
        "proposed",
        dt.date(2017, 3, 6),
        dt.date(2017, 3, 20),
        "2017-07",
        thread=(
            Comment(
                dt.date(2017, 3, 20),
                "analyst",
                "The Mayor asks about road condition at every briefing. Condition surveys come every three "
                "years, so we need an output we can see monthly: lane miles resurfaced.",
            ),
            Comment(
                dt.date(2017, 3, 29),
                "liaison",
                "Resurfacing depends on the paving contract and the LMIG money from GDOT. We control crew "
                "days, not the budget: if the contract is late we are red all spring for something the "
                "department does not control. And the contractor reports lane miles months late.",
            ),
            Comment(
                dt.date(2017, 4, 4),
                "analyst",
                "Fair. The point is to hold you to outputs you control. New version: blocks accepted by the "
                "inspector, counted against the funded programme, so the target moves with the money. We "
                "can iterate after the first quarter of data.",
            ),
            Comment(
                dt.date(2017, 4, 18),
                "head",
                "That works for us. Ready to sign once the programme list is final in July.",
            ),
        ),
        revisions=(
            RevisionSpec(
                dt.date(2017, 4, 4),
                "Blocks accepted by the inspector replace lane miles, which the contractor reports months late; "
                "counted against the funded programme, after DPW's comments.",
                (
                    ("name", "Lane miles resurfaced"),
                    (
                        "methodology",
                        "Lane miles of City streets resurfaced in the month, from the paving contractor's reports.",
                    ),
                ),
            ),
        ),
    ),
    ProposalSpec(
        "APD",
        "apd.hotspot_patrol_hours",
        "Directed patrol hours in hot-spot beats",
        "hours",
        "output",
        "higher_is_better",
        "Hours officers logged on directed-patrol assignments in the beats the crime analysis unit lists as hot "
        "spots for the month, from CAD self-initiated activity coded DP.",
        "proposed",
        dt.date(2017, 5, 8),
        dt.date(2017, 5, 15),
        "2017-08",
        rollup="sum",
        thread=(
            Comment(
                dt.date(2017, 5, 15),
                "analyst",
                "Part I crimes are the outcome the Mayor watches, and response time alone does not explain "
                "them. Directed patrol in hot spots is an output the zones control, and it is what the "
                "research says moves crime.",
            ),
            Comment(
                dt.date(2017, 5, 24),
                "liaison",
                "Zone commanders log it inconsistently today: some code it as self-initiated, some as a "
                "call. We need a month of training before the numbers mean anything.",
            ),
            Comment(
                dt.date(2017, 5, 26),
                "analyst",
                "Then the series starts in August and July is a dry run. Better a rough measure we improve "
                "than a perfect one we never start.",
            ),
            Comment(dt.date(2017, 6, 21), "head", "Agree with August. We will train the zones on the DP code in July."),
        ),
    ),
    ProposalSpec(
        "DPCD",
        "dpcd.permits_applied_online",
        "Building permit applications submitted online",
        "percent",
        "output",
        "higher_is_better",
        "Permit applications submitted through the online portal, divided by all permit applications received "
        "in the month.",
        "proposed",
        dt.date(2017, 2, 13),
        dt.date(2017, 2, 27),
        "2017-07",
        thread=(
            Comment(
                dt.date(2017, 2, 27),
                "analyst",
                "Review days are down; the next bottleneck is the counter. Online submission is something "
                "the Office of Buildings can move through the portal and outreach to builders.",
            ),
            Comment(
                dt.date(2017, 3, 9),
                "liaison",
                "Not sure it is an output: applicants choose how to apply. What we control is whether the "
                "portal takes every permit type; today it takes only residential alterations.",
            ),
            Comment(
                dt.date(2017, 3, 14),
                "analyst",
                "Good distinction. Let us not be afraid to iterate: start with this, and if it only moves "
                "with the portal's coverage we switch to 'permit types accepted online'.",
            ),
            Comment(dt.date(2017, 3, 30), "head", "OK to start with this, from the portal's monthly export."),
            Comment(
                dt.date(2017, 6, 15), "liaison", "The portal export is ready; July is the first month we can send."
            ),
        ),
    ),
    ProposalSpec(
        "AWDA",
        "awda.employer_job_orders",
        "Job orders received from employers",
        "count",
        "output",
        "higher_is_better",
        "Open positions employers listed with WorkSource Atlanta in the month, counted once per position.",
        "draft",
        dt.date(2017, 6, 20),
        None,
        "2017-08",
    ),
)
