"""Rendering of briefings: Snapshot -> HTML (inline SVG charts, print CSS) -> PDF."""

from services.reporting.render.html import render_html
from services.reporting.render.pdf import render_pdf

__all__ = ["render_html", "render_pdf"]
