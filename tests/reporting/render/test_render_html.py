"""Briefings as HTML: what each kind shows, every number traceable, people's text escaped, same input same bytes."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from services.reporting.briefings.snapshot import BriefingKind, Figure, MemoItem, MemoSection
from services.reporting.render import render_html
from tests.reporting.render.snapshot_factory import (
    ALL_KINDS,
    cabinet_snapshot,
    frontline_snapshot,
    make_meeting,
    memo_snapshot,
    roundtable_snapshot,
)

PUBLISHED_AT = dt.datetime(2017, 7, 10, 15, 0, tzinfo=dt.UTC)
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "source", "wbr"}
# Text in separate cells or blocks reads as separate words.
BLOCKS = set("p li dt dd td th tr h1 h2 h3 h4 div section header footer title".split())


def published(snapshot, **kwargs) -> str:
    return render_html(
        snapshot, briefing_id=42, state="published", published_at=PUBLISHED_AT, published_by="Ben Okafor", **kwargs
    )


def draft(snapshot) -> str:
    return render_html(snapshot, briefing_id=42, state="draft", published_at=None)


class Links(HTMLParser):
    """Collects every <a> (attributes and text) and checks that elements close in the order they opened."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self.text.append(" ")
        if tag == "a":
            self._current = dict(attrs) | {"text": ""}
            self.links.append(self._current)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag == "a":
            self.errors.append("empty <a/>")

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.text.append(" ")
        if tag == "a":
            self._current = None
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self._current is not None:
            self._current["text"] += data


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    parser.close()
    return parser


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", "".join(parse(html).text))


def figure_links(html: str, exact: bool = False) -> list[dict]:
    """Links of observations; `exact` leaves out the changes (which link to the figure they end at)."""
    return [a for a in parse(html).links if (a.get("class") == "fig" if exact else "fig" in a.get("class", "").split())]


@pytest.mark.parametrize("kind", list(BriefingKind))
def test_every_kind_is_well_formed_and_every_link_carries_its_provenance(kind):
    html = published(ALL_KINDS[kind]())
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    parsed = parse(html)
    assert parsed.errors == []
    assert parsed.stack == []
    assert parsed.links, "a briefing without a single linked number"
    for a in parsed.links:
        assert a.get("data-metric"), a
        assert "data-period" in a and "data-revision" in a, a
        href = a["href"]
        assert href.startswith("/metric.html?key="), href
        assert f"key={a['data-metric']}" in href
        if a["data-period"]:
            assert f"&period={a['data-period']}" in href
        if a["data-revision"]:
            assert href.endswith(f"&revision={a['data-revision']}")
        else:
            assert "revision=" not in href
    for a in figure_links(html):
        revision = a["data-revision"] or None
        expected = f"metric {a['data-metric']}, period {a['data-period']}, "
        expected += f"revision {revision}" if revision else "no single revision"
        assert a["title"].startswith(expected), a
    assert "CityStat — " in html and "figures as read from metrics at July 10, 2017, 14:05 UTC" in html


@pytest.mark.parametrize("kind", list(BriefingKind))
def test_a_re_render_is_byte_identical(kind):
    first = published(ALL_KINDS[kind]())
    again = published(ALL_KINDS[kind]())
    assert first == again
    # ...and a snapshot read back from its stored JSON renders the same bytes.
    stored = ALL_KINDS[kind]().model_dump_json()
    assert published(type(ALL_KINDS[kind]()).model_validate_json(stored)) == first


def test_draft_shows_draft_and_published_does_not():
    snapshot = cabinet_snapshot()
    drafted, final = draft(snapshot), published(snapshot)
    assert "DRAFT" in text_of(drafted) and 'class="draft-banner"' in drafted
    assert "DRAFT" in drafted.split("</style>")[0]  # on every printed page too
    assert "DRAFT" not in final
    assert "Published July 10, 2017, 15:00 UTC by Ben Okafor" in text_of(final)
    with pytest.raises(ValueError):
        render_html(snapshot, briefing_id=1, state="frozen", published_at=None)


