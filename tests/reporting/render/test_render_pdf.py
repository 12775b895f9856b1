"""Briefings as PDF: a valid file, its text holds the figures, one page per org unit for front-line scorecards, and
the same HTML always gives the same bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess

import pypdf
import pytest

from services.reporting.briefings.snapshot import BriefingKind
from services.reporting.render import render_html, render_pdf
from tests.reporting.render.snapshot_factory import ALL_KINDS, cabinet_snapshot, frontline_snapshot

PUBLISHED_AT = dt.datetime(2017, 7, 10, 15, 0, tzinfo=dt.UTC)
# Required, not optional: `make test` installs poppler-utils, and without it these tests fail.
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"


def html_of(snapshot, state: str = "published") -> str:
    return render_html(
        snapshot,
        briefing_id=42,
        state=state,
        published_at=PUBLISHED_AT if state == "published" else None,
        published_by="Ben Okafor",
    )


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run([PDFTOTEXT, "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"[ \t]+", " ", result.stdout.decode("utf-8"))


@pytest.fixture(scope="module")
def cabinet_pdf() -> bytes:
    return render_pdf(html_of(cabinet_snapshot()))


def test_cabinet_pdf_is_valid_and_its_text_holds_the_metrics_and_figures(cabinet_pdf):
    assert cabinet_pdf.startswith(b"%PDF-")
    assert cabinet_pdf.rstrip().endswith(b"%%EOF")
    reader = pypdf.PdfReader(io.BytesIO(cabinet_pdf))
    assert len(reader.pages) >= 2
    assert reader.metadata.title == "Cabinet briefing: July 2017"
    assert reader.metadata["/CreationDate"] == "D:20170710150000Z"

    text = pdf_text(cabinet_pdf)
    for expected in [
        "Days to repair a pothole",
        "311 calls answered within 60 seconds",
        "Police overtime spending",
        "3.2 days",
        "87.4%",
        "$1,234,567",
        "6.4 minutes",
        "Off target",
        "Near target",
        "-2.6 points",
        "A new phone system went live on June 5.",
        "<script>alert('x')</script>",
        "Answer 92% of",
        "Page 1 of",
        "figures as read from metrics at July 10, 2017, 14:05 UTC",
    ]:
        assert expected in text, expected
    # The charts' axes are drawn as text too.
    assert "Jun 2017" in text and "Jul 2016" in text
    assert "DRAFT" not in text


def test_draft_pdf_says_draft_on_every_page():
    pdf = render_pdf(html_of(cabinet_snapshot(), state="draft"))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) >= 2
    assert all("DRAFT" in page for page in pages)


def test_same_html_gives_the_same_pdf_bytes(cabinet_pdf):
    html = html_of(cabinet_snapshot())
    assert render_pdf(html) == cabinet_pdf
    other = render_pdf(html_of(cabinet_snapshot(title="Cabinet briefing: August 2017")))
    assert other != cabinet_pdf


def test_links_in_the_pdf_point_at_metric_period_and_revision():
    pdf = render_pdf(html_of(cabinet_snapshot()), base_url="https://citystat.example.gov/")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    uris = {
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    }
    assert "https://citystat.example.gov/metric.html?key=calls_answered&period=2017-06&revision=5120" in uris


def test_frontline_scorecard_prints_one_page_per_org_unit():
    pdf = render_pdf(html_of(frontline_snapshot(units=3)))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Yard {number}" in text
        assert "Potholes filled" in text and "Days to repair a pothole" in text
        assert f"{139 + number}" in text and "2.5 days" in text


@pytest.mark.parametrize("kind", [BriefingKind.roundtable, BriefingKind.memo, BriefingKind.annual])
def test_other_kinds_print(kind):
    snapshot = ALL_KINDS[kind]()
    text = pdf_text(render_pdf(html_of(snapshot)))
    assert snapshot.title in text
    expected = {
        BriefingKind.roundtable: ["Completeness and lateness", "Permits issued late, June 2017", "Action items"],
        BriefingKind.memo: [
            "Biggest declines",
            "fell from 90% in May 2017 to 87.4% in June 2017",
            "Nothing this month.",
        ],
        BriefingKind.annual: ["Public safety", "Responsive services", "+3.1 points", "14,210"],
    }[kind]
    for item in expected:
        assert item in text, item


def test_external_resources_are_not_fetched(tmp_path, caplog):
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = html_of(cabinet_snapshot()).replace("</head>", f'<link rel="stylesheet" href="file://{secret}"></head>')
    html = html.replace("<main>", f'<main><img src="file://{tmp_path}/x.png" alt="x">')
    with caplog.at_level("WARNING", logger="weasyprint"):
        pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF-")
    refused = [r.getMessage() for r in caplog.records if "briefings are standalone" in r.getMessage()]
    assert any("secret.css" in m for m in refused) and any("x.png" in m for m in refused), refused
