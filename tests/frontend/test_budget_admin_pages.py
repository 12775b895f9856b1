"""The performance office's budget and open-data pages in real headless Chromium (set-up in staff_site.py): importing
a budget file with its receipt, mapping budget departments, publishing a raw-record dataset, and a metric's links to
the budget with its cost per output."""

from __future__ import annotations

import re

from tests.factories import make_user
from tests.frontend.staff_site import api_get, expect, sign_in_api


def _csrf(page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "citystat_csrf")
    return {"X-CSRF-Token": token}


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return errors


def _analyst(site, city) -> str:
    username = f"{city.code.lower()}.analyst"
    make_user(site.ingest_db, username, "analyst")
    return username


def _import_budget_api(page, site, csv: str, source: str) -> dict:
    response = page.request.post(
        f"{site.base}/api/metrics/budget/imports?source={source}&file_name=budget.csv",
        data=csv.encode(),
        headers={"Content-Type": "text/csv", **_csrf(page)},
    )
    assert response.status == 201, response.text()
    return response.json()


def _unit_cost(value: float) -> str:
    return f"${value:,.2f}"


HEADER = "budget_year,department,account_type,fund_code,account_category,amount\n"


def test_analyst_imports_the_budget_maps_a_department_and_publishes_a_dataset(page, site, city):
    console = _console_errors(page)
    sign_in_api(page, site, _analyst(site, city))
    works = f"Public Works {city.code}"
    csv = HEADER + (
        f"FY16-17,{works},Expense,1010,Civilian Salaries,500000\n"
        f"FY16-17,{works},Expense,2230,Equipment,120000\n"
        f"FY16-17,{works},Revenue,1010,Permit Fees,30000\n"
        f"FY16-17,Parks {city.code},Expense,1010,Civilian Salaries,\n"
    )

    page.goto(f"{site.base}/budget.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget and open data")
    expect(page.locator(".site-nav").get_by_role("link", name="Budget")).to_have_attribute("aria-current", "page")
    expect(page.locator("#office-only")).to_have_count(0)
    expect(page.locator("#content")).to_have_text(re.compile(r"^\s*Budget imports"))

    # 1. Import: the receipt counts the rows, totals the accepted lines by year and kind, and lists the blank amount.
    page.get_by_label("Budget file (CSV)").set_input_files(
        files=[{"name": "budget-fe.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_label("Source").fill(f"adopted {city.code}")
    page.get_by_role("button", name="Import budget").click()
    receipt = page.locator("#import-receipt")
    expect(receipt).to_be_focused()
    expect(receipt.get_by_role("heading")).to_have_text("Imported, with rows rejected")
    expect(receipt.locator('[data-count="rows"]')).to_have_text("4")
    expect(receipt.locator('[data-count="accepted"]')).to_have_text("3")
    expect(receipt.locator('[data-count="rejected"]')).to_have_text("1")
    expense = receipt.locator('#receipt-totals tr[data-year="FY2017"][data-kind="expense"]')
    expect(expense).to_contain_text("Expense")
    expect(expense.locator("td").nth(1)).to_have_text("2")
    expect(expense.locator("td").nth(2)).to_have_text("$620,000")
    expect(receipt.locator('#receipt-totals tr[data-year="FY2017"][data-kind="revenue"] td').nth(2)).to_have_text(
        "$30,000"
    )
    imports = api_get(page, site, "/api/metrics/budget/imports?limit=500")["items"]
    stored = next(i for i in imports if i["source"] == f"adopted {city.code}")
    assert stored["file_name"] == "budget-fe.csv" and stored["accepted"] == 3
    assert [(r["row"], r["field"]) for r in stored["rejected"]] == [(5, "amount")]
    rejected = receipt.locator('#receipt-rejected tr[data-row="5"]')
    expect(rejected.locator("td").nth(0)).to_have_text("amount")
    expect(rejected.locator("td").nth(1)).to_have_text(stored["rejected"][0]["reason"])
    expect(rejected).to_contain_text("blank amount")
    # The list of past imports has it too.
    listed = page.locator(f'#imports-table tr[data-id="{stored["id"]}"]')
    expect(listed).to_contain_text("budget-fe.csv")
    expect(listed).to_contain_text(f"adopted {city.code}")
    expect(listed).to_contain_text("FY2017")

    # 2. The budget department is new and unmapped; mapping it to the city's department sticks.
    row = page.locator(f'#budget-departments-table tr[data-name="{works}"]')
    expect(row.locator(".tag-unmapped")).to_have_text("Unmapped")
    expect(row).to_contain_text("FY2017: $620,000 spent, $30,000 revenue")
    expect(page.locator(f'#budget-departments-table tr[data-name="Parks {city.code}"]')).to_have_count(0)
    row.get_by_label(f"CityStat department for {works}").select_option(city.code)
    expect(page.locator("#department-status")).to_contain_text(f"“{works}” is now mapped to {city.name}")
    expect(row.locator(".tag-unmapped")).to_have_count(0)
    expect(row.locator("select")).to_have_value(city.code)
    mapped = {d["name"]: d for d in api_get(page, site, "/api/metrics/budget/departments?limit=500")["items"]}
    assert mapped[works]["department_code"] == city.code

    # 3. Publishing service requests: the page says what the public sees, and the SODA link answers with JSON.
    expect(page.locator("#publish-explained")).to_contain_text("Never their personal attributes")
    dataset = page.locator('#open-datasets-table tr[data-key="service_requests"]')
    switch = dataset.get_by_role("switch")
    expect(switch).not_to_be_checked()
    expect(dataset).to_contain_text("Not public")
    switch.click()
    expect(page.locator("#dataset-status")).to_contain_text("is published")
    soda = page.locator('#open-datasets-table tr[data-key="service_requests"] a.soda-link')
    expect(soda).to_have_attribute("href", re.compile(r"^/resource/[a-z2-9]{4}-[a-z2-9]{4}\.json$"))
    expect(page.locator('#open-datasets-table tr[data-key="service_requests"]').get_by_role("switch")).to_be_checked()
    href = soda.get_attribute("href")
    open_ids = {d["key"]: d["id"] for d in api_get(page, site, "/api/metrics/open-datasets")["items"]}
    assert href == f"/resource/{open_ids['records.service_requests']}.json"
    answer = page.request.get(site.base + href)
    assert answer.status == 200, answer.text()
    assert answer.headers["content-type"].startswith("application/json")
    assert isinstance(answer.json(), list)
    expect(page.locator('#open-datasets-table tr[data-key="service_requests"]')).to_contain_text("public catalogue")
    page.problems.assert_clean()
    assert console == [], console


def test_analyst_links_a_metric_to_the_budget_and_sees_its_cost_per_output(page, site, city):
    console = _console_errors(page)
    sign_in_api(page, site, _analyst(site, city))
    streets = f"Streets {city.code}"
    _import_budget_api(
        page,
        site,
        HEADER
        + (
            f"FY15-16,{streets},Expense,1010,Asphalt,240000\n"
            f"FY15-16,{streets},Expense,2230,Equipment,60000\n"
            f"FY16-17,{streets},Expense,1010,Asphalt,264000\n"
        ),
        source=f"links-{city.code}",
    )
    key = city.keys["potholes"]
    page.goto(f"{site.base}/metric.html?key={key}")
    section = page.locator("#budget-section")
    expect(section.get_by_role("heading", name="Budget and cost per output")).to_be_visible()
    expect(section.locator("#no-budget-links")).to_be_visible()
    unlinked = api_get(page, site, f"/api/metrics/metrics/{key}/cost-per-output")
    assert unlinked["items"] == [] and "not linked" in unlinked["reason"]
    expect(section.locator("#cost-reason")).to_have_text(unlinked["reason"])

    # A fund the department's budget lines do not have: the server's 422 says so, and nothing is saved.
    page.get_by_role("button", name="Add a link").click()
    editor = page.locator("#budget-link-editor")
    link = editor.locator("tr.link-row").first
    link.get_by_label("Budget department").select_option(streets)
    link.get_by_label("Fund code").fill("9999")
    link.get_by_label("Why this spending produces this output").fill("Crews and asphalt fill the potholes")
    page.get_by_role("button", name="Save links").click()
    errors = page.locator("#budget-link-errors")
    expect(errors).to_contain_text(f"no budget line of '{streets}' has the fund '9999'")
    expect(link.get_by_label("Fund code")).to_have_attribute("aria-invalid", "true")
    assert api_get(page, site, f"/api/metrics/metrics/{key}/budget-links")["items"] == []

    link.get_by_label("Fund code").fill("1010")
    page.get_by_role("button", name="Save links").click()
    expect(page.locator("#budget-status")).to_contain_text("Saved: 1 link to the budget.")
    linked = page.locator(f'#budget-links-table tr[data-department="{streets}"]')
    expect(linked).to_contain_text("1010")
    expect(linked).to_contain_text("Every category")
    expect(linked).to_contain_text("Crews and asphalt fill the potholes")

    # The cost per output shown is the API's, year by year; only fund 1010 is counted.
    cost = api_get(page, site, f"/api/metrics/metrics/{key}/cost-per-output")
    items = {i["fiscal_year"]: i for i in cost["items"]}
    assert cost["output_basis"] == "sum of values"
    assert set(items) == {"FY2016", "FY2017"}
    assert items["FY2016"]["spending"] == 240000 and items["FY2016"]["periods"] == 12
    assert items["FY2017"]["spending"] == 264000 and items["FY2017"]["periods"] == 11
    rows = page.locator("#cost-per-output-table tbody tr")
    expect(rows).to_have_count(2)
    for year, item in items.items():
        cell = page.locator(f'#cost-per-output-table tr[data-year="{year}"] .cost-cell')
        expect(cell).to_have_text(_unit_cost(item["cost_per_output"]))
        assert float(cell.get_attribute("data-value")) == item["cost_per_output"]
        assert item["cost_per_output"] == round(item["spending"] / item["output"], 2)
    expect(page.locator('#cost-per-output-table tr[data-year="FY2017"]')).to_contain_text("11 of 12")
    page.problems.assert_clean(r"^422 .*/budget-links$")
    assert all("422" in m for m in console), console


def test_liaison_reads_the_budget_without_editing_it(page, site, city):
    console = _console_errors(page)
    sign_in_api(page, site, _analyst(site, city))
    roads = f"Roads {city.code}"
    _import_budget_api(page, site, HEADER + f"FY16-17,{roads},Expense,1010,Asphalt,110000\n", source=f"ro-{city.code}")
    key = city.keys["graffiti"]
    response = page.request.put(
        f"{site.base}/api/metrics/metrics/{key}/budget-links",
        data={"links": [{"department": roads, "note": "Graffiti crews"}]},
        headers=_csrf(page),
    )
    assert response.ok, response.text()
    cost = api_get(page, site, f"/api/metrics/metrics/{key}/cost-per-output")
    assert [i["fiscal_year"] for i in cost["items"]] == ["FY2017"]

    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/metric.html?key={key}")
    section = page.locator("#budget-section")
    expect(section.locator(f'#budget-links-table tr[data-department="{roads}"]')).to_contain_text("Graffiti crews")
    cell = section.locator('#cost-per-output-table tr[data-year="FY2017"] .cost-cell')
    expect(cell).to_have_text(_unit_cost(cost["items"][0]["cost_per_output"]))
    expect(section.locator("#budget-office-only")).to_contain_text("The performance office")
    expect(page.locator("#budget-link-editor")).to_have_count(0)
    expect(page.get_by_role("button", name="Save links")).to_have_count(0)

    # The budget page: everything readable, nothing to change.
    page.goto(f"{site.base}/budget.html")
    expect(page.locator("#office-only")).to_contain_text("The performance office (analysts) manages the budget")
    expect(page.locator(f'#budget-departments-table tr[data-name="{roads}"]')).to_contain_text("Unmapped")
    expect(page.locator("#imports-table tbody tr").first).to_be_visible()
    expect(page.locator("#open-datasets-table tbody tr").first).to_be_visible()
    expect(page.locator("#import-form")).to_have_count(0)
    expect(page.locator("#budget-departments-table select")).to_have_count(0)
    expect(page.get_by_role("switch")).to_have_count(0)
    page.problems.assert_clean()
    assert console == [], console