def test_cabinet_briefing_shows_each_metric_with_chart_status_explanation_and_commitments():
    html = published(cabinet_snapshot())
    text = text_of(html)
    for name in [
        "Days to repair a pothole",
        "311 calls answered within 60 seconds",
        "Fire response time, 90th percentile",
        "Police overtime spending",
        "Recycling collected",
        "Permits issued late",
    ]:
        assert name in text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == 6
    for shown in ["3.2 days", "87.4%", "6.4 minutes", "$1,234,567", "1,234", "90%"]:
        assert shown in text, shown
    for label in ["Near target", "Off target", "On target", "No target", "Missing"]:
        assert label in text, label
    assert "-2.6 points since May 2017 (from 90%), worsening" in text
    assert "+$234,567 (+23%) since June 2016 (from $1,000,000), worsening" in text
    assert "A new phone system went live on June 5." in text
    assert "No explanation given." in text
    assert "In this briefing: Off target" in text and "Statistical signal" in text
    assert "Commitments from the last briefing" in text
    assert "Answer 92% of calls within a minute" in text and "At risk" in text and "On track" in text

    links = {(a["data-metric"], a["data-period"], a["data-revision"]): a for a in figure_links(html)}
    headline = links[("calls_answered", "2017-06", "5120")]
    assert headline["href"] == "/metric.html?key=calls_answered&period=2017-06&revision=5120"
    assert headline["title"] == "metric calls_answered, period 2017-06, revision 5120"
    assert links[("response_minutes", "2017-06", "")]["text"] == "6.4 minutes"
    assert '<a class="fig" href="/metric.html?key=calls_answered&amp;period=2017-06&amp;revision=5120"' in html
    # Status is never colour alone: the label and a shape are in the text.
    assert '<span class="status status-off_target"><span class="icon" aria-hidden="true">✕</span> Off target' in html
    # Meeting: date, departments by name, attendees.
    assert "Cabinet meeting on July 12, 2017" in text
    assert "Departments: Public Works, 311 Customer Service, Fire Department, Police Department" in text
    assert "Attendees: Mayor Lee, Ana Ruiz" in text


