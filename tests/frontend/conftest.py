"""Fixtures of the staff-page browser tests (defined in staff_site.py); test_pages.py keeps its own."""

from tests.frontend.staff_site import browser, city, page, site  # noqa: F401 - pytest finds fixtures by name
