"""Server-side SVG charts: well-formed, byte-stable, and drawing what the series holds."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from services.reporting.briefings.snapshot import ChartPoint
from services.reporting.render.svg import line_chart, nice_ticks, sparkline
from tests.reporting.render.snapshot_factory import make_series

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def y_ticks(root: ET.Element) -> list[str]:
    # The y-axis labels are the right-anchored texts left of the plot.
    return [t.text or "" for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end" and float(t.get("x")) < 62]


def test_chart_has_value_line_points_target_steps_and_ticks_in_the_unit():
    series = make_series([0.91, 0.92, 0.9, 0.93, 0.874], [0.9, 0.9, 0.92, 0.92, 0.92])
    svg = line_chart(series, unit="percent", name="Calls answered", tolerance=0.02)
    root = parse(svg)

    assert root.get("role") == "img"
    assert root.get("aria-label") == "Calls answered: 87.4% in June 2017, target 92%"
    assert root.find(f"{NS}title").text == "Calls answered: 87.4% in June 2017, target 92%"

    lines = root.findall(f"{NS}polyline[@class='value']")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 5
    circles = [c for c in root.iter(f"{NS}circle") if c.find(f"{NS}title") is not None]
    assert len(circles) == 5
    assert [c.get("class") for c in circles].count("latest") == 1 and circles[-1].get("class") == "latest"
    assert circles[-1].find(f"{NS}title").text == "June 2017: 87.4% (target 92%), revision 1004"

    # The target steps up from 90% to 92%: one path, a horizontal run at each level joined by one vertical.
    target = root.find(f"{NS}path[@class='target']").get("d")
    assert target.count("M") == 1 and target.count("V") == 1
    assert root.find(f"{NS}path[@class='band']") is not None

    ticks = y_ticks(root)
    assert 3 <= len(ticks) <= 5
    assert all(re.fullmatch(r"\d+(\.\d)?%", t) for t in ticks), ticks
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "Feb 2017" in texts and "Jun 2017" in texts


def test_ticks_are_formatted_in_each_unit():
    counts = parse(line_chart(make_series([800.0, 1234.0, 1100.0]), unit="count", name="Requests"))
    assert "1,000" in y_ticks(counts)
    days = parse(line_chart(make_series([3.1, 2.2, 5.8]), unit="days", name="Days"))
    assert all(t.endswith(" d") for t in y_ticks(days))
    dollars = parse(line_chart(make_series([1.0e6, 1.2e6, 0.6e6]), unit="dollars", name="Overtime"))
    assert all(t.startswith("$") for t in y_ticks(dollars))
    assert any(t.endswith("M") for t in y_ticks(dollars))


def test_a_missing_period_leaves_a_gap_not_a_line_across_it():
    series = make_series([3.0, 3.5, None, 4.0, 4.2])
    root = parse(line_chart(series, unit="days", name="Days"))
    runs = root.findall(f"{NS}polyline[@class='value']")
    assert [len(r.get("points").split()) for r in runs] == [2, 2]
    gap = root.findall(f"{NS}circle[@class='gap']")
    assert len(gap) == 1 and "April 2017: no value" in gap[0].find(f"{NS}title").text


def test_target_with_holes_lifts_the_pen():
    series = make_series([1.0, 2.0, 3.0, 4.0], [5.0, None, 5.0, 6.0])
    root = parse(line_chart(series, unit="count", name="Things"))
    target = root.find(f"{NS}path[@class='target']").get("d")
    assert target.count("M") == 2 and target.count("V") == 1


def test_no_target_draws_no_target_line():
    root = parse(line_chart(make_series([1.0, 2.0, 3.0]), unit="count", name="Things"))
    assert root.find(f"{NS}path[@class='target']") is None
    assert "Target" not in [t.text for t in root.iter(f"{NS}text")]


def test_single_point_all_equal_and_no_data():
    single = parse(line_chart([ChartPoint(period="2017-06", value=0.5, target=0.6)], unit="percent", name="One"))
    assert single.find(f"{NS}circle[@class='latest']") is not None
    assert single.find(f"{NS}polyline") is None
    assert [t.text for t in single.iter(f"{NS}text") if t.get("text-anchor") == "middle"] == ["Jun 2017"]

    flat = parse(line_chart(make_series([7.0, 7.0, 7.0]), unit="count", name="Flat"))
    ticks = y_ticks(flat)
    assert 3 <= len(ticks) <= 5 and len(set(ticks)) == len(ticks)
    zero = parse(line_chart(make_series([0.0, 0.0]), unit="count", name="Zero"))
    assert 3 <= len(y_ticks(zero)) <= 5

    empty = line_chart(make_series([None, None]), unit="count", name="Nothing")
    root = parse(empty)
    assert root.get("aria-label") == "Nothing: no data"
    assert "No data" in [t.text for t in root.iter(f"{NS}text")]
    assert parse(line_chart([], unit="count", name="Nothing")).get("aria-label") == "Nothing: no data"


def test_user_text_in_a_chart_is_escaped():
    svg = line_chart(make_series([1.0, 2.0]), unit="count", name='Calls <script>"x"</script> & more')
    assert "<script>" not in svg
    assert parse(svg).find(f"{NS}title").text == 'Calls <script>"x"</script> & more: 2 in June 2017'


def test_charts_are_byte_stable_and_coordinates_have_one_decimal():
    series = make_series([0.123456, 0.98765, None, 0.5], [0.3, 0.3, 0.4, 0.4])
    first = line_chart(series, unit="percent", name="Stable", tolerance=0.05, direction="closer_is_better")
    again = line_chart(
        make_series([0.123456, 0.98765, None, 0.5], [0.3, 0.3, 0.4, 0.4]),
        unit="percent",
        name="Stable",
        tolerance=0.05,
        direction="closer_is_better",
    )
    assert first == again
    numbers = re.findall(r'(?:cx|cy|y1|y2)="(-?[\d.]+)"', first)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d)?", n) for n in numbers)
    assert "-0.0" not in first


def test_sparkline():
    spark = parse(sparkline(make_series([3.0, None, 2.0, 2.5], [2.8] * 4), unit="days", name="Days"))
    assert spark.get("aria-label") == "Days: 3 days in March 2017, 2.5 days in June 2017"
    assert spark.find(f"{NS}path[@class='target']") is not None
    assert spark.find(f"{NS}circle[@class='latest']") is not None
    assert len(spark.findall(f"{NS}polyline")) == 1  # the lone March point is a dot, then a line from May
    empty = parse(sparkline([], unit="days", name="Days"))
    assert empty.get("aria-label") == "Days: no data"
    one = parse(sparkline(make_series([4.0]), unit="days", name="Days"))
    assert one.get("aria-label") == "Days: 4 days in June 2017"


def test_nice_ticks_are_round_and_cover_the_range():
    for low, high in [(0, 1), (0, 13.7), (0.871, 0.934), (-3, 0.1), (0, 1_234_567), (6.2, 6.9), (5, 5)]:
        ticks, step = nice_ticks(low, high)
        assert 3 <= len(ticks) <= 5, (low, high, ticks)
        assert ticks[0] <= low and ticks[-1] >= high
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 9) in (1, 2, 2.5, 5)
