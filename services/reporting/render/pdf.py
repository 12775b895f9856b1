"""A briefing's HTML as PDF, with WeasyPrint.

Deterministic: the same HTML gives the same bytes. WeasyPrint itself reads no clock for a plain PDF; what would vary
is the file identifier (none by default, or random in PDF/A), so it is set from the HTML's hash, and the creation
and modification dates come from the document's own `<meta name="dcterms.created">` (the publication time).
Nothing is fetched: the HTML is standalone (inline CSS and SVG), and a fetcher that refuses every URL keeps a
stray reference in people's text from reaching the network or the file system.
"""

from __future__ import annotations

import hashlib

from weasyprint import HTML
from weasyprint.urls import URLFetcher


class _RefuseAll(URLFetcher):
    def fetch(self, url, headers=None):
        # WeasyPrint catches this, logs a warning and renders without the resource.
        raise ValueError(f"briefings are standalone; not fetching {url}")


_FETCHER = _RefuseAll()


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of a briefing's HTML. `base_url` (e.g. "https://citystat.example.gov/") makes the figures' root-
    relative links absolute, so they stay clickable in the PDF; without it the PDF has no link annotations."""
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    document = HTML(string=html, base_url=base_url, url_fetcher=_FETCHER, media_type="print")
    return document.write_pdf(pdf_identifier=identifier)
