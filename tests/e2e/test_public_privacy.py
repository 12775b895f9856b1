"""Nothing private leaves through a public route: every route open to anyone (tests/test_route_auth.py's PUBLIC list,
so a new public route is walked as soon as it is listed) is called without a login, for every value of its path
parameters, and no answer may carry a draft, an unpublished metric or its values, an unpublished dataset, or the
personal fields (names, addresses) that raw records keep in their attributes."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from services.metrics.base import utcnow
from services.metrics.definitions.models import MetricState
from services.metrics.opendata.registry import dataset_id
from services.metrics.records.models import SERVICE_REQUESTS, Dataset, RawRecord
from tests.factories import make_department, make_metric, make_observation, make_target
from tests.test_route_auth import PUBLIC

# Every private thing below carries one of these; a public answer that contains one has leaked it.
MARKERS = re.compile(r"secret|424242|1313 mockingbird|ada lovelace", re.IGNORECASE)
ROOT_PREFIXES = ("/resource", "/api/views", "/api/catalog", "/api/3/action", "/api/action", "/data.json",
                 "/datapackage.json")  # fmt: skip
CKAN_ACTIONS = ("package_list", "package_show", "package_search", "organization_list", "datastore_search")


def _record(dataset: str, number: int, **fields) -> RawRecord:
    opened = dt.datetime(2017, 6, 1, 14, tzinfo=dt.UTC) + dt.timedelta(hours=number)
    closed = opened + dt.timedelta(days=2)
    values = {
        "dataset": dataset, "record_id": f"{dataset[:3].upper()}-{number}", "department": "DWM",
        "category": "Water main break", "status": "closed", "org_unit": "Repairs", "district": "3",
        "latitude": 33.75, "longitude": -84.39, "source": "phone", "opened_at": opened, "closed_at": closed,
        "due_at": opened + dt.timedelta(days=3), "due_source": "sla", "opened_month": "2017-06",
        "opened_week": "2017-W22", "opened_hour": 10, "opened_weekday": 4, "closed_month": "2017-06",
        "closed_week": "2017-W22", "days_to_close": 2.0, "on_time": 1, "updated_at": utcnow(),
    }  # fmt: skip
    values.update(fields)
    return RawRecord(**values)


def _city(metrics_db) -> dict[str, list[str]]:
    with metrics_db.session() as s:
        dwm = make_department(s, "DWM", "Watershed Management")
        shown = make_metric(s, dwm, key="dwm.on_time", name="Work orders on time")
        make_target(s, shown, 0.9, 0.05)
        for month, value in enumerate((0.8, 0.85, 0.9), start=4):
            make_observation(s, shown, f"2017-{month:02d}", value)
        hidden = make_metric(s, dwm, key="dwm.hidden_count", name="Secret count", is_published=False)
        make_observation(s, hidden, "2017-06", 0.424242)
        draft = make_metric(
            s, dwm, key="dwm.draft_count", name="Secret draft", is_published=False, state=MetricState.draft
        )
        make_observation(s, draft, "2017-05", 0.424242)
        s.add(Dataset(key=SERVICE_REQUESTS, title="Service requests", is_builtin=True, is_published=True))
        s.add(Dataset(key="code_cases", title="Secret code cases", is_published=False))
        s.flush()
        personal = {"address": "1313 Mockingbird Lane", "caller_name": "Ada Lovelace"}
        for number in range(3):
            s.add(_record(SERVICE_REQUESTS, number, attributes=personal))
            s.add(_record("code_cases", number, category="Secret category"))
    return {
        "key": ["dwm.on_time", "dwm.hidden_count", "dwm.draft_count"],
        "code": ["DWM"],
        "period": ["2017-06"],
        "dataset_id": [
            dataset_id("observations"),
            dataset_id(f"records.{SERVICE_REQUESTS}"),
            dataset_id("records.code_cases"),
        ],  # fmt: skip
    }


def _urls(service: str, path: str, values: dict[str, list[str]]) -> list[str]:
    prefix = "" if path.startswith(ROOT_PREFIXES) else f"/api/{service}"
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    if not names:
        return [prefix + path]
    options = []
    for name in names:
        if name in ("name", "action"):
            options.append(list(CKAN_ACTIONS))
        elif name in ("id", "dataset_id", "resource_id"):
            options.append(values["dataset_id"])
        else:
            options.append(values.get(name, ["x"]))
    urls = []
    for combination in itertools.product(*options):
        url = path
        for name, value in zip(names, combination, strict=True):
            url = re.sub(r"{" + name + r"(?::\w+)?}", value, url, count=1)
        urls.append(prefix + url)
    return urls


def test_no_public_route_shows_drafts_unpublished_values_or_personal_fields(client, metrics_db):
    values = _city(metrics_db)
    client.cookies.clear()
    public_gets = sorted((service, path) for service, method, path in PUBLIC if method == "GET")
    urls = [url for service, path in public_gets for url in _urls(service, path, values)]
    # Queries that go looking, with search words that are not markers (an error may echo what was asked): a search,
    # every column, and CKAN's and SODA's ways in by id.
    for id_ in values["dataset_id"]:
        urls += [f"/resource/{id_}.json?$q=Mockingbird", f"/resource/{id_}.csv?$select=*", f"/api/views/{id_}.json"]
        urls += [f"/api/3/action/datastore_search?resource_id={id_}&q=Mockingbird"]
        urls += [f"/api/3/action/package_show?id={id_}"]
    urls += ["/api/metrics/metrics?department=DWM", "/api/metrics/performance?department=DWM",
             "/api/3/action/package_search?q=code", "/api/catalog/v1?q=code", "/api/metrics/search?q=count",
             "/api/reporting/search?q=code", "/api/reporting/search?q=dwm"]  # fmt: skip
    answered, leaks, errors = 0, [], []
    for url in urls:
        answer = client.get(url)
        if answer.status_code >= 500:
            errors.append(f"{url}: {answer.status_code}")
        if answer.status_code == 200:
            answered += 1
        found = MARKERS.search(answer.text)
        if found:
            leaks.append(f"{url} ({answer.status_code}) shows '{found.group(0)}'")
    assert not errors, errors
    assert not leaks, leaks
    # The walk must have reached real answers, or it proves nothing: the published metric and dataset are there.
    assert answered >= 30, answered
    shown = client.get(f"/resource/{dataset_id(f'records.{SERVICE_REQUESTS}')}.json").json()
    assert {row["record_id"] for row in shown} == {"SER-0", "SER-1", "SER-2"}
    assert "attributes" not in shown[0]
    assert client.get("/api/metrics/metrics/dwm.on_time/observations").status_code == 200
