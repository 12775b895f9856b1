"""The static frontends' security headers, on pages and assets, and not on the APIs (whose docs pages
load Swagger UI's scripts and keep their own policies); HSTS only where the site is served over TLS."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.common.frontend_headers import CONTENT_SECURITY_POLICY
from services.common.settings import Settings
from services.runner import create_root_app


@pytest.fixture
def app_client(tmp_path):
    def make(**settings) -> TestClient:
        # Static files need no lifespan (no database): the client is used without entering it.
        return TestClient(create_root_app(Settings(data_dir=tmp_path, **settings)))

    return make


@pytest.mark.parametrize("path", ["/", "/due.html", "/public/", "/js/ui.js", "/css/app.css"])
def test_every_frontend_response_carries_the_policy(app_client, path):
    response = app_client().get(path)
    assert response.status_code == 200, response.status_code
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers


def test_hsts_only_behind_tls(app_client):
    response = app_client(secure_cookies=True).get("/")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_the_pages_have_no_inline_script_or_style_the_policy_would_refuse(tmp_path):
    # An inline <script>, <style>, style="..." or onclick="..." would be refused by the browser under this policy.
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)
    pages = sorted(Settings(data_dir=tmp_path).frontend_dir.rglob("*.html"))
    assert len(pages) > 20, pages
    found = [f"{page.name}: {match.group(0)}" for page in pages for match in inline.finditer(page.read_text("utf-8"))]
    assert found == []


def test_the_apis_keep_their_own_headers(app_client):
    response = app_client().get("/api/metrics/openapi.json")
    assert response.status_code == 200
    assert response.headers.get("content-security-policy") != CONTENT_SECURITY_POLICY
