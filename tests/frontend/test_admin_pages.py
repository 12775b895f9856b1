"""The administration page in real headless Chromium: users, API tokens, and who may see them
(set-up in staff_site.py)."""

from tests.factories import make_user
from tests.frontend.staff_site import expect, sign_in_api


def test_liaison_cannot_see_the_admin_pages_data(page, site, city):
    sign_in_api(page, site, city.liaison)
    requested: list[str] = []
    page.on("request", lambda r: "/api/ingest/" in r.url and requested.append(r.url))
    page.goto(f"{site.base}/admin.html")
    notice = page.locator("#admins-only")
    expect(notice).to_contain_text("Only administrators can open this page")
    expect(page.locator("#users-table")).to_have_count(0)
    expect(page.locator("#tokens-wrap")).to_have_count(0)
    expect(page.locator(".site-nav").get_by_role("link", name="Admin")).to_be_hidden()
    # The page did not even ask for the data; the API would have refused anyway.
    assert [u for u in requested if "/users" in u or "/tokens" in u or "/audit" in u] == []
    assert page.request.get(f"{site.base}/api/ingest/users").status == 403
    page.problems.assert_clean()


# ---- administration ---------------------------------------------------------------------------


def test_admin_creates_a_token_sees_it_once_and_revokes_it(page, site, city):
    admin = f"admin.{city.code.lower()}"
    make_user(site.ingest_db, admin, "admin")
    sign_in_api(page, site, admin)
    page.goto(f"{site.base}/admin.html")
    expect(page.locator(".site-nav").get_by_role("link", name="Admin")).to_be_visible()
    expect(page.locator("#users-table")).to_contain_text(city.liaison)

    form = page.locator("#create-token")
    form.get_by_label("Department").select_option(city.code)
    form.get_by_label("Used by (system name)").fill("Work-order system")
    form.get_by_role("button", name="Create token").click()
    once = page.locator("#token-once")
    expect(once).to_contain_text("it is shown this once")
    token = page.locator("#new-token").inner_text().strip()
    assert len(token) >= 20
    expect(page.get_by_role("button", name="Copy token")).to_be_focused()
    page.get_by_role("button", name="Copy token").click()
    expect(once).to_contain_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == token

    # The token works for the department's system, and the list shows it without the secret.
    bearer = {"Authorization": f"Bearer {token}"}
    assert page.request.get(f"{site.base}/api/ingest/submissions", headers=bearer).status == 200
    token_row = page.locator("#tokens-table tbody tr").filter(has_text="Work-order system")
    expect(token_row).to_contain_text(city.code)
    expect(token_row).to_contain_text("Active")

    # Shown once: after a reload it is nowhere on the page.
    page.reload()
    expect(page.locator("#tokens-table")).to_contain_text("Work-order system")
    assert token not in page.content()

    # Revoking asks first; cancelling keeps it, confirming revokes it.
    token_row = page.locator("#tokens-table tbody tr").filter(has_text="Work-order system")
    token_row.get_by_role("button", name="Revoke… token Work-order system").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Revoke the token “Work-order system”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(token_row).to_contain_text("Active")
    token_row.get_by_role("button", name="Revoke… token Work-order system").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    expect(page.locator("#tokens-result")).to_contain_text("Revoked the token")
    token_row = page.locator("#tokens-table tbody tr").filter(has_text="Work-order system")
    expect(token_row).to_contain_text("Revoked")
    expect(token_row.get_by_role("button")).to_have_count(0)
    assert page.request.get(f"{site.base}/api/ingest/submissions", headers=bearer).status == 401

    # The audit trail shows both.
    page.get_by_role("button", name="Refresh").click()
    audit = page.locator("#audit-table")
    expect(audit).to_contain_text("token.created")
    expect(audit).to_contain_text("token.revoked")
    page.problems.assert_clean()


def test_admin_creates_a_user_and_changes_their_role(page, site, city):
    admin = f"boss.{city.code.lower()}"
    make_user(site.ingest_db, admin, "admin")
    sign_in_api(page, site, admin)
    page.goto(f"{site.base}/admin.html")
    page.get_by_text("Add a user").click()
    form = page.locator("#create-user")
    new = f"new.{city.code.lower()}"
    form.get_by_label("Username").fill(new)
    form.get_by_label("Full name").fill("New Liaison")
    form.get_by_label("Initial password").fill("a long enough password")
    form.get_by_label("Role").select_option("liaison")
    form.get_by_label("Department").select_option(city.code)
    form.get_by_role("button", name="Add user").click()
    expect(page.locator("#user-form-result")).to_contain_text(f"Added {new}")
    user_row = page.locator(f'#users-table tr[data-username="{new}"]')
    expect(user_row.locator(".role")).to_have_text("Department liaison")

    user_row.get_by_role("button", name=f"Edit… {new}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Role").select_option("viewer")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.locator(f'#users-table tr[data-username="{new}"] .role')).to_have_text("Viewer")

    page.locator(f'#users-table tr[data-username="{new}"]').get_by_role("button", name=f"Deactivate… {new}").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(page.locator(f'#users-table tr[data-username="{new}"]')).to_contain_text("Deactivated")
    refused = page.request.post(
        f"{site.base}/api/ingest/auth/login", data={"username": new, "password": "a long enough password"}
    )
    assert refused.status == 401
    page.problems.assert_clean()


# ---- CSV upload -------------------------------------------------------------------------------
