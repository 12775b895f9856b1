"""The metric catalogue, the metric editor (lifecycle, definition, versions, targets) and the library of other
cities' measures, in real headless Chromium against the whole application (set-up in staff_site.py).

Each test builds its own department, people and metrics with factories, so tests share the module's server
without seeing each other's rows."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from sqlmodel import select

from services.metrics.definitions.models import MetricState
from services.metrics.departments.models import Department
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.priorities.models import MetricPriority, Priority
from tests.factories import make_department, make_metric, make_user
from tests.frontend.staff_site import expect, sign_in_api

_numbers = itertools.count(1)


@dataclass
class Office:
    """A department with its head and liaison, an analyst of the performance office, and one agreed metric."""

    code: str
    name: str
    analyst: str
    head: str
    liaison: str
    active_key: str


def display_name(username: str) -> str:
    # make_user's display name: "ct01.head" → "Ct01 Head"
    return username.replace(".", " ").title()


@pytest.fixture
def office(site) -> Office:
    n = next(_numbers)
    code = f"CT{n:02d}"
    k = code.lower()
    with site.metrics_db.session() as session:
        dept = make_department(session, code, f"Catalogue Test Department {n}")
        make_metric(
            session, dept, key=f"{k}.trees_planted", name="Trees planted", unit="count", min_value=0, max_value=None
        )
        name = dept.name
    people = {role: f"{k}.{role}" for role in ("analyst", "head", "liaison")}
    make_user(site.ingest_db, people["analyst"], "analyst")
    make_user(site.ingest_db, people["head"], "head", code)
    make_user(site.ingest_db, people["liaison"], "liaison", code)
    return Office(code, name, people["analyst"], people["head"], people["liaison"], f"{k}.trees_planted")


def switch_user(page, site, username: str) -> None:
    page.context.clear_cookies()
    sign_in_api(page, site, username)


def versions_row(page, version: int):
    return page.locator(f'#versions-table tbody tr[data-version="{version}"]')


# ---- lifecycle ----------------------------------------------------------------------------------


def test_analyst_drafts_edits_and_proposes_and_the_head_signs_off(page, site, office):
    key = f"{office.code.lower()}.graffiti_removed"
    sign_in_api(page, site, office.analyst)
    page.goto(f"{site.base}/catalogue.html")
    expect(page.locator("#catalogue-table")).to_be_visible()
    page.get_by_role("button", name="New metric…").click()
    dialog = page.get_by_role("dialog", name="New metric")
    dialog.get_by_label("Department").select_option(office.code)
    # Choosing the department offers its code as the start of the key.
    expect(dialog.get_by_role("textbox", name="Key", exact=True)).to_have_value(f"{office.code.lower()}.")
    dialog.get_by_role("textbox", name="Key", exact=True).fill(key)
    dialog.get_by_role("textbox", name="Name", exact=True).fill("Graffiti removed")
    dialog.get_by_role("combobox", name="Unit", exact=True).fill("count")
    dialog.get_by_label("Methodology").fill("Sites cleaned by the crews.")
    dialog.get_by_role("button", name="Create draft").click()

    expect(page).to_have_url(re.compile(rf"metric-editor\.html\?key={re.escape(key)}&created=1$"))
    expect(page.locator("#title")).to_have_text("Graffiti removed")
    expect(page.locator("#page-notice")).to_contain_text("Draft created")
    expect(page.locator("#state-line")).to_contain_text("Draft")

    # A draft is revised freely: no reason needed, no series to break.
    definition = page.locator("#definition-form")
    definition.get_by_role("textbox", name="Name", exact=True).fill("Graffiti sites cleaned")
    definition.get_by_role("button", name="Save changes").click()
    expect(page.locator("#definition-result")).to_have_text("Saved as version 2.")
    expect(page.locator("#title")).to_have_text("Graffiti sites cleaned")

    page.locator("#comment-form").get_by_label("Add to the discussion").fill("Does this include private property?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comments")).to_contain_text("Does this include private property?")

    page.get_by_role("button", name="Propose to the department").click()
    expect(page.locator("#lifecycle-result")).to_have_text("Now proposed (version 3).")
    expect(page.locator("#state-line")).to_contain_text("Proposed")
    # The office may sign off only on the head's behalf; the head is who the button speaks to.
    expect(page.get_by_role("button", name="Sign off on the head’s behalf")).to_be_visible()

    switch_user(page, site, office.head)
    page.goto(f"{site.base}/metric-editor.html?key={key}")
    expect(page.locator("#comments")).to_contain_text("Does this include private property?")
    expect(page.get_by_role("button", name="Withdraw to draft")).to_have_count(0)
    page.get_by_role("button", name="Sign off (as head)").click()
    expect(page.locator("#state-line")).to_contain_text("Active")
    expect(page.locator("#signed-off")).to_contain_text(f"Signed off by {display_name(office.head)}")
    expect(page.locator("#signed-off")).not_to_contain_text("behalf")
    # Agreed now: the department may no longer change the definition, and the form says so.
    definition = page.locator("#definition-form")
    expect(definition.get_by_role("textbox", name="Name", exact=True)).to_be_disabled()
    expect(definition.get_by_role("button", name="Save changes")).to_be_disabled()
    expect(page.locator("#definition-readonly")).to_contain_text("Only the performance office")

    analyst, head = display_name(office.analyst), display_name(office.head)
    expected = [(1, "Created", analyst), (2, "Edited", analyst), (3, "Proposed", analyst), (4, "Signed off", head)]
    for version, action, who in expected:
        row = versions_row(page, version)
        expect(row.locator(".action")).to_have_text(action)
        expect(row.locator(".who")).to_have_text(who)
    expect(versions_row(page, 2)).to_contain_text("Name: Graffiti removed → Graffiti sites cleaned")
    expect(versions_row(page, 4)).to_contain_text("State: proposed → active")
    page.problems.assert_clean()


def test_an_agreed_metric_changes_only_with_a_reason_and_a_unit_change_breaks_the_series(page, site, office):
    sign_in_api(page, site, office.analyst)
    page.goto(f"{site.base}/metric-editor.html?key={office.active_key}")
    definition = page.locator("#definition-form")
    definition.get_by_role("combobox", name="Unit", exact=True).fill("tons")
    # A new unit measures something else: the box is ticked for the analyst, who may untick it.
    expect(definition.get_by_label("This change alters what is measured (series break)")).to_be_checked()
    definition.get_by_role("button", name="Save changes").click()
    errors = page.locator("#definition-errors")
    expect(errors).to_contain_text("Say why this agreed metric changes: 'reason' is required.")
    expect(errors).to_contain_text("reason: required for an active or retired metric")
    expect(definition.get_by_label("Reason for the change")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#metric-version")).to_have_text("Version 1")

    definition.get_by_label("Reason for the change").fill("Crews now weigh the mulch instead of counting trees.")
    definition.get_by_label("Break period").fill("2017-07")
    definition.get_by_role("button", name="Save changes").click()
    expect(page.locator("#definition-result")).to_have_text("Saved as version 2, with a series break.")
    row = versions_row(page, 2)
    expect(row.locator(".who")).to_have_text(display_name(office.analyst))
    expect(row).to_contain_text("Unit: count → tons")
    expect(row.locator(".reason")).to_have_text("Crews now weigh the mulch instead of counting trees.")
    expect(row.locator(".break")).to_have_text("Yes, from 2017-07")

    # Retiring asks first, and the server wants to know why.
    page.get_by_role("button", name="Retire…").click()
    page.get_by_role("dialog").get_by_role("button", name="Retire").click()
    expect(page.locator("#lifecycle-result")).to_contain_text("Say why the metric is retired: 'reason' is required.")
    expect(page.get_by_label("Note for this step")).to_be_focused()
    expect(page.locator("#state-line")).to_contain_text("Active")
    page.problems.assert_clean(r"422 .*/api/metrics/metrics/")


# ---- the catalogue --------------------------------------------------------------------------------


def test_filters_narrow_the_catalogue_and_survive_a_reload(page, site, office):
    k = office.code.lower()
    with site.metrics_db.session() as session:
        dept = session.exec(select(Department).where(Department.code == office.code)).one()
        safety = make_metric(
            session, dept, key=f"{k}.response_time", name="Response time", unit="minutes", max_value=None
        )
        make_metric(session, dept, key=f"{k}.new_idea", name="A new idea", state=MetricState.draft, is_published=False)
        make_metric(session, dept, key=f"{k}.internal", name="Internal backlog", unit="count", is_published=False)
        priority = Priority(code=f"safety_{k}", name=f"Public safety {office.code}")
        session.add(priority)
        session.flush()
        session.add(MetricPriority(metric_id=safety.id, priority_id=priority.id, is_key=True))

    def names():
        return page.locator("#catalogue-table tbody th.name-cell a")

    # The public sees the department's published metrics only, and each links to its public page.
    page.goto(f"{site.base}/catalogue.html")
    expect(page.get_by_role("button", name="New metric…")).to_have_count(0)
    page.get_by_label("Department").select_option(office.code)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"catalogue\.html\?department={office.code}$"))
    expect(names()).to_have_text(["Response time", "Trees planted"])
    expect(names().first).to_have_attribute("href", f"metric.html?key={k}.response_time")

    # Staff of the office also see drafts and unpublished metrics, and open them in the editor.
    sign_in_api(page, site, office.analyst)
    page.reload()
    expect(names()).to_have_text(["Internal backlog", "A new idea", "Response time", "Trees planted"])
    expect(page.locator(f'tr[data-key="{k}.internal"] .published-cell')).to_have_text("Not published")
    expect(page.locator(f'tr[data-key="{k}.new_idea"] .state-cell')).to_have_text("Draft")
    expect(names().first).to_have_attribute("href", f"metric-editor.html?key={k}.internal")

    page.get_by_label("State").select_option("draft")
    page.get_by_role("button", name="Show").click()
    expect(names()).to_have_text(["A new idea"])

    page.get_by_label("State").select_option("")
    page.get_by_label("Priority").select_option(f"safety_{k}")
    page.get_by_label("Key metrics only").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"\?department={office.code}&priority=safety_{k}&key=true$"))
    expect(names()).to_have_text(["Response time"])
    expect(page.locator(f'tr[data-key="{k}.response_time"] .key-star')).to_contain_text("Key metric for Public safety")

    page.reload()
    expect(names()).to_have_text(["Response time"])
    expect(page.get_by_label("Department")).to_have_value(office.code)
    expect(page.get_by_label("Priority")).to_have_value(f"safety_{k}")
    expect(page.get_by_label("Key metrics only")).to_be_checked()
    expect(page.locator("#result-count")).to_contain_text("1 key metrics of Catalogue Test Department")
    page.problems.assert_clean()


# ---- targets --------------------------------------------------------------------------------------


def test_analyst_sets_a_target_and_corrects_it_with_a_reason(page, site, office):
    sign_in_api(page, site, office.analyst)
    page.goto(f"{site.base}/metric-editor.html?key={office.active_key}")
    expect(page.locator("#targets-empty")).to_have_text("No target has been set for this metric.")
    form = page.locator("#target-form")
    form.get_by_role("textbox", name="Target", exact=True).fill("1,200")
    form.get_by_label("Tolerance", exact=True).fill("100")
    form.get_by_label("In force from").fill("2017-07-01")
    form.get_by_label("Deadline").fill("2018-06-30")
    form.get_by_label("Set by").fill("Mayor, budget hearing")
    form.get_by_label("Reason").fill("The urban forest plan")
    form.get_by_role("button", name="Set target").click()
    expect(page.locator("#targets-result")).to_have_text("Set a target of 1,200 from July 1, 2017.")
    row = page.locator('#targets-table tbody tr[data-from="2017-07-01"]')
    expect(row.locator(".target-value")).to_have_text("1,200")
    expect(row.locator(".target-tolerance")).to_have_text("100")
    expect(row).to_contain_text("June 30, 2018")
    expect(row).to_contain_text("in force")

    row.get_by_role("button", name="Correct… the target from July 1, 2017").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Target", exact=True).fill("1250")
    dialog.get_by_role("button", name="Save correction").click()
    expect(dialog.locator(".form-errors")).to_contain_text("Say why the target is corrected.")
    dialog.get_by_label("Reason for the correction").fill("The memo said 1,250; typed wrongly")
    dialog.get_by_role("button", name="Save correction").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#targets-result")).to_have_text("Corrected the target from July 1, 2017.")
    expect(row.locator(".target-value")).to_have_text("1,250")

    history = page.locator("#target-history tbody tr")
    expect(history).to_have_count(2)
    # Newest first: the correction (before → after, with its reason), then the target as first set.
    expect(history.nth(0).locator(".target-action")).to_have_text("Corrected the target from July 1, 2017")
    expect(history.nth(0)).to_contain_text("Target: 1,200 → 1,250")
    expect(history.nth(0)).to_contain_text("The memo said 1,250; typed wrongly")
    expect(history.nth(0)).to_contain_text(display_name(office.analyst))
    expect(history.nth(1).locator(".target-action")).to_have_text("Set the target from July 1, 2017")
    expect(history.nth(1)).to_contain_text("1,200, tolerance 100")
    expect(history.nth(1)).to_contain_text("The urban forest plan")
    page.problems.assert_clean()


def test_a_liaison_gets_no_office_controls(page, site, office):
    sign_in_api(page, site, office.liaison)
    page.goto(f"{site.base}/catalogue.html?department={office.code}")
    expect(page.locator(f'tr[data-key="{office.active_key}"]')).to_contain_text("Trees planted")
    expect(page.get_by_role("button", name="New metric…")).to_have_count(0)

    page.goto(f"{site.base}/metric-editor.html?key={office.active_key}")
    expect(page.locator("#title")).to_have_text("Trees planted")
    expect(page.locator("#targets-office-only")).to_have_text("Targets are set by the performance office (analysts).")
    target_form = page.locator("#target-form")
    expect(target_form.get_by_role("button", name="Set target")).to_be_disabled()
    expect(target_form.get_by_role("textbox", name="Target", exact=True)).to_be_disabled()
    expect(page.locator("#definition-form").get_by_role("button", name="Save changes")).to_be_disabled()
    expect(page.locator("#lifecycle-actions")).to_have_count(0)
    expect(page.locator("#lifecycle-nobody")).to_have_text("Only the performance office retires an agreed metric.")
    expect(page.locator("#alignment-section")).to_contain_text("The performance office aligns metrics to priorities")
    # The server agrees: a target from a liaison is refused.
    status = page.evaluate(
        """async (key) => {
            const csrf = document.cookie.split('; ').find((c) => c.startsWith('citystat_csrf='))?.split('=')[1];
            const r = await fetch(`/api/metrics/metrics/${key}/targets`, {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
              body: JSON.stringify({value: 1, effective_from: '2017-07-01', set_by: 'me', reason: 'try'})});
            return r.status;
        }""",
        office.active_key,
    )
    assert status == 403
    page.problems.assert_clean(r"403 .*/targets$")


# ---- the library ------------------------------------------------------------------------------------


def test_library_finds_a_measure_and_adopts_it_as_a_draft(page, site, office):
    word = f"Zamboni{office.code}"
    with site.metrics_db.session() as session:
        batch = LibraryImport(source="Test jurisdiction measures.csv", rows=1, imported=1, actor="test")
        session.add(batch)
        session.flush()
        measure = LibraryMeasure(
            source="Test jurisdiction measures.csv",
            source_code=f"RPD.{office.code}",
            source_row=7,
            jurisdiction="Test City",
            department_code="RPD",
            department_name="Recreation and Parks",
            program="Ice rinks",
            name=f"Hours the {word} is out of service",
            description="Downtime of the ice resurfacer.",
            unit="number",
            unit_text="General",
            direction="lower_is_better",
            actuals={"FY2015": 14.0, "FY2016": 11.0},
            targets={"FY2016": 12.0, "FY2017": 10.0},
            notes=["FY2014 target '—' is not a number, so it is left out."],
            import_id=batch.id,
        )
        session.add(measure)
        session.flush()
        measure_id = measure.id

    sign_in_api(page, site, office.analyst)
    page.goto(f"{site.base}/catalogue.html")
    # Each page finishes loading before the next step, so no request is cut off by leaving it.
    expect(page.locator("#catalogue-table")).to_be_visible()
    page.get_by_role("link", name="Other cities’ measures").click()
    expect(page.locator("#measures-table")).to_be_visible()
    # The library's own search, not the header's search of all of CityStat.
    library = page.get_by_role("form", name="Search the library")
    library.get_by_role("searchbox", name="Search").fill(word.lower())
    library.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"library\.html\?q={word.lower()}$"))
    expect(page.locator("#result-count")).to_have_text("1 measure match.")
    page.get_by_role("button", name=f"Hours the {word} is out of service").click()
    detail = page.locator("#measure-detail")
    expect(page.locator("#measure-title")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"&id={measure_id}$"))
    expect(detail).to_contain_text("Recreation and Parks (RPD)")
    expect(detail).to_contain_text("General (number)")
    expect(detail).to_contain_text("Lower is better")
    expect(detail).to_contain_text(f"Test jurisdiction measures.csv, RPD.{office.code}, row 7")
    expect(detail.locator("#measure-figures tbody tr")).to_have_count(3)
    expect(detail.locator("#measure-figures tbody tr").nth(1)).to_have_text(re.compile(r"FY2016\s*12\s*11"))
    expect(detail.locator("#measure-notes")).to_contain_text("is not a number")

    adopt = page.locator("#adopt-form")
    adopt.get_by_label("Into department").select_option(office.code)
    key = f"{office.code.lower()}.hours_the_zamboni{office.code.lower()}_is_out_of_service"
    expect(adopt.get_by_label("Key of the new metric")).to_have_value(key)
    adopt.get_by_label("Reported").select_option("fiscal_year")
    # "General" says nothing about how periods combine: the server asks for a roll-up, and the page says why.
    adopt.get_by_role("button", name="Adopt as draft").click()
    expect(page.locator("#adopt-errors")).to_contain_text("does not say how periods combine")
    expect(page.locator("#adopt-errors")).to_contain_text("rollup: required for the unit 'number'")
    expect(adopt.get_by_label("Roll-up")).to_have_attribute("aria-invalid", "true")

    adopt.get_by_label("Roll-up").select_option("mean")
    adopt.get_by_role("button", name="Adopt as draft").click()
    expect(page.locator("#adopt-result")).to_contain_text(f"in {office.code}")
    expect(page.locator("#adopted-as")).to_contain_text(key)

    # The same key again is a conflict, shown where the form is.
    adopt.get_by_role("button", name="Adopt as draft").click()
    expect(page.locator("#adopt-errors")).to_contain_text(f"A metric with the key '{key}' already exists.")

    page.reload()
    expect(page.locator("#adopted-as")).to_contain_text(key)
    page.locator("#adopted-as").get_by_role("link", name=key).click()
    expect(page.locator("#state-line")).to_contain_text("Draft")
    expect(page.locator("#provenance")).to_contain_text(f"Adopted from Test City’s measure RPD.{office.code}")
    expect(versions_row(page, 1).locator(".action")).to_have_text("Adopted from the library")
    expect(page.locator("#definition-form").get_by_label("Roll-up")).to_have_value("mean")
    page.problems.assert_clean(r"422 .*/adopt$", r"409 .*/adopt$")
