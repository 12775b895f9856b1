"""Query parameters that take one value refuse being given several; list parameters take them all."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/metrics/search?q=pothole&q=water", "q"),  # the route's own parameter
        ("/api/metrics/performance?limit=5&limit=500", "limit"),  # a parameter of a dependency (paging)
        ("/api/catalog/v1?limit=1&tags=a&limit=2", "limit"),  # beside a list parameter, in another service
    ],
)
def test_a_single_valued_parameter_given_twice_is_a_422_naming_it(client, url, name):
    answer = client.get(url)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["errors"] == [{"field": f"query.{name}", "reason": "given 2 times; it takes one value"}]


def test_a_list_parameter_takes_every_value(client):
    answer = client.get("/api/catalog/v1?tags=no-such-tag&tags=another&limit=1")
    assert answer.status_code == 200, answer.text
    once = client.get("/api/metrics/search?q=pothole")
    assert once.status_code == 200, once.text
