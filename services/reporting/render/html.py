"""A briefing's Snapshot as one standalone HTML document: inline CSS (with print rules WeasyPrint follows), inline
SVG charts, no script. Rendering is a pure function of its arguments, so a published briefing re-renders to the same
bytes: no clock, no random ids, dicts only looked up (never iterated), lists kept in the snapshot's order.

Every number is a link to the metric, period and observation revision it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from services.reporting.briefings.snapshot import (
    BriefingKind,
    Change,
    ChartPoint,
    CommitmentLine,
    Figure,
    MemoItem,
    MemoSection,
    MetricPanel,
    Snapshot,
    Status,
)
from services.reporting.render import format as fmt
from services.reporting.render.svg import line_chart, sparkline

TEMPLATES = Path(__file__).parent / "templates"

KIND_LABELS = {
    BriefingKind.roundtable: "Roundtable pack",
    BriefingKind.cabinet: "Cabinet briefing",
    BriefingKind.memo: "Monthly performance memo",
    BriefingKind.annual: "Annual performance report",
    BriefingKind.frontline: "Weekly front-line scorecard",
}

# The memo reads the same every month: these sections, in this order, each shown even when it has nothing.
MEMO_SECTIONS: list[tuple[MemoSection, str]] = [
    (MemoSection.improvement, "Biggest improvements"),
    (MemoSection.decline, "Biggest declines"),
    (MemoSection.newly_off_target, "Newly off target"),
    (MemoSection.signal, "Statistical signals"),
    (MemoSection.missing_data, "Missing or late data"),
    (MemoSection.most_improved, "Recognition: most improved"),
    (MemoSection.streak, "Recognition: longest streaks on target"),
]

STATUS_ORDER = [Status.on_target, Status.near, Status.off_target, Status.no_target, Status.missing]

# Units tried, in order, to find an unlabelled figure's number in a memo sentence.
GUESS_UNITS = ("percent", "dollars", "count", "days", "hours", "minutes")

PAPER = {"letter": "letter", "a4": "A4"}


# Links ---------------------------------------------------------------------------------------------------------------


def metric_href(metric: str, period: str | None = None, revision: int | None = None) -> str:
    """Root-relative, so the same document works on any host; the PDF renderer resolves it against a base URL."""
    href = f"/metric.html?key={quote(metric, safe='')}"
    if period:
        href += f"&period={quote(period, safe='')}"
    if revision is not None:
        href += f"&revision={revision}"
    return href


def figure_title(figure: Figure) -> str:
    revision = f"revision {figure.revision}" if figure.revision is not None else "no single revision"
    title = f"metric {figure.metric}, period {figure.period}, {revision}"
    if figure.org_unit:
        title += f", org unit {figure.org_unit}"
    return title


def figure_link(figure: Figure, unit: str, text: str | None = None, css: str = "fig") -> Markup:
    """A number as a link to where it came from, with the provenance in data- attributes for tools and tests."""
    shown = fmt.format_value(figure.value, unit) if text is None else text
    revision = "" if figure.revision is None else str(figure.revision)
    org = f' data-org-unit="{escape(figure.org_unit)}"' if figure.org_unit else ""
    return Markup(
        f'<a class="{css}" href="{escape(metric_href(figure.metric, figure.period, figure.revision))}" '
        f'data-metric="{escape(figure.metric)}" data-period="{escape(figure.period)}" data-revision="{revision}"{org} '
        f'title="{escape(figure_title(figure))}">{escape(shown)}</a>'
    )


def reference_link(metric: str, period: str | None, text: str, what: str, css: str = "ref") -> Markup:
    """A number that is not an observation (a target, a base value read without its revision): it still links to
    its metric and period, with an empty data-revision."""
    title = f"metric {metric}" + (f", period {period}" if period else "") + f", {what}"
    return Markup(
        f'<a class="{css}" href="{escape(metric_href(metric, period))}" data-metric="{escape(metric)}" '
        f'data-period="{escape(period or "")}" data-revision="" title="{escape(title)}">{escape(text)}</a>'
    )


def change_html(figure: Figure, change: Change | None, unit: str, versus: str) -> Markup:
    """ "+3.1 points since May 2017 (from 92%), improving": the change links to the figure it ends at, the base
    value to its own period."""
    text = fmt.format_change(change, unit)
    if change is None or text is None:
        return Markup('<span class="none">—</span>')
    judgement = change.judgement or "flat"
    parts = [figure_link(figure, unit, text, css=f"fig change judgement-{judgement}")]
    if change.base_period:
        parts.append(Markup(" ") + escape(f"{versus} {fmt.period_label(change.base_period)}"))
        if change.base_value is not None:
            base = reference_link(
                figure.metric, change.base_period, fmt.format_value(change.base_value, unit), "base of the change"
            )
            parts.append(Markup(" (from ") + base + Markup(")"))
    if change.judgement:
        parts.append(Markup(f', <span class="judgement judgement-{judgement}">{escape(judgement)}</span>'))
    return Markup("").join(parts)


def status_badge(status: str) -> Markup:
    """Status as words and a shape as well as a colour, so it survives a grey printer and a screen reader."""
    return Markup(
        f'<span class="status status-{escape(status)}"><span class="icon" aria-hidden="true">'
        f"{escape(fmt.status_icon(status))}</span> {escape(fmt.status_label(status))}</span>"
    )


def commitment_badge(status: str) -> Markup:
    return Markup(f'<span class="commitment commitment-{escape(status)}">{escape(fmt.commitment_label(status))}</span>')


_NUMBER_EDGE_BEFORE = r"(?<![\w.,$+\-])"
_NUMBER_EDGE_AFTER = r"(?![\w%])(?![.,]\d)"


def _renderings(value: float | None, unit: str) -> list[str]:
    """The ways a sentence may write a value in its unit, most precise first: the memo's sentences are written by
    the builder, which may keep more (or fewer) decimals than a table does."""
    if value is None:
        return ["no value"]
    # Whole numbers only for large values: "4" for 3.6 days would link the "4" of "4 months in a row".
    texts = [fmt.format_value(value, unit, decimals=d) for d in ((2, 1, 0) if abs(value) >= 100 else (2, 1))]
    return list(dict.fromkeys(t for t in texts if t != fmt.MISSING))


def linked_sentence(item: MemoItem, units: dict[str, str], names: dict[str, str]) -> Markup:
    """A memo sentence with each of its figures' numbers made a link where the sentence shows it; figures the
    sentence does not show verbatim follow it as links of their own."""
    sentence = item.sentence
    spans: list[tuple[int, int, Figure, str]] = []
    unplaced: list[Figure] = []
    for figure in item.figures:
        unit = figure.unit or units.get(figure.metric)
        candidates = [unit] if unit is not None else list(GUESS_UNITS)
        found = None
        for text, candidate in ((t, c) for c in candidates for t in _renderings(figure.value, c)):
            pattern = _NUMBER_EDGE_BEFORE + re.escape(text) + _NUMBER_EDGE_AFTER
            for match in re.finditer(pattern, sentence):
                if all(match.end() <= s or match.start() >= e for s, e, _, _ in spans):
                    found = (match.start(), match.end(), figure, candidate)
                    break
            if found:
                break
        if found:
            spans.append(found)
        else:
            unplaced.append(figure)
    out: list[Markup] = []
    cursor = 0
    for start, end, figure, unit in sorted(spans, key=lambda span: span[0]):
        out.append(escape(sentence[cursor:start]))
        out.append(figure_link(figure, unit, sentence[start:end]))
        cursor = end
    out.append(escape(sentence[cursor:]))
    if unplaced:
        links = [
            figure_link(f, f.unit or units.get(f.metric, ""), None if f.value is not None else "no value")
            + escape(f" ({names.get(f.metric, f.metric)}, {fmt.period_label(f.period)})")
            for f in unplaced
        ]
        out.append(Markup(' <span class="sources">Figures: ') + Markup("; ").join(links) + Markup("</span>"))
    return Markup("").join(out)


# Context -------------------------------------------------------------------------------------------------------------


def _units_and_names(snapshot: Snapshot) -> tuple[dict[str, str], dict[str, str]]:
    units: dict[str, str] = {}
    names: dict[str, str] = {}
    for panel in snapshot.panels:
        units.setdefault(panel.metric, panel.unit)
        names.setdefault(panel.metric, panel.name)
    for priority in snapshot.annual:
        for line in priority.lines:
            units.setdefault(line.metric, line.unit)
            names.setdefault(line.metric, line.name)
    for unit in snapshot.frontline:
        for row in unit.lines:
            units.setdefault(row.metric, row.unit)
            names.setdefault(row.metric, row.name)
    for line in snapshot.commitments:
        if line.metric and line.unit:
            units.setdefault(line.metric, line.unit)
        if line.metric and line.metric_name:
            names.setdefault(line.metric, line.metric_name)
    return units, names


def _department_order(snapshot: Snapshot) -> list[str]:
    order = list(dict.fromkeys(snapshot.departments))
    for panel in snapshot.panels:
        if panel.department not in order:
            order.append(panel.department)
    return order


def _panel_groups(snapshot: Snapshot) -> list[tuple[str, list[MetricPanel]]]:
    groups = [(code, [p for p in snapshot.panels if p.department == code]) for code in _department_order(snapshot)]
    return [(code, panels) for code, panels in groups if panels or code in snapshot.departments]


def _status_counts(panels: list[MetricPanel]) -> list[tuple[Status, int]]:
    return [(status, sum(1 for p in panels if p.status == status)) for status in STATUS_ORDER]


class _View:
    """What the templates call: bound to one snapshot, so lookups (department names, units) need no arguments."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.units, self.names = _units_and_names(snapshot)
        self.panel_department = {p.metric: p.department for p in snapshot.panels}

    def dept(self, code: str | None) -> str:
        if not code:
            return "—"
        return self.snapshot.department_names.get(code, code)

    def dept_list(self, codes: list[str]) -> str:
        return ", ".join(self.dept(code) for code in codes)

    def unit(self, metric: str | None) -> str:
        return self.units.get(metric or "", "")

    def metric_name(self, metric: str | None) -> str:
        return self.names.get(metric or "", metric or "—")

    def chart(self, panel: MetricPanel, compact: bool = False) -> Markup:
        # A half-width card draws a narrower chart rather than shrinking a wide one, so its labels stay readable.
        size = {"width": 380, "height": 180} if compact else {}
        return line_chart(
            panel.series,
            unit=panel.unit,
            name=panel.name,
            tolerance=panel.tolerance,
            direction=panel.direction,
            **size,
        )

    def missing(self, entry: str) -> Markup:
        """A completeness line names each value not yet in as "metric period"."""
        metric, _, period = entry.partition(" ")
        if not period:
            return escape(entry)
        text = f"{self.metric_name(metric)}, {fmt.period_label(period)}"
        return reference_link(metric, period, text, "value not yet received")

    def spark(self, series: list[ChartPoint], unit: str, name: str) -> Markup:
        return sparkline(series, unit=unit, name=name)

    def target(self, metric: str, period: str | None, target: float | None, unit: str) -> Markup:
        if target is None:
            return Markup('<span class="none">No target</span>')
        return reference_link(metric, period, fmt.format_value(target, unit), "target in force")

    def level(self, line: CommitmentLine) -> Markup:
        if line.level is None or not line.metric:
            return Markup('<span class="none">—</span>')
        period = line.latest.period if line.latest else None
        return reference_link(line.metric, period, fmt.format_value(line.level, self.unit(line.metric)), "level")

    def memo_sections(self) -> list[tuple[str, str, list[Markup]]]:
        return [
            (
                str(section),
                heading,
                [linked_sentence(i, self.units, self.names) for i in self.snapshot.memo if i.section == section],
            )
            for section, heading in MEMO_SECTIONS
        ]

    def annotation_department(self, metric: str) -> str:
        return self.dept(self.panel_department.get(metric))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Explanations, notes, commitments and titles are people's text: escaped unless marked safe in Python.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        value=fmt.format_value,
        change=fmt.format_change,
        tolerance=fmt.format_tolerance,
        period=fmt.period_label,
        date=fmt.date_label,
        datetime=fmt.datetime_label,
        status_label=fmt.status_label,
        trend=lambda t: fmt.TREND_LABELS.get(t or "", t or "—"),
        reason=lambda r: fmt.REASON_LABELS.get(r or "", r or ""),
        direction=lambda d: fmt.DIRECTION_LABELS.get(d, d),
        frequency=lambda f: fmt.FREQUENCY_LABELS.get(f, f),
    )
    env.globals.update(
        fig=figure_link,
        ref=reference_link,
        change_html=change_html,
        status_badge=status_badge,
        commitment_badge=commitment_badge,
        plural=fmt.plural,
    )
    return env


