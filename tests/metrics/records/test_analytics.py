"""Operational analytics over raw records: requests, still open and median days to close by district or grid cell
and hour or weekday, ranked, checked against a count made one record at a time in Python (hours and weekdays from
the timestamps themselves, grid cells in decimal arithmetic); filters, paging, and who may read."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from decimal import Decimal

import pytest

from tests.factories import make_department, make_token, make_user, sign_in
from tests.metrics.records.record_factory import ZONE, add_records, local, record_values

M = "/api/metrics"
URL = f"{M}/datasets/service_requests/analytics"
CATEGORIES = ["Streetlight outage", "Pothole", "Graffiti removal"]
DISTRICTS = [str(n) for n in range(1, 13)]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _random_rows(count: int, prefix: str = "a") -> list[dict]:
    """Records over January to June 2017 around Atlanta (longitudes negative), some still open, some with no
    district or no coordinates, some closing in the same few round numbers of days so that medians tie."""
    rows = []
    first = dt.datetime(2017, 1, 1, tzinfo=ZONE)
    span = (dt.datetime(2017, 7, 1, tzinfo=ZONE) - first).total_seconds()
    for i in range(count):
        opened = (first + dt.timedelta(seconds=random.uniform(0, span))).astimezone(dt.UTC)
        closed = None
        if random.random() < 0.8:
            taken = random.choice([1.0, 2.5, 4.0]) if random.random() < 0.3 else random.uniform(0.05, 30)
            closed = opened + dt.timedelta(days=taken)
        located = random.random() < 0.9
        rows.append(
            record_values(
                f"{prefix}{i:05d}",
                random.choice(["DPW", "DPW", "DWM"]),
                opened,
                closed,
                category=random.choice(CATEGORIES),
                district=random.choice(DISTRICTS) if random.random() < 0.92 else random.choice([None, ""]),
                latitude=round(random.uniform(33.64, 33.89), 5) if located else None,
                longitude=round(random.uniform(-84.55, -84.29), 5) if located else None,
            )
        )
    return rows


@pytest.fixture
def city(metrics_db, ingest_db):
    with metrics_db.session() as s:
        make_department(s, "DPW", "Public Works")
        make_department(s, "DWM", "Watershed Management")
        make_department(s, "DPR", "Parks and Recreation")
    make_user(ingest_db, "ana", "analyst")
    make_user(ingest_db, "lia", "liaison", "DPW")
    make_user(ingest_db, "dwmlia", "liaison", "DWM")
    make_user(ingest_db, "citywide", "viewer")
    make_user(ingest_db, "dpwviewer", "viewer", "DPW")
    return metrics_db


@pytest.fixture
def rows(city) -> list[dict]:
    rows = _random_rows(900)
    with city.session() as s:
        add_records(s, rows)
    return rows


def _as(client, username: str) -> None:
    client.cookies.clear()
    sign_in(client, username)


def _get(client, url: str = URL, **params) -> dict:
    answer = client.get(url, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- the independent count ------------------------------------------------------------------------------------


def _days(row: dict) -> float | None:
    if row["closed_at"] is None:
        return None
    return (row["closed_at"] - row["opened_at"]).total_seconds() / 86400


def _cell(coordinate: float, size: float) -> int:
    # Decimal arithmetic on the coordinate as written: the cell a person would name, with no binary rounding.
    return math.floor(Decimal(repr(coordinate)) / Decimal(repr(size)))


def _area(row: dict, area: str, size: float):
    if area == "district":
        return row["district"] or None
    if row["latitude"] is None or row["longitude"] is None:
        return None
    return (_cell(row["latitude"], size), _cell(row["longitude"], size))


def _when(row: dict, time: str):
    local_time = row["opened_at"].astimezone(ZONE)
    return {"hour": local_time.hour, "weekday": local_time.isoweekday(), "none": None}[time]


def _matching(rows, *, category=None, departments=None, start=None, end=None) -> list[dict]:
    def month(row):
        opened = row["opened_at"].astimezone(ZONE)
        return f"{opened.year:04d}-{opened.month:02d}"

    return [
        r
        for r in rows
        if (category is None or r["category"] == category)
        and (departments is None or r["department"] in departments)
        and (start is None or month(r) >= start)
        and (end is None or month(r) <= end)
    ]


def _expected(rows, *, area="district", size=0.01, time="none", **filters) -> tuple[dict, dict]:
    """{(area, time): (requests, closed, open, median)} and the overall figures."""
    chosen = _matching(rows, **filters)
    groups: dict = {}
    unplaced = 0
    for row in chosen:
        place = _area(row, area, size)
        if place is None:
            unplaced += 1
            continue
        groups.setdefault((place, _when(row, time)), []).append(_days(row))
    expected = {}
    for key, days in groups.items():
        closed = [d for d in days if d is not None]
        expected[key] = (len(days), len(closed), len(days) - len(closed), statistics.median(closed) if closed else None)
    closed = [d for d in (_days(r) for r in chosen) if d is not None]
    overall = {
        "requests": len(chosen),
        "closed": len(closed),
        "open": len(chosen) - len(closed),
        "median_days_to_close": statistics.median(closed) if closed else None,
        "without_area": unplaced,
    }
    return expected, overall


def _key(item: dict, area: str, size: float, time: str):
    if area == "district":
        place = item["area"]
    else:
        place = (_cell(item["area"]["south"], size), _cell(item["area"]["west"], size))
    return place, item[time] if time != "none" else None


def _found(answer: dict, area="district", size=0.01, time="none") -> dict:
    return {
        _key(i, area, size, time): (i["requests"], i["closed"], i["open"], i["median_days_to_close"])
        for i in answer["items"]
    }


# --- counts and medians -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("time", ["hour", "weekday", "none"])
def test_requests_and_median_days_by_district_match_an_independent_count(client, rows, time):
    _as(client, "ana")
    answer = _get(client, category="Streetlight outage", time=time, limit=500)
    expected, overall = _expected(rows, category="Streetlight outage", time=time)
    assert answer["total"] == len(expected) == len(answer["items"])
    assert _found(answer, time=time) == expected
    assert {k: answer[k] for k in overall} == overall
    assert overall["without_area"] > 0  # the fixture has records with no (or an empty) district
    assert answer["departments"] is None and answer["time_zone"] == "America/New_York"
    # Ranked: most requests first, ranks 1..n in order.
    requests = [i["requests"] for i in answer["items"]]
    assert requests == sorted(requests, reverse=True)
    assert [i["rank"] for i in answer["items"]] == list(range(1, len(expected) + 1))
    assert answer["busiest"] == answer["items"][0]
    if time == "weekday":
        assert all(i["weekday_name"] == WEEKDAY_NAMES[i["weekday"] - 1] for i in answer["items"])
        assert all(i["hour"] is None for i in answer["items"])
    if time == "hour":
        assert all(0 <= i["hour"] <= 23 and i["weekday"] is None for i in answer["items"])


@pytest.mark.parametrize("size", [0.01, 0.005, 0.05])
def test_grid_cells_match_an_independent_count(client, rows, size):
    _as(client, "ana")
    answer = _get(client, category="Pothole", area="grid", grid_size=size, time="hour", limit=500)
    expected, overall = _expected(rows, category="Pothole", area="grid", size=size, time="hour")
    assert answer["total"] == len(expected)
    assert answer["total"] <= 500
    assert _found(answer, "grid", size, "hour") == expected
    assert answer["without_area"] == overall["without_area"] > 0
    assert answer["grid_size"] == size
    for item in answer["items"]:
        cell = item["area"]
        assert cell["west"] < 0 and cell["east"] == pytest.approx(cell["west"] + size)
        assert cell["north"] == pytest.approx(cell["south"] + size)


def test_grid_cells_floor_negative_longitudes_and_keep_points_on_an_edge_in_the_cell_it_begins(client, city):
    opened = local("2017-03-06 14:10")
    points = {
        "west-of-84.38": (33.755, -84.385),  # truncation toward zero would give the cell at -84.38
        "on-the-west-edge": (33.76, -84.39),  # 33.76 / 0.01 is 3375.9999999999995 in binary
        "just-west": (33.7599, -84.3901),
        "east-of-greenwich": (48.8566, 2.3522),
        "south-and-west": (-33.8688, -151.2093),
    }
    rows = [
        record_values(name, "DPW", opened, opened + dt.timedelta(days=2), category="Streetlight outage",
                      latitude=lat, longitude=lon)
        for name, (lat, lon) in points.items()
    ]  # fmt: skip
    rows.append(record_values("nowhere", "DPW", opened, None, category="Streetlight outage", district="3"))
    rows.append(
        record_values("no-longitude", "DPW", opened, None, category="Streetlight outage", latitude=33.7, longitude=None)
    )
    with city.session() as s:
        add_records(s, rows)
    _as(client, "ana")
    answer = _get(client, category="Streetlight outage", area="grid", grid_size=0.01)
    cells = {i["area"]["cell"] for i in answer["items"]}
    assert cells == {"33.75,-84.39", "33.76,-84.39", "33.75,-84.40", "48.85,2.35", "-33.87,-151.21"}
    by_cell = {i["area"]["cell"]: i["area"] for i in answer["items"]}
    assert by_cell["33.75,-84.39"] == {
        "cell": "33.75,-84.39", "south": 33.75, "west": -84.39, "north": 33.76, "east": -84.38, "size": 0.01,
    }  # fmt: skip
    assert by_cell["-33.87,-151.21"]["north"] == -33.86 and by_cell["-33.87,-151.21"]["east"] == -151.2
    assert answer["without_area"] == 2 and answer["requests"] == 7
    assert sum(i["requests"] for i in answer["items"]) == 5
    # A tenth of a degree: every Atlanta point in one cell, its west edge at -84.4.
    coarse = _get(client, category="Streetlight outage", area="grid", grid_size=0.1)
    atlanta = [i for i in coarse["items"] if i["area"]["cell"] == "33.7,-84.4"]
    assert len(atlanta) == 1 and atlanta[0]["requests"] == 3


def test_a_group_median_is_the_middle_of_an_odd_count_and_the_mean_of_the_two_middles_of_an_even_one(client, city):
    opened = local("2017-04-03 08:15")
    with city.session() as s:
        rows = [
            record_values(f"d3-{i}", "DPW", opened, opened + dt.timedelta(days=d), category="Streetlight outage",
                          district="3")
            for i, d in enumerate([1, 9, 2, 7])
        ] + [
            record_values(f"d4-{i}", "DPW", opened, opened + dt.timedelta(days=d), category="Streetlight outage",
                          district="4")
            for i, d in enumerate([5, 1, 3])
        ]  # fmt: skip
        rows.append(record_values("d4-open", "DPW", opened, None, category="Streetlight outage", district="4"))
        rows.append(record_values("d5-open", "DPW", opened, None, category="Streetlight outage", district="5"))
        add_records(s, rows)
    _as(client, "ana")
    answer = _get(client, category="Streetlight outage")
    by_district = {i["area"]: i for i in answer["items"]}
    assert by_district["3"]["median_days_to_close"] == pytest.approx(4.5)
    assert by_district["4"]["median_days_to_close"] == pytest.approx(3.0)
    assert by_district["4"]["open"] == 1 and by_district["4"]["closed"] == 3 and by_district["4"]["requests"] == 4
    assert by_district["5"]["median_days_to_close"] is None and by_district["5"]["open"] == 1
    assert answer["median_days_to_close"] == pytest.approx(3.0)  # 1 1 2 3 5 7 9
    assert [i["area"] for i in answer["items"]] == ["3", "4", "5"]  # 4 requests each for 3 and 4: district order
    assert answer["slowest"]["area"] == "3" and answer["fastest"]["area"] == "4"
    assert answer["busiest"]["area"] == "3"
    # The hour and weekday on the city's clock: 08:15 on a Monday in Atlanta is 12:15 UTC.
    by_hour = _get(client, category="Streetlight outage", time="hour")
    assert {i["hour"] for i in by_hour["items"]} == {8}
    by_day = _get(client, category="Streetlight outage", time="weekday")
    assert {(i["weekday"], i["weekday_name"]) for i in by_day["items"]} == {(1, "Monday")}


# --- ranking, filters, paging -----------------------------------------------------------------------------------


def test_sorted_by_median_days_or_still_open_either_way_with_groups_without_a_median_last(client, city, rows):
    opened = local("2017-05-10 10:00")
    with city.session() as s:
        add_records(s, [record_values("only-open", "DPW", opened, None, category="Streetlight outage", district="99")])
    rows = [*rows, {**record_values("only-open", "DPW", opened, None, category="Streetlight outage", district="99")}]
    _as(client, "ana")
    expected, _ = _expected(rows, category="Streetlight outage")
    for order in ("desc", "asc"):
        answer = _get(client, category="Streetlight outage", sort="median_days", order=order)
        medians = [i["median_days_to_close"] for i in answer["items"]]
        assert medians[-1] is None and answer["items"][-1]["area"] == "99"
        assert medians[:-1] == sorted(medians[:-1], reverse=order == "desc")
        assert answer["items"][0] == (answer["slowest"] if order == "desc" else answer["fastest"])
        assert answer["sort"] == "median_days" and answer["order"] == order
    worst = max(v[3] for v in expected.values() if v[3] is not None)
    assert _get(client, category="Streetlight outage", sort="median_days")["slowest"]["median_days_to_close"] == worst
    by_open = _get(client, category="Streetlight outage", sort="open")
    still_open = [i["open"] for i in by_open["items"]]
    assert still_open == sorted(still_open, reverse=True)
    assert still_open[0] == max(v[2] for v in expected.values())
    fewest = _get(client, category="Streetlight outage", order="asc")
    assert [i["requests"] for i in fewest["items"]] == sorted(v[0] for v in expected.values())


def test_department_months_and_min_requests_filter_and_pages_cover_the_ranking_once(client, rows):
    _as(client, "ana")
    params = {"category": "Pothole", "department": "DPW", "start": "2017-02", "end": "2017-04", "time": "weekday"}
    answer = _get(client, **params, limit=500)
    expected, overall = _expected(
        rows, category="Pothole", departments={"DPW"}, start="2017-02", end="2017-04", time="weekday"
    )
    assert _found(answer, time="weekday") == expected
    assert answer["requests"] == overall["requests"] < len(_matching(rows, category="Pothole"))
    assert answer["departments"] == ["DPW"] and answer["start"] == "2017-02" and answer["end"] == "2017-04"
    pages = [_get(client, **params, limit=7, offset=offset) for offset in range(0, answer["total"], 7)]
    assert [i for p in pages for i in p["items"]] == answer["items"]
    assert all(p["total"] == answer["total"] for p in pages)
    big = _get(client, **params, min_requests=3, limit=500)
    assert _found(big, time="weekday") == {k: v for k, v in expected.items() if v[0] >= 3}
    assert big["requests"] == answer["requests"]  # the overall figures still count every matching record
    small = {k: v for k, v in expected.items() if v[0] < 3}
    assert small and big["left_out_groups"] == len(small)
    assert big["left_out_requests"] == sum(v[0] for v in small.values())
    assert answer["left_out_groups"] == answer["left_out_requests"] == 0
    none = _get(client, category="No such category")
    assert none["items"] == [] and none["total"] == 0 and none["requests"] == 0
    assert none["median_days_to_close"] is None and none["busiest"] is None and none["slowest"] is None
    every = _get(client, limit=500)
    assert _found(every) == _expected(rows)[0]


def test_the_categories_to_choose_from_with_counts_and_months(client, rows, city):
    with city.session() as s:
        add_records(s, [record_values("uncategorised", "DPW", local("2017-03-01 10:00"), category=None)])
    _as(client, "ana")
    answer = _get(client, f"{M}/datasets/service_requests/categories")
    counts = {c: len(_matching(rows, category=c)) for c in CATEGORIES}
    assert [(i["category"], i["requests"]) for i in answer["items"]] == sorted(
        counts.items(), key=lambda kv: (-kv[1], kv[0])
    )
    assert answer["without_category"] == 1 and answer["total"] == 3
    assert all(i["departments"] == ["DPW", "DWM"] for i in answer["items"])
    assert all(i["first_month"] == "2017-01" and i["last_month"] == "2017-06" for i in answer["items"])
    dwm = _get(client, f"{M}/datasets/service_requests/categories", department="DWM")
    assert {i["category"]: i["requests"] for i in dwm["items"]} == {
        c: len(_matching(rows, category=c, departments={"DWM"})) for c in CATEGORIES
    }
    assert dwm["departments"] == ["DWM"] and dwm["without_category"] == 0


# --- bad input and who may read ---------------------------------------------------------------------------------


BAD_PARAMETERS = [
    {"area": "ward"},
    {"time": "minute"},
    {"sort": "name"},
    {"order": "up"},
    {"grid_size": "0"},
    {"grid_size": "-0.01"},
    {"grid_size": "nan"},
    {"grid_size": "2"},
    {"start": "2017-13"},
    {"end": "June"},
    {"start": "2017-06", "end": "2017-01"},
    {"department": "dpw"},
    {"min_requests": "0"},
    {"category": ""},
]


def test_bad_parameters_are_a_422_problem_that_names_the_parameter(client, city):
    _as(client, "ana")
    for params in BAD_PARAMETERS:
        answer = client.get(URL, params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        named = " ".join(str(e.get("field")) for e in answer.json().get("errors", []))
        assert next(iter(params)) in named, (params, answer.json())


def test_raw_records_are_for_staff_who_may_read_the_department(client, rows, ingest_db):
    assert client.get(URL, params={"category": "Pothole"}).status_code == 401
    assert client.get(f"{M}/datasets/service_requests/categories").status_code == 401
    # A department system's token is for ingest: metrics does not know it.
    token = {"Authorization": f"Bearer {make_token(ingest_db, 'DPW')}"}
    assert client.get(URL, params={"department": "DPW"}, headers=token).status_code == 401

    _as(client, "dwmlia")
    for url in (URL, f"{M}/datasets/service_requests/categories"):
        refused = client.get(url, params={"department": "DPW"})
        assert refused.status_code == 403, refused.text
        assert "DPW" in refused.json()["detail"]

    # Without a department, a department's staff see their own department's records, and are told so.
    for user, code in (("dwmlia", "DWM"), ("lia", "DPW"), ("dpwviewer", "DPW")):
        _as(client, user)
        own = _get(client, category="Pothole", limit=500)
        assert own["departments"] == [code]
        assert _found(own) == _expected(rows, category="Pothole", departments={code})[0]
        assert _get(client, category="Pothole", department=code, limit=500)["items"] == own["items"]
        categories = _get(client, f"{M}/datasets/service_requests/categories")
        assert categories["departments"] == [code]

    _as(client, "citywide")
    everyone = _get(client, category="Pothole", limit=500)
    assert everyone["departments"] is None
    assert _found(everyone) == _expected(rows, category="Pothole")[0]

    _as(client, "ana")
    assert client.get(URL, params={"department": "ZZZ"}).status_code == 404
    missing = client.get(f"{M}/datasets/no_such_records/analytics")
    assert missing.status_code == 404 and "no_such_records" in missing.json()["detail"]
    assert client.get(f"{M}/datasets/no_such_records/categories").status_code == 404
    # A liaison cannot tell a department that does not exist from one they may not read.
    _as(client, "lia")
    assert client.get(URL, params={"department": "ZZZ"}).status_code == 403
