"""The header's search box in real headless Chromium: a liaison types a few words, gets the results page grouped by
kind (their department's unpublished metric among them), and follows a result to the metric's page by keyboard."""

from __future__ import annotations

from tests.frontend.staff_site import expect, sign_in_api


def test_header_search_finds_a_metric_and_opens_its_page(page, site, city):
    console_errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/due.html")

    box = page.get_by_role("searchbox", name="Search CityStat")
    box.fill("internal backlog")
    box.press("Enter")

    expect(page).to_have_url(f"{site.base}/search.html?q=internal+backlog")
    expect(page.get_by_role("searchbox", name="Search CityStat")).to_have_value("internal backlog")
    metrics = page.get_by_role("region", name="Metrics (1)")
    result = metrics.get_by_role("link", name="Internal backlog")
    expect(result).to_have_attribute("href", f"metric.html?key={city.keys['backlog']}")
    expect(page.locator("#search-summary")).to_have_text("1 match for “internal backlog”.")

    result.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.base}/metric.html?key={city.keys['backlog']}")
    expect(page.locator("#title")).to_have_text("Internal backlog")

    # Nothing found is said so, not shown as an empty list.
    page.goto(f"{site.base}/search.html?q=no+such+thing+anywhere")
    expect(page.locator("#content .empty")).to_contain_text("Nothing matches “no such thing anywhere”")
    page.problems.assert_clean()
    assert console_errors == [], console_errors