def test_user_text_is_escaped():
    html = published(roundtable_snapshot(title="Works & 311 <i>roundtable</i>"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "We hired a contractor &amp; caught up." in html
    assert "Counts for May exclude the &lt;em&gt;north&lt;/em&gt; office" in html
    assert "the analyst &lt;b&gt;weekly&lt;/b&gt;" in html
    assert "<title>Works &amp; 311 &lt;i&gt;roundtable&lt;/i&gt;</title>" in html
    assert "<i>" not in html and "<em>" not in html and "<b>" not in html
    cabinet = published(cabinet_snapshot())
    assert "<script>" not in cabinet
    assert "Two crews were out sick in May. <script>alert('x')</script> We hired" in text_of(cabinet)


def test_urls_are_escaped():
    snapshot = cabinet_snapshot(
        panels=[
            cabinet_snapshot()
            .panels[0]
            .model_copy(update={"figure": Figure(metric="a&b c", period="2017-06", value=1.0, revision=3)})
        ]
    )
    html = published(snapshot)
    assert 'href="/metric.html?key=a%26b%20c&amp;period=2017-06&amp;revision=3"' in html
    assert 'data-metric="a&amp;b c"' in html


def test_roundtable_pack_shows_metrics_completeness_notes_commitments_and_actions():
    html = published(roundtable_snapshot())
    text = text_of(html)
    assert "At a glance" in text
    assert "Public Works" in text and "311 Customer Service" in text
    assert html.count('class="chart"') == 4 and html.count('class="sparkline"') == 4
    assert "Completeness and lateness" in text
    assert re.search(r"Public Works 4 3 2 1 Permits issued late, June 2017", text)
    assert "Open data-quality notes" in text and "Ben Okafor" in text and "June 20, 2017" in text
    assert "Bring pothole repairs down to 3 days" in text
    assert "Action items" in text and "Send the crew roster" in text and "Open" in text
    assert "Roundtable meeting on July 12, 2017" in text
    assert "Attendees: Ana Ruiz (Commissioner), Ben Okafor (Analyst)" in text
    # The departments' metrics come under their department, in the snapshot's order.
    assert text.index("Days to repair a pothole") < text.index("311 calls answered within 60 seconds")
    missing = [a for a in parse(html).links if a.get("data-metric") == "permits_late" and a["data-period"] == "2017-06"]
    assert missing, "the value not yet in links to its metric and period"


def test_memo_renders_sections_in_a_fixed_order_and_links_figures_inside_sentences():
    html = published(memo_snapshot())
    text = text_of(html)
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings[:7] == [
        "Biggest improvements",
        "Biggest declines",
        "Newly off target",
        "Statistical signals",
        "Missing or late data",
        "Recognition: most improved",
        "Recognition: longest streaks on target",
    ]
    assert text.count("Nothing this month.") == 3
    assert "311 calls answered within 60 seconds fell from 90% in May 2017 to 87.4% in June 2017." in text
    # The numbers inside the sentence are the links, each to its own period and revision.
    assert (
        'fell from <a class="fig" href="/metric.html?key=calls_answered&amp;period=2017-05&amp;revision=5100"' in html
    )
    assert 'to <a class="fig" href="/metric.html?key=calls_answered&amp;period=2017-06&amp;revision=5120"' in html
    assert '<a class="fig" href="/metric.html?key=pothole_days&amp;period=2016-06&amp;revision=3900"' in html
    linked = {(a["data-metric"], a["data-period"]): a["text"] for a in figure_links(html, exact=True)}
    assert linked[("calls_answered", "2017-06")] == "87.4%"
    assert linked[("pothole_days", "2017-06")] == "3.2 days"
    assert linked[("pothole_days", "2016-06")] == "4.1 days"
    # A figure the sentence does not show verbatim still links, after it.
    assert linked[("permits_late", "2017-06")] == "no value"
    assert "on target for 4 months in a row &lt;i&gt;&amp; counting&lt;/i&gt;." in html
    assert linked[("response_minutes", "2017-06")] == "6.4"


def test_memo_does_not_link_a_number_inside_a_larger_one():
    item = MemoItem(
        section=MemoSection.signal,
        sentence="Backlog reached 1,234 in June 2017; 234 were over a year old.",
        figures=[Figure(metric="backlog", period="2017-06", value=234.0, revision=1)],
    )
    html = published(memo_snapshot(memo=[item], panels=[]))
    linked = [a for a in figure_links(html) if a["data-metric"] == "backlog"]
    assert len(linked) == 1 and linked[0]["text"] == "234"
    assert "Backlog reached 1,234 in June 2017; <a" in html


def test_memo_links_a_figure_written_with_more_decimals_and_never_a_rounded_guess():
    items = [
        MemoItem(
            section=MemoSection.improvement,
            sentence="Days to repair a pothole fell to 3.25 days, on target for 4 months in a row.",
            figures=[Figure(metric="pothole_days", period="2017-06", value=3.25, revision=8)],
        ),
        MemoItem(
            section=MemoSection.streak,
            sentence="Days to repair a pothole has been on target for 4 months in a row.",
            figures=[Figure(metric="pothole_days", period="2017-06", value=3.6, revision=9)],
        ),
    ]
    html = published(memo_snapshot(memo=items))
    linked = [a for a in figure_links(html, exact=True) if a["data-revision"] in ("8", "9")]
    assert [(a["data-revision"], a["text"]) for a in linked] == [("8", "3.25 days"), ("9", "3.6 days")]
    assert 'for 4 months in a row. <span class="sources">Figures: <a' in html


def test_annual_report_lists_key_metrics_by_priority_with_year_over_year_change():
    html = published(ALL_KINDS[BriefingKind.annual]())
    text = text_of(html)
    assert text.index("Public safety") < text.index("Responsive services")
    assert "Fire response time, 90th percentile Fire Department 6.6 minutes 6.9 minutes -0.3 minutes (-4.3%)" in text
    assert "311 calls answered within 60 seconds 311 Customer Service 90.5% 87.4% +3.1 points since 2015" in text
    assert "Recycling collected Public Works 14,210 — —" in text
    figures = {(a["data-metric"], a["data-period"]) for a in figure_links(html)}
    assert {("calls_answered", "2016"), ("calls_answered", "2015"), ("tons_collected", "2016")} <= figures


def test_frontline_scorecard_has_one_page_section_per_org_unit():
    html = published(frontline_snapshot(units=3))
    assert html.count('<section class="unit-page"') == 3
    assert ".unit-page + .unit-page { break-before: page;" in html
    text = text_of(html)
    for unit in ("Yard 1", "Yard 2", "Yard 3"):
        assert unit in text
    org_units = [a.get("data-org-unit") for a in figure_links(html)]
    assert org_units.count("DPW-Y2") == 2
    assert "Week 27, 2017" in text and "140" in text and "142" in text


def test_meeting_is_optional_and_ids_are_only_shown_when_given():
    html = render_html(cabinet_snapshot(meeting=None), briefing_id=None, state="draft", published_at=None)
    assert 'class="meeting"' not in html and "Briefing " not in text_of(html).split("Cabinet briefing: July")[0]
    with_meeting = published(roundtable_snapshot(meeting=make_meeting(attendees=[])))
    assert "Attendees: None recorded" in text_of(with_meeting)


def test_publication_time_drives_the_document_dates_and_paper_is_selectable():
    html = published(cabinet_snapshot())
    assert '<meta name="dcterms.created" content="2017-07-10T15:00:00Z">' in html
    assert "size: letter;" in html
    assert "size: A4;" in published(cabinet_snapshot(), paper="a4")
    drafted = draft(cabinet_snapshot())
    assert '<meta name="dcterms.created" content="2017-07-10T14:05:00Z">' in drafted


def test_a_commitment_on_a_metric_without_a_panel_shows_its_name_and_unit():
    from tests.reporting.render.snapshot_factory import make_commitment

    line = make_commitment(
        metric="dwm.rarely_seen", metric_name="Rarely reviewed share", unit="percent", level=0.937,
        latest=Figure(metric="dwm.rarely_seen", period="2017-06", value=0.875, revision=77),
    )  # fmt: skip
    bare = make_commitment(metric="dwm.rarely_seen", level=0.937, latest=None)
    named = published(cabinet_snapshot(commitments=[line]))
    assert "Rarely reviewed share" in named and "93.7%" in named and "87.5%" in named
    # Without them there is only the key, and a level in no unit.
    unnamed = published(cabinet_snapshot(commitments=[bare]))
    assert "Rarely reviewed share" not in unnamed and "93.7%" not in unnamed and "dwm.rarely_seen" in unnamed
