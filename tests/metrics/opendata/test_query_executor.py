"""Each SoQL construct through the metrics query endpoint, with answers worked out by hand; the suite runs on SQLite
and on PostgreSQL, so every assertion here is also an assertion that the two databases agree."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import make_user, sign_in
from tests.metrics.opendata.opendata_city import (
    INTERNAL,
    LISTING,
    OBSERVATIONS_ID,
    REQUESTS_ID,
    add_requests,
    build_city,
    rows,
    run,
    tree,
)
from tests.metrics.records.record_factory import ZONE, local, make_record

OBS = OBSERVATIONS_ID


@pytest.fixture
def city(client, metrics_db, ingest_db):
    with metrics_db.session() as session:
        build_city(session)
        add_requests(session)
    make_user(ingest_db, "ana", "analyst")
    csrf = sign_in(client, "ana")
    response = client.patch("/api/metrics/datasets/service_requests", json={"is_published": True}, headers=csrf)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return client


def test_select_with_aliases_and_where_comparisons(city):
    result = run(city, OBS, {"$select": "metric AS m, period, value", "$where": "value > 0.8 AND value < 50"})
    assert [c["name"] for c in result["columns"]] == ["m", "period", "value"]
    assert [c["datatype"] for c in result["columns"]] == ["text", "text", "number"]
    assert result["rows"] == [
        ["dpw.on_time", "2017-05", 0.875],
        ["dpw.on_time", "2017-06", 0.95],
        ["dwm.breaks", "2017-Q1", 12],
        ["dwm.breaks", "2017-Q2", 9],
    ]


def test_aggregates_count_sum_avg_min_max(city):
    got = rows(
        city,
        OBS,
        {
            "$select": "count(*), count(numerator), sum(value), avg(value), min(value), max(value), "
            "min(period), max(period_start)",
            "$where": "metric = 'dpw.tons'",
        },
    )
    assert got == [[5, 0, 500, 100, 60, 140, "2017-04", "2017-06-01T00:00:00.000"]]


def test_avg_of_whole_numbers_is_not_truncated(city):
    # 12 and 9: an integer average would say 10.
    assert rows(city, OBS, {"$select": "avg(value) AS a", "$where": "metric = 'dwm.breaks'"}) == [[10.5]]


def test_group_having_and_order_on_an_aggregate(city):
    got = rows(
        city,
        OBS,
        {
            "$select": "metric, count(*) AS n, sum(value) AS total",
            "$group": "metric",
            "$having": "count(*) >= 2",
            "$order": "n DESC, metric",
        },
    )
    assert got == [["dpw.tons", 5, 500], ["dpw.on_time", 4, 3.075], ["dwm.breaks", 2, 21]]


def test_date_trunc_groups_records_by_the_citys_calendar(city):
    # SR-4 was opened 22:15 on May 31st in Atlanta, which is already June 1st in UTC: it counts in May.
    got = rows(
        city,
        REQUESTS_ID,
        {"$select": "date_trunc_ym(opened_at) AS month, count(*) AS n", "$group": "month", "$order": "month"},
    )
    assert got == [["2017-05-01T00:00:00.000", 2], ["2017-06-01T00:00:00.000", 2]]
    years = rows(city, REQUESTS_ID, {"$select": "date_trunc_y(opened_at) AS y, count(*)", "$group": "y"})
    assert years == [["2017-01-01T00:00:00.000", 4]]
    days = rows(
        city, REQUESTS_ID, {"$select": "record_id, date_trunc_ymd(opened_at) AS d", "$where": "record_id = 'SR-2'"}
    )
    assert days == [["SR-2", "2017-06-30T00:00:00.000"]]


def test_floating_timestamps_compare_with_dates_and_date_times(city):
    assert rows(city, REQUESTS_ID, {"$select": "record_id, opened_at", "$where": "opened_at >= '2017-06-01'"}) == [
        ["SR-1", "2017-06-01T09:00:00.000"],
        ["SR-2", "2017-06-30T23:30:00.000"],
    ]
    assert rows(
        city,
        REQUESTS_ID,
        {"$select": "record_id", "$where": "opened_at between '2017-05-31T22:00:00' and '2017-06-01T09:00:00.000'"},
    ) == [["SR-1"], ["SR-4"]]
    assert rows(
        city, OBS, {"$select": "period", "$where": "metric = 'dwm.breaks' AND period_start < '2017-04-01'"}
    ) == [["2017-Q1"]]


def test_booleans_and_provisional_values(city):
    # DPW approved April and May; DWM approved March, the end of Q1.
    got = rows(city, OBS, {"$select": "metric, period", "$where": "provisional = false AND org_unit IS NULL"})
    assert got == [
        ["dpw.on_time", "2017-04"],
        ["dpw.on_time", "2017-05"],
        ["dpw.tons", "2017-04"],
        ["dpw.tons", "2017-05"],
        ["dwm.breaks", "2017-Q1"],
    ]
    assert rows(city, OBS, {"$select": "count(*)", "$where": "provisional"}) == [[6]]
    assert rows(city, OBS, {"$select": "count(*)", "$where": "provisional = 'true'"}) == [[6]]
    on_time = rows(city, REQUESTS_ID, {"$select": "record_id, on_time", "$order": "record_id"})
    assert on_time == [["SR-1", True], ["SR-2", False], ["SR-3", None], ["SR-4", None]]
    assert rows(city, OBS, {"$select": "min(provisional) AS lo, max(provisional) AS hi"}) == [[False, True]]


def test_in_not_in_between_not_between_and_not(city):
    def ids(where):
        return [row[0] for row in rows(city, REQUESTS_ID, {"$select": "record_id", "$where": where})]

    assert ids("category IN ('Pothole', 'Water main')") == ["SR-1", "SR-3"]
    assert ids("category NOT IN ('Pothole', 'Water main')") == ["SR-2"]  # null is neither in nor not in
    assert ids("days_to_close BETWEEN 0.5 AND 1") == ["SR-1", "SR-4"]
    assert ids("days_to_close NOT BETWEEN 0.5 AND 1") == ["SR-2"]
    assert ids("NOT (department = 'DPW')") == ["SR-3"]
    assert ids("department = 'DPW' OR status = 'Open'") == ["SR-1", "SR-2", "SR-3", "SR-4"]


def test_is_null_and_is_not_null(city):
    assert rows(city, REQUESTS_ID, {"$select": "record_id", "$where": "closed_at IS NULL"}) == [["SR-3"]]
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": "category IS NOT NULL"}) == [[3]]


def test_like_is_case_sensitive_with_percent_and_underscore(city):
    def ids(where):
        return [row[0] for row in rows(city, REQUESTS_ID, {"$select": "record_id", "$where": where})]

    assert ids("category LIKE 'P%'") == ["SR-1"]
    assert ids("category LIKE 'p%'") == []
    assert ids("category LIKE '%light'") == ["SR-2"]
    assert ids("record_id LIKE 'SR-_'") == ["SR-1", "SR-2", "SR-3", "SR-4"]
    assert ids("category NOT LIKE '%o%'") == ["SR-2", "SR-3"]
    assert ids("upper(category) LIKE 'POT%'") == ["SR-1"]
    assert ids("category LIKE '_ater main'") == ["SR-3"]


def test_like_treats_glob_and_escape_characters_as_text(city):
    def count(where):
        return rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": where})[0][0]

    assert count("category LIKE '*'") == 0
    assert count("category LIKE '[P]othole'") == 0
    assert count("category LIKE 'Pothole\\'") == 0
    assert count("category LIKE 'Pot?ole'") == 0


def test_upper_lower_starts_with(city):
    got = rows(
        city,
        REQUESTS_ID,
        {"$select": "upper(category) AS u, lower(category) AS l", "$where": "starts_with(category, 'Street')"},
    )
    assert got == [["STREETLIGHT", "streetlight"]]
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": "starts_with(category, 'street')"}) == [[0]]


def test_equality_is_case_sensitive(city):
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": "category = 'pothole'"}) == [[0]]
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": "upper(category) = 'POTHOLE'"}) == [[1]]


def test_search_matches_text_columns_ignoring_case(city):
    assert rows(city, REQUESTS_ID, {"$select": "record_id", "$q": "STREET"}) == [["SR-2"]]
    assert rows(city, REQUESTS_ID, {"$select": "record_id", "$q": "main", "$where": "status = 'Open'"}) == [["SR-3"]]
    # % and _ in a search are the characters themselves.
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$q": "%"}) == [[0]]
    assert rows(city, OBS, {"$select": "count(*)", "$q": "dpw.TONS"}) == [[5]]


def test_arithmetic_and_division(city):
    got = rows(
        city,
        OBS,
        {
            "$select": "period, numerator / denominator AS ratio, value * 100 AS pct, -value AS neg, "
            "value + 1 - 1 AS same",
            "$where": "metric = 'dpw.on_time' AND period = '2017-05'",
        },
    )
    assert got == [["2017-05", 0.875, 87.5, -0.875, 0.875]]
    # A count divided by a count is a fraction, not integer division; dividing by zero is null, not an error.
    assert rows(city, OBS, {"$select": "count(numerator) / count(*) AS share"}) == [[pytest.approx(4 / 11)]]
    assert rows(city, OBS, {"$select": "sum(value) / 0 AS nothing"}) == [[None]]


def test_order_puts_nulls_where_asked(city):
    def order(spec):
        return [row[0] for row in rows(city, REQUESTS_ID, {"$select": "record_id", "$order": spec})]

    # closed: SR-4 06-01 10:15, SR-1 06-02, SR-2 07-10, SR-3 open.
    assert order("closed_at") == ["SR-4", "SR-1", "SR-2", "SR-3"]
    assert order("closed_at DESC") == ["SR-3", "SR-2", "SR-1", "SR-4"]
    assert order("closed_at ASC NULL FIRST") == ["SR-3", "SR-4", "SR-1", "SR-2"]
    assert order("closed_at DESC NULL LAST") == ["SR-2", "SR-1", "SR-4", "SR-3"]
    assert order("category, record_id") == ["SR-1", "SR-2", "SR-3", "SR-4"]


def test_text_compares_by_code_point_on_both_databases(city):
    # Capitals before small letters, as SQLite compares; a PostgreSQL locale would put 'a' before 'Pothole'.
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": "category > 'a'"}) == [[0]]
    assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": "category < 'a'"}) == [[3]]
    assert rows(
        city, REQUESTS_ID, {"$select": "'a' < 'B' AS x, min(category) AS lo", "$where": "category IS NOT NULL"}
    ) == [[False, "Pothole"]]


def test_group_by_text_is_case_sensitive_and_orders_by_code_point(city):
    got = rows(city, OBS, {"$select": "department, count(*)", "$group": "department", "$order": "department DESC"})
    assert got == [["DWM", 2], ["DPW", 9]]


def test_limit_and_offset_page_without_overlap(city):
    everything = rows(city, OBS, {"$select": "metric, period, org_unit, value"})
    assert len(everything) == 11
    pages = [
        rows(city, OBS, {"$select": "metric, period, org_unit, value", "$limit": "4", "$offset": str(n)})
        for n in (0, 4, 8)
    ]
    assert [row for page in pages for row in page] == everything
    # Ties on the requested order are broken the same way.
    tied = [
        rows(
            city, OBS, {"$select": "metric, period, org_unit", "$order": "department", "$limit": "3", "$offset": str(n)}
        )
        for n in range(0, 12, 3)
    ]
    flat = [tuple(row) for page in tied for row in page]
    assert len(flat) == len(set(flat)) == 11


def test_plain_column_filter(city):
    assert rows(city, OBS, {"metric": "dwm.breaks", "$select": "period"}) == [["2017-Q1"], ["2017-Q2"]]


def test_literals_in_select_group_and_order(city):
    got = rows(
        city,
        OBS,
        {
            "$select": "value + 1 AS up, count(*) AS n",
            "$group": "value + 1",
            "$where": "metric = 'dwm.breaks'",
            "$order": "up",
        },
    )
    assert got == [[10, 1], [13, 1]]
    assert rows(city, OBS, {"$select": "'x' AS a, 2 AS b, true AS c, null AS d", "$limit": "1"}) == [
        ["x", 2, True, None]
    ]


def test_injection_attempts_in_text_literals_are_data(city, metrics_db):
    attempts = [
        "'; DROP TABLE raw_record; --",
        "x' OR '1'='1",
        'Pothole" OR 1=1 --',
        "%' UNION SELECT attributes FROM raw_record --",
    ]
    for text in attempts:
        quoted = text.replace("'", "''")
        assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": f"category = '{quoted}'"}) == [[0]]
        assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$where": f"category LIKE '{quoted}'"}) == [[0]]
        assert rows(city, REQUESTS_ID, {"$select": "count(*)", "$q": text}) == [[0]]
    # The table is still there, with all its rows.
    assert rows(city, REQUESTS_ID, {"$select": "count(*)"}) == [[4]]


def test_a_tree_that_does_not_type_check_is_a_400(city):
    bad = tree({"$select": "metric"})
    bad["where"] = {
        "kind": "binary",
        "op": ">",
        "left": {"kind": "column", "name": "value"},
        "right": {"kind": "text", "value": "lots"},
    }
    response = city.post(f"{LISTING}/{OBS}/query", json=bad, headers=INTERNAL)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    summed = tree({"$select": "metric"})
    summed["select"] = [{"expr": {"kind": "call", "name": "sum", "args": [{"kind": "column", "name": "metric"}]}}]
    assert city.post(f"{LISTING}/{OBS}/query", json=summed, headers=INTERNAL).status_code == 400


def test_values_out_of_range_are_a_400_not_a_500(city):
    response = city.post(
        f"{LISTING}/{OBS}/query", json=tree({"$select": "value * 1e300 * 1e300 AS big"}), headers=INTERNAL
    )
    assert response.status_code == 400, response.text


def test_case_functions_and_search_change_ascii_letters_only(city, metrics_db):
    with metrics_db.session() as session:
        make_record(session, "SR-5", "DPW", local("2017-06-03 10:00"), category="Élagage rue", status="Open")
    got = rows(
        city, REQUESTS_ID, {"$select": "upper(category) AS u, lower(category) AS l", "$where": "record_id = 'SR-5'"}
    )
    assert got == [["ÉLAGAGE RUE", "Élagage rue"]]
    assert rows(city, REQUESTS_ID, {"$select": "record_id", "$q": "ÉLAGAGE"}) == [["SR-5"]]
    assert rows(city, REQUESTS_ID, {"$select": "record_id", "$q": "élagage"}) == []
    assert rows(city, REQUESTS_ID, {"$select": "record_id", "$where": "category LIKE 'É_agage%'"}) == [["SR-5"]]


def test_time_comparisons_read_the_stored_instant_and_agree_with_city_time_across_the_clock_change(city, metrics_db):
    # Clocks went back at 02:00 on 2016-11-06 in New York: 01:00-01:59 happened twice. Requests every 20 minutes
    # across that night; each comparison must pick exactly the requests whose city time satisfies it.
    first = dt.datetime(2016, 11, 6, 4, 10, tzinfo=dt.UTC)
    opened = {f"N-{i:02d}": first + dt.timedelta(minutes=20 * i) for i in range(15)}
    with metrics_db.session() as session:
        for record_id, moment in opened.items():
            make_record(session, record_id, "DPW", moment)
    wall = {key: moment.astimezone(ZONE).replace(tzinfo=None) for key, moment in opened.items()}
    checks = {
        ">=": lambda w, t: w >= t, ">": lambda w, t: w > t, "<": lambda w, t: w < t,
        "<=": lambda w, t: w <= t, "=": lambda w, t: w == t, "!=": lambda w, t: w != t,
    }  # fmt: skip
    for text in ("2016-11-06T01:30:00", "2016-11-06T01:10:00", "2016-11-06T02:00:00", "2016-11-06T00:59:59.999"):
        moment = dt.datetime.fromisoformat(text)
        for op, holds in checks.items():
            where = f"opened_at {op} '{text}' AND starts_with(record_id, 'N-')"
            found = [row[0] for row in rows(city, REQUESTS_ID, {"$select": "record_id", "$where": where})]
            assert found == sorted(k for k, w in wall.items() if holds(w, moment)), (op, text)
        flipped = f"'{text}' > opened_at AND starts_with(record_id, 'N-')"
        found = [row[0] for row in rows(city, REQUESTS_ID, {"$select": "record_id", "$where": flipped})]
        assert found == sorted(k for k, w in wall.items() if w < moment)
    between = "opened_at between '2016-11-06T01:20:00' and '2016-11-06T01:40:00' AND starts_with(record_id, 'N-')"
    found = rows(city, REQUESTS_ID, {"$select": "record_id, opened_at", "$where": between})
    low, high = dt.datetime(2016, 11, 6, 1, 20), dt.datetime(2016, 11, 6, 1, 40)
    expected = sorted(k for k, w in wall.items() if low <= w <= high)
    # Both passes through 01:20-01:40: two requests an hour apart, at the same wall-clock time.
    assert [row[0] for row in found] == expected == ["N-04", "N-07"]
    assert found[0][1] == found[1][1] == "2016-11-06T01:30:00.000"
