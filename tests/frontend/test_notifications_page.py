"""notifications.html in real headless Chromium: after the performance office runs a round, a liaison sees the
unread count in the header, opens their reminder and digest, marks one read, then all, and follows a link."""

from __future__ import annotations

from tests.factories import make_user
from tests.frontend.staff_site import expect, sign_in_api


def test_a_liaison_reads_their_notifications(page, site, city):
    make_user(site.ingest_db, f"{city.code.lower()}.analyst", "analyst")
    login = page.request.post(
        f"{site.base}/api/ingest/auth/login",
        data={"username": f"{city.code.lower()}.analyst", "password": "correct horse battery"},
    )
    run = page.request.post(
        f"{site.base}/api/ingest/notifications/run", headers={"X-CSRF-Token": login.json()["csrf_token"]}
    )
    assert run.ok and run.json()["reminders"] >= 1 and run.json()["digests"] >= 1, run.text()

    sign_in_api(page, site, city.liaison)
    page.goto(f"{site.base}/due.html")
    header_link = page.locator("#notifications-link")
    expect(header_link).to_have_attribute("data-unread", "2")
    expect(header_link).to_have_accessible_name("Notifications (2 unread)")
    header_link.click()

    expect(page).to_have_url(f"{site.base}/notifications.html")
    expect(page.locator("#notifications-summary")).to_have_text("2 notifications, 2 unread.")
    items = page.locator("#notification-list > li")
    expect(items).to_have_count(2)
    digest, reminder = items.nth(0), items.nth(1)
    expect(digest).to_have_attribute("data-kind", "digest")
    expect(digest.get_by_role("heading", level=2)).to_have_text(f"Weekly digest: {city.name}, week of July 10, 2017")
    expect(reminder.get_by_role("heading", level=2)).to_contain_text("Due July 10, 2017:")

    digest.get_by_text("Show the message").click()
    expect(digest.locator(".notification-body")).to_contain_text("Requests closed on time")

    reminder.get_by_role("button", name="Mark as read").click()
    expect(page.locator("#notifications-summary")).to_have_text("2 notifications, 1 unread.")
    expect(page.locator('#notification-list > li[data-kind="reminder"] .unread-label')).to_have_count(0)
    expect(header_link).to_have_attribute("data-unread", "1")

    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("#notifications-summary")).to_have_text("Marked 1 notification as read.")
    expect(header_link).to_have_attribute("data-unread", "0")
    expect(header_link).to_have_text("Notifications")  # no count, and no stray "null" for the parts left out
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all as read")).to_be_disabled()

    page.goto(f"{site.base}/notifications.html?unread=1")
    expect(page.locator("#no-notifications")).to_contain_text("Nothing unread.")
    page.goto(f"{site.base}/notifications.html")
    page.locator('#notification-list > li[data-kind="reminder"] h2 a').click()
    expect(page).to_have_url(f"{site.base}/due.html?department={city.code}")
    page.problems.assert_clean()


def test_an_administrator_gives_a_liaison_an_email_address(page, site, city):
    admin = f"mail.admin.{city.code.lower()}"
    make_user(site.ingest_db, admin, "admin")
    sign_in_api(page, site, admin)
    page.goto(f"{site.base}/admin.html")
    row = page.locator(f'#users-table tr[data-username="{city.liaison}"]')
    row.get_by_role("button", name=f"Edit… {city.liaison}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("E-mail").fill("not an address")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.locator(".form-errors")).to_contain_text("email")
    dialog.get_by_label("E-mail").fill(f"{city.liaison}@city.example")
    dialog.get_by_role("button", name="Save changes").click()
    expect(row.locator(".user-email")).to_have_text(f"{city.liaison}@city.example")
    page.problems.assert_clean(r"^422 .*/api/ingest/users/")