# Compiled once per process: the environment holds templates and filters, no request state.
ENV = _environment()


def render_html(
    snapshot: Snapshot,
    *,
    briefing_id: int | None,
    state: str,
    published_at: dt.datetime | None,
    published_by: str | None = None,
    paper: str = "letter",
) -> str:
    """The briefing as a standalone HTML5 document. `state` is "draft" (shown with a DRAFT banner on screen and on
    every printed page) or "published". `paper` is "letter" or "a4"."""
    if state not in ("draft", "published"):
        raise ValueError(f"state must be draft or published, not {state!r}")
    if paper not in PAPER:
        raise ValueError(f"paper must be one of {sorted(PAPER)}, not {paper!r}")
    view = _View(snapshot)
    stamped = published_at if state == "published" and published_at is not None else snapshot.read_at
    template = ENV.get_template(f"{snapshot.kind.value}.html.j2")
    return template.render(
        s=snapshot,
        v=view,
        briefing_id=briefing_id,
        state=state,
        draft=state == "draft",
        published_at=published_at,
        published_by=published_by,
        kind_label=KIND_LABELS[snapshot.kind],
        departments=view.dept_list(snapshot.departments),
        read_at=fmt.datetime_label(snapshot.read_at),
        stamped=fmt.iso_datetime(stamped),
        page_size=PAPER[paper],
        groups=_panel_groups(snapshot),
        status_counts=_status_counts,
        status_order=STATUS_ORDER,
        directions=[c for c in snapshot.commitments if c.kind != "action"],
        actions=[c for c in snapshot.commitments if c.kind == "action"],
    )
